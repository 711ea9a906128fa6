//! `POST /v1/logout`: ends the session making the request (allowed while the
//! password must change).

use cairn_common::api::Empty;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint("/v1/logout", state, Gate::Open, handle)
}

async fn handle(state: AppState, caller: Caller, _: Empty) -> Result<Empty, ApiError> {
    state
        .store
        .revoke_session(caller.user.profile.id, &caller.token_hash)?;
    state.store.commit_durable().await?;
    Ok(Empty)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Empty, SpaceList, codes};
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
            .call("/v1/logout", Some(&one.token), &Empty)
            .await
            .expect("logout");
        let (status, error) = api
            .call::<_, SpaceList>("/v1/spaces", Some(&one.token), &Empty)
            .await
            .expect_err("refused");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error.code, codes::UNAUTHORIZED);
        let _: SpaceList = api
            .call("/v1/spaces", Some(&two.token), &Empty)
            .await
            .expect("other session works");
    }
}
