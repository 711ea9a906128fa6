//! [`endpoints::Spaces`] lists the caller's spaces, [`endpoints::SpacesCreate`] makes
//! a shared space the caller owns, [`endpoints::SpacesRename`] renames one (owners
//! only).

use cairn_common::api::{CreateSpace, Empty, RenameSpace, SpaceInfo, SpaceList, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

pub fn list_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Spaces, state, Gate::Enforce, list)
}

pub fn create_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::SpacesCreate, state, Gate::Enforce, create)
}

pub fn rename_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::SpacesRename, state, Gate::Enforce, rename)
}

async fn list(state: AppState, caller: Caller, _: Empty) -> Result<SpaceList, ApiError> {
    Ok(SpaceList {
        spaces: state.store.spaces_of(caller.user.profile.id).await?,
    })
}

async fn create(
    state: AppState,
    caller: Caller,
    request: CreateSpace,
) -> Result<SpaceInfo, ApiError> {
    let info = state
        .store
        .create_space(caller.user.profile.id, &request.name)
        .await?;
    state.store.commit_durable().await?;
    Ok(info)
}

async fn rename(
    state: AppState,
    caller: Caller,
    request: RenameSpace,
) -> Result<SpaceInfo, ApiError> {
    let info = state
        .store
        .rename_space(caller.user.profile.id, request.space, &request.name)
        .await?;
    state.store.commit_durable().await?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{
        CreateSpace, Empty, MemberList, RenameSpace, SetMember, SpaceInfo, SpaceList,
    };
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::model::{Role, SpaceId};
    use warp::http::StatusCode;

    use super::super::testing::TestApi;

    /// A created space is owned by its creator and listed after the personal one.
    #[tokio::test]
    async fn create_and_list() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        let made: SpaceInfo = api
            .call(
                endpoints::SpacesCreate::PATH,
                Some(&token),
                &CreateSpace {
                    name: "Team".into(),
                },
            )
            .await
            .expect("create");
        assert_eq!(made.role, Role::Owner);
        assert!(!made.space.personal);
        let list: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&token), &Empty)
            .await
            .expect("list");
        assert_eq!(list.spaces.len(), 2);
        assert!(list.spaces[0].space.personal);
        assert_eq!(list.spaces[1], made);
        let (status, _) = api
            .call::<_, SpaceInfo>(
                endpoints::SpacesCreate::PATH,
                Some(&token),
                &CreateSpace { name: " ".into() },
            )
            .await
            .expect_err("empty name");
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    /// Owners rename; an editor gets 403; a non-member gets the 404 of a space that
    /// does not exist.
    #[tokio::test]
    async fn rename_owner_only() {
        let api = TestApi::new();
        api.user("ann");
        api.user("bob");
        api.user("eve");
        let ann = api.login("ann").await.token;
        let bob = api.login("bob").await.token;
        let eve = api.login("eve").await.token;
        let space = api
            .call::<_, SpaceInfo>(
                endpoints::SpacesCreate::PATH,
                Some(&ann),
                &CreateSpace {
                    name: "Team".into(),
                },
            )
            .await
            .expect("create")
            .space
            .id;
        let _: MemberList = api
            .call(
                endpoints::SpacesMember::PATH,
                Some(&ann),
                &SetMember {
                    space,
                    email: "bob@example.com".into(),
                    role: Some(Role::Editor),
                },
            )
            .await
            .expect("add bob");
        let rename = |space| RenameSpace {
            space,
            name: "Renamed".into(),
        };
        let (status, _) = api
            .call::<_, SpaceInfo>(endpoints::SpacesRename::PATH, Some(&bob), &rename(space))
            .await
            .expect_err("editor");
        assert_eq!(status, StatusCode::FORBIDDEN);
        let hidden = api
            .call::<_, SpaceInfo>(endpoints::SpacesRename::PATH, Some(&eve), &rename(space))
            .await
            .expect_err("non-member");
        let missing = api
            .call::<_, SpaceInfo>(
                endpoints::SpacesRename::PATH,
                Some(&eve),
                &rename(SpaceId::new()),
            )
            .await
            .expect_err("no such space");
        assert_eq!(hidden.0, StatusCode::NOT_FOUND);
        assert_eq!(hidden, missing);
        let renamed: SpaceInfo = api
            .call(endpoints::SpacesRename::PATH, Some(&ann), &rename(space))
            .await
            .expect("owner renames");
        assert_eq!(renamed.space.name, "Renamed");
    }
}
