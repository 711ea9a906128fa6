//! Invitations: [`endpoints::InvitationsCreate`], [`endpoints::Invitations`] and
//! [`endpoints::InvitationsRevoke`] for a space's owners; [`endpoints::JoinPreview`]
//! and [`endpoints::Join`] for the invitee, with no session yet.

use std::net::IpAddr;

use cairn_common::api::invitations::{
    CreateInvitation, InvitationInfo, InvitationList, JoinCode, JoinDetails, JoinRequest,
    RevokeInvitation,
};
use cairn_common::api::{LoginResponse, SpaceRef, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::{endpoint, open_endpoint};
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::invite::{self, NewInvitation};
use crate::store::{AuditEvent, AuditKind, MailKind, OutgoingMail, StoreError};

pub fn create_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::InvitationsCreate, state, Gate::Enforce, create)
}

pub fn list_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Invitations, state, Gate::Enforce, list)
}

pub fn revoke_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::InvitationsRevoke, state, Gate::Enforce, revoke)
}

pub fn preview_route(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    open_endpoint(endpoints::JoinPreview, state, peer, preview)
}

pub fn join_route(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    open_endpoint(endpoints::Join, state, peer, join)
}

async fn create(
    state: AppState,
    caller: Caller,
    request: CreateInvitation,
) -> Result<InvitationInfo, ApiError> {
    // Invitations go by mail: without mail there is no way to deliver the code.
    if !state.mailer.is_on() {
        return Err(mail_refusal(crate::mail::MailError::Off));
    }
    let now = state.clock.now_ms();
    let privacy = state.privacy.clone();
    let mailer = state.mailer.clone();
    let info = state
        .with_store_to_end(move |store| async move {
            let created = invite::create(
                &store,
                NewInvitation {
                    space: Some(request.space),
                    email: request.email,
                    role: request.role,
                    invited_by: caller.user.profile.id,
                    now_ms: now,
                    valid_days: privacy.settings.invitation_days,
                },
            )
            .await?;
            let space_name = match created.record.space {
                Some(space) => store.space(space).await?.map(|s| s.name),
                None => None,
            };
            let link = invite::link(&privacy.public_url, &created.code);
            let (subject, body) = invite::mail_text(&created.record, space_name.as_deref(), &link);
            let mail = OutgoingMail {
                to: created.record.email.clone(),
                subject,
                body,
                kind: MailKind::Invitation,
                user: None,
            };
            if let Err(e) = mailer.queue(&store, mail).await {
                // A code nobody can receive is no invitation.
                if let Some(space) = created.record.space {
                    store
                        .revoke_invitation(space, created.record.id, now)
                        .await?;
                }
                return Err(mail_refusal(e));
            }
            store.commit_durable().await?;
            Ok(invite::info(&created.record, now))
        })
        .await?;
    Ok(info)
}

/// A mail that cannot be queued, as an answer: what to tell the admin.
fn mail_refusal(e: crate::mail::MailError) -> ApiError {
    match e {
        crate::mail::MailError::Store(e) => e.into(),
        other => StoreError::Conflict(format!(
            "{other} (invitations are sent by mail; ask the server's admin)"
        ))
        .into(),
    }
}

/// The invitations of a space its caller owns.
async fn owned(
    state: &AppState,
    caller: &Caller,
    space: cairn_common::model::SpaceId,
) -> Result<InvitationList, ApiError> {
    state
        .store
        .require_owner(space, caller.user.profile.id, "see its invitations")
        .await?;
    let now = state.clock.now_ms();
    Ok(InvitationList {
        invitations: state
            .store
            .invitations(Some(space))
            .await?
            .iter()
            .map(|r| invite::info(r, now))
            .collect(),
    })
}

async fn list(
    state: AppState,
    caller: Caller,
    request: SpaceRef,
) -> Result<InvitationList, ApiError> {
    owned(&state, &caller, request.space).await
}

async fn revoke(
    state: AppState,
    caller: Caller,
    request: RevokeInvitation,
) -> Result<InvitationList, ApiError> {
    owned(&state, &caller, request.space).await?;
    let now = state.clock.now_ms();
    state
        .store
        .revoke_invitation(request.space, request.id, now)
        .await?;
    state
        .store
        .audit(
            AuditEvent::new(AuditKind::InvitationRevoked)
                .actor(&caller.user.profile.email)
                .space(request.space)
                .detail(format!("invitation {}", request.id)),
        )
        .await;
    owned(&state, &caller, request.space).await
}

