//! The schema: which fields each record kind has, their types and ranges, how their
//! text form is read, and the check every change passes (in the client and, later,
//! on the server).

use std::fmt;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::choices::{CommitmentStatus, GoalStatus, NoteKind, Rating};
use super::ids::RecordId;
use super::recurrence::Recurrence;
use super::value::{KeyResult, PersonRef, Value};

/// The kinds of record: the six kinds of leadership work, and the people it is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordKind {
    Goal,
    Commitment,
    Task,
    Activity,
    Note,
    Potential,
    /// A person the work is about (an employee, a colleague, a subcontractor).
    Person,
    /// A file in a space (a photo, a document), maybe attached to a record; its
    /// content is kept apart, by SHA-256 (see `api::files`).
    File,
}

impl RecordKind {
    /// Every kind, in tab order.
    pub const ALL: [Self; 8] = [
        Self::Goal,
        Self::Commitment,
        Self::Task,
        Self::Activity,
        Self::Note,
        Self::Potential,
        Self::Person,
        Self::File,
    ];

    /// The word used on the command line and in file names.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Goal => "goal",
            Self::Commitment => "commitment",
            Self::Task => "task",
            Self::Activity => "activity",
            Self::Note => "note",
            Self::Potential => "potential",
            Self::Person => "person",
            Self::File => "file",
        }
    }

    /// The plural title shown on tabs and in exports.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Goal => "Goals",
            Self::Commitment => "Commitments",
            Self::Task => "Standard tasks",
            Self::Activity => "Activities",
            Self::Note => "Conversations",
            Self::Potential => "Potentials",
            Self::Person => "People",
            Self::File => "Files",
        }
    }

    /// Reads `goal`, `goals`, `note`, `conversation`, `task`, `standard-task`, …
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_lowercase();
        let t = t.strip_suffix('s').unwrap_or(&t);
        match t {
            "goal" => Some(Self::Goal),
            "commitment" => Some(Self::Commitment),
            "task" | "standard-task" | "standardtask" => Some(Self::Task),
            "activity" | "activitie" => Some(Self::Activity),
            "note" | "conversation" => Some(Self::Note),
            "potential" => Some(Self::Potential),
            "person" | "people" | "peoples" => Some(Self::Person),
            "file" | "attachment" => Some(Self::File),
            _ => None,
        }
    }

    /// The field that names a record of this kind in lists (its "title").
    #[must_use]
    pub fn title_field(self) -> &'static str {
        match self {
            Self::Potential => "person",
            Self::Person | Self::File => "name",
            _ => "title",
        }
    }

    /// Position in [`Self::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The type of a field: decides which [`Value`] it holds, how text is read into it,
/// and which range is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// One line, at most this many characters.
    Text {
        max_chars: usize,
    },
    /// Markdown, many lines; edited in the multi-line editor or `$EDITOR`.
    LongText,
    Date,
    /// A whole number in `min..=max`, shown with `unit`.
    Int {
        min: i64,
        max: i64,
        unit: &'static str,
    },
    /// Minutes, typed as `90`, `1h30m`, `45m` or `1.5h`.
    Minutes,
    Bool,
    GoalStatus,
    CommitmentStatus,
    NoteKind,
    Rating,
    /// A link to one record of one of these kinds.
    Ref(&'static [RecordKind]),
    /// Links to records of these kinds.
    Refs(&'static [RecordKind]),
    /// People: each a link to a person record, or a name of someone who has none
    /// yet. `many`: a list (participants), else at most one (an owner).
    Person {
        many: bool,
    },
    /// Comma-separated short strings.
    List,
    KeyResults,
    Recurrence,
    Dates,
}

/// One field of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Stable key: in ops, on the command line, in exports.
    pub key: &'static str,
    /// What people see.
    pub label: &'static str,
    pub ty: FieldType,
    /// A record must not be saved without it.
    pub required: bool,
    /// A one-line hint shown in forms and `--help`.
    pub hint: &'static str,
}

/// Longest long text accepted: 1 MiB is far beyond any note and far below abuse.
pub const MAX_LONG_TEXT: usize = 1 << 20;
/// Most entries in a list-valued field.
pub const MAX_LIST_ITEMS: usize = 1000;

const TITLE: usize = 200;
const NAME: usize = 120;

