//! [`endpoints::SpacesMembers`] lists a space's members (any member may);
//! [`endpoints::SpacesMember`] adds, re-roles or removes one (owners only); a new
//! member who chose to be told gets a mail ([`notify::tell_added`]).

use cairn_common::api::{Member, MemberList, SetMember, SpaceRef, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::notify;

pub fn list_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::SpacesMembers, state, Gate::Enforce, list)
}

pub fn set_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::SpacesMember, state, Gate::Enforce, set)
}

async fn list(state: AppState, caller: Caller, request: SpaceRef) -> Result<MemberList, ApiError> {
    Ok(state
        .store
        .members(caller.user.profile.id, request.space)
        .await?)
}

async fn set(state: AppState, caller: Caller, request: SetMember) -> Result<MemberList, ApiError> {
    // A membership change and then its audit entry: both happen, or neither.
    let user = caller.user.profile.id;
    let (space, email, role) = (request.space, request.email.clone(), request.role);
    let (before, list) = state
        .with_store_to_end(move |store| async move {
            let before = store.members(user, request.space).await?;
            let after = store
                .set_member(user, request.space, &request.email, request.role)
                .await?;
            Ok((before, after))
        })
        .await?;
    state.store.commit_durable().await?;
    let is_new = |m: &&Member| {
        m.user.email.eq_ignore_ascii_case(email.trim())
            && !before.members.iter().any(|b| b.user.id == m.user.id)
    };
    if let (Some(role), Some(added)) = (role, list.members.iter().find(is_new)) {
        let space_name = state
            .store
            .space(space)
            .await?
            .map(|s| s.name)
            .unwrap_or_default();
        let owner = &caller.user.profile;
        notify::tell_added(
            &state.store,
            &state.mailer,
            &state.privacy.public_url,
            added.user.id,
            &owner.display_name(),
            &space_name,
            role,
        )
        .await;
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{CreateSpace, MemberList, SetMember, SpaceInfo, SpaceRef, codes};
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::model::{Role, SpaceId};
    use warp::http::StatusCode;

    use super::super::testing::TestApi;

    /// Members see the list; a viewer may not add anyone (403); a non-member gets
    /// the 404 of a missing space; the last owner cannot leave (409); a personal
    /// space gets no members (409).
    #[tokio::test]
    async fn member_rules() {
        let api = TestApi::new();
        let ann = api.user("ann");
        api.user("bob");
        api.user("eve");
        let ann_t = api.login("ann").await.token;
        let bob_t = api.login("bob").await.token;
        let eve_t = api.login("eve").await.token;
        let space = api
            .call::<_, SpaceInfo>(
                endpoints::SpacesCreate::PATH,
                Some(&ann_t),
                &CreateSpace {
                    name: "Team".into(),
                },
            )
            .await
            .expect("create")
            .space
            .id;
        let set = |space, email: &str, role| SetMember {
            space,
            email: email.into(),
            role,
        };
        let list: MemberList = api
            .call(
                endpoints::SpacesMember::PATH,
                Some(&ann_t),
                &set(space, "bob@example.com", Some(Role::Viewer)),
            )
            .await
            .expect("add bob");
        assert_eq!(list.members.len(), 2);
        let seen: MemberList = api
            .call(
                endpoints::SpacesMembers::PATH,
                Some(&bob_t),
                &SpaceRef { space },
            )
            .await
            .expect("bob sees members");
        assert_eq!(seen, list);

        let (status, _) = api
            .call::<_, MemberList>(
                endpoints::SpacesMember::PATH,
                Some(&bob_t),
                &set(space, "eve@example.com", Some(Role::Viewer)),
            )
            .await
            .expect_err("viewer");
        assert_eq!(status, StatusCode::FORBIDDEN);
        let hidden = api
            .call::<_, MemberList>(
                endpoints::SpacesMembers::PATH,
                Some(&eve_t),
                &SpaceRef { space },
            )
            .await
            .expect_err("non-member");
        let missing = api
            .call::<_, MemberList>(
                endpoints::SpacesMembers::PATH,
                Some(&eve_t),
                &SpaceRef {
                    space: SpaceId::new(),
                },
            )
            .await
            .expect_err("missing");
        assert_eq!(hidden.0, StatusCode::NOT_FOUND);
        assert_eq!(hidden, missing);

        let (status, error) = api
            .call::<_, MemberList>(
                endpoints::SpacesMember::PATH,
                Some(&ann_t),
                &set(space, "ann@example.com", None),
            )
            .await
            .expect_err("last owner");
        assert_eq!(
            (status, error.code.as_str()),
            (StatusCode::CONFLICT, codes::CONFLICT)
        );
        let personal = api.personal(&ann);
        let (status, _) = api
            .call::<_, MemberList>(
                endpoints::SpacesMember::PATH,
                Some(&ann_t),
                &set(personal, "bob@example.com", Some(Role::Editor)),
            )
            .await
            .expect_err("personal");
        assert_eq!(status, StatusCode::CONFLICT);
    }
}
