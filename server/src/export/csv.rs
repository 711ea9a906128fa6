//! CSV: each record kind of a space as `<kind>.csv` (`id`, the kind's field keys
//! in schema order, `deleted`, `created`, `updated`, `conflicts`, like the client's
//! CSV export), and the change history as `history.csv`. Values are in their text
//! form (what `cairn set` reads).

use cairn_common::api::ExportFile;
use cairn_common::merge::materialize;
use cairn_common::model::{RecordKind, Value, fields_of};

use super::files::HistoryFile;
use super::{Snapshot, SpaceData, time_of};

/// The CSV files of one space under `dir`.
///
/// # Errors
/// When the csv writer fails (it writes to memory, so only on invalid data).
pub fn render(snapshot: &Snapshot, data: &SpaceData, dir: &str) -> anyhow::Result<Vec<ExportFile>> {
    let states = materialize(data.ops.iter().map(|(_, op)| op));
    let mut files = Vec::new();
    for kind in RecordKind::ALL {
        let specs = fields_of(kind);
        let mut rows = vec![
            std::iter::once("id")
                .chain(specs.iter().map(|s| s.key))
                .chain(["deleted", "created", "updated", "conflicts"])
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        ];
        for state in states.values().filter(|s| s.kind == Some(kind)) {
            let mut row = vec![state.id.to_string()];
            row.extend(
                specs
                    .iter()
                    .map(|s| state.get(s.key).map(Value::to_text).unwrap_or_default()),
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

fn table(path: String, rows: &[Vec<String>]) -> anyhow::Result<ExportFile> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot finish {path}: {e}"))?;
    Ok(ExportFile {
        path,
        contents: String::from_utf8(bytes)?,
    })
}
