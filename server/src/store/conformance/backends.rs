//! The suite goes through the server's facade [`Store`], so what it checks is what
//! the server gets, shared rules included: a facade over the sled store, and one
//! over the PostgreSQL store on a fresh database of the test server.

use std::sync::Arc;

use cairn_common::api::{Epoch, MemberList, SpaceInfo};
use cairn_common::model::{Role, SpaceId, UserId};
use cairn_common::op::Op;

use super::Backend;
use crate::store::postgres::PgStore;
use crate::store::{
    AuditEntry, AuditEvent, AuditVerification, DayCounts, LoginRecord, NewUser, PullPage,
    PurgeOutcome, PurgeTarget, PushOutcome, RecordLimits, RetentionCutoffs, SessionRecord, Store,
    StoreError, SweepOutcome, TelemetryEntry, ThrottleState, UserRecord,
};
use crate::test_postgres::TestPostgres;

/// Sessions made by the suite expire far in the future.
const EXPIRES_MS: u64 = 1 << 50;

pub fn sled() -> (tempfile::TempDir, Store) {
    crate::store::test_support::temp_facade()
}

pub async fn postgres() -> (Arc<TestPostgres>, Store) {
    let pg = TestPostgres::shared().expect("PostgreSQL for the tests");
    let url = pg.database().expect("a database");
    let store = PgStore::connect(&url, 8).await.expect("connect");
    (pg, store.into())
}

fn hash_of(email: &str) -> String {
    format!("hash of {email}")
}

impl Backend for Store {
    async fn append_ops(
        &self,
        ops: &[Op],
        limits: &RecordLimits,
    ) -> Result<PushOutcome, StoreError> {
        Store::append_ops(self, ops, limits).await
    }
    async fn ops_after(
        &self,
        space: SpaceId,
        after: u64,
        max_ops: usize,
        max_bytes: usize,
    ) -> Result<PullPage, StoreError> {
        Store::ops_after(self, space, after, max_ops, max_bytes, true).await
    }
    async fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        Store::last_seq(self, space).await
    }
    async fn create_user(&self, email: &str) -> Result<UserId, StoreError> {
        Ok(Store::create_user(
            self,
            NewUser {
                email: email.into(),
                first_name: "First".into(),
                last_name: "Last".into(),
                password_hash: hash_of(email),
                must_change_password: false,
                server_admin: email == "admin",
            },
        )
        .await?
        .id)
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        Store::user_by_email(self, email).await
    }
    async fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), StoreError> {
        Store::set_disabled(self, email, disabled).await
    }
    async fn reset_password(&self, email: &str, hash: String) -> Result<(), StoreError> {
        Store::reset_password(self, email, hash).await
    }
    async fn set_own_password(
        &self,
        user: UserId,
        hash: String,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        Store::set_own_password(self, user, hash, keep).await
    }
    async fn create_session(
        &self,
        hash: &[u8; 32],
        user: UserId,
        device: &str,
        at_ms: u64,
    ) -> Result<SessionRecord, StoreError> {
        Store::create_session(self, hash, user, device, at_ms, EXPIRES_MS).await
    }
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        Store::session(self, hash).await
    }
    async fn sessions_of(
        &self,
        user: UserId,
    ) -> Result<Vec<([u8; 32], SessionRecord)>, StoreError> {
        Store::sessions_of(self, user).await
    }
    async fn revoke_session(&self, user: UserId, hash: &[u8; 32]) -> Result<(), StoreError> {
        Store::revoke_session(self, user, hash).await
    }
    async fn spaces_of(&self, user: UserId) -> Result<Vec<SpaceInfo>, StoreError> {
        Store::spaces_of(self, user).await
    }
    async fn create_space(&self, owner: UserId, name: &str) -> Result<SpaceInfo, StoreError> {
        Store::create_space(self, owner, name).await
    }
    async fn rename_space(
        &self,
        actor: UserId,
        id: SpaceId,
        name: &str,
    ) -> Result<SpaceInfo, StoreError> {
        Store::rename_space(self, actor, id, name).await
    }
    async fn members(&self, actor: UserId, id: SpaceId) -> Result<MemberList, StoreError> {
        Store::members(self, actor, id).await
    }
    async fn set_member(
        &self,
        actor: UserId,
        id: SpaceId,
        email: &str,
        role: Option<Role>,
    ) -> Result<MemberList, StoreError> {
        Store::set_member(self, actor, id, email, role).await
    }
    async fn role_of(&self, space: SpaceId, user: UserId) -> Result<Option<Role>, StoreError> {
        Store::role_of(self, space, user).await
    }
    async fn count_throttle_failure(
        &self,
        key: &str,
        now_ms: u64,
        forget_before_ms: u64,
    ) -> Result<ThrottleState, StoreError> {
        Store::count_throttle_failure(self, key, now_ms, forget_before_ms).await
    }
    async fn uncount_throttle_failure(&self, key: &str) -> Result<(), StoreError> {
        Store::uncount_throttle_failure(self, key).await
    }
    async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError> {
        Store::throttle_state(self, key).await
    }
    async fn sweep_throttle(&self, before_ms: u64) -> Result<usize, StoreError> {
        Store::sweep_throttle(self, before_ms).await
    }
    async fn record_login(&self, user: UserId, record: &LoginRecord) -> Result<(), StoreError> {
        Store::record_login(self, user, record).await
    }
    async fn logins_of(&self, user: UserId, limit: usize) -> Result<Vec<LoginRecord>, StoreError> {
        Store::logins_of(self, user, limit).await
    }
    async fn audit_at(&self, event: AuditEvent, at_ms: u64) -> Result<(), StoreError> {
        Store::audit_at(self, event, at_ms).await;
        Ok(())
    }
    async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        Store::audit_entries(self).await
    }
    async fn audit_verify(&self) -> Result<AuditVerification, StoreError> {
        Store::audit_verify(self).await
    }
    async fn add_telemetry(
        &self,
        day: u32,
        endpoint: &str,
        counts: &DayCounts,
    ) -> Result<(), StoreError> {
        Store::add_telemetry(self, day, endpoint, counts).await
    }
    async fn telemetry(&self) -> Result<Vec<TelemetryEntry>, StoreError> {
        Store::telemetry(self).await
    }
    async fn sweep_telemetry(&self, first_kept_day: u32) -> Result<usize, StoreError> {
        Store::sweep_telemetry(self, first_kept_day).await
    }
    async fn epoch(&self) -> Result<Epoch, StoreError> {
        Store::epoch(self).await
    }
    async fn renew_epoch(&self) -> Result<Epoch, StoreError> {
        Store::renew_epoch(self).await
    }
    async fn purge(&self, target: &PurgeTarget) -> Result<PurgeOutcome, StoreError> {
        Store::purge(self, target).await
    }
    async fn sweep_retention(&self, cutoffs: RetentionCutoffs) -> Result<SweepOutcome, StoreError> {
        Store::sweep_retention(self, cutoffs).await
    }
}
