//! The CSV export: one file per kind (`goals.csv`, …). The header is `id`, the kind's
//! field keys in schema order (a goal's `progress` is its progress by the one rule,
//! followed by `progress_entered`, the figure entered), then `deleted`, `created`,
//! `updated` and `conflicts`.
//! Values are in their text form (what `cairn set` reads back); multi-line text is
//! quoted by the csv crate. A field in conflict holds its newest value, and the
//! `conflicts` column lists every version as `field: value` lines. A value a
//! spreadsheet would take for a formula gets a `'` in front ([`neutralize`]).

use std::borrow::Cow;
use std::path::PathBuf;

use cairn_common::model::{RecordKind, shown_keys};

use super::{File, Snapshot, plural};
use crate::present::timestamp;

/// A cell that a spreadsheet shows as text and never runs: one that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (a formula, or one in disguise)
/// gets a `'` in front, as OWASP advises against CSV injection. Records come from
/// every member of a shared space, and whoever opens the file trusts it.
///
/// The server's CSV export has the same small function: the client does not
/// depend on the server, and `cairn-common` holds wire and domain types only.
#[must_use]
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One CSV file per kind, each with its header even when the kind has no records.
///
/// # Errors
/// When the csv writer fails (it writes to memory, so only on invalid data).
pub fn render(snapshot: &Snapshot) -> anyhow::Result<Vec<File>> {
    let mut files = Vec::new();
    for kind in RecordKind::ALL {
        let records = snapshot.of_kind(kind);
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        let keys = shown_keys(kind);
        let mut header = vec!["id"];
        header.extend(&keys);
        header.extend(["deleted", "created", "updated", "conflicts"]);
        writer.write_record(&header)?;
        for state in &records {
            let mut row = vec![state.id.to_string()];
            row.extend(
                keys.iter()
                    .map(|key| state.shown(key).map(|v| v.to_text()).unwrap_or_default()),
            );
            row.push(if state.is_deleted() { "yes" } else { "no" }.to_owned());
            row.push(
                state
                    .created
                    .map(|(at, _)| timestamp(at))
                    .unwrap_or_default(),
            );
            row.push(timestamp(state.updated));
            let mut conflicts = Vec::new();
            for field in state.conflicts() {
                for v in state.register(field).map(|r| r.values()).unwrap_or(&[]) {
                    conflicts.push(format!("{field}: {}", v.value.to_text()));
                }
            }
            row.push(conflicts.join("\n"));
            writer.write_record(row.iter().map(|cell| neutralize(cell).into_owned()))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot finish the CSV of {kind}: {e}"))?;
        files.push(File {
            path: PathBuf::from(format!("{}.csv", plural(kind))),
            contents: String::from_utf8(bytes)?,
            records: records.len(),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use cairn_common::merge::materialize;
    use cairn_common::{Change, Hlc, NodeId, Op, OpId, RecordId, SpaceId, UserId, Value};

    use super::*;

    /// Cells a spreadsheet would run get a `'` in front; others stay as they are.
    #[test]
    fn formulas_are_neutralized() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("plain", "plain"),
            ("1-1", "1-1"),
            ("", ""),
        ] {
            assert_eq!(neutralize(cell), written, "{cell:?}");
        }
    }

    /// A task titled like a formula is written as text in tasks.csv.
    #[test]
    fn rendered_formula_is_text() {
        let record = RecordId::from_bytes([3; 16]);
        let op = |n: u32, change| Op {
            id: OpId::new(),
            space: SpaceId::from_bytes([1; 16]),
            record,
            at: Hlc {
                wall_ms: 1_795_000_000_000,
                counter: n,
                node: NodeId(1),
            },
            author: UserId::from_bytes([2; 16]),
            change,
        };
        let ops = vec![
            op(
                0,
                Change::Create {
                    kind: RecordKind::Task,
                },
            ),
            op(
                1,
                Change::Set {
                    field: "title".into(),
                    value: Value::Text("=HYPERLINK(\"http://evil\",\"x\")".into()),
                    replaces: vec![],
                },
            ),
        ];
        let snapshot = Snapshot {
            exported_at: chrono::Utc::now(),
            spaces: Vec::new(),
            records: materialize(&ops).into_values().collect(),
            histories: std::collections::BTreeMap::new(),
        };
        let files = render(&snapshot).expect("render");
        let tasks = files
            .iter()
            .find(|f| f.path == std::path::Path::new("tasks.csv"))
            .expect("tasks.csv");
        let mut reader = ::csv::Reader::from_reader(tasks.contents.as_bytes());
        let title = reader
            .records()
            .next()
            .expect("a row")
            .expect("valid csv")
            .get(1)
            .expect("title column")
            .to_owned();
        assert_eq!(title, "'=HYPERLINK(\"http://evil\",\"x\")");
    }
}
