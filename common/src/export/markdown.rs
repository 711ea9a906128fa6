//! Markdown: each conversation note of a space as
//! `conversations/<record-id>.md`: a front-matter block of its short fields (values
//! as JSON strings, which YAML reads too), the title, then agenda and notes, and
//! every version of a field in conflict.

use std::fmt::Write as _;

use crate::RecordState;
use crate::api::ExportFile;
use crate::merge::materialize;
use crate::model::{FieldType, RecordKind, Value, fields_of};

use super::{SpaceData, time_of};

/// The note files of one space under `dir`.
#[must_use]
pub fn render(data: &SpaceData, dir: &str) -> Vec<ExportFile> {
    materialize(data.ops.iter().map(|(_, op)| op))
        .values()
        .filter(|s| s.kind == Some(RecordKind::Note))
        .map(|state| ExportFile {
            path: format!("{dir}/conversations/{}.md", state.id),
            contents: note(state),
        })
        .collect()
}

fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn note(state: &RecordState) -> String {
    let specs = fields_of(RecordKind::Note);
    let mut out = String::from("---\n");
    let _ = writeln!(out, "id: {}", state.id);
    for spec in specs.iter().filter(|s| s.ty != FieldType::LongText) {
        let text = state.get(spec.key).map(Value::to_text).unwrap_or_default();
        let _ = writeln!(out, "{}: {}", spec.key, quoted(&text));
    }
    let _ = writeln!(out, "in_trash: {}", state.is_deleted());
    let created = state.created.map(|(at, _)| time_of(at)).unwrap_or_default();
    let _ = writeln!(out, "created: {}", quoted(&created));
    let _ = writeln!(out, "updated: {}", quoted(&time_of(state.updated)));
    let _ = write!(out, "---\n\n# {}\n", state.title());
    for spec in specs.iter().filter(|s| s.ty == FieldType::LongText) {
        let text = state.text(spec.key).trim_end();
        let text = if text.is_empty() { "(empty)" } else { text };
        let _ = write!(out, "\n## {}\n\n{text}\n", spec.label);
    }
    for field in state.conflicts() {
        let _ = write!(out, "\n## Conflicting versions of {field}\n");
        for v in state
            .register(field)
            .map(|r| r.values())
            .unwrap_or_default()
        {
            let _ = write!(
                out,
                "\n### By {} at {}\n\n{}\n",
                v.author,
                time_of(v.at),
                v.value.to_text().trim_end()
            );
        }
    }
    out
}
