//! [`endpoints::Sessions`] lists the caller's sessions; [`endpoints::SessionsRevoke`]
//! ends one of them by its public id.

use cairn_common::api::{Empty, RevokeSession, SessionInfo, SessionList, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

pub fn list_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Sessions, state, Gate::Enforce, list)
}

pub fn revoke_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::SessionsRevoke, state, Gate::Enforce, revoke)
}

async fn list(state: AppState, caller: Caller, _: Empty) -> Result<SessionList, ApiError> {
    let now = state.clock.now_ms();
    let sessions = state
        .store
        .sessions_of(caller.user.profile.id)
        .await?
        .into_iter()
        .filter(|(_, s)| s.expires_at_ms > now)
        .map(|(hash, s)| SessionInfo {
            current: hash == caller.token_hash,
            id: s.id,
            device: s.device,
            created_at_ms: s.created_at_ms,
            expires_at_ms: s.expires_at_ms,
        })
        .collect();
    Ok(SessionList { sessions })
}

async fn revoke(
    state: AppState,
    caller: Caller,
    request: RevokeSession,
) -> Result<Empty, ApiError> {
    let user = caller.user.profile.id;
    let found = state
        .store
        .sessions_of(user)
        .await?
        .into_iter()
        .find(|(_, s)| s.id == request.id.trim());
    let Some((hash, _)) = found else {
        return Err(ApiError::not_found(
            "you have no session with this id; `cairn sessions` lists yours",
        ));
    };
    state.store.revoke_session(user, &hash).await?;
    state.store.commit_durable().await?;
    Ok(Empty)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Endpoint, endpoints};
    use std::time::Duration;

    use cairn_common::api::{Empty, RevokeSession, SessionList, SpaceList, codes};
    use warp::http::StatusCode;

    use super::super::testing::TestApi;
    use crate::auth::AuthSettings;

    /// The list shows the caller's sessions, marks the current one, and not others'.
    #[tokio::test]
    async fn list_marks_current() {
        let api = TestApi::new();
        api.user("ann");
        api.user("bob");
        let one = api.login("ann").await;
        api.login("ann").await;
        api.login("bob").await;
        let list: SessionList = api
            .call(endpoints::Sessions::PATH, Some(&one.token), &Empty)
            .await
            .expect("list");
        assert_eq!(list.sessions.len(), 2);
        assert_eq!(list.sessions.iter().filter(|s| s.current).count(), 1);
        assert!(list.sessions.iter().all(|s| s.id != one.token));
    }

    /// A revoked session's token gets 401; an unknown id gets 404.
    #[tokio::test]
    async fn revoke_by_id() {
        let api = TestApi::new();
        api.user("ann");
        let here = api.login("ann").await;
        let there = api.login("ann").await;
        let list: SessionList = api
            .call(endpoints::Sessions::PATH, Some(&here.token), &Empty)
            .await
            .expect("list");
        let other = list.sessions.iter().find(|s| !s.current).expect("other");
        let _: Empty = api
            .call(
                endpoints::SessionsRevoke::PATH,
                Some(&here.token),
                &RevokeSession {
                    id: other.id.clone(),
                },
            )
            .await
            .expect("revoke");
        let (status, error) = api
            .call::<_, SpaceList>(endpoints::Spaces::PATH, Some(&there.token), &Empty)
            .await
            .expect_err("revoked");
        assert_eq!(
            (status, error.code.as_str()),
            (StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED)
        );
        let (status, _) = api
            .call::<_, Empty>(
                endpoints::SessionsRevoke::PATH,
                Some(&here.token),
                &RevokeSession {
                    id: "0123456789abcdef".into(),
                },
            )
            .await
            .expect_err("unknown id");
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    /// A token past its expiry gets 401, as do a made-up token and no token.
    #[tokio::test]
    async fn expired_and_bogus_tokens_refused() {
        let api = TestApi::with_settings(AuthSettings {
            session_ttl: Duration::from_secs(60),
            ..AuthSettings::default()
        });
        api.user("ann");
        let login = api.login("ann").await;
        api.clock.advance(Duration::from_secs(59));
        let _: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&login.token), &Empty)
            .await
            .expect("still valid");
        api.clock.advance(Duration::from_secs(1));
        let bogus = "ab".repeat(32);
        for token in [
            Some(login.token.as_str()),
            Some(bogus.as_str()),
            Some("junk"),
            None,
        ] {
            let (status, error) = api
                .call::<_, SpaceList>(endpoints::Spaces::PATH, token, &Empty)
                .await
                .expect_err("refused");
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
            assert_eq!(error.code, codes::UNAUTHORIZED);
        }
    }
}
