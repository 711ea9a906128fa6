//! Moving a whole store between backends: sled to PostgreSQL and back. Everything
//! is copied as it is: accounts with their password hashes, spaces and members,
//! every op with its seq and each space's counter, tombstones of purged records,
//! sessions (people stay logged in), login records, the audit chain, usage
//! statistics, consent records and invitations, and the epoch (clients do not start over: it is the same history).
//! Throttling counters are not: they only ever delay logins.
//!
//! The target must be empty. After the copy both stores are read back in full
//! ([`Contents`]) and compared; a difference is an error that names what differs.
//!
//! The source is read whole first, so the copy reports real totals: the steps
//! "migrating: accounts", "migrating: spaces" and "migrating: ops" count, reading,
//! the rest and the check show as steps without totals.

use cairn_common::api::Epoch;
use cairn_common::model::{RecordId, Role, Space, SpaceId, UserId};
use cairn_common::op::Op;
use cairn_common::progress::{Report, Unit};

use super::invitations::InvitationRecord;
use super::notifications::NotificationRecord;
use super::postgres::PgStore;
use super::{
    AuditChain, ImportTarget, LoginRecord, SessionRecord, SledStore, StoreError, TelemetryEntry,
    UserRecord,
};
use cairn_common::api::consent::ConsentEntry;

/// A space with its members and the last seq it gave out.
pub type SpaceCopy = (Space, Vec<(UserId, Role)>, u64);

/// Everything a store holds that a migration copies, in a fixed order.
#[derive(Debug, PartialEq)]
pub struct Contents {
    pub users: Vec<UserRecord>,
    pub spaces: Vec<SpaceCopy>,
    pub ops: Vec<(SpaceId, Vec<(u64, Op)>)>,
    pub purged: Vec<(SpaceId, RecordId)>,
    pub sessions: Vec<([u8; 32], SessionRecord)>,
    pub logins: Vec<(UserId, Vec<LoginRecord>)>,
    pub audit: AuditChain,
    pub telemetry: Vec<TelemetryEntry>,
    pub epoch: Epoch,
    pub consents: Vec<ConsentEntry>,
    pub invitations: Vec<InvitationRecord>,
    pub notifications: Vec<(UserId, NotificationRecord)>,
}

impl Contents {
    /// What a migration copied, for its report.
    #[must_use]
    pub fn summary(&self) -> String {
        format!(
            "{} accounts, {} spaces, {} changes, {} sessions, {} audit entries",
            self.users.len(),
            self.spaces.len(),
            self.ops.iter().map(|(_, ops)| ops.len()).sum::<usize>(),
            self.sessions.len(),
            self.audit.entries.len()
        )
    }

    fn sorted(mut self) -> Self {
        self.users.sort_by_key(|u| u.profile.id);
        self.spaces.sort_by_key(|(s, _, _)| s.id);
        for (_, members, _) in &mut self.spaces {
            members.sort_by_key(|(u, _)| *u);
        }
        self.ops.sort_by_key(|(s, _)| *s);
        self.purged.sort_unstable();
        self.sessions.sort_by_key(|(h, _)| *h);
        self.logins.sort_by_key(|(u, _)| *u);
        for (_, logins) in &mut self.logins {
            logins.sort_by(|a, b| (a.at_ms, &a.device).cmp(&(b.at_ms, &b.device)));
        }
        self.audit.subjects.sort_unstable();
        self.telemetry
            .sort_by(|a, b| (a.day, &a.endpoint).cmp(&(b.day, &b.endpoint)));
        self.consents
            .sort_by(|a, b| (a.at_ms, a.user, &a.version).cmp(&(b.at_ms, b.user, &b.version)));
        self.invitations.sort_by_key(|i| i.id);
        self.notifications.sort_by_key(|(u, _)| *u);
        self
    }

