//! [`endpoints::AccountLogins`]: the caller's own login records (time, success, a
//! truncated address, device), newest first.

use cairn_common::api::{Empty, LoginInfo, LoginList, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

/// Most records in one answer (retention bounds how many there are at all).
const MAX_LOGINS: usize = 1_000;

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::AccountLogins, state, Gate::Enforce, list)
}

async fn list(state: AppState, caller: Caller, _: Empty) -> Result<LoginList, ApiError> {
    let user = caller.user.profile.id;
    let logins = state
        .with_store(move |store| async move { Ok(store.logins_of(user, MAX_LOGINS).await?) })
        .await?
        .into_iter()
        .map(|r| LoginInfo {
            at_ms: r.at_ms,
            success: r.success,
            address: r.address,
            device: r.device,
        })
        .collect();
    Ok(LoginList { logins })
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Empty, LoginList, LoginRequest, LoginResponse};
    use cairn_common::api::{Endpoint, endpoints};

    use super::super::testing::TestApi;

    /// A user sees their own successful and failed logins, newest first, with the
    /// address truncated, and none of another user's.
    #[tokio::test]
    async fn own_logins_only() {
        let api = TestApi::new();
        api.user("ann");
        api.user("bob");
        let bad = LoginRequest {
            email: "ann@example.com".into(),
            password: "wrong password".into(),
            device: "phone".into(),
        };
        let bytes = cairn_common::codec::encode(&bad).expect("encode");
        let (status, _) = api
            .send(
                TestApi::request(endpoints::Login::PATH, None, &bytes)
                    .remote_addr("192.0.2.77:5000".parse().expect("addr")),
            )
            .await;
        assert_eq!(status, warp::http::StatusCode::UNAUTHORIZED);
        api.clock.advance(std::time::Duration::from_secs(5));
        let ann: LoginResponse = api.login("ann").await;
        api.login("bob").await;
        let list: LoginList = api
            .call(endpoints::AccountLogins::PATH, Some(&ann.token), &Empty)
            .await
            .expect("list");
        let seen: Vec<_> = list
            .logins
            .iter()
            .map(|l| (l.success, l.address.clone(), l.device.clone()))
            .collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].0, "newest (the success) first: {seen:?}");
        assert_eq!(
            seen[1],
            (false, Some("192.0.2.0/24".into()), "phone".into())
        );
        assert!(list.logins[0].at_ms > list.logins[1].at_ms);
    }
}
