//! The CSV export: one file per kind (`goals.csv`, …). The header is `id`, the kind's
//! field keys in schema order, then `deleted`, `created`, `updated` and `conflicts`.
//! Values are in their text form (what `cairn set` reads back); multi-line text is
//! quoted by the csv crate. A field in conflict holds its newest value, and the
//! `conflicts` column lists every version as `field: value` lines.

use std::path::PathBuf;

use cairn_common::model::{RecordKind, fields_of};

use super::{File, Snapshot, plural};
use crate::present::timestamp;

/// One CSV file per kind, each with its header even when the kind has no records.
///
/// # Errors
/// When the csv writer fails (it writes to memory, so only on invalid data).
pub fn render(snapshot: &Snapshot) -> anyhow::Result<Vec<File>> {
    let mut files = Vec::new();
    for kind in RecordKind::ALL {
        let records = snapshot.of_kind(kind);
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        let mut header = vec!["id"];
        header.extend(fields_of(kind).iter().map(|s| s.key));
        header.extend(["deleted", "created", "updated", "conflicts"]);
        writer.write_record(&header)?;
        for state in &records {
            let mut row = vec![state.id.to_string()];
            row.extend(
                fields_of(kind)
                    .iter()
                    .map(|s| state.get(s.key).map(|v| v.to_text()).unwrap_or_default()),
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
            writer.write_record(&row)?;
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
