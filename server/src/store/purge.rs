//! Purge and retention: what leaves the store, decided under the account and append
//! locks, then carried out by one [`SledStore::rewrite_planned`] so that no byte of it stays in
//! sled's files.
//!
//! Purging a user removes the account, its sessions, login records, throttle
//! counters, audit-log name, personal space (with every op in it) and
//! memberships, and the mail to the user (queued or kept for `mail list`). Ops the user wrote in shared spaces that others keep belong to
//! those spaces: they stay, values included, so everyone's records stay as they
//! were, but their author becomes a pseudonym (one random id for all of them), so
//! the history shows "a former member". A shared space whose only member was the
//! user goes entirely; one whose only owner was the user gets a new owner (the
//! remaining member with the highest role, then by e-mail).
//!
//! A purged record or emptied space leaves a tombstone (`p` ++ space ++ record in
//! the oplog tree, no content): ops for it that a client pushes later are
//! acknowledged and dropped, so purged data does not come back and no client's
//! outbox gets stuck on it.

use std::collections::{HashMap, HashSet};

use cairn_common::RecordState;
use cairn_common::api::consent::ConsentEntry;
use cairn_common::codec;
use cairn_common::model::{RecordId, Role, SpaceId, UserId};
use cairn_common::op::{Op, OpId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit::{self, Link};
use super::mail::QueuedMail;
use super::rewrite::{Keep, Rewriter};
use super::sessions::SessionRecord;
use super::users::{ADMIN_LOGIN, normalize_email};
use super::{SledStore, StoreError, id_at};

/// What to purge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PurgeTarget {
    /// One account, by e-mail.
    User(String),
    /// One space. A personal space is emptied and kept (its owner's account uses it).
    Space(SpaceId),
    /// Every account but the standard `admin` (whose personal space is emptied),
    /// every space, session, login record and throttle counter.
    All,
}

/// What a purge did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeOutcome {
    /// E-mails of the purged accounts.
    pub users: Vec<String>,
    /// Spaces removed entirely.
    pub spaces_removed: Vec<SpaceId>,
    /// Personal spaces emptied and kept.
    pub spaces_emptied: Vec<SpaceId>,
    /// Shared spaces whose new owner is named (the purged user was the only owner).
    pub new_owners: Vec<(SpaceId, String)>,
    /// Ops in shared spaces whose author now is the pseudonym.
    pub pseudonymized_ops: u64,
    /// The pseudonym that names the purged user in shared spaces' history.
    pub pseudonym: Option<UserId>,
    /// Entries left out of the rewritten store.
    pub removed_entries: u64,
    /// Entries the rewritten store holds.
    pub kept_entries: u64,
    /// PostgreSQL only: transactions older than the purge that were still open
    /// when the tables were rewritten, after the purge had waited for them. Old
    /// row versions they might see stay in the table files until a later
    /// `VACUUM FULL`. Zero on sled and whenever the rewrite left nothing behind.
    #[serde(default)]
    pub older_transactions_open: u64,
}

/// Retention limits: everything older than these instants goes (`None`: kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionCutoffs {
    pub logins_before_ms: Option<u64>,
    pub audit_before_ms: Option<u64>,
    /// Records in the trash whose last change is older than this.
    pub trash_before_ms: Option<u64>,
    /// Mails sent or given up before this (their metadata, kept for `mail list`).
    pub mail_before_ms: Option<u64>,
}

/// What a retention sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOutcome {
    pub login_records: u64,
    pub audit_entries: u64,
    pub trash_records: u64,
    /// Sent or failed mails whose metadata was removed.
    #[serde(default)]
    pub mails: u64,
    /// Whether the store was rewritten (only when something was removed).
    pub rewritten: bool,
}

/// Everything a rewrite leaves out or changes.
#[derive(Default)]
struct Plan {
    users: HashSet<UserId>,
    emails: HashSet<String>,
    drop_spaces: HashSet<SpaceId>,
    wipe_spaces: HashSet<SpaceId>,
    pseudonyms: HashMap<UserId, UserId>,
    new_roles: HashMap<(SpaceId, UserId), Role>,
    everyone: bool,
    drop_records: HashSet<(SpaceId, RecordId)>,
    drop_ops: HashSet<OpId>,
    logins_before_ms: Option<u64>,
    mail_before_ms: Option<u64>,
    audit_upto: Option<Link>,
    /// Invitations (by id) and their codes (by hash) that go.
    drop_invitations: HashSet<[u8; 16]>,
    drop_codes: HashSet<[u8; 32]>,
    // What the copy found.
    tombstones: Vec<Vec<u8>>,
    /// Consent records moved under a pseudonym (tree, key, value).
    moved: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    removed: u64,
    pseudonymized: u64,
    login_records: u64,
    audit_entries: u64,
    mails: u64,
}