const fn f(
    key: &'static str,
    label: &'static str,
    ty: FieldType,
    required: bool,
    hint: &'static str,
) -> FieldSpec {
    FieldSpec {
        key,
        label,
        ty,
        required,
        hint,
    }
}

use FieldType as T;

/// Text with Windows (`\r\n`) and old Mac (`\r`) line endings turned into plain
/// newlines, as Cairn keeps text: long texts refuse `\r`, so every place that takes
/// text from a person or a file passes it through this first.
#[must_use]
pub fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}

const GOAL: &[FieldSpec] = &[
    f(
        "title",
        "Title",
        T::Text { max_chars: TITLE },
        true,
        "what is to be achieved",
    ),
    f(
        "status",
        "Status",
        T::GoalStatus,
        false,
        "open, on-track, at-risk, achieved, dropped",
    ),
    f(
        "owner",
        "Owner",
        T::Person { many: false },
        false,
        "who owns the goal: a person or a name",
    ),
    f("due", "Due", T::Date, false, "YYYY-MM-DD, today, +2w"),
    f(
        "progress",
        "Progress",
        T::Int {
            min: 0,
            max: 100,
            unit: "%",
        },
        false,
        "0–100",
    ),
    f(
        "key_results",
        "Key results",
        T::KeyResults,
        false,
        "name: current/target unit; …",
    ),
    f(
        "parent",
        "Aligned to",
        T::Ref(&[RecordKind::Goal]),
        false,
        "id of a parent goal",
    ),
    f("tags", "Tags", T::List, false, "comma-separated"),
    f("description", "Description", T::LongText, false, "Markdown"),
];

const COMMITMENT: &[FieldSpec] = &[
    f(
        "title",
        "Title",
        T::Text { max_chars: TITLE },
        true,
        "what was promised",
    ),
    f(
        "status",
        "Status",
        T::CommitmentStatus,
        false,
        "open, kept, missed, withdrawn",
    ),
    f(
        "by",
        "Committed by",
        T::Person { many: false },
        false,
        "who made the commitment: a person or a name",
    ),
    f(
        "to",
        "Committed to",
        T::Person { many: false },
        false,
        "to whom: a person or a name",
    ),
    f("due", "Due", T::Date, false, "YYYY-MM-DD, today, +3d"),
    f(
        "source",
        "From",
        T::Ref(&[RecordKind::Note, RecordKind::Goal]),
        false,
        "id of the conversation or goal it came from",
    ),
];

const TASK: &[FieldSpec] = &[
    f(
        "title",
        "Title",
        T::Text { max_chars: TITLE },
        true,
        "the recurring duty",
    ),
    f(
        "owner",
        "Owner",
        T::Person { many: false },
        false,
        "who does it: a person or a name",
    ),
    f(
        "recurrence",
        "Repeats",
        T::Recurrence,
        true,
        "every 2 weeks, monthly, mon,thu",
    ),
    f("next_due", "Next due", T::Date, false, "YYYY-MM-DD"),
    f(
        "history",
        "Done on",
        T::Dates,
        false,
        "dates it was done, comma-separated",
    ),
    f("description", "Description", T::LongText, false, "Markdown"),
];

const ACTIVITY: &[FieldSpec] = &[
    f(
        "title",
        "Title",
        T::Text { max_chars: TITLE },
        true,
        "what was done",
    ),
    f("date", "Date", T::Date, true, "YYYY-MM-DD, today, -1d"),
    f("duration", "Duration", T::Minutes, false, "90, 1h30m, 45m"),
    f(
        "goal",
        "Goal",
        T::Ref(&[RecordKind::Goal]),
        false,
        "id of the goal it serves",
    ),
    f("description", "Description", T::LongText, false, "Markdown"),
];

const NOTE: &[FieldSpec] = &[
    f(
        "title",
        "Title",
        T::Text { max_chars: TITLE },
        true,
        "e.g. 1:1 with Ana",
    ),
    f(
        "kind",
        "Kind",
        T::NoteKind,
        false,
        "1:1, appraisal, feedback, other",
    ),
    f("date", "Date", T::Date, true, "YYYY-MM-DD, today"),
    f(
        "participants",
        "Participants",
        T::Person { many: true },
        false,
        "people or names, comma-separated",
    ),
    f("follow_up", "Follow-up", T::Date, false, "YYYY-MM-DD, +2w"),
    f("private", "Private", T::Bool, false, "yes or no"),
    f(
        "commitments",
        "Commitments",
        T::Refs(&[RecordKind::Commitment]),
        false,
        "ids of commitments agreed",
    ),
    f("agenda", "Agenda", T::LongText, false, "Markdown"),
    f("notes", "Notes", T::LongText, false, "Markdown"),
];

