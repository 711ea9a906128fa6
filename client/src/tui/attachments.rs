//! Files attached to records, in the app: which files a record has (from the row
//! index: the live file records whose "Attached to" links it) and whether their
//! content is on this device. Part of the pure update: checking the cache is an
//! effect.

use cairn_common::RecordId;
use cairn_common::model::RecordKind;

use super::action::Effect;
use super::app::App;
use super::index::Index;
use crate::present;

/// A file attached to a record, as the details list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedFile {
    pub id: RecordId,
    pub name: String,
    /// As people read it: `1.5 KiB`.
    pub size: String,
    pub content_type: String,
}

/// The live files attached to `record`, by name: the file records among its
/// backlinks (the index keeps those of live records only).
#[must_use]
pub fn attached_files(index: &Index, record: &RecordId) -> Vec<AttachedFile> {
    let files = index.kind(RecordKind::File);
    let column = |field| {
        present::columns(RecordKind::File)
            .iter()
            .position(|c| c.field == field)
    };
    let (name, size, content_type) = (column("name"), column("size"), column("type"));
    let cell = |row: &super::index::Row, at: Option<usize>| {
        at.map(|at| row.cell(at).to_owned()).unwrap_or_default()
    };
    let mut out: Vec<AttachedFile> = index
        .links
        .backlinks(record)
        .iter()
        .filter_map(|id| files.row(files.find(id)?))
        .filter(|row| !row.is_deleted())
        .map(|row| AttachedFile {
            id: row.id,
            name: cell(row, name),
            size: cell(row, size),
            content_type: cell(row, content_type),
        })
        .collect();
    out.sort_by_key(|a| (a.name.to_lowercase(), a.id));
    out
}

impl App {
    /// Which files the details show (the attachments, or the file itself on the
    /// Files tab) when that changed: check whether their content is here.
    pub(super) fn check_files(&mut self) -> Option<Effect> {
        let ids: Vec<RecordId> = match self.detail.id {
            Some(id) => {
                let mut ids: Vec<RecordId> = attached_files(&self.index, &id)
                    .into_iter()
                    .map(|f| f.id)
                    .collect();
                if self.index.kind(RecordKind::File).find(&id).is_some() {
                    ids.push(id);
                }
                ids
            }
            None => Vec::new(),
        };
        if ids == self.detail.checked {
            return None;
        }
        self.detail.checked.clone_from(&ids);
        (!ids.is_empty()).then_some(Effect::CheckFiles(ids))
    }
}
