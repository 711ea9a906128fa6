//! The search query language (`ctrl-f`, `S`) and its test against one record.
//!
//! A query is terms separated by spaces; a record matches when every term does:
//! - `word`: the word, case-insensitive, anywhere in any field (long texts included);
//!   `"two words"` in double quotes is one term.
//! - `field:value`: `value` in that field (`status:at-risk`, `tags:hiring`,
//!   `owner:ana`, `notes:"pair with"`); a field is named by its key or its label
//!   (`committed-by`, `follow-up`), and `title:` is each kind's title.
//! - `is:overdue`, `is:done`, `is:open`, `is:conflict`, `is:deleted`, and `is:goal`,
//!   `is:note`, … for a kind.
//! - `@name`: a person named in owner, committed by, committed to, participants, a
//!   potential's person or a person record's name, matched at the start of a word
//!   (`@ana` finds "Ana Alves").
//! - `-` before any term negates it: `-is:done`, `-tags:q1`, `-@ben`.
//!
//! Records in the trash are left out unless the query asks for them (`is:deleted`).
//! Parsing is pure and fails with a message that says how to write the term.

use std::borrow::Cow;

use cairn_common::model::{RecordKind, Value, fields_of};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;

use crate::present;

/// Fields that name a person: where `@name` looks.
pub const PERSON_FIELDS: &[&str] = &["owner", "by", "to", "participants", "person", "name"];

/// Characters of a snippet around the match.
const SNIPPET_CHARS: usize = 60;
/// Characters of context kept before the match in a snippet.
const SNIPPET_BEFORE: usize = 20;

/// A parsed query: every term must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

/// One term, possibly negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub test: Test,
}

/// What a term looks for. Texts are already case-folded (see [`fold`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// Text anywhere in the record.
    Word(String),
    /// Text in one field, by key (`title` stands for each kind's title field, `id`
    /// for the record's id).
    Field { field: &'static str, value: String },
    /// A state of the record.
    Is(Flag),
    /// A person named in one of the [`PERSON_FIELDS`], by the name a record holds
    /// or, for a linked person, by the person record's current name: the ids of
    /// the person records whose name matches now (see [`Query::with_people`]).
    Person(String, Vec<RecordId>),
}

/// What `is:` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Open and past its due date (see `present::is_overdue`).
    Overdue,
    /// A goal achieved or dropped, a commitment kept, missed or withdrawn.
    Done,
    /// Not done.
    Open,
    /// A field with more than one current value.
    Conflict,
    /// In the trash.
    Deleted,
    /// Of this kind.
    Kind(RecordKind),
}

/// Where a record matched: the field and a one-line piece of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The field's key (`id` for the record's id).
    pub field: &'static str,
    /// The field's label, as forms show it.
    pub label: &'static str,
    /// The line of the value around the match, cut to about [`SNIPPET_CHARS`].
    pub snippet: String,
}

const IS_WORDS: &str = "overdue, done, open, conflict, deleted, goal, commitment, task, activity, note, potential, person";

impl Query {
    /// Reads a query typed by a person.
    ///
    /// # Errors
    /// A message naming the term that cannot be read and how to write it: an unknown
    /// field, an unknown `is:` word, a `field:` or `@` without a value, an unclosed quote.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for token in tokens(text)? {
            let (negated, body) = match token.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest),
                _ => (false, token.as_str()),
            };
            if body.is_empty() || body == "-" {
                continue;
            }
            terms.push(Term {
                negated,
                test: test_of(body)?,
            });
        }
        Ok(Self { terms })
    }

    /// Whether the query has no terms (it matches nothing).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Gives each `@name` term the person records whose current name matches
    /// (`people` yields each person record's id and name), so that records linking
    /// a person who was renamed since are found by the new name.
    #[must_use]
    pub fn with_people<'a>(
        mut self,
        people: impl Iterator<Item = (RecordId, &'a str)> + Clone,
    ) -> Self {
        for term in &mut self.terms {
            if let Test::Person(name, ids) = &mut term.test {
                *ids = people
                    .clone()
                    .filter(|(_, current)| find(&fold(current), name, true).is_some())
                    .map(|(id, _)| id)
                    .collect();
            }
        }
        self
    }

    /// Whether the query asks for records in the trash.
    #[must_use]
    pub fn wants_deleted(&self) -> bool {
        self.terms
            .iter()
            .any(|t| !t.negated && t.test == Test::Is(Flag::Deleted))
    }

    /// Where `state` matches, or `None` if it does not. The field reported is that of
    /// the first text term; a query of only `is:` terms reports the title field with
    /// no label or snippet (nothing in particular matched).
    #[must_use]
    pub fn matches(&self, state: &RecordState, today: NaiveDate) -> Option<Found> {
        let kind = state.kind?;
        if self.terms.is_empty() || (state.is_deleted() && !self.wants_deleted()) {
            return None;
        }
        let mut found = None;
        for term in &self.terms {
            match (term.negated, term.test.check(state, kind, today)) {
                (false, Outcome::No) | (true, Outcome::Yes | Outcome::In(_)) => return None,
                (false, Outcome::In(at)) => {
                    found.get_or_insert(at);
                }
                (false, Outcome::Yes) | (true, Outcome::No) => {}
            }
        }
        Some(found.unwrap_or_else(|| Found {
            field: kind.title_field(),
            label: "",
            snippet: String::new(),
        }))
    }
}

