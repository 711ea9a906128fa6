//! CSV: each record kind of a space as `<kind>.csv` (`id`, the kind's field keys
//! in schema order with a goal's `progress` by the one rule and `progress_entered`
//! after it, `deleted`, `created`, `updated`, `conflicts`, like the client's CSV
//! export), and the change history as `history.csv`. Values are in their text
//! form (what `cairn set` reads), with a `'` before any that a spreadsheet would
//! take for a formula ([`neutralize`]).

use crate::api::ExportFile;
use crate::merge::materialize;
use crate::model::{RecordKind, Value, shown_keys};

use super::format::HistoryFile;
use super::{ExportData, SpaceData, time_of};

/// The CSV files of one space under `dir`.
///
/// # Errors
/// When the csv writer fails (it writes to memory, so only on invalid data).
pub fn render(
    snapshot: &ExportData,
    data: &SpaceData,
    dir: &str,
) -> anyhow::Result<Vec<ExportFile>> {
    let states = materialize(data.ops.iter().map(|(_, op)| op));
    let mut files = Vec::new();
    for kind in RecordKind::ALL {
        let keys = shown_keys(kind);
        let mut rows = vec![
            std::iter::once("id")
                .chain(keys.iter().copied())
                .chain(["deleted", "created", "updated", "conflicts"])
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        ];
        for state in states.values().filter(|s| s.kind == Some(kind)) {
            let mut row = vec![state.id.to_string()];
            row.extend(
                keys.iter()
                    .map(|key| state.shown(key).map(|v| v.to_text()).unwrap_or_default()),
            );
            row.push(yes_no(state.is_deleted()));
            row.push(state.created.map(|(at, _)| time_of(at)).unwrap_or_default());
            row.push(time_of(state.updated));
            let versions: Vec<String> = state
                .conflicts()
                .into_iter()
                .flat_map(|field| {
                    let values = state
                        .register(field)
                        .map(|r| r.values())
                        .unwrap_or_default();
                    values
                        .iter()
                        .map(move |v| format!("{field}: {}", v.value.to_text()))
                })
                .collect();
            row.push(versions.join("\n"));
            rows.push(row);
        }
        files.push(table(format!("{dir}/{}.csv", kind.key()), &rows)?);
    }
    let history = HistoryFile::new(snapshot, data);
    let mut rows = vec![
        [
            "seq",
            "time",
            "author",
            "author_email",
            "record",
            "kind",
            "change",
            "field",
            "old",
            "new",
            "op",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for op in history.ops {
        let old = op
            .old
            .unwrap_or_default()
            .iter()
            .map(|o| o.value.as_ref().map(Value::to_text).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        rows.push(vec![
            op.seq.to_string(),
            op.at,
            op.author.to_string(),
            op.author_email.unwrap_or_default(),
            op.record.to_string(),
            op.kind,
            op.change,
            op.field.unwrap_or_default(),
            old,
            op.new.as_ref().map(Value::to_text).unwrap_or_default(),
            op.op.to_string(),
        ]);
    }
    files.push(table(format!("{dir}/history.csv"), &rows)?);
    Ok(files)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// A cell that a spreadsheet shows as text and never runs: one that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (a formula, or one in disguise)
/// gets a `'` in front, as OWASP advises against CSV injection. Values come from any
/// member of a space, and the person opening the file may be someone else.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn table(path: String, rows: &[Vec<String>]) -> anyhow::Result<ExportFile> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row.iter().map(|cell| neutralize(cell).into_owned()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot finish {path}: {e}"))?;
    Ok(ExportFile {
        path,
        contents: String::from_utf8(bytes)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells a spreadsheet would run get a `'` in front; others stay as they are.
    #[test]
    fn formulas_are_neutralized() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralize(cell), written, "{cell:?}");
        }
    }

    /// A whole table: the formula in a data cell is quoted as text in the file.
    #[test]
    fn table_neutralizes_every_cell() {
        let rows = vec![
            vec!["id".to_owned(), "title".to_owned()],
            vec!["1".to_owned(), "=cmd|' /C calc'!A0".to_owned()],
        ];
        let file = table("x.csv".into(), &rows).expect("table");
        assert_eq!(file.contents, "id,title\n1,'=cmd|' /C calc'!A0\n");
    }
}
