//! The Markdown export: each conversation note as a file of its own (a front-matter
//! header, then agenda and notes), and one file per other kind listing its records
//! with their fields. Records in the trash are included and marked; fields in
//! conflict show every version.

use std::fmt::Write as _;
use std::path::PathBuf;

use cairn_common::RecordState;
use cairn_common::model::{FieldSpec, FieldType, PROGRESS, RecordKind, Value, fields_of};

use super::{File, Snapshot, plural};
use crate::present::{progress_line, short_text, timestamp};

/// The directory of the conversation files.
pub const NOTES_DIR: &str = "conversations";

/// Every file of a Markdown export.
#[must_use]
pub fn render(snapshot: &Snapshot) -> Vec<File> {
    let mut files = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for state in snapshot.of_kind(RecordKind::Note) {
        let mut name = note_file_name(state, &state.id.short());
        // Short ids are 32 random bits: among tens of thousands of notes two may share
        // one, and one file must not overwrite the other.
        if !taken.insert(name.clone()) {
            name = note_file_name(state, &state.id.to_string());
            taken.insert(name.clone());
        }
        files.push(File {
            path: PathBuf::from(NOTES_DIR).join(name),
            contents: note(snapshot, state),
            records: 1,
        });
    }
    for kind in RecordKind::ALL {
        if kind != RecordKind::Note {
            let records = snapshot.of_kind(kind);
            files.push(File {
                path: PathBuf::from(format!("{}.md", plural(kind))),
                contents: kind_file(snapshot, kind, &records),
                records: records.len(),
            });
        }
    }
    files
}

/// `2026-11-22-1-1-with-ana-3f9a1c2e.md`: sorts by date, readable, unique by `id`.
fn note_file_name(state: &RecordState, id: &str) -> String {
    let date = state
        .get("date")
        .and_then(Value::as_date)
        .map(|d| format!("{d}-"))
        .unwrap_or_default();
    let mut slug = String::new();
    for c in state.title().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.chars().count() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() {
        String::new()
    } else {
        format!("{slug}-")
    };
    format!("{date}{slug}{id}.md")
}

/// One conversation: header, agenda, notes, conflicts.
fn note(snapshot: &Snapshot, state: &RecordState) -> String {
    let mut out = String::from("---\n");
    let mut header = |key: &str, value: &str| {
        let _ = if value.is_empty() {
            writeln!(out, "{key}:")
        } else {
            writeln!(out, "{key}: {}", header_value(value))
        };
    };
    header("id", &state.id.to_string());
    let mut long = Vec::new();
    for spec in fields_of(RecordKind::Note) {
        if matches!(spec.ty, FieldType::LongText) {
            long.push(spec);
        } else {
            let text = state.get(spec.key).map(Value::to_text).unwrap_or_default();
            header(spec.key, &text);
        }
    }
    header("deleted", if state.is_deleted() { "yes" } else { "no" });
    if let Some((at, _)) = state.created {
        header("created", &timestamp(at));
    }
    header("updated", &timestamp(state.updated));
    out.push_str("---\n\n");
    let _ = writeln!(out, "# {}", state.title());
    if state.is_deleted() {
        out.push_str("\n*In the trash.*\n");
    }
    for spec in long {
        let _ = write!(out, "\n## {}\n\n", spec.label);
        out.push_str(&block(state.text(spec.key)));
    }
    conflicts(&mut out, snapshot, state, "##");
    out
}

