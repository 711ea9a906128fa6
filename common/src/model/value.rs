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
    /// The people a record names (owner, committed by or to, participants): each a
    /// person record, or a name typed before they had one.
    People(Vec<PersonRef>),
}

/// Someone a record names. `id` links to their person record; `name` is the name as
/// it was when the link was made (or as typed), so lists read without a look-up and
/// a name outlives the person record's deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub name: String,
    pub id: Option<RecordId>,
}

impl PersonRef {
    /// A name without a person record.
    #[must_use]
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            id: None,
        }
    }

    /// A link to a person record under its current name.
    #[must_use]
    pub fn linked(name: &str, id: RecordId) -> Self {
        Self {
            name: name.to_owned(),
            id: Some(id),
        }
    }

    /// `Ana Lind` or, linked, `Ana Lind <id>`: the text form `FieldType::parse` reads.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self.id {
            Some(id) => format!("{} <{id}>", self.name),
            None => self.name.clone(),
        }
    }
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
            Self::People(v) => v.is_empty(),
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
            Self::People(people) => people
                .iter()
                .map(PersonRef::to_text)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The people a person field names, whichever form it is stored in: records
    /// written before people were records hold a name as text, participants as a
    /// list. `None` for values that name no one.
    #[must_use]
    pub fn people(&self) -> Option<Vec<PersonRef>> {
        match self {
            Self::People(people) => Some(people.clone()),
            Self::Text(name) if !name.trim().is_empty() => Some(vec![PersonRef::named(name)]),
            Self::List(names) => Some(names.iter().map(|n| PersonRef::named(n)).collect()),
            _ => None,
        }
    }

    /// The names a person field shows, joined by commas (no ids).
    #[must_use]
    pub fn names(&self) -> Option<String> {
        self.people().map(|people| {
            people
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
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