fn uid(key: &[u8], at: usize) -> Option<UserId> {
    id_at(key, at).map(UserId::from_bytes)
}

fn sid(key: &[u8], at: usize) -> Option<SpaceId> {
    id_at(key, at).map(SpaceId::from_bytes)
}

pub(crate) fn throttle_key(email: &str) -> Vec<u8> {
    format!("a:{}", hex::encode(Sha256::digest(email.as_bytes()))).into_bytes()
}

fn tombstone(space: SpaceId, record: RecordId) -> Vec<u8> {
    let mut key = vec![b'p'];
    key.extend_from_slice(space.as_bytes());
    key.extend_from_slice(record.as_bytes());
    key
}

impl Plan {
    fn user_gone(&self, user: Option<UserId>) -> bool {
        user.is_some_and(|u| self.users.contains(&u))
    }

    fn space_gone(&self, space: Option<SpaceId>) -> bool {
        space.is_some_and(|s| self.drop_spaces.contains(&s))
    }

    fn space_emptied(&self, space: Option<SpaceId>) -> bool {
        space.is_some_and(|s| self.wipe_spaces.contains(&s) || self.drop_spaces.contains(&s))
    }

    /// A mail goes with its user or address, or when retention no longer keeps it.
    fn mail(&mut self, value: &[u8]) -> Result<Keep, StoreError> {
        let mail: QueuedMail = codec::decode(value)?;
        let purged = self.everyone
            || self.user_gone(mail.mail.user)
            || self.emails.contains(&normalize_email(&mail.mail.to));
        let old = self
            .mail_before_ms
            .zip(mail.finished_ms)
            .is_some_and(|(cut, at)| at < cut);
        if old && !purged {
            self.mails += 1;
        }
        Ok(drop_if(purged || old))
    }

    fn oplog(&mut self, key: &[u8], value: &[u8]) -> Result<Keep, StoreError> {
        let space = sid(key, 1);
        match key.first() {
            Some(b'o') => {
                if self.space_emptied(space) {
                    return Ok(Keep::Drop);
                }
                if self.pseudonyms.is_empty() && self.drop_records.is_empty() {
                    return Ok(Keep::Same);
                }
                let mut op: Op = codec::decode(value)?;
                if self.drop_records.contains(&(op.space, op.record)) {
                    return Ok(Keep::Drop);
                }
                match self.pseudonyms.get(&op.author) {
                    Some(pseudonym) => {
                        op.author = *pseudonym;
                        self.pseudonymized += 1;
                        Ok(Keep::Replace(codec::encode(&op)?))
                    }
                    None => Ok(Keep::Same),
                }
            }
            Some(b'i') => {
                let gone = self.space_emptied(sid(value, 0))
                    || id_at(key, 1).is_some_and(|id| {
                        self.drop_ops.contains(&OpId(uuid::Uuid::from_bytes(id)))
                    });
                Ok(if gone { Keep::Drop } else { Keep::Same })
            }
            Some(b'r') => {
                let record = id_at(key, 17).map(RecordId::from_bytes);
                match (space, record) {
                    (Some(s), Some(r))
                        if self.wipe_spaces.contains(&s) || self.drop_records.contains(&(s, r)) =>
                    {
                        self.tombstones.push(tombstone(s, r));
                        Ok(Keep::Drop)
                    }
                    _ if self.space_gone(space) => Ok(Keep::Drop),
                    _ => Ok(Keep::Same),
                }
            }
            Some(b's' | b'p') if self.space_gone(space) => Ok(Keep::Drop),
            // A record's home: kept with its tombstone, gone with its space.
            Some(b'k') => Ok(drop_if(self.space_gone(sid(value, 0)))),
            _ => Ok(Keep::Same),
        }
    }
}

