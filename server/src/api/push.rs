//! [`endpoints::Push`]: the caller's ops, judged per space and per record, appended to
//! their spaces' logs, and acknowledged only once durable.
//!
//! A refusal concerns one space (not a member, read-only) or one record (a bad op,
//! a broken limit, a clock too far ahead) and is listed in the answer; the rest of
//! the push is stored. So one lost membership or one bad record never stops a
//! client's other changes from syncing.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cairn_common::api::{
    MAX_PUSH_OPS, PushRequest, PushResponse, Refusal, RefusalReason, endpoints,
};
use cairn_common::model::{RecordId, Role, SpaceId};
use cairn_common::op::Op;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::store::{RecordLimits, SPACE_NOT_FOUND, refuse_record};

/// The largest `[sync] max_record_kib`: what clients read (their limit is 16 MiB).
pub const MAX_RECORD_KIB: usize = 16 * 1024;

/// What every push must keep to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncRules {
    pub limits: RecordLimits,
    /// How far ahead of the server's clock an op may be stamped. A client's clock
    /// may be off by a little; one far ahead would let its changes outrank every
    /// later change of others until that time comes.
    pub max_clock_ahead: Duration,
}

impl Default for SyncRules {
    fn default() -> Self {
        crate::settings::Settings::default().sync_rules()
    }
}

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Push, state, Gate::Enforce, handle)
}

async fn handle(
    state: AppState,
    caller: Caller,
    request: PushRequest,
) -> Result<PushResponse, ApiError> {
    if request.ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::too_large(format!(
            "a push holds at most {MAX_PUSH_OPS} changes; send them in smaller pushes"
        )));
    }
    let user = caller.user.profile.id;
    let mut refused = Vec::new();
    let ops = admissible(&state, user, request.ops, &mut refused).await?;
    let limits = state.sync.limits;
    let outcome = state
        .with_store(move |store| async move { Ok(store.append_ops(&ops, &limits).await?) })
        .await?;
    refused.extend(outcome.refused);
    // Also for a push of duplicates only: an earlier try may have stored them and
    // failed before they were durable.
    state.store.commit_durable().await?;
    Ok(PushResponse {
        epoch: state.store.epoch().await?,
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        refused,
    })
}

