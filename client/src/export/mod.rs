//! Everything in the replica, written to open formats: JSON (lossless: records and
//! their full op history, read back by [`crate::import`]), Markdown (one file per
//! conversation, one per other kind) and CSV (one file per kind). The trash and
//! conflicts are included in all three.
//!
//! Rendering is pure ([`render`] turns a [`Snapshot`] into [`File`]s); [`write`] puts
//! them on disk and refuses to overwrite an earlier export unless asked to.

pub mod csv;
pub mod json;
pub mod markdown;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_common::model::{RecordKind, Space};
use cairn_common::{Op, RecordId, RecordState};
use chrono::{DateTime, Utc};

use crate::replica::{Replica, ReplicaError};

/// The formats an export can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Csv,
}

impl Format {
    /// The name used on the command line.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Csv => "csv",
        }
    }
}

/// What an export reads from the replica, read once so that every file agrees.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub exported_at: DateTime<Utc>,
    pub spaces: Vec<Space>,
    /// Every record, live, in the trash or incomplete, in id order.
    pub records: Vec<RecordState>,
    /// Each record's ops, oldest first (only read when a format needs them).
    pub histories: BTreeMap<RecordId, Vec<Op>>,
}

impl Snapshot {
    /// Reads the replica; `with_history` also reads every record's ops.
    ///
    /// # Errors
    /// A storage or decode error of the replica.
    pub fn read(replica: &Replica, with_history: bool) -> Result<Self, ReplicaError> {
        let records = replica.records().collect::<Result<Vec<_>, _>>()?;
        let mut histories = BTreeMap::new();
        if with_history {
            for state in &records {
                histories.insert(state.id, replica.history(&state.id)?);
            }
        }
        Ok(Self {
            exported_at: Utc::now(),
            spaces: replica.spaces()?,
            records,
            histories,
        })
    }

    /// Complete records of one kind, live ones first, then the trash, each in id order.
    #[must_use]
    pub fn of_kind(&self, kind: RecordKind) -> Vec<&RecordState> {
        let mut out: Vec<&RecordState> = self
            .records
            .iter()
            .filter(|r| r.kind == Some(kind))
            .collect();
        out.sort_by_key(|r| r.is_deleted());
        out
    }

    /// The title of a record, for references.
    #[must_use]
    pub fn title_of(&self, id: &RecordId) -> Option<&str> {
        self.records
            .binary_search_by_key(id, |r| r.id)
            .ok()
            .map(|i| self.records[i].title())
    }
}

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Relative to the export directory.
    pub path: PathBuf,
    pub contents: String,
    /// How many records it holds.
    pub records: usize,
}

/// The files of an export in `format`.
///
/// # Errors
/// When a file cannot be rendered (JSON or CSV encoding).
pub fn render(format: Format, snapshot: &Snapshot) -> anyhow::Result<Vec<File>> {
    match format {
        Format::Json => Ok(vec![json::render(snapshot)?]),
        Format::Markdown => Ok(markdown::render(snapshot)),
        Format::Csv => csv::render(snapshot),
    }
}

/// Writes `files` under `dir`, creating it if missing. Refuses, before writing
/// anything, if any of the files exists already, unless `force`.
///
/// # Errors
/// Existing files (naming them and `--force`), or an I/O error naming the path.
pub fn write(dir: &Path, files: &[File], force: bool) -> anyhow::Result<()> {
    if !force {
        let existing: Vec<String> = files
            .iter()
            .filter(|f| dir.join(&f.path).exists())
            .map(|f| f.path.display().to_string())
            .collect();
        if !existing.is_empty() {
            let shown = existing
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if existing.len() > 3 {
                format!(" and {} more", existing.len() - 3)
            } else {
                String::new()
            };
            bail!(
                "{} already holds export files ({shown}{more}); pass --force to overwrite them or choose another --out",
                dir.display()
            );
        }
    }
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The plural used in file names: `goals`, `activities`, …
#[must_use]
pub fn plural(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Goal => "goals",
        RecordKind::Commitment => "commitments",
        RecordKind::Task => "tasks",
        RecordKind::Activity => "activities",
        RecordKind::Note => "notes",
        RecordKind::Potential => "potentials",
        RecordKind::Person => "people",
        RecordKind::File => "files",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second export into the same directory is refused without --force and nothing
    /// is changed; with force it overwrites.
    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("new/sub");
        let file = |text: &str| File {
            path: PathBuf::from("a/b.txt"),
            contents: text.to_owned(),
            records: 1,
        };
        write(&out, &[file("first")], false).expect("first export");
        let err = write(&out, &[file("second")], false).expect_err("exists");
        assert!(err.to_string().contains("--force"), "{err}");
        let read = || std::fs::read_to_string(out.join("a/b.txt")).expect("read");
        assert_eq!(read(), "first");
        write(&out, &[file("second")], true).expect("forced");
        assert_eq!(read(), "second");
    }
}
