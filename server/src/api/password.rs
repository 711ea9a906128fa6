//! [`endpoints::Password`]: the caller changes the password; the other sessions end.
//! The one endpoint (with logout) open while the password must change.

use cairn_common::api::invitations::{ForgotPassword, ResetPassword};
use cairn_common::api::{Empty, PasswordChange, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Password, state, Gate::Open, handle)
}

pub fn forgot_route(
    state: AppState,
    peer: BoxedFilter<(Option<std::net::IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    super::extract::open_endpoint(
        endpoints::PasswordForgot,
        state,
        peer,
        |state: AppState, peer, request: ForgotPassword| async move {
            let now = state.clock.now_ms();
            let (settings, mailer) = (state.auth.clone(), state.mailer.clone());
            state
                .with_store_to_end(move |store| async move {
                    crate::invite::reset::request(
                        &store,
                        &mailer,
                        &settings,
                        &request.email,
                        peer,
                        now,
                    )
                    .await
                    .map_err(ApiError::from)?;
                    store.commit_durable().await?;
                    Ok(())
                })
                .await?;
            Ok::<Empty, ApiError>(Empty)
        },
    )
}

pub fn reset_route(
    state: AppState,
    peer: BoxedFilter<(Option<std::net::IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    super::extract::open_endpoint(
        endpoints::PasswordReset,
        state,
        peer,
        |state: AppState, peer, request: ResetPassword| async move {
            let now = state.clock.now_ms();
            let settings = state.auth.clone();
            state
                .with_hashing(move |store, hashing| async move {
                    crate::invite::reset::reset(
                        &store,
                        &hashing,
                        &settings,
                        &request.email,
                        &request.code,
                        &request.new_password,
                        peer,
                        now,
                    )
                    .await
                    .map_err(ApiError::from)?;
                    store.commit_durable().await?;
                    Ok(())
                })
                .await?;
            Ok::<Empty, ApiError>(Empty)
        },
    )
}

async fn handle(
    state: AppState,
    caller: Caller,
    change: PasswordChange,
) -> Result<Empty, ApiError> {
    let now = state.clock.now_ms();
    let settings = state.auth.clone();
    state
        .with_hashing(move |store, hashing| async move {
            Ok(
                crate::auth::change_password(&store, &hashing, &settings, now, &caller, &change)
                    .await?,
            )
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(Empty)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Empty, LoginRequest, LoginResponse, PasswordChange, SpaceList, codes};
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::model::UserProfile;
    use warp::http::StatusCode;

    use super::super::testing::TestApi;
    use crate::store::NewUser;

    fn change(current: &str, new: &str) -> PasswordChange {
        PasswordChange {
            current: current.into(),
            new: new.into(),
        }
    }

    /// A change keeps the current session, ends the others, and the new password logs in.
    #[tokio::test]
    async fn change_revokes_other_sessions() {
        let api = TestApi::new();
        api.user("ann");
        let here = api.login("ann").await;
        let there = api.login("ann").await;
        let _: Empty = api
            .call(
                endpoints::Password::PATH,
                Some(&here.token),
                &change("password-of-ann", "a new secret"),
            )
            .await
            .expect("change");
        let _: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&here.token), &Empty)
            .await
            .expect("current session stays");
        let (status, _) = api
            .call::<_, SpaceList>(endpoints::Spaces::PATH, Some(&there.token), &Empty)
            .await
            .expect_err("other session ended");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let _: LoginResponse = api
            .call(
                endpoints::Login::PATH,
                None,
                &LoginRequest {
                    email: "ann@example.com".into(),
                    password: "a new secret".into(),
                    device: "x".into(),
                },
            )
            .await
            .expect("new password works");
    }

    /// A wrong current password is refused (403); a weak or unchanged new one (400).
    #[tokio::test]
    async fn change_refusals() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        let cases = [
            (
                change("wrong password", "a new secret"),
                StatusCode::FORBIDDEN,
            ),
            (change("password-of-ann", "short"), StatusCode::BAD_REQUEST),
            (
                change("password-of-ann", "password-of-ann"),
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (body, expected) in cases {
            let (status, _) = api
                .call::<_, Empty>(endpoints::Password::PATH, Some(&token), &body)
                .await
                .expect_err("refused");
            assert_eq!(status, expected);
        }
    }

    /// A user who must change the password gets 403 `password_change_required`
    /// (naming `cairn passwd`) everywhere but here; the change lifts the gate.
    #[tokio::test]
    async fn must_change_gate() {
        let api = TestApi::new();
        let admin: UserProfile = api
            .state
            .store
            .create_user(NewUser {
                email: "admin".into(),
                first_name: String::new(),
                last_name: String::new(),
                password_hash: crate::auth::password::hash("initial password").expect("hash"),
                must_change_password: true,
                server_admin: true,
            })
            .await
            .expect("standard account");
        let login: LoginResponse = api
            .call(
                endpoints::Login::PATH,
                None,
                &LoginRequest {
                    email: "admin".into(),
                    password: "initial password".into(),
                    device: "x".into(),
                },
            )
            .await
            .expect("login");
        assert!(login.must_change_password);
        assert_eq!(login.user, admin);
        for path in [endpoints::Spaces::PATH, endpoints::Sessions::PATH] {
            let (status, error) = api
                .call::<_, SpaceList>(path, Some(&login.token), &Empty)
                .await
                .expect_err("gated");
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert_eq!(error.code, codes::PASSWORD_CHANGE_REQUIRED);
            assert!(error.message.contains("cairn passwd"), "{}", error.message);
        }
        let _: Empty = api
            .call(
                endpoints::Password::PATH,
                Some(&login.token),
                &change("initial password", "chosen by me"),
            )
            .await
            .expect("change");
        // Then the privacy notice, before anything else; accepting it lifts the gate.
        let (status, error) = api
            .call::<_, SpaceList>(endpoints::Spaces::PATH, Some(&login.token), &Empty)
            .await
            .expect_err("the notice first");
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(error.code, codes::CONSENT_REQUIRED);
        assert!(
            error.message.contains("cairn account consent"),
            "{}",
            error.message
        );
        let notice: cairn_common::api::consent::Notice = api
            .call(endpoints::PrivacyNotice::PATH, None, &Empty)
            .await
            .expect("the notice needs no session");
        let (status, _) = api
            .call::<_, Empty>(
                endpoints::ConsentAccept::PATH,
                Some(&login.token),
                &cairn_common::api::consent::AcceptNotice {
                    version: "an older one".into(),
                },
            )
            .await
            .expect_err("only the current version");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let _: Empty = api
            .call(
                endpoints::ConsentAccept::PATH,
                Some(&login.token),
                &cairn_common::api::consent::AcceptNotice {
                    version: notice.version,
                },
            )
            .await
            .expect("accept");
        let spaces: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&login.token), &Empty)
            .await
            .expect("gates lifted");
        assert_eq!(spaces.spaces.len(), 1);
    }
}
