//! [`endpoints::Logout`]: ends the session making the request (allowed while the
//! password must change).

use cairn_common::api::Empty;
use cairn_common::api::endpoints;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Logout, state, Gate::Open, handle)
}

async fn handle(state: AppState, caller: Caller, _: Empty) -> Result<Empty, ApiError> {
    state
        .store
        .revoke_session(caller.user.profile.id, &caller.token_hash)
        .await?;
    state.store.commit_durable().await?;
    Ok(Empty)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Empty, Endpoint, SpaceList, codes, endpoints};
    use warp::http::StatusCode;

    use super::super::testing::TestApi;

    /// After logout the token is refused with 401; other sessions keep working.
    #[tokio::test]
    async fn logout_ends_the_session() {
        let api = TestApi::new();
        api.user("ann");
        let one = api.login("ann").await;
        let two = api.login("ann").await;
        let _: Empty = api
            .call(endpoints::Logout::PATH, Some(&one.token), &Empty)
            .await
            .expect("logout");
        let (status, error) = api
            .call::<_, SpaceList>(endpoints::Spaces::PATH, Some(&one.token), &Empty)
            .await
            .expect_err("refused");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error.code, codes::UNAUTHORIZED);
        let _: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&two.token), &Empty)
            .await
            .expect("other session works");
    }
}