impl Plan {
    /// A consent record: kept as evidence under a purged person's pseudonym, with
    /// the e-mail and address blanked (the key, which starts with the user, moves
    /// too); gone with everyone.
    fn consent(&mut self, key: &[u8], value: &[u8]) -> Result<Keep, StoreError> {
        if self.everyone {
            return Ok(Keep::Drop);
        }
        let Some(pseudonym) = uid(key, 0).and_then(|u| self.pseudonyms.get(&u)) else {
            return Ok(Keep::Same);
        };
        let mut entry: ConsentEntry = codec::decode(value)?;
        entry.user = *pseudonym;
        entry.email.clear();
        entry.address.clear();
        let mut moved_key = pseudonym.as_bytes().to_vec();
        moved_key.extend_from_slice(key.get(16..).unwrap_or_default());
        self.moved
            .push(("consents", moved_key, codec::encode(&entry)?));
        Ok(Keep::Drop)
    }
}

impl Rewriter for Plan {
    fn entry(&mut self, tree: &[u8], key: &[u8], value: &[u8]) -> Result<Keep, StoreError> {
        let keep = match tree {
            b"users" => drop_if(self.user_gone(uid(key, 0))),
            b"emails" => drop_if(self.user_gone(uid(value, 0))),
            b"sessions" => drop_if(
                self.everyone
                    || self
                        .users
                        .contains(&codec::decode::<SessionRecord>(value)?.user),
            ),
            b"user_sessions" => drop_if(self.everyone || self.user_gone(uid(key, 0))),
            b"spaces" => drop_if(self.space_gone(sid(key, 0))),
            b"members" | b"user_spaces" => {
                let (space, user) = if tree == b"members" {
                    (sid(key, 0), uid(key, 16))
                } else {
                    (sid(key, 16), uid(key, 0))
                };
                if self.space_gone(space) || self.user_gone(user) {
                    Keep::Drop
                } else {
                    match space.zip(user).and_then(|k| self.new_roles.get(&k)) {
                        Some(role) => Keep::Replace(codec::encode(role)?),
                        None => Keep::Same,
                    }
                }
            }
            b"oplog" => self.oplog(key, value)?,
            b"throttle" => drop_if(
                self.everyone
                    || self
                        .emails
                        .iter()
                        .any(|e| key == throttle_key(e).as_slice()),
            ),
            b"logins" => {
                let old = self
                    .logins_before_ms
                    .zip(super::logins::login_time(key))
                    .is_some_and(|(cut, at)| at < cut);
                if old {
                    self.login_records += 1;
                }
                drop_if(self.everyone || old || self.user_gone(uid(key, 0)))
            }
            b"audit" => match (self.audit_upto, audit::entry_seq(key)) {
                (Some(upto), Some(seq)) if seq <= upto.seq => {
                    self.audit_entries += 1;
                    Keep::Drop
                }
                (Some(_), None) if key == b"c" => Keep::Drop,
                _ => Keep::Same,
            },
            b"mail" => self.mail(value)?,
            b"audit_subjects" => drop_if(
                self.emails
                    .iter()
                    .any(|e| audit::is_subject_of(key, value, e)),
            ),
            b"consents" => self.consent(key, value)?,
            b"consent_current" | b"notifications" => {
                drop_if(self.everyone || self.user_gone(uid(key, 0)))
            }
            b"invitations" => drop_if(
                <[u8; 16]>::try_from(key).is_ok_and(|id| self.drop_invitations.contains(&id)),
            ),
            b"invitation_codes" => {
                drop_if(<[u8; 32]>::try_from(key).is_ok_and(|hash| self.drop_codes.contains(&hash)))
            }
            _ => Keep::Same,
        };
        if matches!(keep, Keep::Drop) {
            self.removed += 1;
        }
        Ok(keep)
    }

    fn extra(&mut self) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
        let mut out: Vec<_> = self
            .tombstones
            .drain(..)
            .map(|key| ("oplog", key, Vec::new()))
            .collect();
        if let Some(upto) = self.audit_upto
            && let Ok((key, value)) = audit::checkpoint_entry(upto)
        {
            out.push(("audit", key, value));
        }
        out.append(&mut self.moved);
        out
    }
}

/// The standard account is never purged (a purge of everything keeps it too).
pub(crate) fn refuse_admin(email: &str) -> Result<(), StoreError> {
    if email == ADMIN_LOGIN {
        return Err(StoreError::Conflict(
            "the standard admin account cannot be purged (purge --all keeps it too)".into(),
        ));
    }
    Ok(())
}

fn drop_if(gone: bool) -> Keep {
    if gone { Keep::Drop } else { Keep::Same }
}

impl SledStore {
    /// Whether a record was purged (its later ops are dropped on push).
    ///
    /// # Errors
    /// A storage error.
    pub fn is_purged_record(&self, space: SpaceId, record: RecordId) -> Result<bool, StoreError> {
        Ok(self.db().oplog.contains_key(tombstone(space, record))?)
    }

