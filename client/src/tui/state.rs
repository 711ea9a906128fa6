//! What the TUI remembers between runs: how each kind's list is sorted. Kept in
//! `tui-state.json` in the data directory, by kind and column name (not position),
//! so a column added in a later version does not shift what was chosen. A missing
//! or unreadable file just means the defaults; it is never an error for the user.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_common::model::RecordKind;
use serde::{Deserialize, Serialize};

use super::app::App;
use super::index::Sort;
use crate::present;

const FILE: &str = "tui-state.json";

/// One kind's sort: the column's field and the direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSort {
    pub column: String,
    pub reverse: bool,
}

/// The remembered state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TuiState {
    /// By kind key (`goal`, `task`, …).
    #[serde(default)]
    pub sorts: BTreeMap<String, SavedSort>,
}

/// Where the state of a data directory lives.
#[must_use]
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

impl TuiState {
    /// The state saved in `data_dir`, or the defaults.
    #[must_use]
    pub fn load(data_dir: &Path) -> Self {
        std::fs::read(path(data_dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the state through a temporary file and a rename, so a crash leaves
    /// the old file or the new one. Failing to save a sort is not worth an error
    /// on screen; the caller ignores it.
    ///
    /// # Errors
    /// An I/O error.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let temp = data_dir.join(format!("{FILE}.tmp"));
        std::fs::write(&temp, text)?;
        std::fs::rename(&temp, path(data_dir))
    }
}

impl App {
    /// The sorts to remember.
    #[must_use]
    pub fn saved_state(&self) -> TuiState {
        let mut state = TuiState::default();
        for kind in RecordKind::ALL {
            let sort = self.index.kind(kind).sort;
            if sort == Sort::default_for(kind) {
                continue;
            }
            if let Some(column) = present::columns(kind).get(sort.column) {
                state.sorts.insert(
                    kind.key().to_owned(),
                    SavedSort {
                        column: column.field.to_owned(),
                        reverse: sort.reverse,
                    },
                );
            }
        }
        state
    }

    /// Applies remembered sorts; unknown kinds or columns are skipped.
    pub fn restore_state(&mut self, state: &TuiState) {
        for kind in RecordKind::ALL {
            let Some(saved) = state.sorts.get(kind.key()) else {
                continue;
            };
            let Some(column) = present::columns(kind)
                .iter()
                .position(|c| c.field == saved.column)
            else {
                continue;
            };
            self.index.kind_mut(kind).set_sort(Sort {
                column,
                reverse: saved.reverse,
            });
            self.views[kind.index()].stale = true;
        }
        self.refresh_view();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sort chosen with `o`/`O` is saved by column name and comes back in a new
    /// app; a damaged file gives the defaults.
    #[test]
    fn sorts_survive_a_restart() {
        let mut f = super::super::tests::Fixture::new();
        f.press("o");
        f.press("O");
        let saved = f.app.saved_state();
        let dir = tempfile::tempdir().expect("dir");
        saved.save(dir.path()).expect("save");
        let loaded = TuiState::load(dir.path());
        assert_eq!(loaded, saved);
        assert!(loaded.sorts["goal"].reverse);
        let mut again = super::super::tests::Fixture::new();
        again.app.restore_state(&loaded);
        assert_eq!(again.titles(), f.titles());
        assert_eq!(
            again.app.index.kind(RecordKind::Goal).sort,
            f.app.index.kind(RecordKind::Goal).sort
        );
        std::fs::write(path(dir.path()), b"{not json").expect("damage");
        assert_eq!(TuiState::load(dir.path()), TuiState::default());
    }
}