async fn preview(
    state: AppState,
    peer: Option<IpAddr>,
    request: JoinCode,
) -> Result<JoinDetails, ApiError> {
    let now = state.clock.now_ms();
    let (settings, privacy) = (state.auth.clone(), state.privacy.clone());
    let details = state
        .with_store_to_end(move |store| async move {
            invite::join::preview(&store, &settings, &privacy.notice, &request.code, peer, now)
                .await
                .map_err(ApiError::from)
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(details)
}

async fn join(
    state: AppState,
    peer: Option<IpAddr>,
    request: JoinRequest,
) -> Result<LoginResponse, ApiError> {
    let now = state.clock.now_ms();
    let (settings, privacy) = (state.auth.clone(), state.privacy.clone());
    let session = state
        .with_hashing(move |store, hashing| async move {
            invite::join::join(
                &store,
                &hashing,
                &settings,
                &privacy.notice,
                &request,
                peer,
                now,
            )
            .await
            .map_err(ApiError::from)
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::consent::ConsentList;
    use cairn_common::api::invitations::{
        CreateInvitation, InvitationInfo, InvitationList, InvitationState, JoinCode, JoinDetails,
        JoinRequest, RevokeInvitation,
    };
    use cairn_common::api::{Empty, LoginResponse, SpaceList, SpaceRef, codes};
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::model::{Role, SpaceId};
    use warp::http::StatusCode;

    use super::super::testing::TestApi;
    use crate::invite::{self, NewInvitation};
    use crate::store::Blocking as _;

    /// Ana's team space and her token.
    async fn team(api: &TestApi) -> (String, SpaceId) {
        api.user("ana");
        let token = api.login("ana").await.token;
        let space = api.create_space(&token, "Team").await;
        (token, space)
    }

    /// An invitation to `space` by Ana, with its code (what the mail carries).
    fn invite(api: &TestApi, space: SpaceId, email: &str) -> String {
        let ana = api
            .state
            .store
            .user_by_email("ana@example.com")
            .wait()
            .expect("read")
            .expect("ana");
        invite::create(
            &api.state.store,
            NewInvitation {
                space: Some(space),
                email: email.into(),
                role: Role::Editor,
                invited_by: ana.profile.id,
                now_ms: api.clock.now_ms(),
                valid_days: 7,
            },
        )
        .wait()
        .expect("invite")
        .code
    }

    fn join_request(code: &str, version: &str, password: &str) -> JoinRequest {
        JoinRequest {
            code: code.into(),
            accept_version: version.into(),
            password: password.into(),
            first_name: "Ben".into(),
            last_name: "Berg".into(),
            device: "test".into(),
        }
    }

    /// A new address joins: the preview names the space and the notice, joining
    /// makes the account with the chosen password, the membership, and the consent
    /// record; the session works at once (the notice is accepted); the code works
    /// once; owners see it used and the consent record.
    #[tokio::test]
    async fn a_new_address_joins_once() {
        let api = TestApi::new();
        let (ana, space) = team(&api).await;
        let code = invite(&api, space, "ben@example.com");
        let details: JoinDetails = api
            .call(
                endpoints::JoinPreview::PATH,
                None,
                &JoinCode { code: code.clone() },
            )
            .await
            .expect("preview");
        assert_eq!(details.space_name.as_deref(), Some("Team"));
        assert!(!details.account_exists);
        let version = details.notice.version.clone();
        let (status, error) = api
            .call::<_, LoginResponse>(
                endpoints::Join::PATH,
                None,
                &join_request(&code, "an old version", "ben's own password"),
            )
            .await
            .expect_err("the current notice only");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error:?}");
        let session: LoginResponse = api
            .call(
                endpoints::Join::PATH,
                None,
                &join_request(&code, &version, "ben's own password"),
            )
            .await
            .expect("join");
        let spaces: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&session.token), &Empty)
            .await
            .expect("no gate left");
        assert!(
            spaces
                .spaces
                .iter()
                .any(|s| s.space.id == space && s.role == Role::Editor)
        );
        let again = api
            .call::<_, LoginResponse>(
                endpoints::Join::PATH,
                None,
                &join_request(&code, &version, "ben's own password"),
            )
            .await
            .expect_err("used");
        assert_eq!(again.0, StatusCode::NOT_FOUND);
        assert_eq!(again.1.code, codes::NOT_FOUND);
        let list: InvitationList = api
            .call(
                endpoints::Invitations::PATH,
                Some(&ana),
                &SpaceRef { space },
            )
            .await
            .expect("list");
        assert_eq!(list.invitations.len(), 1);
        assert_eq!(list.invitations[0].state, InvitationState::Used);
        let consents: ConsentList = api
            .call(endpoints::Consents::PATH, Some(&ana), &SpaceRef { space })
            .await
            .expect("consents");
        assert!(
            consents
                .entries
                .iter()
                .any(|e| e.email == "ben@example.com" && e.version == version)
        );
    }

    /// An existing account joins with its own password (a wrong one is refused and
    /// leaves the code valid); revoked and expired codes are refused; only owners
    /// invite, list and revoke; owners cannot be invited.
    #[tokio::test]
    async fn existing_accounts_revocation_and_expiry() {
        let mut api = TestApi::new();
        api.state = api.state.clone().with_mailer(mail_on());
        let (ana, space) = team(&api).await;
        api.user("cem");
        let cem = api.login("cem").await.token;
        let code = invite(&api, space, "cem@example.com");
        let version = api.state.privacy.notice.version.clone();
        let wrong = api
            .call::<_, LoginResponse>(
                endpoints::Join::PATH,
                None,
                &join_request(&code, &version, "not cem's password"),
            )
            .await
            .expect_err("wrong password");
        assert_eq!(wrong.1.code, codes::LOGIN_FAILED);
        let _: LoginResponse = api
            .call(
                endpoints::Join::PATH,
                None,
                &join_request(&code, &version, "password-of-cem"),
            )
            .await
            .expect("join with the account's password");

        // Only owners invite; an owner is not invited.
        let (status, _) = api
            .call::<_, InvitationInfo>(
                endpoints::InvitationsCreate::PATH,
                Some(&cem),
                &CreateInvitation {
                    space,
                    email: "dan@example.com".into(),
                    role: Role::Viewer,
                },
            )
            .await
            .expect_err("an editor");
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = api
            .call::<_, InvitationInfo>(
                endpoints::InvitationsCreate::PATH,
                Some(&ana),
                &CreateInvitation {
                    space,
                    email: "dan@example.com".into(),
                    role: Role::Owner,
                },
            )
            .await
            .expect_err("as owner");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let dan: InvitationInfo = api
            .call(
                endpoints::InvitationsCreate::PATH,
                Some(&ana),
                &CreateInvitation {
                    space,
                    email: "Dan@Example.com".into(),
                    role: Role::Viewer,
                },
            )
            .await
            .expect("invite dan");
        assert_eq!(dan.email, "dan@example.com");
        let list: InvitationList = api
            .call(
                endpoints::InvitationsRevoke::PATH,
                Some(&ana),
                &RevokeInvitation { space, id: dan.id },
            )
            .await
            .expect("revoke");
        let revoked = list
            .invitations
            .iter()
            .find(|i| i.id == dan.id)
            .expect("listed");
        assert_eq!(revoked.state, InvitationState::Revoked);

        let eve = invite(&api, space, "eve@example.com");
        api.clock
            .advance(std::time::Duration::from_secs(8 * 24 * 3600));
        let expired = api
            .call::<_, JoinDetails>(endpoints::JoinPreview::PATH, None, &JoinCode { code: eve })
            .await
            .expect_err("expired");
        assert_eq!(expired.0, StatusCode::NOT_FOUND);
        assert!(
            expired.1.message.contains("expired"),
            "{}",
            expired.1.message
        );
    }

    /// A mailer that queues (no sender runs in these tests).
    fn mail_on() -> crate::mail::Mailer {
        crate::mail::Mailer::new(crate::mail::MailSettings {
            enabled: true,
            host: "localhost".into(),
            security: crate::mail::MailSecurity::None,
            from: "cairn@example.com".into(),
            ..crate::mail::MailSettings::default()
        })
    }

    /// Invitations go by mail: with mail off, inviting says so and stores nothing;
    /// with mail on, the invitation's mail is queued with the link and no more.
    #[tokio::test]
    async fn invitations_need_mail() {
        let mut api = TestApi::new();
        let (ana, space) = team(&api).await;
        let invite_dan = CreateInvitation {
            space,
            email: "dan@example.com".into(),
            role: Role::Viewer,
        };
        let (status, error) = api
            .call::<_, InvitationInfo>(endpoints::InvitationsCreate::PATH, Some(&ana), &invite_dan)
            .await
            .expect_err("mail is off");
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(error.message.contains("mail is off"), "{}", error.message);
        assert!(
            api.state
                .store
                .invitations(Some(space))
                .wait()
                .expect("list")
                .is_empty()
        );
        api.state = api.state.clone().with_mailer(mail_on());
        let _: InvitationInfo = api
            .call(endpoints::InvitationsCreate::PATH, Some(&ana), &invite_dan)
            .await
            .expect("invited");
        let queued = api.state.store.mail_list().wait().expect("outbox");
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].mail.to, "dan@example.com");
        assert!(
            queued[0].mail.body.contains("/join#"),
            "{}",
            queued[0].mail.body
        );
    }

    /// Guessing codes is throttled per address like failed logins.
    #[tokio::test]
    async fn guessing_codes_is_throttled() {
        let api = TestApi::new();
        let mut statuses = Vec::new();
        for n in 0..7 {
            let refused = api
                .call::<_, JoinDetails>(
                    endpoints::JoinPreview::PATH,
                    None,
                    &JoinCode {
                        code: format!("{n:032x}"),
                    },
                )
                .await
                .expect_err("no such code");
            statuses.push(refused.0);
        }
        assert_eq!(statuses[..5], [StatusCode::NOT_FOUND; 5]);
        assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
    }
}
