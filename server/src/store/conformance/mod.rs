//! One conformance suite for both store backends, as taskchampion has for its
//! storages: every test is written once against [`Backend`] (what the server asks
//! of a store) and runs on sled and on PostgreSQL ([`conformance!`]). Whatever the
//! backend, pushes, accounts, memberships, counters, logs, purge and retention
//! behave the same.
//!
//! The cases run through the server's facade [`super::Store`] on each backend
//! ([`backends`]), so the rules the facade adds (checks, audit of member changes)
//! are checked on both. [`Backend`] is the suite's view of it: what the cases call,
//! with the suite's own defaults (password hashes, session lifetimes).

mod backends;
pub(crate) mod cases;

use cairn_common::api::{Epoch, MemberList, SpaceInfo};
use cairn_common::model::{Role, SpaceId, UserId};
use cairn_common::op::Op;

use super::{
    AuditEntry, AuditEvent, AuditVerification, DayCounts, LoginRecord, PullPage, PurgeOutcome,
    PurgeTarget, PushOutcome, RecordLimits, RetentionCutoffs, SessionRecord, StoreError,
    SweepOutcome, TelemetryEntry, ThrottleState, UserRecord,
};

/// What the server asks of a store, the same on every backend.
#[allow(async_fn_in_trait)]
pub trait Backend {
    async fn append_ops(
        &self,
        ops: &[Op],
        limits: &RecordLimits,
    ) -> Result<PushOutcome, StoreError>;
    async fn ops_after(
        &self,
        space: SpaceId,
        after: u64,
        max_ops: usize,
        max_bytes: usize,
    ) -> Result<PullPage, StoreError>;
    async fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError>;

    /// An account with this e-mail (password hash `hash of EMAIL`).
    async fn create_user(&self, email: &str) -> Result<UserId, StoreError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), StoreError>;
    async fn reset_password(&self, email: &str, hash: String) -> Result<(), StoreError>;
    async fn set_own_password(
        &self,
        user: UserId,
        hash: String,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError>;

    async fn create_session(
        &self,
        hash: &[u8; 32],
        user: UserId,
        device: &str,
        at_ms: u64,
    ) -> Result<SessionRecord, StoreError>;
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError>;
    async fn sessions_of(&self, user: UserId)
    -> Result<Vec<([u8; 32], SessionRecord)>, StoreError>;
    async fn revoke_session(&self, user: UserId, hash: &[u8; 32]) -> Result<(), StoreError>;

    async fn spaces_of(&self, user: UserId) -> Result<Vec<SpaceInfo>, StoreError>;
    async fn create_space(&self, owner: UserId, name: &str) -> Result<SpaceInfo, StoreError>;
    async fn rename_space(
        &self,
        actor: UserId,
        id: SpaceId,
        name: &str,
    ) -> Result<SpaceInfo, StoreError>;
    async fn members(&self, actor: UserId, id: SpaceId) -> Result<MemberList, StoreError>;
    async fn set_member(
        &self,
        actor: UserId,
        id: SpaceId,
        email: &str,
        role: Option<Role>,
    ) -> Result<MemberList, StoreError>;
    async fn role_of(&self, space: SpaceId, user: UserId) -> Result<Option<Role>, StoreError>;

    async fn count_throttle_failure(
        &self,
        key: &str,
        now_ms: u64,
        forget_before_ms: u64,
    ) -> Result<ThrottleState, StoreError>;
    async fn uncount_throttle_failure(&self, key: &str) -> Result<(), StoreError>;
    async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError>;
    async fn sweep_throttle(&self, before_ms: u64) -> Result<usize, StoreError>;

    async fn record_login(&self, user: UserId, record: &LoginRecord) -> Result<(), StoreError>;
    async fn logins_of(&self, user: UserId, limit: usize) -> Result<Vec<LoginRecord>, StoreError>;

    async fn audit_at(&self, event: AuditEvent, at_ms: u64) -> Result<(), StoreError>;
    async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError>;
    async fn audit_verify(&self) -> Result<AuditVerification, StoreError>;

    async fn add_telemetry(
        &self,
        day: u32,
        endpoint: &str,
        counts: &DayCounts,
    ) -> Result<(), StoreError>;
    async fn telemetry(&self) -> Result<Vec<TelemetryEntry>, StoreError>;
    async fn sweep_telemetry(&self, first_kept_day: u32) -> Result<usize, StoreError>;

    async fn epoch(&self) -> Result<Epoch, StoreError>;
    async fn renew_epoch(&self) -> Result<Epoch, StoreError>;

    async fn purge(&self, target: &PurgeTarget) -> Result<PurgeOutcome, StoreError>;
    async fn sweep_retention(&self, cutoffs: RetentionCutoffs) -> Result<SweepOutcome, StoreError>;
}

/// A test per case and backend: `conformance!(case, …)` makes
/// `sled::case` and `postgres::case` for each.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_dir, store) = super::backends::sled();
                    super::cases::$case(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (_pg, store) = super::backends::postgres().await;
                    super::cases::$case(&store).await;
                }
            )*
        }
    };
}

conformance!(
    pushes_are_idempotent_and_paged,
    a_record_stays_in_its_space,
    refused_records_keep_the_rest,
    accounts_and_their_sessions,
    membership_rules,
    failed_logins_are_counted,
    login_records_newest_first,
    the_audit_chain_holds,
    statistics_add_up_and_go,
    the_epoch_changes_only_when_renewed,
    purging_a_user,
    purging_everything,
    retention_sweeps,
);