    /// Everything a sled store holds.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn of_sled(store: &SledStore) -> Result<Self, StoreError> {
        let mut users = Vec::new();
        let mut sessions = Vec::new();
        let mut logins = Vec::new();
        for account in store.list_users()? {
            let id = account.profile.id;
            if let Some(record) = store.user(id)? {
                users.push(record);
            }
            sessions.extend(store.sessions_of(id)?);
            logins.push((id, store.logins_of(id, usize::MAX)?));
        }
        let mut spaces = Vec::new();
        let mut ops = Vec::new();
        for space in store.all_spaces()? {
            let id = space.id;
            spaces.push((space, store.space_roles(id)?, store.last_seq(id)?));
            ops.push((id, store.ops_with_seqs(id)?));
        }
        Ok(Self {
            users,
            spaces,
            ops,
            purged: store.purged_records()?,
            sessions,
            logins,
            audit: store.audit_chain()?,
            telemetry: store.telemetry()?,
            epoch: store.epoch(),
            consents: store.consents(None)?,
            invitations: store.invitations(None)?,
            notifications: store.all_notifications()?,
        }
        .sorted())
    }

    /// Everything a PostgreSQL store holds.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn of_postgres(store: &PgStore) -> Result<Self, StoreError> {
        let mut users = Vec::new();
        let mut sessions = Vec::new();
        let mut logins = Vec::new();
        for account in store.list_users().await? {
            let id = account.profile.id;
            if let Some(record) = store.user(id).await? {
                users.push(record);
            }
            sessions.extend(store.sessions_of(id).await?);
            logins.push((id, store.logins_of(id, usize::MAX).await?));
        }
        let mut spaces = Vec::new();
        let mut ops = Vec::new();
        for space in store.all_spaces().await? {
            let id = space.id;
            let roles = store.space_roles(id).await?;
            spaces.push((space, roles, store.last_seq(id).await?));
            ops.push((id, store.ops_with_seqs(id).await?));
        }
        Ok(Self {
            users,
            spaces,
            ops,
            purged: store.purged_records().await?,
            sessions,
            logins,
            audit: store.audit_chain().await?,
            telemetry: store.telemetry().await?,
            epoch: store.epoch().await?,
            consents: store.consents(None).await?,
            invitations: store.invitations(None).await?,
            notifications: store.all_notifications().await?,
        }
        .sorted())
    }

    /// The first part in which `self` and `other` differ, if any.
    #[must_use]
    pub fn difference(&self, other: &Self) -> Option<&'static str> {
        [
            ("accounts", self.users == other.users),
            ("spaces and members", self.spaces == other.spaces),
            ("changes", self.ops == other.ops),
            ("purged records", self.purged == other.purged),
            ("sessions", self.sessions == other.sessions),
            ("login records", self.logins == other.logins),
            ("audit log", self.audit == other.audit),
            ("usage statistics", self.telemetry == other.telemetry),
            ("epoch", self.epoch == other.epoch),
            ("consent records", self.consents == other.consents),
            ("invitations", self.invitations == other.invitations),
            (
                "notification choices",
                self.notifications == other.notifications,
            ),
        ]
        .into_iter()
        .find_map(|(what, same)| (!same).then_some(what))
    }
}

fn encoded(ops: Vec<(u64, Op)>) -> Result<Vec<(u64, Op, Vec<u8>)>, StoreError> {
    ops.into_iter()
        .map(|(seq, op)| {
            let bytes = cairn_common::codec::encode(&op)?;
            Ok((seq, op, bytes))
        })
        .collect()
}

fn differs(what: &str) -> StoreError {
    StoreError::Internal(format!(
        "the copy differs from the original in its {what}; the original is unchanged: \
         drop the target database and run the migration again"
    ))
}

