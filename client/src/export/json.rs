//! The lossless JSON export: one `cairn-export.json`.
//!
//! ```text
//! {
//!   "format": "cairn-export",
//!   "format_version": 1,
//!   "exported_at": "2026-11-22T10:00:00.000Z",
//!   "spaces": [ { "id": "<uuid>", "name": "Personal", "personal": true } ],
//!   "records": [
//!     { <present::record_json: id, kind, space, deleted, created, created_by,
//!        updated, fields (a goal's `progress` by the one rule, `progress_entered`
//!        as entered), conflicts>,
//!       "history": [ <every op of the record, oldest first:
//!         { "id", "space", "record", "author": uuids,
//!           "at": { "wall_ms", "counter", "node" },
//!           "change": {"Create": {"kind": "Goal"}}
//!                   | {"Set": {"field", "value": {"<Value variant>": …}, "replaces": [op ids]}}
//!                   | "Delete" | "Restore" } > ] }
//!   ]
//! }
//! ```
//!
//! `fields` and `conflicts` are for readers; the `history` is the truth: importing it
//! rebuilds every record exactly (state is a pure function of the ops).

use std::path::PathBuf;

use super::{File, Snapshot};
use crate::present::record_json;

/// Written in `format`, so that other JSON is recognised as not an export.
pub const FORMAT: &str = "cairn-export";
/// Bumped on any change that an older Cairn could not import.
pub const FORMAT_VERSION: u64 = 1;
/// The one file of a JSON export.
pub const FILE_NAME: &str = "cairn-export.json";

/// The export document.
///
/// # Errors
/// When an op cannot be turned into JSON (it always can; serde's error is passed on).
pub fn render(snapshot: &Snapshot) -> anyhow::Result<File> {
    let mut records = Vec::with_capacity(snapshot.records.len());
    for state in &snapshot.records {
        let mut record = record_json(state);
        let history = snapshot
            .histories
            .get(&state.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(object) = record.as_object_mut() {
            object.insert("history".to_owned(), serde_json::to_value(history)?);
        }
        records.push(record);
    }
    let document = serde_json::json!({
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": snapshot
            .exported_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "spaces": snapshot.spaces,
        "records": records,
    });
    Ok(File {
        path: PathBuf::from(FILE_NAME),
        contents: serde_json::to_string_pretty(&document)? + "\n",
        records: snapshot.records.len(),
    })
}