const POTENTIAL: &[FieldSpec] = &[
    f(
        "person",
        "Person",
        T::Person { many: false },
        true,
        "whose potential: a person or a name",
    ),
    f(
        "performance",
        "Performance",
        T::Rating,
        false,
        "low, medium, high",
    ),
    f(
        "potential",
        "Potential",
        T::Rating,
        false,
        "low, medium, high",
    ),
    f("review", "Review date", T::Date, false, "YYYY-MM-DD"),
    f("strengths", "Strengths", T::LongText, false, "Markdown"),
    f(
        "development_areas",
        "Development areas",
        T::LongText,
        false,
        "Markdown",
    ),
    f(
        "measures",
        "Development measures",
        T::LongText,
        false,
        "Markdown",
    ),
];

const PERSON: &[FieldSpec] = &[
    f(
        "name",
        "Name",
        T::Text { max_chars: NAME },
        true,
        "e.g. Ana Lind",
    ),
    f(
        "email",
        "E-mail",
        T::Text { max_chars: NAME },
        false,
        "ana@example.com",
    ),
    f(
        "job_title",
        "Job title",
        T::Text { max_chars: NAME },
        false,
        "e.g. Backend engineer",
    ),
    f(
        "team",
        "Team",
        T::Text { max_chars: NAME },
        false,
        "e.g. Platform",
    ),
    f(
        "manager",
        "Manager",
        T::Ref(&[RecordKind::Person]),
        false,
        "id of the person they report to",
    ),
    f("start", "Start date", T::Date, false, "YYYY-MM-DD"),
    f(
        "account",
        "Cairn account",
        T::Text { max_chars: NAME },
        false,
        "e-mail of their Cairn login, if they have one",
    ),
    f("notes", "Notes", T::LongText, false, "Markdown"),
];

const FILE: &[FieldSpec] = &[
    f(
        "name",
        "Name",
        T::Text { max_chars: NAME },
        true,
        "the file's name, e.g. site-plan.pdf",
    ),
    f(
        "record",
        "Attached to",
        T::Ref(&[
            RecordKind::Goal,
            RecordKind::Commitment,
            RecordKind::Task,
            RecordKind::Activity,
            RecordKind::Note,
            RecordKind::Potential,
            RecordKind::Person,
        ]),
        false,
        "id of the record it belongs to",
    ),
    f(
        "size",
        "Size",
        T::Int {
            min: 0,
            max: i64::MAX,
            unit: " bytes",
        },
        true,
        "set by cairn files add",
    ),
    f(
        "sha256",
        "SHA-256",
        T::Text { max_chars: 64 },
        true,
        "set by cairn files add",
    ),
    f(
        "type",
        "Type",
        T::Text { max_chars: NAME },
        false,
        "what the content looks like, e.g. image/jpeg (told by the bytes, not the name)",
    ),
    f("description", "Description", T::LongText, false, "Markdown"),
];

/// Whether a field is set from a file's content (its size, SHA-256 and type) by
/// the program that adds the file, and so shown but never typed in: a changed
/// value would no longer describe the content.
#[must_use]
pub fn is_from_content(kind: RecordKind, key: &str) -> bool {
    kind == RecordKind::File && matches!(key, "size" | "sha256" | "type")
}

/// The fields of a kind, in form order.
#[must_use]
pub fn fields_of(kind: RecordKind) -> &'static [FieldSpec] {
    match kind {
        RecordKind::Goal => GOAL,
        RecordKind::Commitment => COMMITMENT,
        RecordKind::Task => TASK,
        RecordKind::Activity => ACTIVITY,
        RecordKind::Note => NOTE,
        RecordKind::Potential => POTENTIAL,
        RecordKind::Person => PERSON,
        RecordKind::File => FILE,
    }
}

