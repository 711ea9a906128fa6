//! `POST /v1/push`: the caller's ops, appended to their spaces' logs all or none, and
//! acknowledged only once durable.

use std::collections::HashMap;

use cairn_common::api::{MAX_PUSH_OPS, PushRequest, PushResponse};
use cairn_common::model::{Role, SpaceId};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::store::SPACE_NOT_FOUND;

/// How far ahead of the server's clock an op's clock may be: a client's clock may be
/// off by minutes, one a day ahead is broken and would drag every replica's clock along.
const MAX_CLOCK_AHEAD_MS: u64 = 24 * 3600 * 1000;

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint("/v1/push", state, Gate::Enforce, handle)
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
    let horizon = state.clock.now_ms().saturating_add(MAX_CLOCK_AHEAD_MS);
    let mut roles: HashMap<SpaceId, Role> = HashMap::new();
    for (index, op) in request.ops.iter().enumerate() {
        let n = index + 1;
        if op.author != user {
            return Err(ApiError::forbidden(format!(
                "change {n} of the push was written by another user; log in as its author to \
                 push it (nothing of this push was stored)"
            )));
        }
        if op.at.wall_ms > horizon {
            return Err(ApiError::bad_request(format!(
                "change {n} of the push is stamped more than a day ahead of the server's \
                 clock; check this computer's clock (nothing of this push was stored)"
            )));
        }
        let role = match roles.get(&op.space) {
            Some(role) => *role,
            None => {
                let role = state
                    .store
                    .role_of(op.space, user)?
                    .ok_or_else(|| ApiError::not_found(SPACE_NOT_FOUND))?;
                roles.insert(op.space, role);
                role
            }
        };
        if !role.can_edit() {
            return Err(ApiError::forbidden(format!(
                "you are a {role} of a space this push changes, and may only read it; ask an \
                 owner to make you an editor (nothing of this push was stored)"
            )));
        }
    }
    let outcome = state
        .blocking(move |store| store.append_ops(&request.ops).map_err(ApiError::from))
        .await?;
    // Also for a push of duplicates only: an earlier try may have stored them and
    // failed before they were durable.
    state.store.commit_durable().await?;
    Ok(PushResponse {
        stored: outcome.stored,
        duplicates: outcome.duplicates,
    })
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{
        ErrorResponse, MAX_PUSH_OPS, PushRequest, PushResponse, SetMember, codes,
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
        api.call("/v1/push", Some(token), &PushRequest { ops })
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
                    .expect("get")
                    .expect("ann")
                    .profile
                    .id,
                "Team",
            )
            .expect("create")
            .space
            .id;
        let _: cairn_common::api::MemberList = api
            .call(
                "/v1/spaces/member",
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
        assert_eq!(api.state.store.last_seq(space).expect("seq"), 2);
    }

    /// A viewer may not push (403); an editor may.
    #[tokio::test]
    async fn viewer_cannot_push() {
        let api = TestApi::new();
        let (_, bob) = users(&api);
        let ann_token = api.login("ann").await.token;
        let space = shared(&api, &ann_token, Role::Viewer).await;
        let bob_token = api.login("bob").await.token;
        let (status, error) = push(&api, &bob_token, goal(space, bob.id, "x"))
            .await
            .expect_err("viewer refused");
        assert_eq!(
            (status, error.code.as_str()),
            (StatusCode::FORBIDDEN, codes::FORBIDDEN)
        );
        assert_eq!(api.state.store.last_seq(space).expect("seq"), 0);
        let _: cairn_common::api::MemberList = api
            .call(
                "/v1/spaces/member",
                Some(&ann_token),
                &SetMember {
                    space,
                    email: "bob@example.com".into(),
                    role: Some(Role::Editor),
                },
            )
            .await
            .expect("make editor");
        push(&api, &bob_token, goal(space, bob.id, "x"))
            .await
            .expect("editor pushes");
    }

    /// A push to someone else's space gets exactly the answer of a push to a space
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
                password: "password-of-root".into(),
                must_change_password: false,
                server_admin: true,
            })
            .expect("admin");
        let root = api
            .state
            .store
            .user_by_email("root@example.com")
            .expect("get")
            .expect("root");
        let bob_token = api.login("bob").await.token;
        let root_token = api.login("root").await.token;
        let existing = push(&api, &bob_token, goal(api.personal(&ann), bob.id, "x"))
            .await
            .expect_err("not a member");
        let random = push(&api, &bob_token, goal(SpaceId::new(), bob.id, "x"))
            .await
            .expect_err("no such space");
        assert_eq!(existing.0, StatusCode::NOT_FOUND);
        assert_eq!(existing, random);
        let by_admin = push(
            &api,
            &root_token,
            goal(api.personal(&ann), root.profile.id, "x"),
        )
        .await
        .expect_err("admin is not a member");
        assert_eq!(by_admin, random);
    }

    /// Unknown fields, wrong value types, changes to records never created and
    /// clocks far ahead are 400; ops of another author 403; too many ops 413.
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
        ahead.at.wall_ms += 25 * 3600 * 1000;
        let cases = [
            (
                op(
                    space,
                    record,
                    ann.id,
                    set("colour", Value::Text("red".into())),
                ),
                StatusCode::BAD_REQUEST,
            ),
            (
                op(
                    space,
                    record,
                    ann.id,
                    set("progress", Value::Text("lots".into())),
                ),
                StatusCode::BAD_REQUEST,
            ),
            (
                op(
                    space,
                    RecordId::new(),
                    ann.id,
                    set("title", Value::Text("x".into())),
                ),
                StatusCode::BAD_REQUEST,
            ),
            (ahead, StatusCode::BAD_REQUEST),
            (
                op(space, record, bob.id, set("title", Value::Text("x".into()))),
                StatusCode::FORBIDDEN,
            ),
        ];
        for (bad, expected) in cases {
            let (status, error) = push(&api, &token, vec![create.clone(), bad])
                .await
                .expect_err("refused");
            assert_eq!(status, expected, "{}", error.message);
            assert!(!error.message.is_empty());
            // All or nothing: the valid create before the bad op was not stored.
            assert_eq!(api.state.store.last_seq(space).expect("seq"), 0);
        }
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
        assert_eq!(api.state.store.last_seq(space).expect("seq"), 24);
        let page = api
            .state
            .store
            .ops_after(space, 0, 100, usize::MAX, true)
            .expect("ops");
        let ids: std::collections::HashSet<_> = page.ops.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), 24);
        let flushes = api.state.store.sync_count() - syncs;
        assert!((1..=12).contains(&flushes), "{flushes}");
    }

    /// A push touching two spaces, one of them read-only, stores nothing at all.
    #[tokio::test]
    async fn push_all_or_nothing_across_spaces() {
        let api = TestApi::new();
        let (_, bob) = users(&api);
        let ann_token = api.login("ann").await.token;
        let space = shared(&api, &ann_token, Role::Viewer).await;
        let bob_token = api.login("bob").await.token;
        let mut ops = goal(api.personal(&bob), bob.id, "mine");
        ops.extend(goal(space, bob.id, "theirs"));
        push(&api, &bob_token, ops).await.expect_err("refused");
        assert_eq!(
            api.state.store.last_seq(api.personal(&bob)).expect("seq"),
            0
        );
    }
}