    /// Purges `target` and rewrites the store without it (see the module doc).
    /// Blocks every other store call while the store is copied. A caller that
    /// clears the kept backups too holds [`crate::backup::Backups::lock`] around both.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] / [`StoreError::NotFound`] for an unknown target,
    /// [`StoreError::Conflict`] for the standard admin account, or a storage error.
    pub fn purge(&self, target: &PurgeTarget) -> Result<PurgeOutcome, StoreError> {
        self.purge_reporting(target, &cairn_common::progress::Quiet)
    }

    /// [`SledStore::purge`], counting the entries copied into the rewritten store
    /// in `progress`.
    ///
    /// # Errors
    /// As [`SledStore::purge`].
    pub fn purge_reporting(
        &self,
        target: &PurgeTarget,
        progress: &dyn cairn_common::progress::Report,
    ) -> Result<PurgeOutcome, StoreError> {
        let mut outcome = PurgeOutcome::default();
        let plan = self.rewrite_planned(
            |store| {
                let plan = store.purge_plan(target, &mut outcome)?;
                Ok(Some(plan))
            },
            progress,
        )?;
        if let Some((plan, kept)) = plan {
            outcome.pseudonymized_ops = plan.pseudonymized;
            outcome.removed_entries = plan.removed;
            outcome.kept_entries = kept;
        }
        if matches!(target, PurgeTarget::All) {
            // Every history is gone: clients must not keep cursors into it.
            self.renew_epoch()?;
        }
        Ok(outcome)
    }

