//! How records are presented, shared by the TUI, the CLI and exports: list columns per
//! kind, cell text, overdue rules, goal progress, and the JSON form of a record.

use cairn_common::RecordState;
use cairn_common::model::{FieldType, KEY_RESULTS, PROGRESS, RecordKind, Value, shown_keys};
use serde_json::json;

/// One column of a record list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The field shown, or `id` for the short id.
    pub field: &'static str,
    pub label: &'static str,
    /// Width the column asks for; the title column takes what is left.
    pub width: u16,
}

const fn col(field: &'static str, label: &'static str, width: u16) -> Column {
    Column {
        field,
        label,
        width,
    }
}

const GOAL_COLUMNS: &[Column] = &[
    col("title", "Title", 0),
    col("status", "Status", 9),
    col("owner", "Owner", 14),
    col("due", "Due", 10),
    col("progress", "Progress", 8),
];
const COMMITMENT_COLUMNS: &[Column] = &[
    col("title", "Title", 0),
    col("status", "Status", 9),
    col("by", "By", 14),
    col("to", "To", 14),
    col("due", "Due", 10),
];
const TASK_COLUMNS: &[Column] = &[
    col("title", "Title", 0),
    col("owner", "Owner", 14),
    col("recurrence", "Repeats", 14),
    col("next_due", "Next due", 10),
];
const ACTIVITY_COLUMNS: &[Column] = &[
    col("title", "Title", 0),
    col("date", "Date", 10),
    col("duration", "Duration", 8),
];
const NOTE_COLUMNS: &[Column] = &[
    col("title", "Title", 0),
    col("kind", "Kind", 9),
    col("date", "Date", 10),
    col("participants", "Participants", 20),
    col("follow_up", "Follow-up", 10),
];
const PERSON_COLUMNS: &[Column] = &[
    col("name", "Name", 0),
    col("job_title", "Job title", 18),
    col("team", "Team", 14),
    col("email", "E-mail", 22),
];
const FILE_COLUMNS: &[Column] = &[
    col("name", "Name", 0),
    col("type", "Type", 16),
    col("size", "Size", 10),
    col("record", "Attached to", 12),
];
const POTENTIAL_COLUMNS: &[Column] = &[
    col("person", "Person", 0),
    col("performance", "Performance", 11),
    col("potential", "Potential", 9),
    col("review", "Review", 10),
];

/// The list columns of a kind, the title column first.
#[must_use]
pub fn columns(kind: RecordKind) -> &'static [Column] {
    match kind {
        RecordKind::Goal => GOAL_COLUMNS,
        RecordKind::Commitment => COMMITMENT_COLUMNS,
        RecordKind::Task => TASK_COLUMNS,
        RecordKind::Activity => ACTIVITY_COLUMNS,
        RecordKind::Note => NOTE_COLUMNS,
        RecordKind::Potential => POTENTIAL_COLUMNS,
        RecordKind::Person => PERSON_COLUMNS,
        RecordKind::File => FILE_COLUMNS,
    }
}

/// The text of one cell: the field's current value, short and on one line.
#[must_use]
pub fn cell(state: &RecordState, field: &str) -> String {
    if field == "id" {
        return state.id.short();
    }
    // `shown`: a goal with key results shows their mean progress, not the entered figure.
    match state.shown(field) {
        None => String::new(),
        Some(value) => short_text(field, &value),
    }
}

/// A value as it reads in a list or detail line (ids shortened, minutes as hours).
#[must_use]
pub fn short_text(field: &str, value: &Value) -> String {
    match value {
        Value::Int(n) if field == "duration" => minutes(*n),
        Value::Int(n) if field == "progress" => format!("{n}%"),
        Value::Int(n) if field == "size" => bytes(u64::try_from(*n).unwrap_or(0)),
        Value::GoalStatus(s) => s.label().to_owned(),
        Value::CommitmentStatus(s) => s.label().to_owned(),
        Value::NoteKind(k) => k.label().to_owned(),
        Value::Rating(r) => r.label().to_owned(),
        Value::Ref(id) => id.short(),
        Value::Refs(ids) => ids
            .iter()
            .map(|id| id.short())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Text(text) => text.lines().next().unwrap_or("").to_owned(),
        Value::People(_) => value.names().unwrap_or_default(),
        other => other.to_text(),
    }
}