/// A header value, quoted (JSON string syntax, which YAML reads too) when it could
/// be misread: empty values stay empty, plain words stay plain.
fn header_value(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.contains([':', '#', '"', '\'', '\n'])
        && !text.starts_with(['-', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', ' '])
        && !text.ends_with(' ');
    if text.is_empty() || plain {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

/// A kind's records, each a section with its fields.
fn kind_file(snapshot: &Snapshot, kind: RecordKind, records: &[&RecordState]) -> String {
    let mut out = format!("# {}\n", kind.title());
    if records.is_empty() {
        let _ = write!(out, "\nNo {}.\n", kind.title().to_lowercase());
    }
    for state in records {
        let trash = if state.is_deleted() {
            " (in the trash)"
        } else {
            ""
        };
        let _ = write!(out, "\n## {}{trash}\n\n", state.title());
        let _ = writeln!(out, "- ID: {}", state.id);
        let mut long = Vec::new();
        for spec in fields_of(kind).iter().skip(1) {
            if matches!(spec.ty, FieldType::LongText) {
                long.push(spec);
            } else if state.progress().is_some() && spec.key == PROGRESS {
                let _ = writeln!(out, "- {}: {}", spec.label, progress_line(state));
            } else if let Some(value) = state.get(spec.key) {
                let _ = writeln!(out, "- {}: {}", spec.label, readable(snapshot, spec, value));
            }
        }
        if let Some((at, _)) = state.created {
            let _ = writeln!(out, "- Created: {}", timestamp(at));
        }
        let _ = writeln!(out, "- Updated: {}", timestamp(state.updated));
        for spec in long {
            let text = state.text(spec.key);
            if !text.is_empty() {
                let _ = write!(out, "\n### {}\n\n{}", spec.label, block(text));
            }
        }
        conflicts(&mut out, snapshot, state, "###");
    }
    out
}

/// A short value as a person reads it; references with the title they point to.
fn readable(snapshot: &Snapshot, spec: &FieldSpec, value: &Value) -> String {
    let titled = |id: &cairn_common::RecordId| match snapshot.title_of(id) {
        Some(title) => format!("{title} ({id})"),
        None => id.to_string(),
    };
    match value {
        Value::Ref(id) => titled(id),
        Value::Refs(ids) => ids.iter().map(titled).collect::<Vec<_>>().join(", "),
        Value::Text(text) => text.clone(),
        Value::People(people) => people
            .iter()
            .map(|p| match p.id {
                Some(id) => format!("{} ({id})", snapshot.title_of(&id).unwrap_or(&p.name)),
                None => p.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => short_text(spec.key, other),
    }
}

/// Every version of every field in conflict.
fn conflicts(out: &mut String, snapshot: &Snapshot, state: &RecordState, level: &str) {
    let Some(kind) = state.kind else { return };
    for field in state.conflicts() {
        let Some(spec) = fields_of(kind).iter().find(|s| s.key == field) else {
            continue;
        };
        let _ = write!(out, "\n{level} Conflict in {}\n\n", spec.label);
        let values = state.register(field).map(|r| r.values()).unwrap_or(&[]);
        for (n, v) in values.iter().enumerate() {
            let _ = writeln!(
                out,
                "Version {} by {} at {}:\n",
                n + 1,
                v.author,
                timestamp(v.at)
            );
            let text = match &v.value {
                Value::Text(text) => text.clone(),
                other => readable(snapshot, spec, other),
            };
            out.push_str(&block(&text));
            out.push('\n');
        }
    }
}

/// Text as a paragraph block ending in one newline (or a placeholder when empty).
fn block(text: &str) -> String {
    let trimmed = text.trim_end();
    if trimmed.is_empty() {
        "(empty)\n".to_owned()
    } else {
        format!("{trimmed}\n")
    }
}

#[cfg(test)]
mod tests {
    use cairn_common::merge::materialize;
    use cairn_common::{Change, Hlc, NodeId, Op, OpId, RecordId, SpaceId, UserId};

    use super::*;

    fn note_ops(id: RecordId, notes: &str) -> Vec<Op> {
        let op = |n: u32, change| Op {
            id: OpId::new(),
            space: SpaceId::from_bytes([1; 16]),
            record: id,
            at: Hlc {
                wall_ms: 1_795_000_000_000,
                counter: n,
                node: NodeId(1),
            },
            author: UserId::from_bytes([2; 16]),
            change,
        };
        let set = |n, field: &str, value| {
            op(
                n,
                Change::Set {
                    field: field.into(),
                    value,
                    replaces: vec![],
                },
            )
        };
        vec![
            op(
                0,
                Change::Create {
                    kind: RecordKind::Note,
                },
            ),
            set(1, "title", Value::Text("1:1 with Ana".into())),
            set(2, "notes", Value::Text(notes.into())),
        ]
    }

    /// Two notes whose short ids coincide still get a file each, holding their notes.
    #[test]
    fn colliding_short_ids_get_separate_files() {
        let mut a = [7u8; 16];
        let b = a;
        a[0] = 1;
        let (a, b) = (RecordId::from_bytes(a), RecordId::from_bytes(b));
        assert_eq!(a.short(), b.short());
        let ops: Vec<Op> = [note_ops(a, "first"), note_ops(b, "second")].concat();
        let snapshot = Snapshot {
            exported_at: chrono::Utc::now(),
            spaces: Vec::new(),
            records: materialize(&ops).into_values().collect(),
            histories: std::collections::BTreeMap::new(),
        };
        let files = render(&snapshot);
        let notes: Vec<&File> = files
            .iter()
            .filter(|f| f.path.starts_with(NOTES_DIR))
            .collect();
        assert_eq!(notes.len(), 2);
        assert_ne!(notes[0].path, notes[1].path);
        assert!(
            notes
                .iter()
                .any(|f| f.contents.contains("## Notes\n\nfirst\n"))
        );
        assert!(
            notes
                .iter()
                .any(|f| f.contents.contains("## Notes\n\nsecond\n"))
        );
        assert!(notes[0].contents.contains("title: \"1:1 with Ana\"\n"));
    }

    /// Header values that YAML could misread are quoted; plain ones are not.
    #[test]
    fn header_values_quote_when_needed() {
        assert_eq!(header_value("2026-11-22"), "2026-11-22");
        assert_eq!(header_value("Ana, Ben"), "Ana, Ben");
        assert_eq!(header_value("1:1"), "\"1:1\"");
        assert_eq!(header_value("- x"), "\"- x\"");
        assert_eq!(header_value(""), "");
    }
}
