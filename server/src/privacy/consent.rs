//! Consent to the privacy notice: accepting the current version, withdrawing
//! (access ends at once; `[privacy] on_withdrawal` says what happens to the data),
//! and the records owners and admins read. Every step is audited.

use std::net::IpAddr;

use cairn_common::api::consent::{ConsentAction, ConsentEntry, Notice};
use cairn_common::model::{Role, SpaceId};

use super::notice::OnWithdrawal;
use crate::auth::password::Hashing;
use crate::auth::{AuthError, AuthSettings, Caller};
use crate::store::{AuditEvent, AuditKind, PurgeTarget, Store, StoreError, truncate_address};

fn entry(
    caller: &Caller,
    version: &str,
    action: ConsentAction,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> ConsentEntry {
    ConsentEntry {
        user: caller.user.profile.id,
        email: caller.user.profile.email.clone(),
        version: version.to_owned(),
        action,
        at_ms: now_ms,
        address: peer.map(truncate_address).unwrap_or_default(),
    }
}

/// The caller accepts `version`, which must be the current notice's.
///
/// # Errors
/// [`StoreError::InvalidInput`] for another version (the notice changed while it
/// was read), or a store error.
pub async fn accept(
    store: &Store,
    notice: &Notice,
    caller: &Caller,
    version: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<(), StoreError> {
    if version != notice.version {
        return Err(StoreError::InvalidInput(format!(
            "the privacy notice is now version {}; read it again and accept that one",
            notice.version
        )));
    }
    store
        .record_consent(&entry(
            caller,
            version,
            ConsentAction::Accepted,
            peer,
            now_ms,
        ))
        .await?;
    store
        .audit(
            AuditEvent::new(AuditKind::ConsentGiven)
                .subject(&caller.user.profile.email)
                .detail(format!("privacy notice version {version}")),
        )
        .await;
    Ok(())
}

/// Who must hear of a withdrawal: the other owners of the caller's shared spaces,
/// as (space name, owner e-mail).
///
/// # Errors
/// A store error.
pub async fn owners_to_tell(
    store: &Store,
    caller: &Caller,
) -> Result<Vec<(String, String)>, StoreError> {
    let me = caller.user.profile.id;
    let mut out = Vec::new();
    for info in store.spaces_of(me).await? {
        if info.space.personal {
            continue;
        }
        for member in store.members(me, info.space.id).await?.members {
            if member.role == Role::Owner && member.user.id != me {
                out.push((info.space.name.clone(), member.user.email));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The caller withdraws consent, confirmed by the password: the withdrawal is
/// recorded and audited, every session ends and the account is disabled; with
/// `on_withdrawal = "purge"` the user is purged at once (`purge` is given the
/// target and does it, backups included). Returns the owners to tell.
///
/// # Errors
/// [`AuthError::WrongPassword`] (counted like a failed login),
/// [`AuthError::Throttled`], or a store error.
#[allow(clippy::too_many_arguments)] // what a withdrawal needs, each named
pub async fn withdraw(
    store: &Store,
    hashing: &Hashing,
    auth: &AuthSettings,
    on_withdrawal: OnWithdrawal,
    caller: &Caller,
    password: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<Vec<(String, String)>, AuthError> {
    crate::auth::check_own_password(store, hashing, auth, now_ms, caller, password).await?;
    let owners = owners_to_tell(store, caller).await?;
    let version = store
        .accepted_notice(caller.user.profile.id)
        .await?
        .unwrap_or_default();
    let email = caller.user.profile.email.clone();
    store
        .record_consent(&entry(
            caller,
            &version,
            ConsentAction::Withdrawn,
            peer,
            now_ms,
        ))
        .await?;
    store.set_disabled(&email, true).await?;
    store
        .revoke_sessions_of(caller.user.profile.id, None)
        .await?;
    let policy = match on_withdrawal {
        OnWithdrawal::Keep => "account disabled, data kept",
        OnWithdrawal::Purge => "account to be purged",
    };
    store
        .audit(
            AuditEvent::new(AuditKind::ConsentWithdrawn)
                .subject(&email)
                .detail(policy),
        )
        .await;
    Ok(owners)
}

/// The target a withdrawal purges under `on_withdrawal = "purge"`.
#[must_use]
pub fn purge_target(caller: &Caller) -> PurgeTarget {
    PurgeTarget::User(caller.user.profile.email.clone())
}

/// The consent records of `space`'s members, for one of its owners.
///
/// # Errors
/// [`StoreError::NotFound`] for a space the caller is not in,
/// [`StoreError::Forbidden`] for a non-owner, or a store error.
pub async fn of_space(
    store: &Store,
    caller: &Caller,
    space: SpaceId,
) -> Result<Vec<ConsentEntry>, StoreError> {
    let me = caller.user.profile.id;
    store
        .require_owner(space, me, "read its members' consent records")
        .await?;
    let members: Vec<_> = store
        .members(me, space)
        .await?
        .members
        .into_iter()
        .map(|m| m.user.id)
        .collect();
    store.consents(Some(&members)).await
}