/// The result of one term on one record.
enum Outcome {
    No,
    Yes,
    /// Yes, in this field.
    In(Found),
}

impl Test {
    fn check(&self, state: &RecordState, kind: RecordKind, today: NaiveDate) -> Outcome {
        let found = match self {
            Self::Is(flag) => {
                return if flag.holds(state, kind, today) {
                    Outcome::Yes
                } else {
                    Outcome::No
                };
            }
            Self::Word(word) => fields_of(kind)
                .iter()
                .find_map(|spec| find_in_field(state, kind, spec.key, word, false)),
            Self::Field { field: "id", value } => {
                let id = state.id.to_string();
                find(&id, value, false).map(|at| Found {
                    field: "id",
                    label: "Id",
                    snippet: snippet(&id, at),
                })
            }
            Self::Field { field, value } => {
                let field = if *field == "title" {
                    kind.title_field()
                } else {
                    field
                };
                find_in_field(state, kind, field, value, false)
            }
            Self::Person(name, ids) => PERSON_FIELDS.iter().find_map(|field| {
                linked_in_field(state, kind, field, ids)
                    .or_else(|| find_in_field(state, kind, field, name, true))
            }),
        };
        found.map_or(Outcome::No, Outcome::In)
    }
}

impl Flag {
    fn holds(self, state: &RecordState, kind: RecordKind, today: NaiveDate) -> bool {
        match self {
            Self::Overdue => present::is_overdue(state, today),
            Self::Done => is_done(state),
            Self::Open => !is_done(state),
            Self::Conflict => !state.conflicts().is_empty(),
            Self::Deleted => state.is_deleted(),
            Self::Kind(k) => kind == k,
        }
    }
}

/// Whether a record is finished: a goal achieved or dropped, a commitment no longer
/// open. Other kinds are never done (a standard task moves to its next due date).
fn is_done(state: &RecordState) -> bool {
    match state.get("status") {
        Some(Value::GoalStatus(s)) => s.is_closed(),
        Some(Value::CommitmentStatus(s)) => !s.is_open(),
        _ => false,
    }
}

/// Looks for `needle` in every current value of `field` (both sides of a conflict).
fn find_in_field(
    state: &RecordState,
    kind: RecordKind,
    field: &'static str,
    needle: &str,
    word_start: bool,
) -> Option<Found> {
    let register = state.register(field)?;
    for value in register.values() {
        let text = searchable(field, &value.value);
        if let Some(at) = find(&text, needle, word_start) {
            return Some(Found {
                field,
                label: label_of(kind, field),
                snippet: snippet(&text, at),
            });
        }
    }
    None
}

/// Where a person field links one of `ids` (a person renamed since the record was
/// written still matches by the new name).
fn linked_in_field(
    state: &RecordState,
    kind: RecordKind,
    field: &'static str,
    ids: &[RecordId],
) -> Option<Found> {
    if ids.is_empty() {
        return None;
    }
    let people = state.get(field)?.people()?;
    let linked = people
        .iter()
        .find(|p| p.id.is_some_and(|id| ids.contains(&id)))?;
    Some(Found {
        field,
        label: label_of(kind, field),
        snippet: linked.name.clone(),
    })
}