/// The spec of one field of a kind.
///
/// # Errors
/// [`ModelError::UnknownField`] listing the kind's fields.
pub fn spec_of(kind: RecordKind, field: &str) -> Result<&'static FieldSpec, ModelError> {
    fields_of(kind)
        .iter()
        .find(|s| s.key == field)
        .ok_or_else(|| ModelError::UnknownField {
            kind,
            field: field.to_owned(),
            known: fields_of(kind)
                .iter()
                .map(|s| s.key)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A value or field that the model does not accept. Messages say what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("a {kind} has no field {field:?}; its fields are: {known}")]
    UnknownField {
        kind: RecordKind,
        field: String,
        known: String,
    },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{field} is required: give it a value")]
    Required { field: &'static str },
}

impl FieldSpec {
    fn invalid(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            field: self.label,
            reason: reason.into(),
        }
    }

    /// Reads what a person typed into this field's value. Dates may be relative to
    /// `today` (`today`, `tomorrow`, `+3d`, `-1w`, `+2m`). Empty text clears the field.
    ///
    /// # Errors
    /// A [`ModelError`] that shows the expected form.
    pub fn parse(&self, text: &str, today: NaiveDate) -> Result<Value, ModelError> {
        // Typed or pasted text may come with Windows line endings; it means plain
        // newlines, which are all a long text may hold.
        let text = normalize_newlines(text);
        let text = text.as_ref();
        let trimmed = text.trim();
        if trimmed.is_empty() && !matches!(self.ty, T::LongText) {
            return if self.required {
                Err(ModelError::Required { field: self.label })
            } else {
                Ok(Value::Empty)
            };
        }
        let value = match self.ty {
            T::Text { .. } => Value::Text(trimmed.to_owned()),
            T::LongText => {
                if text.is_empty() && self.required {
                    return Err(ModelError::Required { field: self.label });
                }
                Value::Text(text.to_owned())
            }
            T::Date => Value::Date(parse_date(trimmed, today).map_err(|r| self.invalid(r))?),
            T::Int { min, max, .. } => {
                let digits = trimmed.trim_end_matches('%').trim();
                let n: i64 = digits.parse().map_err(|_| {
                    self.invalid(format!(
                        "{trimmed:?} is not a whole number between {min} and {max}"
                    ))
                })?;
                Value::Int(n)
            }
            T::Minutes => Value::Int(parse_minutes(trimmed).map_err(|r| self.invalid(r))?),
            T::Bool => match trimmed.to_lowercase().as_str() {
                "yes" | "y" | "true" | "1" | "on" => Value::Bool(true),
                "no" | "n" | "false" | "0" | "off" => Value::Bool(false),
                _ => return Err(self.invalid(format!("{trimmed:?} is not yes or no"))),
            },
            T::GoalStatus => Value::GoalStatus(GoalStatus::parse(trimmed).ok_or_else(|| {
                self.invalid(format!(
                    "{trimmed:?} is not a goal status; use one of {}",
                    GoalStatus::keys()
                ))
            })?),
            T::CommitmentStatus => {
                Value::CommitmentStatus(CommitmentStatus::parse(trimmed).ok_or_else(|| {
                    self.invalid(format!(
                        "{trimmed:?} is not a commitment status; use one of {}",
                        CommitmentStatus::keys()
                    ))
                })?)
            }
            T::NoteKind => Value::NoteKind(NoteKind::parse(trimmed).ok_or_else(|| {
                self.invalid(format!(
                    "{trimmed:?} is not a conversation kind; use one of {}",
                    NoteKind::keys()
                ))
            })?),
            T::Rating => Value::Rating(Rating::parse(trimmed).ok_or_else(|| {
                self.invalid(format!(
                    "{trimmed:?} is not a rating; use one of {}",
                    Rating::keys()
                ))
            })?),
            T::Ref(_) => Value::Ref(parse_id(trimmed).map_err(|r| self.invalid(r))?),
            T::Refs(_) => Value::Refs(
                split_list(trimmed, ',')
                    .map(|s| parse_id(s).map_err(|r| self.invalid(r)))
                    .collect::<Result<_, _>>()?,
            ),
            T::List => Value::List(split_list(trimmed, ',').map(str::to_owned).collect()),
            T::Person { many } => {
                let people = split_list(trimmed, ',')
                    .map(|s| parse_person(s).map_err(|r| self.invalid(r)))
                    .collect::<Result<Vec<_>, _>>()?;
                if !many && people.len() > 1 {
                    return Err(
                        self.invalid("names one person; a comma separates several (use one name)")
                    );
                }
                Value::People(people)
            }
            T::KeyResults => Value::KeyResults(
                split_list(trimmed, ';')
                    .map(|s| parse_key_result(s).map_err(|r| self.invalid(r)))
                    .collect::<Result<_, _>>()?,
            ),
            T::Recurrence => Value::Recurrence(
                Recurrence::parse(trimmed).map_err(|e| self.invalid(e.to_string()))?,
            ),
            T::Dates => {
                let mut dates = split_list(trimmed, ',')
                    .map(|s| parse_date(s, today).map_err(|r| self.invalid(r)))
                    .collect::<Result<Vec<_>, _>>()?;
                dates.sort_unstable();
                dates.dedup();
                Value::Dates(dates)
            }
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Whether `value` fits this field: right variant, in range. Every op is checked
    /// with this before it is committed or accepted.
    ///
    /// # Errors
    /// A [`ModelError`] that says what is wrong.
    pub fn check(&self, value: &Value) -> Result<(), ModelError> {
        if value.is_empty() {
            return if self.required {
                Err(ModelError::Required { field: self.label })
            } else {
                Ok(())
            };
        }
        let fits = match (self.ty, value) {
            (T::Text { max_chars }, Value::Text(s)) => {
                if s.contains(['\n', '\r']) {
                    return Err(self.invalid("must be one line; use a long-text field for more"));
                }
                if s.chars().any(char::is_control) {
                    return Err(self.invalid(
                        "contains control characters (such as terminal escapes); remove them",
                    ));
                }
                if s.chars().count() > max_chars {
                    return Err(self.invalid(format!("at most {max_chars} characters")));
                }
                true
            }
            (T::LongText, Value::Text(s)) => {
                // One line break, one character: a `\r` would show as a stray
                // character or break a line in one place and not in another.
                if s.contains('\r') {
                    return Err(self.invalid(
                        "contains a carriage return (\\r, from Windows line endings); \
                         use plain newlines (\\n) to break lines",
                    ));
                }
                if s.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
                {
                    return Err(self.invalid(
                        "contains control characters (such as terminal escapes); remove them",
                    ));
                }
                if s.len() > MAX_LONG_TEXT {
                    return Err(self.invalid("longer than 1 MiB; split it or attach a file"));
                }
                true
            }
            (T::Date, Value::Date(d)) => {
                if !date_in_range(*d) {
                    return Err(self.invalid(DATE_RANGE));
                }
                true
            }
            (T::Bool, Value::Bool(_))
            | (T::GoalStatus, Value::GoalStatus(_))
            | (T::CommitmentStatus, Value::CommitmentStatus(_))
            | (T::NoteKind, Value::NoteKind(_))
            | (T::Rating, Value::Rating(_))
            | (T::Ref(_), Value::Ref(_)) => true,
            (T::Int { min, max, unit }, Value::Int(n)) => {
                if !(min..=max).contains(n) {
                    return Err(self.invalid(format!("{n}{unit} is outside {min}–{max}{unit}")));
                }
                true
            }
            (T::Minutes, Value::Int(n)) => {
                if !(0..=10_000 * 60).contains(n) {
                    return Err(self.invalid("must be between 0 minutes and 10,000 hours"));
                }
                true
            }
            (T::Refs(_), Value::Refs(ids)) => ids.len() <= MAX_LIST_ITEMS,
            (T::Person { many }, Value::People(people)) => {
                if people.len() > if many { MAX_LIST_ITEMS } else { 1 } {
                    return Err(self.invalid("names too many people"));
                }
                if let Some(bad) = people.iter().find_map(|p| person_name_problem(&p.name)) {
                    return Err(self.invalid(bad));
                }
                true
            }
            // Records written before people were records name them in plain text
            // (one) or a list (participants); those values stay valid.
            (T::Person { many: false }, Value::Text(name)) => {
                if let Some(bad) = person_name_problem(name) {
                    return Err(self.invalid(bad));
                }
                true
            }
            (T::Person { many: true }, Value::List(names)) => {
                if names.len() > MAX_LIST_ITEMS {
                    return Err(self.invalid("names too many people"));
                }
                if let Some(bad) = names.iter().find_map(|n| person_name_problem(n)) {
                    return Err(self.invalid(bad));
                }
                true
            }
            (T::List, Value::List(items)) => {
                if items.len() > MAX_LIST_ITEMS
                    || items.iter().any(|i| {
                        i.contains(',')
                            || i.chars().any(char::is_control)
                            || i.chars().count() > NAME
                    })
                {
                    return Err(
                        self.invalid("entries must be short, without commas or control characters")
                    );
                }
                true
            }
            (T::KeyResults, Value::KeyResults(krs)) => {
                if krs.len() > MAX_LIST_ITEMS
                    || krs.iter().any(|k| {
                        !k.current.is_finite()
                            || !k.target.is_finite()
                            || k.name.trim().is_empty()
                            || k.name.chars().count() > TITLE
                            || format!("{}{}", k.name, k.unit).contains(';')
                            || format!("{}{}", k.name, k.unit)
                                .chars()
                                .any(char::is_control)
                    })
                {
                    return Err(
                        self.invalid("each key result needs a name (no `;`) and finite numbers")
                    );
                }
                true
            }
            (T::Recurrence, Value::Recurrence(r)) => r.is_valid(),
            (T::Dates, Value::Dates(d)) => {
                if !d.iter().all(|d| date_in_range(*d)) {
                    return Err(self.invalid(DATE_RANGE));
                }
                d.len() <= 100_000 && d.windows(2).all(|w| w[0] < w[1])
            }
            _ => false,
        };
        if fits {
            Ok(())
        } else {
            Err(self.invalid(format!("a {value:?} does not fit a {:?} field", self.ty)))
        }
    }
}

const DATE_RANGE: &str = "dates must lie between the years 1900 and 9999";

/// Dates people mean: also keeps every stored date writable as `YYYY-MM-DD`.
fn date_in_range(date: NaiveDate) -> bool {
    (1900..=9999).contains(&chrono::Datelike::year(&date))
}

fn split_list(text: &str, sep: char) -> impl Iterator<Item = &str> {
    text.split(sep).map(str::trim).filter(|s| !s.is_empty())
}

/// What is wrong with a person's name as a person field holds it, if anything.
fn person_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("a person needs a name".into())
    } else if name.contains([',', '<', '>']) || name.chars().any(char::is_control) {
        Some(format!(
            "{name:?}: a name may not hold commas, < or > or control characters"
        ))
    } else if name.chars().count() > NAME {
        Some(format!("names have at most {NAME} characters"))
    } else {
        None
    }
}

