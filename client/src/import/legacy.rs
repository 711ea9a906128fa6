//! The single-file JSON export of earlier versions (`cairn-export.json`, format
//! `cairn-export` version 1, written by `cairn export --format json` before client
//! and server shared one format), still read so that old exports import: every
//! record with its full op history.

use std::path::Path;

use cairn_common::export::read::plain_newlines;
use cairn_common::model::{Space, Value};
use cairn_common::{Change, Op, RecordId};
use serde::Deserialize;

use super::ImportError;

/// Written in `format` by those versions.
pub const FORMAT: &str = "cairn-export";
/// The one version of the single-file format.
pub const FORMAT_VERSION: u64 = 1;

/// What a record of the export holds that the import needs; the readable fields
/// beside it are ignored (they follow from the history).
#[derive(Deserialize)]
struct ExportedRecord {
    id: RecordId,
    history: Vec<Op>,
}

/// The parts of a JSON export that are imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub spaces: Vec<Space>,
    pub ops: Vec<Op>,
    pub records: usize,
}

/// Checks an export's text: JSON, the export format, a version this build reads,
/// and records whose history are ops of that record.
///
/// # Errors
/// As [`read`].
pub fn parse(path: &Path, text: &str) -> Result<Parsed, ImportError> {
    let path = path.to_owned();
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|source| ImportError::NotJson {
            path: path.clone(),
            source,
        })?;
    if document.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(ImportError::Foreign { path });
    }
    let damaged = |reason: String| ImportError::Damaged {
        path: path.clone(),
        reason,
    };
    let version = document
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| damaged("\"format_version\" is missing or not a number".into()))?;
    if version != FORMAT_VERSION {
        return Err(ImportError::Newer {
            path,
            found: version,
        });
    }
    let spaces: Vec<Space> = match document.get("spaces") {
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|e| damaged(format!("\"spaces\" is not a list of spaces ({e})")))?,
        None => Vec::new(),
    };
    let records = document
        .get("records")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| damaged("\"records\" is missing or not a list".into()))?;
    let mut ops = Vec::new();
    for (n, value) in records.iter().enumerate() {
        let record: ExportedRecord = serde_json::from_value(value.clone())
            .map_err(|e| damaged(format!("record {} ({e})", n + 1)))?;
        if let Some(op) = record.history.iter().find(|op| op.record != record.id) {
            return Err(damaged(format!(
                "the history of record {} holds op {} of record {}",
                record.id, op.id, op.record
            )));
        }
        ops.extend(record.history.into_iter().map(plain_newlines_in));
    }
    Ok(Parsed {
        spaces,
        ops,
        records: records.len(),
    })
}

/// An op with [`plain_newlines`] in its value. The op keeps its id: a copy of the
/// same op elsewhere still counts as the same change.
fn plain_newlines_in(mut op: Op) -> Op {
    if let Change::Set { value, .. } = &mut op.change {
        *value = plain_newlines(std::mem::replace(value, Value::Empty));
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("x.json")
    }

    /// Foreign JSON, newer versions and inconsistent histories are refused by name.
    #[test]
    fn refuses_what_it_cannot_read() {
        let err = |text: &str| parse(path(), text).expect_err(text).to_string();
        assert!(err("{oops").contains("not JSON"));
        assert!(err("{\"records\": []}").contains("not a Cairn export"));
        assert!(
            err("{\"format\": \"cairn-export\", \"format_version\": 99, \"records\": []}")
                .contains("upgrade cairn")
        );
        assert!(err("{\"format\": \"cairn-export\", \"format_version\": 1}").contains("records"));
        let record = RecordId::new();
        let other = RecordId::new();
        let text = format!(
            r#"{{"format": "cairn-export", "format_version": 1, "records": [
                {{"id": "{record}", "history": [{{"id": "{other}", "space": "{other}",
                  "record": "{other}", "at": {{"wall_ms": 1, "counter": 0, "node": 1}},
                  "author": "{other}", "change": "Delete"}}]}}]}}"#
        );
        assert!(err(&text).contains("holds op"), "{}", err(&text));
        let empty = parse(
            path(),
            "{\"format\": \"cairn-export\", \"format_version\": 1, \"records\": []}",
        )
        .expect("an empty export is fine");
        assert_eq!(empty.records, 0);
    }

    /// Text with Windows line endings in an export is read with plain newlines;
    /// other ops are left as they are.
    #[test]
    fn windows_line_endings_become_newlines() {
        let record = RecordId::new();
        let text = format!(
            r#"{{"format": "cairn-export", "format_version": 1, "records": [
                {{"id": "{record}", "history": [
                  {{"id": "{record}", "space": "{record}", "record": "{record}",
                    "at": {{"wall_ms": 1, "counter": 0, "node": 1}}, "author": "{record}",
                    "change": {{"Create": {{"kind": "Task"}}}}}},
                  {{"id": "{other}", "space": "{record}", "record": "{record}",
                    "at": {{"wall_ms": 2, "counter": 0, "node": 1}}, "author": "{record}",
                    "change": {{"Set": {{"field": "description",
                      "value": {{"Text": "one\r\ntwo\r\n"}}, "replaces": []}}}}}}]}}]}}"#,
            other = RecordId::new()
        );
        let parsed = parse(path(), &text).expect("parses");
        assert_eq!(parsed.ops.len(), 2);
        assert!(matches!(parsed.ops[0].change, Change::Create { .. }));
        match &parsed.ops[1].change {
            Change::Set {
                value: Value::Text(text),
                ..
            } => assert_eq!(text, "one\ntwo\n"),
            other => panic!("{other:?}"),
        }
    }
}
