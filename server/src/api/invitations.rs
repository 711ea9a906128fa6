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
use crate::store::{AuditEvent, AuditKind, StoreError, wait};

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
    let now = state.clock.now_ms();
    let privacy = state.privacy.clone();
    let created = state
        .blocking(move |store| {
            Ok(wait(invite::create(
                &store,
                NewInvitation {
                    space: Some(request.space),
                    email: request.email,
                    role: request.role,
                    invited_by: caller.user.profile.id,
                    now_ms: now,
                    valid_days: privacy.settings.invitation_days,
                },
            ))?)
        })
        .await?;
    let space_name = match created.record.space {
        Some(space) => state.store.space(space).await?.map(|s| s.name),
        None => None,
    };
    let link = invite::link(&state.privacy.public_url, &created.code);
    let (_subject, _body) = invite::mail_text(&created.record, space_name.as_deref(), &link);
    state.store.commit_durable().await?;
    Ok(invite::info(&created.record, now))
}

/// The invitations of a space its caller owns.
async fn owned(
    state: &AppState,
    caller: &Caller,
    space: cairn_common::model::SpaceId,
) -> Result<InvitationList, ApiError> {
    match state.store.role_of(space, caller.user.profile.id).await? {
        None => return Err(StoreError::NotFound(crate::store::SPACE_NOT_FOUND.into()).into()),
        Some(cairn_common::model::Role::Owner) => {}
        Some(_) => {
            return Err(StoreError::Forbidden(
                "only the space's owners see its invitations".into(),
            )
            .into());
        }
    }
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
        .blocking(move |store| {
            wait(invite::join::preview(
                &store,
                &settings,
                &privacy.notice,
                &request.code,
                peer,
                now,
            ))
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
        .hashing(move |store| {
            wait(invite::join::join(
                &store,
                &settings,
                &privacy.notice,
                &request,
                peer,
                now,
            ))
            .map_err(ApiError::from)
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(session)
}
