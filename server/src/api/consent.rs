//! The privacy notice and consent: [`endpoints::PrivacyNotice`] (no session),
//! [`endpoints::ConsentAccept`] and [`endpoints::ConsentWithdraw`] (open while the
//! notice is not accepted), [`endpoints::Consents`] (a space's owners).

use std::net::IpAddr;

use cairn_common::api::consent::{AcceptNotice, ConsentList, Notice, WithdrawConsent};
use cairn_common::api::{Empty, SpaceRef, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::{endpoint, endpoint_with_peer, open_endpoint};
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::privacy::consent;
use crate::privacy::notice::OnWithdrawal;
use crate::store::wait;

pub fn notice_route(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    open_endpoint(
        endpoints::PrivacyNotice,
        state,
        peer,
        |state: AppState, _, _: Empty| async move {
            Ok::<Notice, ApiError>(state.privacy.notice.clone())
        },
    )
}

pub fn accept_route(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    endpoint_with_peer(endpoints::ConsentAccept, state, Gate::Consent, peer, accept)
}

pub fn withdraw_route(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> BoxedFilter<(Response,)> {
    endpoint_with_peer(
        endpoints::ConsentWithdraw,
        state,
        Gate::Consent,
        peer,
        withdraw,
    )
}

pub fn list_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Consents, state, Gate::Enforce, list)
}

async fn accept(
    state: AppState,
    caller: Caller,
    peer: Option<IpAddr>,
    request: AcceptNotice,
) -> Result<Empty, ApiError> {
    let now = state.clock.now_ms();
    let privacy = state.privacy.clone();
    state
        .with_store_to_end(move |store| async move {
            consent::accept(
                &store,
                &privacy.notice,
                &caller,
                &request.version,
                peer,
                now,
            )
            .await?;
            store.commit_durable().await?;
            Ok(())
        })
        .await?;
    Ok(Empty)
}

async fn withdraw(
    state: AppState,
    caller: Caller,
    peer: Option<IpAddr>,
    request: WithdrawConsent,
) -> Result<Empty, ApiError> {
    let now = state.clock.now_ms();
    let (settings, privacy, backups) = (
        state.auth.clone(),
        state.privacy.clone(),
        state.backups.clone(),
    );
    state
        .with_hashing(move |store, hashing| async move {
            let policy = privacy.settings.on_withdrawal;
            let owners = consent::withdraw(
                &store,
                &hashing,
                &settings,
                policy,
                &caller,
                &request.password,
                peer,
                now,
            )
            .await
            .map_err(ApiError::from)?;
            for (space, owner) in &owners {
                tracing::info!(
                    "consent withdrawn by a member of {space:?}; owner to tell: {owner}"
                );
            }
            if policy == OnWithdrawal::Purge {
                let target = consent::purge_target(&caller);
                // The purge takes the backups' lock and runs whole on a blocking thread,
                // as the admin command does.
                let purge_store = store.clone();
                tokio::task::spawn_blocking(move || {
                    wait(crate::admin::commands::purge::execute(
                        &purge_store,
                        &backups,
                        &target,
                    ))
                })
                .await
                .map_err(|e| ApiError::internal(&e))??;
            }
            Ok(())
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(Empty)
}

async fn list(state: AppState, caller: Caller, request: SpaceRef) -> Result<ConsentList, ApiError> {
    Ok(ConsentList {
        entries: consent::of_space(&state.store, &caller, request.space).await?,
    })
}
