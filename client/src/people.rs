//! Everything about one person: the records that name them (as owner, committed by
//! or to, participant, the person of a potential, or by a link to their record), in
//! the groups a manager prepares a 1:1 from, and the agenda of the next 1:1.
//!
//! People are records of the kind `person`; older records name people in free
//! text, so a record is about a person when one of its person fields holds their
//! name (case and spaces aside) or links to their record.

use std::fmt::Write as _;

use cairn_common::model::{PersonRef, RecordKind, Value};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;

use crate::present;
use crate::replica::{Replica, ReplicaError};

/// The fields of each kind that name a person.
const PERSON_FIELDS: &[(RecordKind, &str)] = &[
    (RecordKind::Goal, "owner"),
    (RecordKind::Commitment, "by"),
    (RecordKind::Commitment, "to"),
    (RecordKind::Task, "owner"),
    (RecordKind::Note, "participants"),
    (RecordKind::Potential, "person"),
];

/// One record in a person's overview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: RecordId,
    pub kind: RecordKind,
    pub title: String,
    /// Status, progress, dates: what the overview shows after the title.
    pub detail: String,
    /// The date it is listed by (due, follow-up, conversation date).
    pub date: Option<NaiveDate>,
    pub overdue: bool,
}

/// A person and what is open with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overview {
    pub person: RecordId,
    pub name: String,
    /// Job title and team, for the heading.
    pub about: String,
    /// Open commitments they made, and made to them, soonest due first.
    pub commitments_by: Vec<Item>,
    pub commitments_to: Vec<Item>,
    /// Goals they own that are not closed, soonest due first.
    pub goals: Vec<Item>,
    /// Conversations with them, newest first.
    pub conversations: Vec<Item>,
    /// Their potential assessment, if any.
    pub potential: Option<Item>,
    /// Follow-ups of conversations with them that are due, soonest first.
    pub follow_ups: Vec<Item>,
    /// The open points of the last conversation: unchecked `- [ ]` items and lines
    /// starting with "Next" or "TODO", from its agenda and notes.
    pub open_points: Vec<String>,
}

/// Every live person record: id and name.
///
/// # Errors
/// A storage or decode error of the replica.
pub fn people(replica: &Replica) -> Result<Vec<(RecordId, String)>, ReplicaError> {
    let mut out = Vec::new();
    for state in replica.records() {
        let state = state?;
        if state.kind == Some(RecordKind::Person) && !state.is_deleted() && state.is_complete() {
            out.push((state.id, state.title().to_owned()));
        }
    }
    Ok(out)
}

/// A record and the fields to set on it.
pub type Update = (RecordState, Vec<(String, Value)>);

