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
    let mailer = state.mailer.clone();
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
            tell_owners(&store, &mailer, &caller, &owners, policy).await;
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
                        &cairn_common::progress::Quiet,
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

/// Mails each owner of a space the withdrawn user was in: who withdrew, from which
/// space, and what happens to the data; nothing else. With mail off, the audit
/// entry is the record, and the log says no mail went.
async fn tell_owners(
    store: &crate::store::Store,
    mailer: &crate::mail::Mailer,
    caller: &Caller,
    owners: &[(String, String)],
    policy: OnWithdrawal,
) {
    let who = format!(
        "{} {} <{}>",
        caller.user.profile.first_name, caller.user.profile.last_name, caller.user.profile.email
    );
    let data = match policy {
        OnWithdrawal::Keep => "The account is disabled; its data stays until an admin purges it.",
        OnWithdrawal::Purge => {
            "The account is purged; its changes in shared spaces stay under a pseudonym."
        }
    };
    for (space, owner) in owners {
        let mail = crate::store::OutgoingMail {
            to: owner.clone(),
            subject: "A member withdrew consent on Cairn".to_owned(),
            body: format!(
                "{who} withdrew their consent to this Cairn server's privacy notice, so \
                 their access has ended. They were a member of the space \"{space}\", which \
                 you own.\n\n{data}\n"
            ),
            kind: crate::store::MailKind::ConsentWithdrawn,
            user: None,
        };
        if let Err(e) = mailer.queue(store, mail).await {
            tracing::warn!("could not tell an owner of {space:?} of a withdrawal: {e}");
        }
    }
}
