//! [`endpoints::Pull`]: ops after the client's cursors in every space the caller is a
//! member of, in pages bounded by count and bytes, and the caller's spaces now.
//! Cursors belong to the store's epoch: a pull naming another epoch gets no ops,
//! only the epoch, and the client starts over.

use std::collections::HashMap;

use cairn_common::api::{
    MAX_PULL_BYTES, MAX_PULL_OPS, PullRequest, PullResponse, SpaceOps, endpoints,
};
use cairn_common::model::SpaceId;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::store::{Heads, Store};

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Pull, state, Gate::Enforce, handle)
}

async fn handle(
    state: AppState,
    caller: Caller,
    request: PullRequest,
) -> Result<PullResponse, ApiError> {
    let user = caller.user.profile.id;
    // Polling with nothing new is the common case: one read of the epoch and the
    // heads of the user's spaces (one query on PostgreSQL) answers it here. Only
    // reading pages of ops goes to the blocking pool on sled, whose hand-off would
    // otherwise dominate an empty poll.
    let heads = state.store.heads(user).await?;
    let other_epoch = request.epoch.is_some_and(|e| e != heads.epoch);
    // Cursors of another history: the client starts over from nothing.
    if other_epoch || up_to_date(&heads, &request) {
        return Ok(PullResponse {
            epoch: heads.epoch,
            spaces: heads.spaces.into_iter().map(|(info, _)| info).collect(),
            batches: Vec::new(),
            more: false,
        });
    }
    state
        .with_store(move |store| async move { Ok(page(&store, user, &request).await?) })
        .await
}

/// Whether the request's cursors are at the head of every space of the user.
fn up_to_date(heads: &Heads, request: &PullRequest) -> bool {
    heads.spaces.iter().all(|(info, last)| {
        let after = request
            .cursors
            .iter()
            .find(|c| c.space == info.space.id)
            .map_or(0, |c| c.seq);
        *last <= after
    })
}