fn label_of(kind: RecordKind, field: &'static str) -> &'static str {
    cairn_common::model::spec_of(kind, field).map_or(field, |spec| spec.label)
}

/// A value as text to search: long and short texts as typed, choices by key and by
/// label (`at-risk at risk`), durations and progress also as shown (`90 1h30m`).
fn searchable<'a>(field: &str, value: &'a Value) -> Cow<'a, str> {
    match value {
        Value::Text(text) => Cow::Borrowed(text),
        Value::GoalStatus(_)
        | Value::CommitmentStatus(_)
        | Value::NoteKind(_)
        | Value::Rating(_)
        | Value::Int(_) => {
            let raw = value.to_text();
            let shown = present::short_text(field, value);
            if raw == shown {
                Cow::Owned(raw)
            } else {
                Cow::Owned(format!("{raw} {shown}"))
            }
        }
        Value::Empty => Cow::Borrowed(""),
        Value::People(_) => Cow::Owned(value.names().unwrap_or_default()),
        other => Cow::Owned(other.to_text()),
    }
}

/// Lowercases one character to one character, so a folded text has as many
/// characters as the original and a match position maps back to it. (The few
/// characters whose lowercase is longer keep its first character.)
#[must_use]
pub fn fold_char(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// A text case-folded the way queries are.
#[must_use]
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// The byte offset in `haystack` of the first case-insensitive occurrence of the
/// folded `needle`; with `word_start`, only one that begins a word.
fn find(haystack: &str, needle: &str, word_start: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let starts_word = |at: usize| {
        !word_start
            || haystack[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
    };
    if needle.is_ascii() {
        // The common case, without allocating: ASCII bytes never occur inside a
        // multi-byte character, so every match starts on a character boundary.
        let (hay, pin) = (haystack.as_bytes(), needle.as_bytes());
        let first = pin[0];
        return (0..hay.len().saturating_sub(pin.len() - 1)).find(|&at| {
            hay[at].to_ascii_lowercase() == first
                && hay[at..at + pin.len()].eq_ignore_ascii_case(pin)
                && starts_word(at)
        });
    }
    let folded = fold(haystack);
    folded
        .match_indices(needle)
        .map(|(at, _)| {
            let nth = folded[..at].chars().count();
            haystack
                .char_indices()
                .nth(nth)
                .map_or(haystack.len(), |(i, _)| i)
        })
        .find(|&at| starts_word(at))
}

/// The line of `text` holding byte `at`, cut to about [`SNIPPET_CHARS`] around it,
/// with `…` where it was cut.
fn snippet(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[start..end];
    let before = text[start..at].chars().count();
    let total = line.chars().count();
    // Cut the start only as far as needed to show the match with some context.
    let mut skip = before
        .saturating_sub(SNIPPET_BEFORE)
        .min(total.saturating_sub(SNIPPET_CHARS));
    if skip > 0
        && let Some(space) = line
            .chars()
            .skip(skip)
            .take(before - skip)
            .position(char::is_whitespace)
    {
        // Start at a word, not in the middle of one.
        skip += space + 1;
    }
    let mut out = String::new();
    if skip > 0 {
        out.push('…');
    }
    out.extend(
        line.chars()
            .skip(skip)
            .take(SNIPPET_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c }),
    );
    if skip + SNIPPET_CHARS < total {
        out.push('…');
    }
    out
}

/// Splits a query into terms at spaces; double quotes keep spaces inside one term
/// (`notes:"pair with"`, `-"old plan"`) and are dropped.
fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut had_quotes = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                had_quotes = true;
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() || had_quotes {
                    out.push(std::mem::take(&mut current));
                }
                had_quotes = false;
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err("A quote is not closed: end the phrase with \".".to_owned());
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Reads one term without its `-`.
fn test_of(body: &str) -> Result<Test, String> {
    if let Some(name) = body.strip_prefix('@') {
        if name.is_empty() {
            return Err("Write a name after @, e.g. @ana.".to_owned());
        }
        return Ok(Test::Person(fold(name), Vec::new()));
    }
    if let Some((name, value)) = body.split_once(':')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')
    {
        if name.eq_ignore_ascii_case("is") {
            return flag_of(value).map(Test::Is);
        }
        let field = field_named(name).ok_or_else(|| {
            format!(
                "There is no field “{name}”. Fields: {}. Put text with a colon in quotes to search for it.",
                field_names().join(", ")
            )
        })?;
        if value.is_empty() {
            return Err(format!(
                "Write what to look for after {name}:, e.g. {name}:word."
            ));
        }
        return Ok(Test::Field {
            field,
            value: fold(value),
        });
    }
    Ok(Test::Word(fold(body)))
}

fn flag_of(word: &str) -> Result<Flag, String> {
    let flag = match word.to_lowercase().as_str() {
        "overdue" => Flag::Overdue,
        "done" | "closed" => Flag::Done,
        "open" => Flag::Open,
        "conflict" | "conflicts" => Flag::Conflict,
        "deleted" | "trash" => Flag::Deleted,
        other => match RecordKind::parse(other) {
            Some(kind) => Flag::Kind(kind),
            None => return Err(format!("is:{word} is not known; use is: with {IS_WORDS}.")),
        },
    };
    Ok(flag)
}

/// The key of the field a person named by key or label, any kind: `committed-by` and
/// `by` are `by`, `follow-up` is `follow_up`.
fn field_named(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    if wanted == "title" || wanted == "id" {
        return Some(if wanted == "id" { "id" } else { "title" });
    }
    RecordKind::ALL
        .iter()
        .flat_map(|&kind| fields_of(kind))
        .find(|spec| normalize(spec.key) == wanted || normalize(spec.label) == wanted)
        .map(|spec| spec.key)
}

fn normalize(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Every field key once, for the message about an unknown field.
fn field_names() -> Vec<&'static str> {
    let mut names = vec!["id"];
    for kind in RecordKind::ALL {
        for spec in fields_of(kind) {
            if !names.contains(&spec.key) {
                names.push(spec.key);
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use cairn_common::model::spec_of;

    use super::*;
    use crate::tui::test_support::{Builder, today};

    fn parse(text: &str) -> Query {
        Query::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    /// A record of `kind` with fields from typed text.
    fn record(kind: RecordKind, fields: &[(&str, &str)]) -> RecordState {
        let mut builder = Builder::new(kind);
        for (i, (field, typed)) in fields.iter().enumerate() {
            let value = spec_of(kind, field)
                .and_then(|spec| spec.parse(typed, today()))
                .unwrap_or_else(|e| panic!("{field}: {e}"));
            builder.set(1, i as u64 + 1, field, value, &[]);
        }
        builder.state()
    }

    fn note() -> RecordState {
        record(
            RecordKind::Note,
            &[
                ("title", "1:1 with Ana"),
                ("date", "2026-02-20"),
                ("participants", "Ana Alves, Ben"),
                (
                    "notes",
                    "Talked about growth.\nShe wants to lead the Zebra migration next quarter.",
                ),
            ],
        )
    }

    fn goal() -> RecordState {
        record(
            RecordKind::Goal,
            &[
                ("title", "Hire two engineers"),
                ("status", "at-risk"),
                ("owner", "Ana"),
                ("due", "2026-02-01"),
                ("tags", "hiring, q1"),
            ],
        )
    }

    fn hits(query: &str, state: &RecordState) -> bool {
        parse(query).matches(state, today()).is_some()
    }

    /// Plain words all must match, case-insensitive, long texts included, with a snippet.
    #[test]
    fn words_all_match_anywhere() {
        let note = note();
        assert!(hits("zebra", &note));
        assert!(hits("ZEBRA growth", &note));
        assert!(!hits("zebra giraffe", &note));
        let found = parse("migration").matches(&note, today()).expect("match");
        assert_eq!((found.field, found.label), ("notes", "Notes"));
        assert_eq!(
            found.snippet, "She wants to lead the Zebra migration next quarter.",
            "a short line is shown whole"
        );
        let long = format!("{} needle {}", "word ".repeat(30), "tail ".repeat(30));
        let cut = snippet(&long, long.find("needle").expect("needle"));
        assert!(cut.starts_with("…word ") && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("needle") && cut.chars().count() <= SNIPPET_CHARS + 2);
        assert_eq!(
            parse("1:1").terms,
            vec![Term {
                negated: false,
                test: Test::Word("1:1".into())
            }]
        );
        assert!(hits("\"lead the zebra\"", &note));
        assert!(!hits("\"lead zebra\"", &note));
    }

    /// `field:value` looks in one field (key, label or `title`); unknown fields are refused.
    #[test]
    fn field_terms_look_in_one_field() {
        let goal = goal();
        assert!(hits("status:at-risk", &goal));
        assert!(hits("status:\"at risk\"", &goal));
        assert!(!hits("status:open", &goal));
        assert!(hits("tags:hiring", &goal));
        assert!(!hits("tags:engineers", &goal));
        assert!(hits("owner:ana", &goal));
        assert!(hits("title:hire", &goal));
        let commitment = record(
            RecordKind::Commitment,
            &[("title", "Send notes"), ("by", "Ana"), ("to", "Ben")],
        );
        assert!(hits("committed-by:ana", &commitment));
        assert!(!hits("committed-to:ana", &commitment));
        let potential = record(RecordKind::Potential, &[("person", "Cy Chen")]);
        assert!(hits("title:chen", &potential));
        let err = Query::parse("colour:red").expect_err("unknown field");
        assert!(err.contains("colour") && err.contains("tags"), "{err}");
        assert!(Query::parse("tags:").is_err());
    }

    /// `is:` tests the record's state and kind; unknown words are refused.
    #[test]
    fn is_terms_test_state() {
        let goal = goal();
        assert!(hits("is:overdue", &goal));
        assert!(hits("is:goal is:open", &goal));
        assert!(!hits("is:note", &goal));
        assert!(!hits("is:done", &goal));
        assert!(!hits("is:conflict", &goal));
        let achieved = record(
            RecordKind::Goal,
            &[
                ("title", "Done one"),
                ("status", "achieved"),
                ("due", "2026-01-01"),
            ],
        );
        assert!(hits("is:done", &achieved));
        assert!(!hits("is:overdue", &achieved));
        let mut builder = Builder::new(RecordKind::Goal);
        builder.set(1, 1, "title", Value::Text("Left".into()), &[]);
        builder.set(2, 2, "title", Value::Text("Right".into()), &[]);
        assert!(hits("is:conflict", &builder.state()));
        // Both sides of a conflict are searched.
        assert!(hits("left", &builder.state()) && hits("right", &builder.state()));
        let found = parse("is:overdue").matches(&goal, today()).expect("match");
        assert_eq!((found.field, found.label), ("title", ""));
        let err = Query::parse("is:urgent").expect_err("unknown");
        assert!(err.contains("overdue") && err.contains("conflict"), "{err}");
    }

    /// A leading `-` negates any term.
    #[test]
    fn minus_negates_any_term() {
        let goal = goal();
        assert!(hits("-is:done", &goal));
        assert!(!hits("-is:overdue", &goal));
        assert!(hits("hire -zebra", &goal));
        assert!(!hits("-hire", &goal));
        assert!(!hits("-tags:hiring", &goal));
        assert!(hits("-tags:sales", &goal));
        assert!(!hits("-@ana", &goal));
        assert_eq!(parse("- hire").terms.len(), 1);
    }

    /// `@name` finds a person in the person fields, at the start of a word only.
    #[test]
    fn at_name_finds_people() {
        let note = note();
        assert!(hits("@ana", &note));
        assert!(hits("@alves", &note));
        assert!(!hits("@lves", &note));
        assert!(!hits("@zebra", &note), "notes text is no person field");
        let found = parse("@ben").matches(&note, today()).expect("match");
        assert_eq!(found.label, "Participants");
        assert!(hits("@ana", &goal()));
        let person = record(RecordKind::Person, &[("name", "Ana Lind")]);
        assert!(hits("@lind is:person", &person));
        assert!(Query::parse("@").is_err());
    }

    /// Records in the trash are found only when the query asks for them.
    #[test]
    fn trash_only_on_request() {
        let mut state = goal();
        let delete = cairn_common::op::Op {
            id: cairn_common::OpId(uuid::Uuid::from_bytes([0x77; 16])),
            space: state.space,
            record: state.id,
            at: state.updated,
            author: crate::tui::test_support::author(1),
            change: cairn_common::op::Change::Delete,
        };
        state.apply(&delete);
        assert!(!hits("hire", &state));
        assert!(hits("hire is:deleted", &state));
    }

    /// Non-ASCII text folds case too, and the snippet is cut on characters.
    #[test]
    fn unicode_folds_case() {
        let state = record(
            RecordKind::Note,
            &[
                ("title", "Gespräch"),
                ("date", "2026-02-20"),
                ("notes", "ÄRGER über das Büro"),
            ],
        );
        let found = parse("ärger").matches(&state, today()).expect("match");
        assert_eq!(found.snippet, "ÄRGER über das Büro");
        assert!(hits("büro", &state));
        assert_eq!(find("xÄrger", "ärger", false), Some(1));
        assert!(Query::parse("\"open").is_err());
    }
}