/// Copies a sled store into an empty PostgreSQL database and checks the copy.
///
/// # Errors
/// A target that is not empty, a storage or database error, or a copy that differs.
pub async fn sled_to_postgres(
    from: &SledStore,
    to: &PgStore,
    progress: &dyn Report,
) -> Result<Contents, StoreError> {
    if to.import_target().await? != ImportTarget::Empty {
        return Err(StoreError::Conflict(
            "the target database already holds accounts; migrate into an empty database".into(),
        ));
    }
    progress.step("migrating: reading", None, Unit::Items);
    let contents = Contents::of_sled(from)?;
    progress.step(
        "migrating: accounts",
        Some(contents.users.len() as u64),
        Unit::Items,
    );
    for user in &contents.users {
        to.import_account(user).await?;
        progress.add(1);
    }
    progress.step(
        "migrating: spaces",
        Some(contents.spaces.len() as u64),
        Unit::Items,
    );
    for (space, members, last_seq) in &contents.spaces {
        to.import_space(space, members).await?;
        to.raise_seq(space.id, *last_seq).await?;
        progress.add(1);
    }
    let ops_total = contents.ops.iter().map(|(_, ops)| ops.len() as u64).sum();
    progress.step("migrating: ops", Some(ops_total), Unit::Items);
    for (_, ops) in &contents.ops {
        to.load_ops(&encoded(ops.clone())?).await?;
        progress.add(ops.len() as u64);
    }
    progress.step(
        "migrating: sessions, audit log and the rest",
        None,
        Unit::Items,
    );
    to.load_purged(&contents.purged).await?;
    to.rebuild_record_index().await?;
    for (hash, session) in &contents.sessions {
        to.load_session(hash, session).await?;
    }
    for (user, logins) in &contents.logins {
        for login in logins {
            to.record_login(*user, login).await?;
        }
    }
    to.load_audit_chain(&contents.audit).await?;
    for entry in &contents.telemetry {
        to.add_telemetry(entry.day, &entry.endpoint, &entry.counts)
            .await?;
    }
    to.set_epoch(contents.epoch).await?;
    for entry in &contents.consents {
        to.record_consent(entry).await?;
    }
    for invitation in &contents.invitations {
        to.create_invitation(invitation).await?;
    }
    for (user, record) in &contents.notifications {
        to.set_notifications(*user, record).await?;
    }
    progress.step("migrating: checking the copy", None, Unit::Items);
    let copied = Contents::of_postgres(to).await?;
    match contents.difference(&copied) {
        Some(what) => Err(differs(what)),
        None => Ok(copied),
    }
}

/// Copies a PostgreSQL store into an empty sled store and checks the copy.
///
/// # Errors
/// A target that is not empty, a storage or database error, or a copy that differs.
pub async fn postgres_to_sled(
    from: &PgStore,
    to: &SledStore,
    progress: &dyn Report,
) -> Result<Contents, StoreError> {
    if to.import_target()? != ImportTarget::Empty {
        return Err(StoreError::Conflict(
            "the target data directory already holds accounts; migrate into a new one".into(),
        ));
    }
    progress.step("migrating: reading", None, Unit::Items);
    let contents = Contents::of_postgres(from).await?;
    progress.step(
        "migrating: accounts",
        Some(contents.users.len() as u64),
        Unit::Items,
    );
    for user in &contents.users {
        to.import_account(user)?;
        progress.add(1);
    }
    progress.step(
        "migrating: spaces",
        Some(contents.spaces.len() as u64),
        Unit::Items,
    );
    for (space, members, last_seq) in &contents.spaces {
        to.import_space(space, members)?;
        to.raise_seq(space.id, *last_seq)?;
        progress.add(1);
    }
    let ops_total = contents.ops.iter().map(|(_, ops)| ops.len() as u64).sum();
    progress.step("migrating: ops", Some(ops_total), Unit::Items);
    for (_, ops) in &contents.ops {
        to.load_ops(&encoded(ops.clone())?)?;
        progress.add(ops.len() as u64);
    }
    progress.step(
        "migrating: sessions, audit log and the rest",
        None,
        Unit::Items,
    );
    to.load_purged(&contents.purged)?;
    to.rebuild_record_index()?;
    for (hash, session) in &contents.sessions {
        to.load_session(hash, session)?;
    }
    for (user, logins) in &contents.logins {
        for login in logins {
            to.record_login(*user, login)?;
        }
    }
    to.load_audit_chain(&contents.audit)?;
    for entry in &contents.telemetry {
        to.add_telemetry(entry.day, &entry.endpoint, &entry.counts)?;
    }
    to.set_epoch(contents.epoch)?;
    for entry in &contents.consents {
        to.record_consent(entry)?;
    }
    for invitation in &contents.invitations {
        to.create_invitation(invitation)?;
    }
    for (user, record) in &contents.notifications {
        to.set_notifications(*user, record)?;
    }
    to.flush()?;
    progress.step("migrating: checking the copy", None, Unit::Items);
    let copied = Contents::of_sled(to)?;
    match contents.difference(&copied) {
        Some(what) => Err(differs(what)),
        None => Ok(copied),
    }
}