/// `1536` → `1.5 KiB`: a file size for people.
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `90` → `1h30m`.
#[must_use]
pub fn minutes(total: i64) -> String {
    match (total / 60, total % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

pub use cairn_common::model::{due_date, is_overdue};

/// A goal's progress 0–100 by the one rule ([`RecordState::progress`]: the mean of its
/// key results if it has any, else its progress field); 0 for other kinds.
#[must_use]
pub fn goal_progress(state: &RecordState) -> u8 {
    state.progress().unwrap_or(0)
}

/// A goal's progress for people to read: the figure, and where it comes from when key
/// results make it (`60% (mean of 2 key results; 10% entered)`). Empty for other kinds.
#[must_use]
pub fn progress_line(state: &RecordState) -> String {
    let Some(progress) = state.progress() else {
        return String::new();
    };
    let count = match state.get(KEY_RESULTS) {
        Some(Value::KeyResults(krs)) => krs.len(),
        _ => 0,
    };
    let entered = state.get(PROGRESS).and_then(Value::as_int);
    match (count, entered) {
        (0, _) => format!("{progress}%"),
        (1, None) => format!("{progress}% (from its key result)"),
        (1, Some(n)) => format!("{progress}% (from its key result; {n}% entered)"),
        (_, None) => format!("{progress}% (mean of {count} key results)"),
        (_, Some(n)) => format!("{progress}% (mean of {count} key results; {n}% entered)"),
    }
}

/// A value in JSON as a script would want it: numbers and yes/no as JSON numbers and
/// booleans, lists as arrays, everything else as its text form (dates `YYYY-MM-DD`,
/// statuses by key, ids in full).
#[must_use]
pub fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Empty => serde_json::Value::Null,
        Value::Int(n) => json!(n),
        Value::Bool(b) => json!(b),
        Value::List(items) => json!(items),
        Value::People(people) => json!(people.iter().map(person_json).collect::<Vec<_>>()),
        Value::Refs(ids) => json!(ids.iter().map(ToString::to_string).collect::<Vec<_>>()),
        Value::Dates(dates) => json!(dates.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect::<Vec<_>>()),
        Value::KeyResults(krs) => json!(
            krs.iter()
                .map(|kr| json!({"name": kr.name, "current": kr.current, "target": kr.target, "unit": kr.unit}))
                .collect::<Vec<_>>()
        ),
        other => json!(other.to_text()),
    }
}

fn person_json(person: &cairn_common::model::PersonRef) -> serde_json::Value {
    json!({"name": person.name, "id": person.id.map(|id| id.to_string())})
}

/// A field's value in JSON by the field's type: a person field is one
/// `{"name", "id"}` object (`id` null for a name without a person record), or an
/// array of them for participants, whichever form the value is stored in.
#[must_use]
pub fn field_json(kind: RecordKind, field: &str, value: &Value) -> serde_json::Value {
    let ty = cairn_common::model::spec_of(kind, field).map(|s| s.ty);
    match (ty, value.people()) {
        (Ok(FieldType::Person { many: false }), Some(people)) => {
            people.first().map_or(serde_json::Value::Null, person_json)
        }
        (Ok(FieldType::Person { many: true }), Some(people)) => {
            json!(people.iter().map(person_json).collect::<Vec<_>>())
        }
        _ => value_json(value),
    }
}

/// A record as JSON: id, kind, space, trash flag, times, every field of its kind as
/// shown (null when unset; a goal's `progress` is its progress by the one rule, and
/// `progress_entered` the figure entered, which does not count while the goal has key
/// results), and the competing values of any field in conflict.
#[must_use]
pub fn record_json(state: &RecordState) -> serde_json::Value {
    let kind = state.kind;
    let mut fields = serde_json::Map::new();
    let mut conflicts = serde_json::Map::new();
    if let Some(kind) = kind {
        for key in shown_keys(kind) {
            fields.insert(
                key.to_owned(),
                state
                    .shown(key)
                    .map_or(serde_json::Value::Null, |v| field_json(kind, key, &v)),
            );
        }
    }
    for field in state.conflicts() {
        let values = state
            .register(field)
            .map(|r| r.values())
            .unwrap_or_default();
        let json_of = |value: &Value| match kind {
            Some(kind) => field_json(kind, field, value),
            None => value_json(value),
        };
        conflicts.insert(
            field.to_owned(),
            json!(values.iter().map(|v| json!({"value": json_of(&v.value), "author": v.author.to_string(), "at": timestamp(v.at)})).collect::<Vec<_>>()),
        );
    }
    json!({
        "id": state.id.to_string(),
        "kind": kind.map(RecordKind::key),
        "space": state.space.to_string(),
        "deleted": state.is_deleted(),
        "created": state.created.map(|(at, _)| timestamp(at)),
        "created_by": state.created.map(|(_, by)| by.to_string()),
        "updated": timestamp(state.updated),
        "fields": fields,
        "conflicts": conflicts,
    })
}

/// A clock's wall time as RFC 3339 (UTC, milliseconds).
#[must_use]
pub fn timestamp(at: cairn_common::Hlc) -> String {
    at.time()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use cairn_common::model::fields_of;

    use super::*;

    /// Minutes read as hours and minutes.
    #[test]
    fn minutes_read_well() {
        assert_eq!(minutes(45), "45m");
        assert_eq!(minutes(120), "2h");
        assert_eq!(minutes(90), "1h30m");
    }

    /// Every column of every kind names a field of that kind, title first.
    #[test]
    fn columns_name_real_fields() {
        for kind in RecordKind::ALL {
            let cols = columns(kind);
            assert_eq!(cols[0].field, kind.title_field());
            for c in cols {
                assert!(
                    fields_of(kind).iter().any(|f| f.key == c.field),
                    "{kind} {}",
                    c.field
                );
            }
        }
    }
}
