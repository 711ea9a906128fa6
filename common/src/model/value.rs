//! Field values: one typed enum for every kind of field, and its text form.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::choices::{CommitmentStatus, GoalStatus, NoteKind, Rating};
use super::ids::RecordId;
use super::recurrence::Recurrence;

/// The value of one field. Which variant a field takes is fixed by its
/// [`FieldType`](super::FieldType); the schema checks it on every change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// The field was cleared.
    Empty,
    /// A single line or a long Markdown text, by the field's type.
    Text(String),
    /// A calendar date (no time zone: due dates are days).
    Date(NaiveDate),
    /// A whole number: percent, minutes.
    Int(i64),
    /// Yes or no.
    Bool(bool),
    /// A goal's status.
    GoalStatus(GoalStatus),
    /// A commitment's status.
    CommitmentStatus(CommitmentStatus),
    /// What kind of conversation a note is.
    NoteKind(NoteKind),
    /// A rating on the 3×3 grid.
    Rating(Rating),
    /// A link to another record.
    Ref(RecordId),
    /// Links to other records, in order.
    Refs(Vec<RecordId>),
    /// Short strings: tags, participants.
    List(Vec<String>),
    /// A goal's measurable key results.
    KeyResults(Vec<KeyResult>),
    /// How a standard task repeats.
    Recurrence(Recurrence),
    /// Dates on which something happened (a task's completion history), ascending.
    Dates(Vec<NaiveDate>),
}

/// A measurable result of a goal: `name: current/target unit`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyResult {
    pub name: String,
    pub current: f64,
    pub target: f64,
    pub unit: String,
}

impl KeyResult {
    /// Progress towards the target, 0–100.
    #[must_use]
    pub fn percent(&self) -> u8 {
        if self.target == 0.0 || !self.target.is_finite() || !self.current.is_finite() {
            return 0;
        }
        let ratio = (self.current / self.target).clamp(0.0, 1.0);
        // Clamped to 0..=1 above, so the cast cannot truncate.
        (ratio * 100.0).round() as u8
    }
}

impl Value {
    /// Whether the field holds nothing (cleared, empty text or empty list).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Text(s) => s.is_empty(),
            Self::Refs(v) => v.is_empty(),
            Self::List(v) => v.is_empty(),
            Self::KeyResults(v) => v.is_empty(),
            Self::Dates(v) => v.is_empty(),
            _ => false,
        }
    }

    /// The text a person would type to get this value back (see `FieldType::parse`).
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
            Self::Int(n) => n.to_string(),
            Self::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
            Self::GoalStatus(s) => s.key().to_owned(),
            Self::CommitmentStatus(s) => s.key().to_owned(),
            Self::NoteKind(k) => k.key().to_owned(),
            Self::Rating(r) => r.key().to_owned(),
            Self::Ref(id) => id.to_string(),
            Self::Refs(ids) => ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            Self::List(items) => items.join(", "),
            Self::KeyResults(krs) => krs
                .iter()
                .map(|kr| {
                    let unit = if kr.unit.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", kr.unit)
                    };
                    format!("{}: {}/{}{unit}", kr.name, kr.current, kr.target)
                })
                .collect::<Vec<_>>()
                .join("; "),
            Self::Recurrence(r) => r.to_string(),
            Self::Dates(dates) => dates
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The text, if this is a text value.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The date, if this is a date value.
    #[must_use]
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Self::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The number, if this is a number value.
    #[must_use]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            _ => None,
        }
    }
}
