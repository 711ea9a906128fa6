//! The daily digest: for each user who chose it, their own commitments and
//! standard tasks due today or overdue (`due`) and their conversation follow-ups
//! due today or overdue (`follow_ups`), over every space they are a member of.
//!
//! Whose a record is:
//! - a commitment: the person in `by` is the user (a person record whose
//!   `account` is the user's e-mail), or nobody is in `by` and the user made it;
//! - a standard task: the same with `owner`;
//! - a follow-up: the user made the note. Private notes never appear.
//!
//! Due dates and what counts as open are the client's ([`due_by`]). A user with
//! nothing due gets no mail. The digest names records by kind, short id, date and
//! space; titles only with `[notifications] digest_titles = true`.

use std::collections::{BTreeMap, HashMap, HashSet};

use cairn_common::RecordState;
use cairn_common::model::{
    PersonRef, RecordId, RecordKind, Space, SpaceId, UserProfile, Value, due_by,
};
use chrono::NaiveDate;

use super::footer;
use crate::mail::{MailError, MailKind, Mailer, OutgoingMail};
use crate::store::{AuditEvent, AuditKind, Store, StoreError};

/// Why a record is in the digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemKind {
    Commitment,
    Task,
    FollowUp,
}

impl ItemKind {
    fn label(self) -> &'static str {
        match self {
            Self::Commitment => "commitment",
            Self::Task => "standard task",
            Self::FollowUp => "follow-up of a conversation",
        }
    }
}

/// One line of a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub record: RecordId,
    pub due: NaiveDate,
    pub space: String,
    pub title: String,
}

/// A space's records, folded from its ops.
pub struct SpaceRecords {
    pub space: Space,
    pub records: BTreeMap<RecordId, RecordState>,
}

/// The user's person records in a space: those whose `account` is their e-mail.
fn persons_of(user: &UserProfile, records: &BTreeMap<RecordId, RecordState>) -> HashSet<RecordId> {
    records
        .values()
        .filter(|r| r.kind == Some(RecordKind::Person) && !r.is_deleted())
        .filter(|r| {
            matches!(r.get("account"), Some(Value::Text(account))
                if account.trim().eq_ignore_ascii_case(&user.email))
        })
        .map(|r| r.id)
        .collect()
}

/// Whether the person field `field` names one of `mine`, or (empty) the user made
/// the record.
fn is_mine(state: &RecordState, field: &str, user: &UserProfile, mine: &HashSet<RecordId>) -> bool {
    let made_by_user = state.created.is_some_and(|(_, by)| by == user.id);
    match state.get(field) {
        Some(Value::People(people)) if !people.is_empty() => people
            .iter()
            .any(|PersonRef { id, .. }| id.is_some_and(|id| mine.contains(&id))),
        Some(Value::Text(name)) if !name.trim().is_empty() => false,
        _ => made_by_user,
    }
}

/// The items of `user`'s digest on `today`, by date, then kind and space.
#[must_use]
pub fn items(
    user: &UserProfile,
    wants: cairn_common::api::notifications::NotificationSettings,
    spaces: &[&SpaceRecords],
    today: NaiveDate,
) -> Vec<Item> {
    let mut out = Vec::new();
    for space in spaces {
        let mine = persons_of(user, &space.records);
        for state in space.records.values() {
            let kind = match state.kind {
                Some(RecordKind::Commitment) if wants.due && is_mine(state, "by", user, &mine) => {
                    ItemKind::Commitment
                }
                Some(RecordKind::Task) if wants.due && is_mine(state, "owner", user, &mine) => {
                    ItemKind::Task
                }
                Some(RecordKind::Note)
                    if wants.follow_ups
                        && state.created.is_some_and(|(_, by)| by == user.id)
                        && state.get("private") != Some(&Value::Bool(true)) =>
                {
                    ItemKind::FollowUp
                }
                _ => continue,
            };
            if let Some(due) = due_by(state, today) {
                out.push(Item {
                    kind,
                    record: state.id,
                    due,
                    space: space.space.name.clone(),
                    title: state.title().to_owned(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.due, a.kind, &a.space, a.record).cmp(&(b.due, b.kind, &b.space, b.record))
    });
    out
}

/// The digest's text: overdue first, then today's; `titles` names records by title.
#[must_use]
pub fn body(items: &[Item], today: NaiveDate, titles: bool) -> String {
    let mut out = format!(
        "Due in Cairn for you on {}:\n",
        today.format("%A, %-d %B %Y")
    );
    let (overdue, due_today): (Vec<&Item>, Vec<&Item>) = items.iter().partition(|i| i.due < today);
    for (heading, group) in [("Overdue", overdue), ("Due today", due_today)] {
        if group.is_empty() {
            continue;
        }
        out += &format!("\n{heading}\n");
        for item in group {
            let title = if titles && !item.title.is_empty() {
                format!(" \"{}\"", item.title)
            } else {
                String::new()
            };
            out += &format!(
                "  - {}{title} ({}), due {}, space {}\n",
                item.kind.label(),
                item.record.short(),
                item.due.format("%Y-%m-%d"),
                item.space
            );
        }
    }
    out += "\n`cairn show ID` shows one; the agenda in Cairn (A) shows them all.\n";
    out
}

/// The subject: how many, without contents.
fn subject(items: &[Item]) -> String {
    match items.len() {
        1 => "Cairn: 1 thing due".to_owned(),
        n => format!("Cairn: {n} things due"),
    }
}

/// Queues today's digest for every user who chose one and has something due; how
/// many mails were queued. Spaces are folded once, whoever is in them.
///
/// # Errors
/// A storage error; mail that is off ([`MailError::Off`]).
pub async fn send_all(
    store: &Store,
    mailer: &Mailer,
    public_url: &str,
    titles: bool,
    today: NaiveDate,
) -> Result<usize, MailError> {
    mailer.settings()?;
    let mut folded: HashMap<SpaceId, SpaceRecords> = HashMap::new();
    let mut sent = 0;
    for (user, choice) in store.all_notifications().await? {
        if !choice.settings.wants_digest() {
            continue;
        }
        let Some(account) = store.user(user).await? else {
            continue;
        };
        if account.disabled {
            continue;
        }
        let mut spaces = Vec::new();
        for info in store.spaces_of(user).await? {
            let id = info.space.id;
            if let std::collections::hash_map::Entry::Vacant(slot) = folded.entry(id) {
                slot.insert(fold(store, info.space).await?);
            }
            spaces.push(id);
        }
        let mine: Vec<&SpaceRecords> = spaces.iter().filter_map(|id| folded.get(id)).collect();
        let items = items(&account.profile, choice.settings, &mine, today);
        if items.is_empty() {
            continue;
        }
        let text = body(&items, today, titles) + &footer(public_url, user, &choice.stop_token);
        mailer
            .queue(
                store,
                OutgoingMail {
                    to: account.profile.email.clone(),
                    subject: subject(&items),
                    body: text,
                    kind: MailKind::Digest,
                    user: Some(user),
                },
            )
            .await?;
        sent += 1;
    }
    store
        .audit(AuditEvent::new(AuditKind::DigestSent).detail(format!(
            "{} for {}: {sent} mails",
            "digest",
            today.format("%Y-%m-%d")
        )))
        .await;
    Ok(sent)
}

async fn fold(store: &Store, space: Space) -> Result<SpaceRecords, StoreError> {
    let ops = store.ops_with_seqs(space.id).await?;
    let records = cairn_common::merge::materialize(ops.iter().map(|(_, op)| op));
    Ok(SpaceRecords { space, records })
}