/// For each record that names one of `people` by a plain name (no link), the person
/// fields to set so that they link to that person record instead. Names that
/// several of `people` carry stay names; fields in conflict are left alone.
///
/// # Errors
/// A storage or decode error of the replica.
pub fn links_to_make(
    replica: &Replica,
    people: &[(RecordId, String)],
) -> Result<Vec<Update>, ReplicaError> {
    let by_name = |name: &str| {
        let wanted = normalize(name);
        let mut found = people.iter().filter(|(_, n)| normalize(n) == wanted);
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for state in replica.records() {
        let state = state?;
        let Some(kind) = state.kind else { continue };
        if state.is_deleted() || !state.is_complete() {
            continue;
        }
        let mut fields = Vec::new();
        for (k, field) in PERSON_FIELDS {
            if *k != kind || state.register(field).is_some_and(|r| r.is_conflict()) {
                continue;
            }
            let Some(named) = state.get(field).and_then(Value::people) else {
                continue;
            };
            let mut changed = false;
            let linked: Vec<PersonRef> = named
                .into_iter()
                .map(|p| match (p.id, by_name(&p.name)) {
                    (None, Some((id, name))) => {
                        changed = true;
                        PersonRef::linked(&name, id)
                    }
                    _ => p,
                })
                .collect();
            if changed {
                fields.push(((*field).to_owned(), Value::People(linked)));
            }
        }
        if !fields.is_empty() {
            out.push((state, fields));
        }
    }
    Ok(out)
}

/// A name as names are compared: spaces collapsed, lower case.
#[must_use]
pub fn normalize(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `value` (a person field's value) names the person.
fn names(value: &Value, name: &str, id: RecordId) -> bool {
    match value {
        Value::Text(text) => normalize(text) == name,
        Value::List(items) => items.iter().any(|i| normalize(i) == name),
        Value::Ref(r) => *r == id,
        Value::Refs(rs) => rs.contains(&id),
        Value::People(people) => people
            .iter()
            .any(|p| p.id == Some(id) || p.id.is_none() && normalize(&p.name) == name),
        _ => false,
    }
}

/// The person fields of `state` that name the person.
fn roles(state: &RecordState, name: &str, id: RecordId) -> Vec<&'static str> {
    let Some(kind) = state.kind else {
        return Vec::new();
    };
    PERSON_FIELDS
        .iter()
        .filter(|(k, field)| *k == kind && state.get(field).is_some_and(|v| names(v, name, id)))
        .map(|(_, field)| *field)
        .collect()
}

fn item(state: &RecordState, today: NaiveDate, detail: String) -> Item {
    let date = present::due_date(state).or_else(|| state.get("date").and_then(Value::as_date));
    Item {
        id: state.id,
        kind: state.kind.unwrap_or(RecordKind::Note),
        title: state.title().to_owned(),
        detail,
        date,
        overdue: present::is_overdue(state, today),
    }
}

fn due_text(state: &RecordState, today: NaiveDate) -> String {
    match present::due_date(state) {
        Some(due) if present::is_overdue(state, today) => format!("overdue since {due}"),
        Some(due) => format!("due {due}"),
        None => String::new(),
    }
}

/// Whether a commitment or goal is still open.
fn is_open(state: &RecordState) -> bool {
    match state.get("status") {
        Some(Value::GoalStatus(s)) => !s.is_closed(),
        Some(Value::CommitmentStatus(s)) => s.is_open(),
        _ => true,
    }
}

/// The overview of `person` (a record of kind person) from every record the replica
/// holds, as of `today`.
///
/// # Errors
/// A storage or decode error of the replica.
pub fn overview(
    replica: &Replica,
    person: &RecordState,
    today: NaiveDate,
) -> Result<Overview, ReplicaError> {
    let name = normalize(person.title());
    let mut o = Overview {
        person: person.id,
        name: person.title().to_owned(),
        about: [person.text("job_title"), person.text("team")]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
        commitments_by: Vec::new(),
        commitments_to: Vec::new(),
        goals: Vec::new(),
        conversations: Vec::new(),
        potential: None,
        follow_ups: Vec::new(),
        open_points: Vec::new(),
    };
    let mut last_note: Option<RecordState> = None;
    for state in replica.records() {
        let state = state?;
        if state.is_deleted() || !state.is_complete() || state.id == person.id {
            continue;
        }
        let roles = roles(&state, &name, person.id);
        if roles.is_empty() {
            continue;
        }
        match state.kind {
            Some(RecordKind::Commitment) if is_open(&state) => {
                let due = due_text(&state, today);
                if roles.contains(&"by") {
                    let to = state.get("to").and_then(Value::names).unwrap_or_default();
                    o.commitments_by
                        .push(item(&state, today, join(&[&format!("to {to}"), &due])));
                }
                if roles.contains(&"to") {
                    let by = state.get("by").and_then(Value::names).unwrap_or_default();
                    o.commitments_to
                        .push(item(&state, today, join(&[&format!("by {by}"), &due])));
                }
            }
            Some(RecordKind::Goal) if is_open(&state) => {
                let progress = format!("{}%", present::goal_progress(&state));
                o.goals.push(item(
                    &state,
                    today,
                    join(&[&progress, &due_text(&state, today)]),
                ));
            }
            Some(RecordKind::Note) => {
                let kind = state.get("kind").map(Value::to_text).unwrap_or_default();
                let date = state.get("date").map(Value::to_text).unwrap_or_default();
                o.conversations
                    .push(item(&state, today, join(&[&kind, &date])));
                if let Some(follow_up) = state.get("follow_up").and_then(Value::as_date)
                    && follow_up <= today + chrono::Days::new(7)
                {
                    let mut due = item(&state, today, format!("follow-up {follow_up}"));
                    due.date = Some(follow_up);
                    due.overdue = follow_up < today;
                    o.follow_ups.push(due);
                }
                let newer = last_note.as_ref().is_none_or(|last| {
                    (state.get("date").and_then(Value::as_date), state.updated)
                        > (last.get("date").and_then(Value::as_date), last.updated)
                });
                if newer {
                    last_note = Some(state.clone());
                }
            }
            Some(RecordKind::Potential) => {
                let rating = |f: &str| state.get(f).map(Value::to_text).unwrap_or("—".into());
                let detail = format!(
                    "performance {}, potential {}",
                    rating("performance"),
                    rating("potential")
                );
                o.potential = Some(item(
                    &state,
                    today,
                    join(&[&detail, &due_text(&state, today)]),
                ));
            }
            _ => {}
        }
    }
    let by_date = |items: &mut Vec<Item>| items.sort_by_key(|i| (i.date.is_none(), i.date));
    by_date(&mut o.commitments_by);
    by_date(&mut o.commitments_to);
    by_date(&mut o.goals);
    by_date(&mut o.follow_ups);
    o.conversations.sort_by_key(|c| std::cmp::Reverse(c.date));
    if let Some(note) = last_note {
        o.open_points = open_points(&format!("{}\n{}", note.text("agenda"), note.text("notes")));
    }
    Ok(o)
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A name used in a person field with no person record of that name yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// As written the first time it was found.
    pub name: String,
    /// How many records name it.
    pub records: usize,
}

/// Names used in person fields (owner, by, to, participants, a potential's person)
/// that no live person record has, most used first: the people to create.
///
/// # Errors
/// A storage or decode error of the replica.
pub fn unknown_names(replica: &Replica) -> Result<Vec<Unknown>, ReplicaError> {
    let mut known = std::collections::HashSet::new();
    let mut used: std::collections::BTreeMap<String, Unknown> = std::collections::BTreeMap::new();
    for state in replica.records() {
        let state = state?;
        if state.is_deleted() || !state.is_complete() {
            continue;
        }
        if state.kind == Some(RecordKind::Person) {
            known.insert(normalize(state.title()));
            continue;
        }
        let Some(kind) = state.kind else { continue };
        let mut names = Vec::new();
        for (k, field) in PERSON_FIELDS {
            // Names linked to a person record are known whatever they say.
            if let Some(people) = (k == &kind)
                .then(|| state.get(field))
                .flatten()
                .and_then(Value::people)
            {
                names.extend(
                    people
                        .into_iter()
                        .filter(|p| p.id.is_none())
                        .map(|p| p.name),
                );
            }
        }
        names.sort_by_key(|n| normalize(n));
        names.dedup_by_key(|n| normalize(n));
        for name in names {
            let key = normalize(&name);
            if key.is_empty() {
                continue;
            }
            used.entry(key)
                .or_insert_with(|| Unknown {
                    name: name.trim().to_owned(),
                    records: 0,
                })
                .records += 1;
        }
    }
    let mut out: Vec<Unknown> = used
        .into_iter()
        .filter(|(key, _)| !known.contains(key))
        .map(|(_, u)| u)
        .collect();
    out.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// Unchecked task items and "Next…"/"TODO…" lines of a note's text.
#[must_use]
pub fn open_points(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|line| {
            let item = line
                .strip_prefix("- [ ]")
                .or_else(|| line.strip_prefix("* [ ]"))
                .map(str::trim);
            let lower = line.to_lowercase();
            match item {
                Some(item) if !item.is_empty() => Some(item.to_owned()),
                _ if lower.starts_with("next") || lower.starts_with("todo") => {
                    Some(line.to_owned())
                }
                _ => None,
            }
        })
        .collect()
}

/// The agenda of the next 1:1 with the person, in Markdown: open commitments both
/// ways, overdue goals, follow-ups due, and the last conversation's open points.
#[must_use]
pub fn one_on_one_agenda(o: &Overview) -> String {
    let mut out = String::new();
    let mut section = |title: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(out, "## {title}\n");
        for line in lines {
            let _ = writeln!(out, "- [ ] {line}");
        }
        out.push('\n');
    };
    let line = |i: &Item| {
        if i.detail.is_empty() {
            i.title.clone()
        } else {
            format!("{} ({})", i.title, i.detail)
        }
    };
    section(
        &format!("Open commitments of {}", o.name),
        o.commitments_by.iter().map(line).collect(),
    );
    section(
        &format!("Open commitments to {}", o.name),
        o.commitments_to.iter().map(line).collect(),
    );
    section(
        "Overdue goals",
        o.goals.iter().filter(|g| g.overdue).map(line).collect(),
    );
    section("Follow-ups", o.follow_ups.iter().map(line).collect());
    section("Open from last time", o.open_points.clone());
    if out.is_empty() {
        out.push_str("## Topics\n\n- [ ] \n");
    }
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unchecked items and Next/TODO lines are open points; checked ones are not.
    #[test]
    fn open_points_of_a_note() {
        let points = open_points(
            "# Notes\n- [x] done already\n- [ ] send the training budget\nNext: review the plan\nsomething else\n* [ ] book the course",
        );
        assert_eq!(
            points,
            [
                "send the training budget",
                "Next: review the plan",
                "book the course"
            ]
        );
    }
}
