//! [`Store`]: the one interface every part of the server goes through, over either
//! backend: sled ([`SledStore`], one process, the default) or PostgreSQL
//! ([`PgStore`], several processes on one database).
//!
//! Every method is `async`. On sled most calls are quick and run inline, as they
//! always did; PostgreSQL awaits its pool. The rules that are the same whatever the
//! backend live here, once: checking a new account's e-mail and names and a space's
//! name, and auditing membership changes. What only sled can do yet (a backup cut,
//! a record's kind) is reached through [`Store::sled`], which refuses on PostgreSQL
//! with [`StoreError::NotOnPostgres`].
//!
//! The mail outbox's methods (`queue_mail`, `claim_mail`, `finish_mail`,
//! `mail_list`) and the checks every mail must pass are in `mail.rs`, beside its
//! types.
//!
//! Synchronous code (admin commands run from `main`, backups on blocking threads)
//! waits for a call with [`wait`], which must never run on a tokio worker thread.

use std::future::Future;
use std::path::Path;

use cairn_common::api::consent::ConsentEntry;
use cairn_common::api::invitations::InvitationId;
use cairn_common::api::{Epoch, MemberList, SpaceInfo};
use cairn_common::model::{Role, Space, SpaceId, UserId, UserProfile};
use cairn_common::op::Op;

use super::audit::{AuditEntry, AuditEvent, AuditKind, AuditVerification};
use super::invitations::InvitationRecord;
use super::notifications::NotificationRecord;
use super::postgres::PgStore;
use super::users::check_new_user;
use super::{
    DayCounts, Heads, ImportTarget, LoginRecord, NewUser, PullPage, PurgeOutcome, PurgeTarget,
    PushOutcome, RecordLimits, RetentionCutoffs, SessionLookup, SessionRecord, SledStore,
    StoreError, SweepOutcome, TelemetryEntry, ThrottleDecision, ThrottleState, UserAccount,
    UserRecord,
};
use crate::clock::now_ms;

/// The server's store on one backend. Cheap to clone: clones share the sled
/// database or the PostgreSQL pool.
#[derive(Clone, Debug)]
pub enum Store {
    Sled(SledStore),
    Postgres(PgStore),
}

impl From<SledStore> for Store {
    fn from(store: SledStore) -> Self {
        Self::Sled(store)
    }
}

impl From<PgStore> for Store {
    fn from(store: PgStore) -> Self {
        Self::Postgres(store)
    }
}

/// Calls `$method` on whichever backend: inline on sled, awaited on PostgreSQL.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sled(s) => s.$method($($arg),*),
            Store::Postgres(p) => p.$method($($arg),*).await,
        }
    };
}

/// Waits for a store call from synchronous code: on a blocking thread of a running
/// runtime (`spawn_blocking`) through its handle, elsewhere (admin commands run
/// from `main`, tests) on a runtime of its own. Never call it on a tokio worker
/// thread: it would stall every task of that worker.
///
/// # Errors
/// The call's error, or [`StoreError::Internal`] if no runtime could be started.
pub fn wait<T, E: From<StoreError>>(call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    block_on(call)?
}

/// [`wait`] for a future that cannot fail (its errors are logged, as audit
/// entries are).
///
/// # Errors
/// [`StoreError::Internal`] if no runtime could be started.
pub fn block_on<F: Future>(call: F) -> Result<F::Output, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => Ok(handle.block_on(call)),
        Err(_) => Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Internal(format!("cannot start a runtime: {e}")))?
            .block_on(call)),
    }
}

impl Store {
    /// Opens (or creates) the sled store in `db_dir` (sled's own directory).
    ///
    /// # Errors
    /// [`StoreError::Locked`] if a running server holds it, or an I/O or storage error.
    pub fn open(db_dir: &Path) -> Result<Self, StoreError> {
        Ok(Self::Sled(SledStore::open(db_dir)?))
    }

    /// The sled store, for what only sled can do yet (`what` names it in the
    /// refusal on PostgreSQL).
    ///
    /// # Errors
    /// [`StoreError::NotOnPostgres`] on PostgreSQL.
    pub fn sled(&self, what: &'static str) -> Result<&SledStore, StoreError> {
        match self {
            Self::Sled(s) => Ok(s),
            Self::Postgres(_) => Err(StoreError::NotOnPostgres(what)),
        }
    }