/// The ops the caller may push at all: ops of spaces the caller is not a member of
/// or may only read are refused per space; a record with an op of another author,
/// or stamped out of bounds, is refused as a whole.
async fn admissible(
    state: &AppState,
    user: cairn_common::UserId,
    ops: Vec<Op>,
    refused: &mut Vec<Refusal>,
) -> Result<Vec<Op>, ApiError> {
    let horizon = state
        .clock
        .now_ms()
        .saturating_add(u64::try_from(state.sync.max_clock_ahead.as_millis()).unwrap_or(u64::MAX));
    let mut roles: HashMap<SpaceId, Option<Role>> = HashMap::new();
    for op in &ops {
        if let std::collections::hash_map::Entry::Vacant(slot) = roles.entry(op.space) {
            slot.insert(state.store.role_of(op.space, user).await?);
        }
    }
    let mut bad_spaces: HashSet<SpaceId> = HashSet::new();
    for (space, role) in &roles {
        let (reason, message) = match role {
            None => (RefusalReason::NotMember, SPACE_NOT_FOUND.to_owned()),
            Some(role) if !role.can_edit() => (
                RefusalReason::ReadOnly,
                format!(
                    "you are a {role} of this space and may only read it; your changes to it \
                     stay on your device until an owner makes you an editor"
                ),
            ),
            Some(_) => continue,
        };
        bad_spaces.insert(*space);
        refused.push(Refusal {
            space: *space,
            record: None,
            reason,
            message,
            ops: ops
                .iter()
                .filter(|op| op.space == *space)
                .map(|op| op.id)
                .collect(),
        });
    }
    let mut bad_records: Vec<(RecordId, RefusalReason, String)> = Vec::new();
    let mut bad: HashSet<RecordId> = HashSet::new();
    for op in ops.iter().filter(|op| !bad_spaces.contains(&op.space)) {
        if bad.contains(&op.record) {
            continue;
        }
        let problem = if op.author != user {
            Some((
                RefusalReason::Invalid,
                "a change of this record was written by another user; only its author may \
                 push it"
                    .to_owned(),
            ))
        } else if !op.at.is_bounded() {
            Some((
                RefusalReason::Invalid,
                "a change of this record carries a clock counter or node id out of bounds; \
                 this client is damaged or not a Cairn client"
                    .to_owned(),
            ))
        } else if op.at.wall_ms > horizon {
            let ahead_s = op.at.wall_ms.saturating_sub(state.clock.now_ms()) / 1000;
            Some((
                RefusalReason::ClockAhead,
                format!(
                    "a change of this record is stamped {ahead_s} s ahead of the server's clock \
                     (at most {} s are allowed); set this computer's clock right (for example \
                     turn on automatic time); the change is sent again by the next sync",
                    state.sync.max_clock_ahead.as_secs()
                ),
            ))
        } else {
            None
        };
        if let Some((reason, message)) = problem {
            bad.insert(op.record);
            bad_records.push((op.record, reason, message));
        }
    }
    let all: Vec<&Op> = ops.iter().collect();
    for (record, reason, message) in &bad_records {
        refused.push(refuse_record(&all, *record, *reason, message.clone()));
    }
    Ok(ops
        .into_iter()
        .filter(|op| !bad_spaces.contains(&op.space) && !bad.contains(&op.record))
        .collect())
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::api::{
        ErrorResponse, MAX_PUSH_OPS, PushRequest, PushResponse, RefusalReason, SetMember, codes,
    };
    use cairn_common::model::{Role, SpaceId, UserProfile, Value};
    use cairn_common::op::Op;
    use cairn_common::{Change, RecordId};
    use warp::http::StatusCode;

    use super::super::testing::{TestApi, goal, op, set};

    async fn push(
        api: &TestApi,
        token: &str,
        ops: Vec<Op>,
    ) -> Result<PushResponse, (StatusCode, ErrorResponse)> {
        api.call(endpoints::Push::PATH, Some(token), &PushRequest { ops })
            .await
    }

    /// A shared space of ann's with bob as `role`.
    async fn shared(api: &TestApi, ann_token: &str, role: Role) -> SpaceId {
        let space = api
            .state
            .store
            .create_space(
                api.state
                    .store
                    .user_by_email("ann@example.com")
                    .await
                    .expect("get")
                    .expect("ann")
                    .profile
                    .id,
                "Team",
            )
            .await
            .expect("create")
            .space
            .id;
        let _: cairn_common::api::MemberList = api
            .call(
                endpoints::SpacesMember::PATH,
                Some(ann_token),
                &SetMember {
                    space,
                    email: "bob@example.com".into(),
                    role: Some(role),
                },
            )
            .await
            .expect("add bob");
        space
    }

    fn users(api: &TestApi) -> (UserProfile, UserProfile) {
        (api.user("ann"), api.user("bob"))
    }

    /// Ops are stored with consecutive seqs; the same push again stores nothing new
    /// and leaves the seq where it was.
    #[tokio::test]
    async fn push_is_idempotent() {
        let api = TestApi::new();
        let (ann, _) = users(&api);
        let token = api.login("ann").await.token;
        let space = api.personal(&ann);
        let ops = goal(space, ann.id, "Grow the team");
        let syncs = api.state.store.sync_count();
        let first = push(&api, &token, ops.clone()).await.expect("push");
        assert!(
            api.state.store.sync_count() > syncs,
            "acknowledged without a flush"
        );
        assert_eq!((first.stored, first.duplicates), (2, 0));
        let again = push(&api, &token, ops).await.expect("retry");
        assert_eq!((again.stored, again.duplicates), (0, 2));
        assert_eq!(api.state.store.last_seq(space).await.expect("seq"), 2);
    }

    /// A viewer's push is refused for that space (read-only, the ops named); once
    /// an editor, the same push is stored.
    #[tokio::test]
    async fn viewer_refused_per_space() {
        let api = TestApi::new();
        let (_, bob) = users(&api);
        let ann_token = api.login("ann").await.token;
        let space = shared(&api, &ann_token, Role::Viewer).await;
        let bob_token = api.login("bob").await.token;
        let ops = goal(space, bob.id, "x");
        let answer = push(&api, &bob_token, ops.clone()).await.expect("answered");
        assert_eq!(answer.stored, 0);
        assert_eq!(answer.refused.len(), 1);
        assert_eq!(answer.refused[0].reason, RefusalReason::ReadOnly);
        assert_eq!(answer.refused[0].record, None);
        assert_eq!(
            answer.refused[0].ops,
            ops.iter().map(|o| o.id).collect::<Vec<_>>()
        );
        assert_eq!(api.state.store.last_seq(space).await.expect("seq"), 0);
        let _: cairn_common::api::MemberList = api
            .call(
                endpoints::SpacesMember::PATH,
                Some(&ann_token),
                &SetMember {
                    space,
                    email: "bob@example.com".into(),
                    role: Some(Role::Editor),
                },
            )
            .await
            .expect("make editor");
        let answer = push(&api, &bob_token, ops).await.expect("editor pushes");
        assert_eq!((answer.stored, answer.refused.len()), (2, 0));
        assert_eq!(answer.epoch, api.state.store.epoch().await.expect("epoch"));
    }

    /// A push to someone else's space gets exactly the refusal of a push to a space
    /// that does not exist; a server admin is no exception.
    #[tokio::test]
    async fn non_member_gets_not_found() {
        let api = TestApi::new();
        let (ann, bob) = users(&api);
        api.state
            .store
            .create_user(crate::store::NewUser {
                email: "root@example.com".into(),
                first_name: "Root".into(),
                last_name: String::new(),
                password_hash: crate::auth::password::hash("password-of-root").expect("hash"),
                must_change_password: false,
                server_admin: true,
            })
            .await
            .expect("admin");
        api.accept_notice(
            &api.state
                .store
                .user_by_email("root@example.com")
                .await
                .expect("read")
                .expect("root")
                .profile,
        );
        let root = api
            .state
            .store
            .user_by_email("root@example.com")
            .await
            .expect("get")
            .expect("root");
        let bob_token = api.login("bob").await.token;
        let root_token = api.login("root").await.token;
        let refusal = |answer: PushResponse| {
            assert_eq!(answer.stored, 0);
            let r = answer.refused.into_iter().next().expect("refused");
            (r.reason, r.record, r.message)
        };
        let existing = push(&api, &bob_token, goal(api.personal(&ann), bob.id, "x"))
            .await
            .expect("answered");
        let random = push(&api, &bob_token, goal(SpaceId::new(), bob.id, "x"))
            .await
            .expect("answered");
        let by_admin = push(
            &api,
            &root_token,
            goal(api.personal(&ann), root.profile.id, "x"),
        )
        .await
        .expect("answered");
        let random = refusal(random);
        assert_eq!(random.0, RefusalReason::NotMember);
        assert_eq!(refusal(existing), random);
        assert_eq!(refusal(by_admin), random);
        assert_eq!(
            api.state
                .store
                .last_seq(api.personal(&ann))
                .await
                .expect("seq"),
            0
        );
    }

    /// Unknown fields, wrong value types, forged authors and clocks out of bounds
    /// refuse their record for good; a record never created and a clock ahead of
    /// the server's may pass later; too many ops are 413. Each refusal leaves the
    /// push's other record stored.
    #[tokio::test]
    async fn push_validation() {
        let api = TestApi::new();
        let (ann, bob) = users(&api);
        let token = api.login("ann").await.token;
        let space = api.personal(&ann);
        let record = RecordId::new();
        let create = op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: cairn_common::RecordKind::Goal,
            },
        );
        let mut ahead = op(space, record, ann.id, set("title", Value::Text("x".into())));
        ahead.at.wall_ms += 6 * 60 * 1000;
        let mut counter = op(space, record, ann.id, set("title", Value::Text("x".into())));
        counter.at.counter = u32::MAX;
        let mut node = op(space, record, ann.id, set("title", Value::Text("x".into())));
        node.at.node = cairn_common::NodeId(u64::MAX);
        let cases = [
            (
                op(
                    space,
                    record,
                    ann.id,
                    set("colour", Value::Text("red".into())),
                ),
                RefusalReason::Invalid,
            ),
            (
                op(
                    space,
                    record,
                    ann.id,
                    set("progress", Value::Text("lots".into())),
                ),
                RefusalReason::Invalid,
            ),
            (ahead, RefusalReason::ClockAhead),
            (counter, RefusalReason::Invalid),
            (node, RefusalReason::Invalid),
            (
                op(space, record, bob.id, set("title", Value::Text("x".into()))),
                RefusalReason::Invalid,
            ),
        ];
        let mut seq = 0;
        for (bad, expected) in cases {
            let other = goal(space, ann.id, "fine");
            let mut ops = other.clone();
            ops.push(create.clone());
            ops.push(bad.clone());
            let answer = push(&api, &token, ops).await.expect("answered");
            let refused: Vec<_> = answer.refused.iter().map(|r| r.reason).collect();
            assert_eq!(refused, vec![expected], "{:?}", answer.refused);
            assert!(!answer.refused[0].message.is_empty());
            assert!(answer.refused[0].ops.contains(&bad.id));
            // The record's valid create went with it; the other record is stored.
            seq += 2;
            assert_eq!(api.state.store.last_seq(space).await.expect("seq"), seq);
            assert_eq!(
                api.state
                    .store
                    .record_kind(space, record)
                    .await
                    .expect("kind"),
                None
            );
        }
        let orphan = op(
            space,
            RecordId::new(),
            ann.id,
            set("title", Value::Text("x".into())),
        );
        let answer = push(&api, &token, vec![orphan]).await.expect("answered");
        assert_eq!(answer.refused[0].reason, RefusalReason::UnknownRecord);
        let many = vec![create; MAX_PUSH_OPS + 1];
        let (status, error) = push(&api, &token, many).await.expect_err("too many");
        assert_eq!(
            (status, error.code.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE)
        );
    }

    /// Concurrent pushes to one space are all acknowledged, each op with its own
    /// seq, and share flushes (never more flushes than pushes).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_pushes() {
        let api = std::sync::Arc::new(TestApi::new());
        let (ann, _) = users(&api);
        let token = api.login("ann").await.token;
        let space = api.personal(&ann);
        let syncs = api.state.store.sync_count();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let api = api.clone();
            let token = token.clone();
            let ops = goal(space, ann.id, &format!("goal {i}"));
            tasks.push(tokio::spawn(async move { push(&api, &token, ops).await }));
        }
        for task in tasks {
            let response = task.await.expect("task").expect("push");
            assert_eq!(response.stored, 2);
        }
        assert_eq!(api.state.store.last_seq(space).await.expect("seq"), 24);
        let page = api
            .state
            .store
            .ops_after(space, 0, 100, usize::MAX, true)
            .await
            .expect("ops");
        let ids: std::collections::HashSet<_> = page.ops.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), 24);
        let flushes = api.state.store.sync_count() - syncs;
        assert!((1..=12).contains(&flushes), "{flushes}");
    }

    /// A push touching two spaces, one of them read-only, stores the other
    /// space's ops: one refused space never blocks the rest.
    #[tokio::test]
    async fn one_space_refused_others_stored() {
        let api = TestApi::new();
        let (_, bob) = users(&api);
        let ann_token = api.login("ann").await.token;
        let space = shared(&api, &ann_token, Role::Viewer).await;
        let bob_token = api.login("bob").await.token;
        let mut ops = goal(api.personal(&bob), bob.id, "mine");
        ops.extend(goal(space, bob.id, "theirs"));
        let answer = push(&api, &bob_token, ops).await.expect("answered");
        assert_eq!(answer.stored, 2);
        assert_eq!(answer.refused[0].space, space);
        assert_eq!(
            api.state
                .store
                .last_seq(api.personal(&bob))
                .await
                .expect("seq"),
            2
        );
        assert_eq!(api.state.store.last_seq(space).await.expect("seq"), 0);
    }

    /// On PostgreSQL a push request dropped while its transaction waits for a lock
    /// (the client went away) stops there: its transaction rolls back, nothing of
    /// it is stored, no transaction stays open on the pool's one connection, and
    /// the next push gets the next seq.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_push_request_rolls_back_on_postgres() {
        use std::time::Duration;

        use crate::store::{NewUser, PgStore, Store};
        use crate::test_postgres::TestPostgres;

        let pg = TestPostgres::shared().expect("PostgreSQL for the tests");
        let url = pg.database().expect("a database");
        // One connection: the next request gets the one the dropped request had.
        let store = Store::Postgres(PgStore::connect(&url, 1).await.expect("connect"));
        let ann = store
            .create_user(NewUser {
                email: "ann@example.com".into(),
                first_name: "Ann".into(),
                last_name: "Test".into(),
                password_hash: crate::auth::password::hash("password-of-ann").expect("hash"),
                must_change_password: false,
                server_admin: false,
            })
            .await
            .expect("ann");
        let api = TestApi::on_store(store.clone());
        api.accept_notice(&ann);
        let token = api.login("ann").await.token;
        let space = store
            .user(ann.id)
            .await
            .expect("user")
            .expect("ann exists")
            .personal_space;
        push(&api, &token, goal(space, ann.id, "first"))
            .await
            .expect("first push");

        // Another server holds the space's counter, so the next push waits in its
        // transaction until the client goes away.
        let blocker = PgStore::connect(&url, 1).await.expect("blocker");
        let mut holder = blocker.pool().get().await.expect("connection");
        let hold = holder.transaction().await.expect("transaction");
        hold.execute(
            "SELECT last_seq FROM space_seqs WHERE space_id = $1 FOR UPDATE",
            &[&space.0],
        )
        .await
        .expect("lock");
        let waiting = tokio::time::timeout(
            Duration::from_millis(500),
            push(&api, &token, goal(space, ann.id, "dropped")),
        )
        .await;
        assert!(waiting.is_err(), "the push should still wait for the lock");
        hold.rollback().await.expect("release");
        drop(holder);

        let after = push(&api, &token, goal(space, ann.id, "after"))
            .await
            .expect("the pool's connection serves again");
        assert_eq!(after.stored, 2);
        assert_eq!(
            store.last_seq(space).await.expect("seq"),
            4,
            "the dropped push stored nothing and left no gap"
        );
        let client = blocker.pool().get().await.expect("connection");
        let open: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
                &[],
            )
            .await
            .expect("activity")
            .get(0);
        assert_eq!(open, 0, "a transaction was left open");
    }
}