/// Reads `Ana Lind` (a name) or `Ana Lind <id>` (a link to her person record).
fn parse_person(text: &str) -> Result<PersonRef, String> {
    if let Some(open) = text.rfind('<')
        && let Some(inner) = text[open + 1..].strip_suffix('>')
    {
        let id = parse_id(inner.trim())?;
        return Ok(PersonRef::linked(text[..open].trim(), id));
    }
    if text.parse::<RecordId>().is_ok() {
        return Err(format!(
            "{text:?} is an id without a name; write `Name <id>` or the person's name"
        ));
    }
    Ok(PersonRef::named(text))
}

fn parse_id(text: &str) -> Result<RecordId, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a record id (a UUID)"))
}

/// Reads `2026-03-01`, `today`, `tomorrow`, `yesterday`, `+3d`, `-2w`, `+1m`.
///
/// # Errors
/// A message with the accepted forms.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let t = text.trim().to_lowercase();
    let bad =
        || format!("{text:?} is not a date; write YYYY-MM-DD, today, tomorrow, +3d, -1w or +2m");
    match t.as_str() {
        "today" => return Ok(today),
        "tomorrow" => return today.succ_opt().ok_or_else(bad),
        "yesterday" => return today.pred_opt().ok_or_else(bad),
        _ => {}
    }
    if let Some(sign @ ('+' | '-')) = t.chars().next() {
        let body = &t[1..];
        let split = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let n: u32 = body[..split].parse().map_err(|_| bad())?;
        let forward = sign == '+';
        let date = match &body[split..] {
            "" | "d" => shift_days(today, u64::from(n), forward),
            "w" => shift_days(today, 7 * u64::from(n), forward),
            "m" => {
                let months = chrono::Months::new(n);
                if forward {
                    today.checked_add_months(months)
                } else {
                    today.checked_sub_months(months)
                }
            }
            _ => None,
        };
        return date.ok_or_else(bad);
    }
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| bad())
}