/// One page. Cursors of spaces the user is not a member of are ignored without a
/// word, so a pull tells nothing about spaces the user cannot see.
async fn page(
    store: &Store,
    user: cairn_common::UserId,
    request: &PullRequest,
) -> Result<PullResponse, crate::store::StoreError> {
    let spaces = store.spaces_of(user).await?;
    let cursors: HashMap<SpaceId, u64> = request.cursors.iter().map(|c| (c.space, c.seq)).collect();
    let max_ops = match request.max_ops {
        0 => MAX_PULL_OPS,
        n => n.min(MAX_PULL_OPS),
    };
    let mut ops_left = usize::try_from(max_ops).unwrap_or(usize::MAX);
    let mut bytes_left = MAX_PULL_BYTES;
    let mut batches = Vec::new();
    let mut more = false;
    for info in &spaces {
        let space = info.space.id;
        let after = cursors.get(&space).copied().unwrap_or(0);
        let first = batches.is_empty();
        let page = store
            .ops_after(space, after, ops_left, bytes_left, first)
            .await?;
        more |= page.more;
        if !page.ops.is_empty() {
            ops_left = ops_left.saturating_sub(page.ops.len());
            bytes_left = bytes_left.saturating_sub(page.bytes);
            batches.push(SpaceOps {
                space,
                ops: page.ops,
                cursor: page.cursor,
            });
        }
    }
    Ok(PullResponse {
        epoch: store.epoch().await?,
        spaces,
        batches,
        more,
    })
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{
        Cursor, MemberList, PullRequest, PullResponse, PushRequest, PushResponse, SetMember,
    };
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::model::{Role, SpaceId};

    use super::super::testing::{TestApi, goal};

    async fn pull(api: &TestApi, token: &str, cursors: Vec<Cursor>, max_ops: u32) -> PullResponse {
        api.call(
            endpoints::Pull::PATH,
            Some(token),
            &PullRequest {
                epoch: None,
                cursors,
                max_ops,
            },
        )
        .await
        .expect("pull")
    }

    /// Pages hold at most `max_ops`, say `more` while ops remain, and the cursors
    /// they return lead through every op exactly once, in order.
    #[tokio::test]
    async fn paging_with_cursors() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let token = api.login("ann").await.token;
        let space = api.personal(&ann);
        let mut pushed = Vec::new();
        for i in 0..5 {
            pushed.extend(goal(space, ann.id, &format!("goal {i}")));
        }
        let _: PushResponse = api
            .call(
                endpoints::Push::PATH,
                Some(&token),
                &PushRequest {
                    ops: pushed.clone(),
                },
            )
            .await
            .expect("push");
        let mut cursor = 0;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = pull(&api, &token, vec![Cursor { space, seq: cursor }], 4).await;
            pages += 1;
            assert_eq!(page.spaces.len(), 1);
            let ops: usize = page.batches.iter().map(|b| b.ops.len()).sum();
            assert!(ops <= 4);
            for batch in page.batches {
                assert_eq!(batch.space, space);
                seen.extend(batch.ops);
                cursor = batch.cursor;
            }
            if !page.more {
                break;
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, pushed);
        assert_eq!(cursor, 10);
        let empty = pull(&api, &token, vec![Cursor { space, seq: cursor }], 4).await;
        assert!(empty.batches.is_empty() && !empty.more);
    }

    /// A space the user is not a member of is neither listed nor pulled, even with
    /// its cursor; once added the user pulls it, once removed it disappears.
    #[tokio::test]
    async fn only_member_spaces() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let bob = api.user("bob");
        let ann_token = api.login("ann").await.token;
        let bob_token = api.login("bob").await.token;
        let team = api
            .state
            .store
            .create_space(ann.id, "Team")
            .await
            .expect("create")
            .space
            .id;
        let _: PushResponse = api
            .call(
                endpoints::Push::PATH,
                Some(&ann_token),
                &PushRequest {
                    ops: goal(team, ann.id, "secret"),
                },
            )
            .await
            .expect("push");
        let cursors = vec![
            Cursor {
                space: team,
                seq: 0,
            },
            Cursor {
                space: SpaceId::new(),
                seq: 0,
            },
        ];
        let page = pull(&api, &bob_token, cursors.clone(), 100).await;
        assert!(page.spaces.iter().all(|s| s.space.id != team));
        assert!(page.batches.is_empty() && !page.more);

        let add = SetMember {
            space: team,
            email: "bob@example.com".into(),
            role: Some(Role::Viewer),
        };
        let _: MemberList = api
            .call(endpoints::SpacesMember::PATH, Some(&ann_token), &add)
            .await
            .expect("add");
        let page = pull(&api, &bob_token, cursors.clone(), 100).await;
        assert!(
            page.spaces
                .iter()
                .any(|s| s.space.id == team && s.role == Role::Viewer)
        );
        assert_eq!(page.batches.len(), 1);
        assert_eq!(page.batches[0].ops.len(), 2);

        let remove = SetMember { role: None, ..add };
        let _: MemberList = api
            .call(endpoints::SpacesMember::PATH, Some(&ann_token), &remove)
            .await
            .expect("remove");
        let page = pull(&api, &bob_token, cursors, 100).await;
        assert!(page.spaces.iter().all(|s| s.space.id != team));
        assert!(page.batches.is_empty());
        assert_eq!(page.spaces.len(), 1);
        assert_eq!(page.spaces[0].space.id, api.personal(&bob));
    }

    /// A server admin pulls only the spaces he is a member of.
    #[tokio::test]
    async fn server_admin_sees_only_his_spaces() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let ann_token = api.login("ann").await.token;
        let _: PushResponse = api
            .call(
                endpoints::Push::PATH,
                Some(&ann_token),
                &PushRequest {
                    ops: goal(api.personal(&ann), ann.id, "mine"),
                },
            )
            .await
            .expect("push");
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
        let root_token = api.login("root").await.token;
        let page = pull(
            &api,
            &root_token,
            vec![Cursor {
                space: api.personal(&ann),
                seq: 0,
            }],
            0,
        )
        .await;
        assert_eq!(page.spaces.len(), 1);
        assert!(page.spaces[0].space.personal);
        assert_ne!(page.spaces[0].space.id, api.personal(&ann));
        assert!(page.batches.is_empty());
    }

    /// Pulls from several spaces come in one page when they fit, `more` when not.
    #[tokio::test]
    async fn pages_span_spaces() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let token = api.login("ann").await.token;
        let team = api
            .state
            .store
            .create_space(ann.id, "Team")
            .await
            .expect("create")
            .space
            .id;
        let mut ops = goal(api.personal(&ann), ann.id, "a");
        ops.extend(goal(team, ann.id, "b"));
        let _: PushResponse = api
            .call(endpoints::Push::PATH, Some(&token), &PushRequest { ops })
            .await
            .expect("push");
        let all = pull(&api, &token, vec![], 10).await;
        assert_eq!(all.batches.len(), 2);
        assert!(!all.more);
        let part = pull(&api, &token, vec![], 3).await;
        let n: usize = part.batches.iter().map(|b| b.ops.len()).sum();
        assert_eq!(n, 3);
        assert!(part.more);
    }
}