    /// Whether several servers may share this store (PostgreSQL), so that a
    /// periodic job must be claimed ([`Store::claim_job`]) and cairn's own backups
    /// do not apply.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Claims periodic job `name` for `period` (e.g. a day number) on behalf of
    /// `holder`; true if this server is to run it. On sled one process owns the
    /// store, so it always runs. On PostgreSQL one server per period wins; a claim
    /// not finished within `lease_ms` may be taken over (the holder died).
    ///
    /// # Errors
    /// A database error; the caller skips the run then.
    pub async fn claim_job(
        &self,
        name: &str,
        period: i64,
        holder: uuid::Uuid,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Sled(_) => Ok(true),
            Self::Postgres(p) => p.claim_job(name, period, holder, now_ms, lease_ms).await,
        }
    }

    /// Marks a claimed job's period done, so no other server takes it over.
    ///
    /// # Errors
    /// A database error.
    pub async fn finish_job(
        &self,
        name: &str,
        period: i64,
        holder: uuid::Uuid,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sled(_) => Ok(()),
            Self::Postgres(p) => p.finish_job(name, period, holder).await,
        }
    }

    // The op log.

    /// Appends a push's ops (see [`SledStore::append_ops`]).
    ///
    /// # Errors
    /// A storage or database error; refusals are in the outcome.
    pub async fn append_ops(
        &self,
        ops: &[Op],
        limits: &RecordLimits,
    ) -> Result<PushOutcome, StoreError> {
        dispatch!(self.append_ops(ops, limits))
    }

    /// A page of a space's ops after `after` (see [`SledStore::ops_after`]).
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn ops_after(
        &self,
        space: SpaceId,
        after: u64,
        max_ops: usize,
        max_bytes: usize,
        first_may_exceed: bool,
    ) -> Result<PullPage, StoreError> {
        dispatch!(self.ops_after(space, after, max_ops, max_bytes, first_may_exceed))
    }

    /// The seq of a space's last op (0 for none).
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        dispatch!(self.last_seq(space))
    }

    /// The epoch and the user's spaces with their last seqs, read together: what a
    /// poll compares its cursors with (one query on PostgreSQL).
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn heads(&self, user: UserId) -> Result<Heads, StoreError> {
        match self {
            Self::Sled(s) => {
                let epoch = s.epoch();
                let mut spaces = Vec::new();
                for info in s.spaces_of(user)? {
                    let seq = s.last_seq(info.space.id)?;
                    spaces.push((info, seq));
                }
                Ok(Heads { epoch, spaces })
            }
            Self::Postgres(p) => p.heads(user).await,
        }
    }

    /// The space a record lives in, if any op of it was stored.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn home_of(
        &self,
        record: cairn_common::model::RecordId,
    ) -> Result<Option<SpaceId>, StoreError> {
        dispatch!(self.home_of(record))
    }

    /// The kind of a record of a space, as its first op declared it.
    ///
    /// # Errors
    /// [`StoreError::NotOnPostgres`], a storage error or damaged data.
    pub async fn record_kind(
        &self,
        space: SpaceId,
        record: cairn_common::model::RecordId,
    ) -> Result<Option<cairn_common::model::RecordKind>, StoreError> {
        self.sled("reading a record's kind")?
            .record_kind(space, record)
    }

    /// Makes the writes of a client request durable: a group commit on sled; on
    /// PostgreSQL every transaction has committed before it returned.
    ///
    /// # Errors
    /// A storage or I/O error of the flush.
    pub async fn commit_durable(&self) -> Result<(), StoreError> {
        match self {
            Self::Sled(s) => s.commit_durable().await,
            Self::Postgres(_) => Ok(()),
        }
    }

    /// Makes every write so far durable; on sled a flush and fsync that blocks the
    /// thread, on PostgreSQL nothing to do.
    ///
    /// # Errors
    /// A storage or I/O error.
    pub async fn flush(&self) -> Result<(), StoreError> {
        match self {
            Self::Sled(s) => s.flush(),
            Self::Postgres(_) => Ok(()),
        }
    }

    /// How many flush+fsync rounds sled ran since the store was opened (tests and
    /// benchmarks); always 0 on PostgreSQL, which commits every transaction itself.
    #[must_use]
    pub fn sync_count(&self) -> u64 {
        match self {
            Self::Sled(s) => s.sync_count(),
            Self::Postgres(_) => 0,
        }
    }

    /// The store's epoch: in memory on sled, read from the database on PostgreSQL
    /// (another server may have renewed it).
    ///
    /// # Errors
    /// A database error.
    pub async fn epoch(&self) -> Result<Epoch, StoreError> {
        match self {
            Self::Sled(s) => Ok(s.epoch()),
            Self::Postgres(p) => p.epoch().await,
        }
    }

    /// Gives the store a new epoch (its history was replaced).
    ///
    /// # Errors
    /// A storage or database error; the old epoch stays then.
    pub async fn renew_epoch(&self) -> Result<Epoch, StoreError> {
        dispatch!(self.renew_epoch())
    }

    // Accounts.

    /// Creates an account and its personal space, after checking the e-mail (stored
    /// lowercase; `admin` only for the standard account) and the names.
    ///
    /// # Errors
    /// [`StoreError::InvalidEmail`], [`StoreError::ReservedName`],
    /// [`StoreError::InvalidInput`], [`StoreError::DuplicateEmail`], or a storage error.
    pub async fn create_user(&self, new: NewUser) -> Result<UserProfile, StoreError> {
        let account = check_new_user(new)?;
        match self {
            Self::Sled(s) => s.create_account(account),
            Self::Postgres(p) => p.create_user(account).await,
        }
    }

    /// Every account, by e-mail.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn list_users(&self) -> Result<Vec<UserAccount>, StoreError> {
        dispatch!(self.list_users())
    }

    /// The account with this id.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        dispatch!(self.user(id))
    }

    /// The account with this e-mail (any case).
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        dispatch!(self.user_by_email(email))
    }

    /// Disables or enables an account.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`], or a storage or database error.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), StoreError> {
        dispatch!(self.set_disabled(email, disabled))
    }

    /// Sets a new password hash that must be changed at the next login.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`], or a storage or database error.
    pub async fn reset_password(&self, email: &str, hash: String) -> Result<(), StoreError> {
        dispatch!(self.reset_password(email, hash))
    }

    /// The user's own new password; revokes his other sessions (all but `keep`).
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`], or a storage or database error.
    pub async fn set_own_password(
        &self,
        user: UserId,
        hash: String,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        dispatch!(self.set_own_password(user, hash, keep))
    }

    // Sessions.

    /// Stores a new session under the hash of its token.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn create_session(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        device: &str,
        created_at_ms: u64,
        expires_at_ms: u64,
    ) -> Result<SessionRecord, StoreError> {
        dispatch!(self.create_session(token_hash, user, device, created_at_ms, expires_at_ms))
    }

    /// The session with this token hash.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn session(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<SessionRecord>, StoreError> {
        dispatch!(self.session(token_hash))
    }

    /// The session with this token hash, its account (`None` if the account is
    /// gone) and the notice version it accepted: what authenticating a request
    /// reads (one query on PostgreSQL).
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn session_lookup(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<SessionLookup>, StoreError> {
        match self {
            Self::Sled(s) => match s.session(token_hash)? {
                Some(session) => Ok(Some(SessionLookup {
                    user: s.user(session.user)?,
                    accepted_notice: s.accepted_notice(session.user)?,
                    session,
                })),
                None => Ok(None),
            },
            Self::Postgres(p) => p.session_lookup(token_hash).await,
        }
    }

    /// A user's sessions with their token hashes.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn sessions_of(
        &self,
        user: UserId,
    ) -> Result<Vec<([u8; 32], SessionRecord)>, StoreError> {
        dispatch!(self.sessions_of(user))
    }

    /// Revokes one of a user's sessions.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn revoke_session(
        &self,
        user: UserId,
        token_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        dispatch!(self.revoke_session(user, token_hash))
    }

    /// Revokes all of a user's sessions but `keep`.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn revoke_sessions_of(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        dispatch!(self.revoke_sessions_of(user, keep))
    }

    // Spaces and members.

    /// The space with this id.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn space(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        dispatch!(self.space(id))
    }

    /// A user's role in a space, if he is a member.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn role_of(&self, space: SpaceId, user: UserId) -> Result<Option<Role>, StoreError> {
        dispatch!(self.role_of(space, user))
    }

    /// The spaces a user is a member of, with his role.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn spaces_of(&self, user: UserId) -> Result<Vec<SpaceInfo>, StoreError> {
        dispatch!(self.spaces_of(user))
    }

    /// Creates a shared space owned by `owner`, after checking the name.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a bad name, or a storage or database error.
    pub async fn create_space(&self, owner: UserId, name: &str) -> Result<SpaceInfo, StoreError> {
        let name = super::spaces::check_name(name)?;
        dispatch!(self.create_space(owner, name))
    }

    /// Renames a space (owners only), after checking the name.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, [`StoreError::Forbidden`] for a
    /// non-owner, [`StoreError::InvalidInput`] for a bad name.
    pub async fn rename_space(
        &self,
        actor: UserId,
        id: SpaceId,
        name: &str,
    ) -> Result<SpaceInfo, StoreError> {
        let name = super::spaces::check_name(name)?;
        dispatch!(self.rename_space(actor, id, name))
    }

    /// Refuses unless `user` owns `space`: a non-member hears the space does not
    /// exist, a member that only owners may do `what` ("invite people to it").
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Forbidden`], or a storage error.
    pub async fn require_owner(
        &self,
        space: SpaceId,
        user: UserId,
        what: &str,
    ) -> Result<(), StoreError> {
        match self.role_of(space, user).await? {
            None => Err(StoreError::NotFound(super::SPACE_NOT_FOUND.into())),
            Some(Role::Owner) => Ok(()),
            Some(_) => Err(StoreError::Forbidden(format!(
                "only the space's owners {what}"
            ))),
        }
    }

    /// The members of a space the actor is a member of.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, or a storage or database error.
    pub async fn members(&self, actor: UserId, id: SpaceId) -> Result<MemberList, StoreError> {
        dispatch!(self.members(actor, id))
    }

    /// Adds, re-roles or (`role: None`) removes a member (owners only), and audits
    /// the change.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member actor or an unknown e-mail,
    /// [`StoreError::Forbidden`] for a non-owner, [`StoreError::Conflict`] for the
    /// last owner or a personal space.
    pub async fn set_member(
        &self,
        actor: UserId,
        id: SpaceId,
        email: &str,
        role: Option<Role>,
    ) -> Result<MemberList, StoreError> {
        let (list, before) = dispatch!(self.set_member(actor, id, email, role))?;
        if before != role {
            self.audit_member_change(actor, id, email, before, role)
                .await;
        }
        Ok(list)
    }

    /// Logs a membership change in a space made by `actor`.
    async fn audit_member_change(
        &self,
        actor: UserId,
        space: SpaceId,
        email: &str,
        old: Option<Role>,
        new: Option<Role>,
    ) {
        let (kind, detail) = match (old, new) {
            (None, Some(role)) => (AuditKind::MemberAdded, format!("as {role}")),
            (Some(_), None) => (AuditKind::MemberRemoved, String::new()),
            (Some(old), Some(new)) => (AuditKind::RoleChanged, format!("{old} -> {new}")),
            (None, None) => return,
        };
        let mut event = AuditEvent::new(kind)
            .subject(&super::users::normalize_email(email))
            .space(space)
            .detail(detail);
        match self.user(actor).await {
            Ok(Some(record)) => event = event.actor(&record.profile.email),
            Ok(None) => {}
            Err(e) => tracing::warn!("audit: cannot name the actor: {e}"),
        }
        self.audit(event).await;
    }

    // Notifications by choice.

    /// `user`'s choice of mails, if they ever made one.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn notifications(
        &self,
        user: UserId,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        dispatch!(self.notifications(user))
    }

    /// Keeps `user`'s choice of mails.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn set_notifications(
        &self,
        user: UserId,
        record: &NotificationRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.set_notifications(user, record))
    }

    /// Every user's choice of mails, by user id.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn all_notifications(&self) -> Result<Vec<(UserId, NotificationRecord)>, StoreError> {
        dispatch!(self.all_notifications())
    }

    // Consent to the privacy notice, and invitations.

    /// Keeps a consent record as evidence and makes it the user's current consent.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn record_consent(&self, entry: &ConsentEntry) -> Result<(), StoreError> {
        dispatch!(self.record_consent(entry))
    }

    /// The version of the notice `user` accepted last (none after a withdrawal).
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn accepted_notice(&self, user: UserId) -> Result<Option<String>, StoreError> {
        dispatch!(self.accepted_notice(user))
    }

    /// The consent records of `users` (all when `None`), oldest first.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn consents(
        &self,
        users: Option<&[UserId]>,
    ) -> Result<Vec<ConsentEntry>, StoreError> {
        dispatch!(self.consents(users))
    }

    /// Stores a new invitation.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn create_invitation(&self, record: &InvitationRecord) -> Result<(), StoreError> {
        dispatch!(self.create_invitation(record))
    }

    /// The invitations to `space` (all when `None`), newest first.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn invitations(
        &self,
        space: Option<SpaceId>,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        dispatch!(self.invitations(space))
    }

    /// The invitation of a code's hash, whatever its state.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn invitation_by_code(
        &self,
        code_hash: &[u8; 32],
    ) -> Result<Option<InvitationRecord>, StoreError> {
        dispatch!(self.invitation_by_code(code_hash))
    }

    /// Revokes an open invitation of `space`.
    ///
    /// # Errors
    /// Not found, no longer open, or a storage or database error.
    pub async fn revoke_invitation(
        &self,
        space: SpaceId,
        id: InvitationId,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self.revoke_invitation(space, id, now_ms))
    }

    /// Uses the open invitation of a code's hash, once only.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a code that is not (or no longer) valid.
    pub async fn use_invitation(
        &self,
        code_hash: &[u8; 32],
        now_ms: u64,
    ) -> Result<InvitationRecord, StoreError> {
        dispatch!(self.use_invitation(code_hash, now_ms))
    }

    // Failed logins and login records.

    /// A throttle key's state.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError> {
        dispatch!(self.throttle_state(key))
    }

    /// Sets a throttle key's state.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn set_throttle_state(
        &self,
        key: &str,
        state: ThrottleState,
    ) -> Result<(), StoreError> {
        dispatch!(self.set_throttle_state(key, state))
    }

    /// Reads the counters of `keys`, lets `decide` choose which to count a failure
    /// for (or refuse), and counts them, as one step that no reservation through
    /// any server interleaves with.
    ///
    /// # Errors
    /// A storage or database error; then nothing was counted.
    pub async fn reserve_throttle<R>(
        &self,
        keys: &[&str],
        now_ms: u64,
        forget_before_ms: u64,
        decide: impl FnOnce(&[ThrottleState]) -> ThrottleDecision<R> + Send,
    ) -> Result<Result<(), R>, StoreError> {
        dispatch!(self.reserve_throttle(keys, now_ms, forget_before_ms, decide))
    }

    /// Takes a reservation back as one step: `clear` starts over, each of
    /// `uncount` loses one failure.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn release_throttle(&self, clear: &str, uncount: &[&str]) -> Result<(), StoreError> {
        dispatch!(self.release_throttle(clear, uncount))
    }

    /// Forgets counters last touched before `before_ms`; returns how many.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn sweep_throttle(&self, before_ms: u64) -> Result<usize, StoreError> {
        dispatch!(self.sweep_throttle(before_ms))
    }

    /// Records a login.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn record_login(&self, user: UserId, record: &LoginRecord) -> Result<(), StoreError> {
        dispatch!(self.record_login(user, record))
    }

    /// A user's latest logins, newest first.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn logins_of(
        &self,
        user: UserId,
        limit: usize,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        dispatch!(self.logins_of(user, limit))
    }

    // The audit log.

    /// Appends an event to the audit log now. Logged and swallowed on failure: the
    /// action it records has already happened.
    pub async fn audit(&self, event: AuditEvent) {
        self.audit_at(event, now_ms()).await;
    }

    /// [`Store::audit`] at a given time (tests, and callers with their own clock).
    pub async fn audit_at(&self, event: AuditEvent, at_ms: u64) {
        match self {
            Self::Sled(s) => s.audit_at(event, at_ms),
            Self::Postgres(p) => {
                let kind = event.kind;
                if let Err(e) = p.audit_at(event, at_ms).await {
                    tracing::error!("cannot write the audit log entry {}: {e}", kind.name());
                }
            }
        }
    }

    /// Every audit entry, oldest first.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self.audit_entries())
    }

    /// Checks the audit chain.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn audit_verify(&self) -> Result<AuditVerification, StoreError> {
        dispatch!(self.audit_verify())
    }

    // Usage statistics.

    /// Adds a day's counts of an endpoint.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn add_telemetry(
        &self,
        day: u32,
        endpoint: &str,
        counts: &DayCounts,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_telemetry(day, endpoint, counts))
    }

    /// Every day's counts.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn telemetry(&self) -> Result<Vec<TelemetryEntry>, StoreError> {
        dispatch!(self.telemetry())
    }

    /// Forgets the days before `first_kept_day`; returns how many entries.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn sweep_telemetry(&self, first_kept_day: u32) -> Result<usize, StoreError> {
        dispatch!(self.sweep_telemetry(first_kept_day))
    }

    // Purge and retention.

    /// Purges a user or everything (see [`SledStore::purge`]).
    ///
    /// # Errors
    /// A storage or database error; refusals as [`StoreError::InvalidInput`].
    pub async fn purge(&self, target: &PurgeTarget) -> Result<PurgeOutcome, StoreError> {
        dispatch!(self.purge(target))
    }

    /// [`Store::purge`], counting in `progress` the entries the embedded store
    /// copies into its rewritten database (PostgreSQL deletes rows in one
    /// transaction, which counts nothing).
    ///
    /// # Errors
    /// As [`Store::purge`].
    pub async fn purge_reporting(
        &self,
        target: &PurgeTarget,
        progress: &dyn cairn_common::progress::Report,
    ) -> Result<PurgeOutcome, StoreError> {
        match self {
            Store::Sled(s) => s.purge_reporting(target, progress),
            Store::Postgres(p) => p.purge(target).await,
        }
    }

    /// Forgets what the retention settings no longer keep.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn sweep_retention(
        &self,
        cutoffs: RetentionCutoffs,
    ) -> Result<SweepOutcome, StoreError> {
        dispatch!(self.sweep_retention(cutoffs))
    }

    // Export and import.

    /// Every space.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn all_spaces(&self) -> Result<Vec<Space>, StoreError> {
        dispatch!(self.all_spaces())
    }

    /// A space's members and roles.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn space_roles(&self, space: SpaceId) -> Result<Vec<(UserId, Role)>, StoreError> {
        dispatch!(self.space_roles(space))
    }

    /// A space's ops with their seqs.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn ops_with_seqs(&self, space: SpaceId) -> Result<Vec<(u64, Op)>, StoreError> {
        dispatch!(self.ops_with_seqs(space))
    }

    /// Whether the store may receive an import (see [`ImportTarget`]).
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn import_target(&self) -> Result<ImportTarget, StoreError> {
        dispatch!(self.import_target())
    }

    /// Removes an account that has done nothing yet (before an import).
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn remove_fresh_account(&self, user: UserId) -> Result<(), StoreError> {
        dispatch!(self.remove_fresh_account(user))
    }

    /// Stores an imported account as it is.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn import_account(&self, record: &UserRecord) -> Result<(), StoreError> {
        dispatch!(self.import_account(record))
    }

    /// Stores an imported space and its members.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn import_space(
        &self,
        space: &Space,
        members: &[(UserId, Role)],
    ) -> Result<(), StoreError> {
        dispatch!(self.import_space(space, members))
    }

    /// Loads ops with their seqs and encodings as they are (import, restore).
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn load_ops(&self, ops: &[(u64, Op, Vec<u8>)]) -> Result<(), StoreError> {
        dispatch!(self.load_ops(ops))
    }

    /// Raises a space's seq counter to at least `seq`.
    ///
    /// # Errors
    /// A storage or database error.
    pub async fn raise_seq(&self, space: SpaceId, seq: u64) -> Result<(), StoreError> {
        dispatch!(self.raise_seq(space, seq))
    }

    /// Rebuilds the record index from the op logs.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn rebuild_record_index(&self) -> Result<(), StoreError> {
        dispatch!(self.rebuild_record_index())
    }

    /// The records purged so far (their ops are refused).
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn purged_records(
        &self,
    ) -> Result<Vec<(SpaceId, cairn_common::model::RecordId)>, StoreError> {
        dispatch!(self.purged_records())
    }

    /// The whole audit chain, to copy it to another store.
    ///
    /// # Errors
    /// A storage or database error, or damaged data.
    pub async fn audit_chain(&self) -> Result<super::AuditChain, StoreError> {
        dispatch!(self.audit_chain())
    }
}

/// `.wait()` on a store call in a test, async or not: it runs on a thread of its
/// own with a runtime of its own (so an async test's worker is not blocked on it).
/// For sled stores: a PostgreSQL pool belongs to the runtime that made it.
#[cfg(test)]
pub(crate) trait Blocking: Future + Sized + Send
where
    Self::Output: Send,
{
    fn wait(self) -> Self::Output {
        std::thread::scope(|scope| {
            scope
                .spawn(|| block_on(self).expect("a runtime for the test"))
                .join()
                .expect("the store call of the test panicked")
        })
    }
}

#[cfg(test)]
impl<F: Future + Send> Blocking for F where F::Output: Send {}