fn shift_days(date: NaiveDate, days: u64, forward: bool) -> Option<NaiveDate> {
    if forward {
        date.checked_add_days(Days::new(days))
    } else {
        date.checked_sub_days(Days::new(days))
    }
}

/// Reads `90`, `45m`, `2h`, `1h30m`, `1.5h` as minutes.
fn parse_minutes(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a duration; write 90, 45m, 2h, 1h30m or 1.5h");
    let t = text.trim().to_lowercase().replace(' ', "");
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    let mut total = 0.0_f64;
    let mut number = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' => {
                let n: f64 = number.parse().map_err(|_| bad())?;
                total += if c == 'h' { n * 60.0 } else { n };
                number.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || !total.is_finite() || total > 1e9 {
        return Err(bad());
    }
    // Bounded above, so the cast is exact enough for minutes.
    Ok(total.round() as i64)
}

/// Reads `Revenue: 40/100 kEUR`.
fn parse_key_result(text: &str) -> Result<KeyResult, String> {
    let bad = || format!("{text:?} is not a key result; write `name: current/target unit`");
    let (name, rest) = text.rsplit_once(':').ok_or_else(bad)?;
    let (current, rest) = rest.split_once('/').ok_or_else(bad)?;
    let rest = rest.trim();
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let target: f64 = rest[..split].parse().map_err(|_| bad())?;
    let current: f64 = current.trim().parse().map_err(|_| bad())?;
    Ok(KeyResult {
        name: name.trim().to_owned(),
        current,
        target,
        unit: rest[split..].trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")
    }

    /// Every field of every kind reads back its own text form to the same value.
    #[test]
    fn text_forms_round_trip() {
        let samples: &[(&str, &str)] = &[
            ("title", "Grow the team"),
            ("status", "at risk"),
            ("due", "2026-12-31"),
            ("progress", "40%"),
            ("key_results", "Hires: 2/5 people; NPS: 30.5/50"),
            ("tags", "hiring, q1"),
        ];
        for (field, text) in samples {
            let spec = spec_of(RecordKind::Goal, field).expect("field");
            let value = spec.parse(text, today()).expect(text);
            assert_eq!(
                spec.parse(&value.to_text(), today()),
                Ok(value.clone()),
                "{field}"
            );
        }
        let dur = spec_of(RecordKind::Activity, "duration").expect("duration");
        assert_eq!(dur.parse("1h30m", today()), Ok(Value::Int(90)));
        assert_eq!(dur.parse("1.5h", today()), Ok(Value::Int(90)));
    }

    /// Bad input is refused with a message that names the field and the expected form.
    #[test]
    fn bad_input_explains_itself() {
        let due = spec_of(RecordKind::Goal, "due").expect("due");
        let err = due
            .parse("31.12.2026", today())
            .expect_err("not a date")
            .to_string();
        assert!(err.contains("Due") && err.contains("YYYY-MM-DD"), "{err}");
        let progress = spec_of(RecordKind::Goal, "progress").expect("progress");
        assert!(progress.parse("140", today()).is_err());
        let title = spec_of(RecordKind::Goal, "title").expect("title");
        assert_eq!(
            title.parse("  ", today()),
            Err(ModelError::Required { field: "Title" })
        );
        assert!(spec_of(RecordKind::Goal, "colour").is_err());
        assert!(title.check(&Value::Int(3)).is_err());
    }

    /// Control characters (terminal escapes) and dates outside 1900–9999 are refused.
    #[test]
    fn hostile_text_and_dates_are_refused() {
        let title = spec_of(RecordKind::Goal, "title").expect("title");
        assert!(title.parse("\u{1b}[2Jgone", today()).is_err());
        let notes = spec_of(RecordKind::Note, "notes").expect("notes");
        assert!(notes.parse("line\n\tindented", today()).is_ok());
        assert!(notes.parse("bell\u{7}", today()).is_err());
        let due = spec_of(RecordKind::Goal, "due").expect("due");
        assert!(due.parse("+9999999d", today()).is_err());
        assert!(due.parse("0000-01-01", today()).is_err());
        let tags = spec_of(RecordKind::Goal, "tags").expect("tags");
        assert!(tags.check(&Value::List(vec!["a\u{1b}b".into()])).is_err());
    }

    /// Relative dates count from today.
    #[test]
    fn relative_dates() {
        assert_eq!(
            parse_date("+1w", today()),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 29).expect("d"))
        );
        assert_eq!(
            parse_date("-1m", today()),
            Ok(NaiveDate::from_ymd_opt(2026, 10, 22).expect("d"))
        );
        assert_eq!(
            parse_date("tomorrow", today()),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 23).expect("d"))
        );
    }

    /// Each kind has its title field first and every kind parses from its key.
    #[test]
    fn kinds_are_complete() {
        for kind in RecordKind::ALL {
            assert_eq!(fields_of(kind)[0].key, kind.title_field());
            assert_eq!(RecordKind::parse(kind.key()), Some(kind));
            assert_eq!(RecordKind::parse(&format!("{}s", kind.key())), Some(kind));
        }
    }

    /// A long text refuses a carriage return, saying to use plain newlines; a
    /// one-line text refuses it as a line break.
    #[test]
    fn carriage_returns_are_refused() {
        let description = spec_of(RecordKind::Task, "description").expect("field");
        let err = description
            .check(&Value::Text("one\r\ntwo".into()))
            .expect_err("\\r refused")
            .to_string();
        assert!(
            err.contains("carriage return") && err.contains("newlines"),
            "{err}"
        );
        assert!(
            description
                .check(&Value::Text("one\ntwo\tthree".into()))
                .is_ok()
        );
        let title = spec_of(RecordKind::Task, "title").expect("field");
        assert!(title.check(&Value::Text("one\rtwo".into())).is_err());
    }

    /// A person field reads names and `Name <id>` links, and round-trips them;
    /// one-person fields refuse two, an id without a name is refused with the form to
    /// use, and values stored before people were records (text, a list) stay valid.
    #[test]
    fn person_fields_read_names_and_links() {
        let owner = spec_of(RecordKind::Goal, "owner").expect("field");
        let id = RecordId::new();
        let linked = owner
            .parse(&format!("Ana Lind <{id}>"), today())
            .expect("link");
        assert_eq!(
            linked,
            Value::People(vec![PersonRef::linked("Ana Lind", id)])
        );
        assert_eq!(owner.parse(&linked.to_text(), today()), Ok(linked));
        assert_eq!(
            owner.parse(" Zed ", today()),
            Ok(Value::People(vec![PersonRef::named("Zed")]))
        );
        assert!(owner.parse("Ana, Ben", today()).is_err());
        let bare = owner
            .parse(&id.to_string(), today())
            .expect_err("id alone")
            .to_string();
        assert!(bare.contains("Name <id>"), "{bare}");
        assert!(owner.parse("Ana <not an id>", today()).is_err());
        assert!(owner.check(&Value::Text("Ana Lind".into())).is_ok());
        assert!(owner.check(&Value::Text("a\u{1b}b".into())).is_err());
        assert!(
            owner
                .check(&Value::People(vec![PersonRef::named("<b>")]))
                .is_err()
        );
        let participants = spec_of(RecordKind::Note, "participants").expect("field");
        let many = participants
            .parse(&format!("Ana <{id}>, Ben"), today())
            .expect("two");
        assert_eq!(
            many,
            Value::People(vec![PersonRef::linked("Ana", id), PersonRef::named("Ben")])
        );
        assert!(participants.check(&Value::List(vec!["Ana".into()])).is_ok());
        assert!(owner.check(&Value::List(vec!["Ana".into()])).is_err());
        assert_eq!(many.names().as_deref(), Some("Ana, Ben"));
    }

    /// Typed text with Windows or old Mac line endings is read with plain newlines.
    #[test]
    fn parse_normalizes_line_endings() {
        let description = spec_of(RecordKind::Task, "description").expect("field");
        assert_eq!(
            description.parse("one\r\ntwo\rthree\n", today()),
            Ok(Value::Text("one\ntwo\nthree\n".into()))
        );
        let title = spec_of(RecordKind::Task, "title").expect("field");
        assert_eq!(
            title.parse("Title\r\n", today()),
            Ok(Value::Text("Title".into()))
        );
        assert_eq!(normalize_newlines("plain"), "plain");
    }
}