    /// Removes what retention says is too old; rewrites the store if anything was.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn sweep_retention(&self, cutoffs: RetentionCutoffs) -> Result<SweepOutcome, StoreError> {
        let done = self.rewrite_planned(
            |store| store.retention_plan(cutoffs),
            &cairn_common::progress::Quiet,
        )?;
        Ok(match done {
            Some((plan, _)) => SweepOutcome {
                login_records: plan.login_records,
                audit_entries: plan.audit_entries,
                mails: plan.mails,
                trash_records: u64::try_from(plan.drop_records.len()).unwrap_or(u64::MAX),
                rewritten: true,
            },
            None => SweepOutcome::default(),
        })
    }

    fn purge_plan(
        &self,
        target: &PurgeTarget,
        outcome: &mut PurgeOutcome,
    ) -> Result<Plan, StoreError> {
        let mut plan = Plan::default();
        match target {
            PurgeTarget::User(email) => {
                let email = normalize_email(email);
                refuse_admin(&email)?;
                let record = self
                    .user_by_email(&email)?
                    .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?;
                self.plan_user(&mut plan, record.profile.id, &email, outcome)?;
                let pseudonym = UserId::new();
                plan.pseudonyms.insert(record.profile.id, pseudonym);
                outcome.pseudonym = Some(pseudonym);
            }
            PurgeTarget::Space(id) => {
                let space = self
                    .space(*id)?
                    .ok_or_else(|| StoreError::NotFound(format!("there is no space {id}")))?;
                if space.personal {
                    plan.wipe_spaces.insert(*id);
                    outcome.spaces_emptied.push(*id);
                } else {
                    plan.drop_spaces.insert(*id);
                    outcome.spaces_removed.push(*id);
                }
            }
            PurgeTarget::All => {
                plan.everyone = true;
                for account in self.list_users()? {
                    if account.profile.email != ADMIN_LOGIN {
                        plan.users.insert(account.profile.id);
                        plan.emails.insert(account.profile.email.clone());
                        outcome.users.push(account.profile.email);
                    }
                }
                let admin = self.user_by_email(ADMIN_LOGIN)?.map(|r| r.personal_space);
                for entry in &self.db().spaces {
                    let (key, _) = entry?;
                    let Some(space) = sid(&key, 0) else { continue };
                    if Some(space) == admin {
                        plan.wipe_spaces.insert(space);
                        outcome.spaces_emptied.push(space);
                    } else {
                        plan.drop_spaces.insert(space);
                        outcome.spaces_removed.push(space);
                    }
                }
            }
        }
        self.plan_invitations(&mut plan)?;
        Ok(plan)
    }

    /// Adds the invitations that go to the plan: to or by a purged person, or to a
    /// removed space (all of them with everyone).
    fn plan_invitations(&self, plan: &mut Plan) -> Result<(), StoreError> {
        for record in self.invitations(None)? {
            let gone = plan.everyone
                || plan.emails.contains(&record.email)
                || plan.users.contains(&record.invited_by)
                || record.space.is_some_and(|s| plan.drop_spaces.contains(&s));
            if gone {
                plan.drop_invitations.insert(*record.id.0.as_bytes());
                plan.drop_codes.insert(record.code_hash);
            }
        }
        Ok(())
    }

    /// Adds one user to the plan: account, personal space, memberships.
    fn plan_user(
        &self,
        plan: &mut Plan,
        user: UserId,
        email: &str,
        outcome: &mut PurgeOutcome,
    ) -> Result<(), StoreError> {
        plan.users.insert(user);
        plan.emails.insert(email.to_owned());
        outcome.users.push(email.to_owned());
        for info in self.spaces_of(user)? {
            let id = info.space.id;
            let others: Vec<_> = self
                .member_list(id)?
                .members
                .into_iter()
                .filter(|m| m.user.id != user)
                .collect();
            if info.space.personal || others.is_empty() {
                plan.drop_spaces.insert(id);
                outcome.spaces_removed.push(id);
            } else if info.role == Role::Owner && others.iter().all(|m| m.role != Role::Owner) {
                let rank = |r: Role| match r {
                    Role::Owner => 0,
                    Role::Editor => 1,
                    Role::Viewer => 2,
                };
                // member_list is sorted by e-mail: min_by_key keeps the first of a rank.
                if let Some(heir) = others.iter().min_by_key(|m| rank(m.role)) {
                    plan.new_roles.insert((id, heir.user.id), Role::Owner);
                    outcome.new_owners.push((id, heir.user.email.clone()));
                }
            }
        }
        Ok(())
    }

    /// What retention removes now; `None` if nothing.
    fn retention_plan(&self, cutoffs: RetentionCutoffs) -> Result<Option<Plan>, StoreError> {
        let mut plan = Plan {
            logins_before_ms: cutoffs.logins_before_ms,
            mail_before_ms: cutoffs.mail_before_ms,
            ..Plan::default()
        };
        let db = self.db();
        let mut anything = false;
        if let Some(cut) = cutoffs.logins_before_ms {
            for entry in db.logins.iter() {
                let (key, _) = entry?;
                if super::logins::login_time(&key).is_some_and(|at| at < cut) {
                    anything = true;
                    break;
                }
            }
        }
        if let Some(cut) = cutoffs.mail_before_ms {
            for entry in &db.mail {
                let (_, value) = entry?;
                let mail: QueuedMail = codec::decode(&value)?;
                if mail.finished_ms.is_some_and(|at| at < cut) {
                    anything = true;
                    break;
                }
            }
        }
        if let Some(cut) = cutoffs.audit_before_ms {
            for entry in db.audit.scan_prefix([b'e']) {
                let (key, value) = entry?;
                let (at_ms, hash) = audit::entry_time_and_hash(&value)?;
                let Some(seq) = audit::entry_seq(&key) else {
                    break;
                };
                if at_ms >= cut {
                    break;
                }
                plan.audit_upto = Some(Link { seq, hash });
                anything = true;
            }
        }
        if let Some(cut) = cutoffs.trash_before_ms {
            // One space at a time (op keys are ordered by space), so memory holds the
            // records of one space only.
            let mut current: Option<SpaceId> = None;
            let mut records: HashMap<RecordId, (RecordState, Vec<OpId>)> = HashMap::new();
            let finish = |records: &mut HashMap<RecordId, (RecordState, Vec<OpId>)>,
                          plan: &mut Plan| {
                for (_, (state, ops)) in records.drain() {
                    if state.is_deleted() && state.updated.wall_ms < cut {
                        plan.drop_records.insert((state.space, state.id));
                        plan.drop_ops.extend(ops);
                    }
                }
            };
            for entry in db.oplog.scan_prefix([b'o']) {
                let (key, value) = entry?;
                let space = sid(&key, 1);
                if space != current {
                    finish(&mut records, &mut plan);
                    current = space;
                }
                let op: Op = codec::decode(&value)?;
                let slot = records
                    .entry(op.record)
                    .or_insert_with(|| (RecordState::empty(&op), Vec::new()));
                slot.0.apply(&op);
                slot.1.push(op.id);
            }
            finish(&mut records, &mut plan);
            anything |= !plan.drop_records.is_empty();
        }
        Ok(anything.then_some(plan))
    }
}
