//! Logging in and changing the password. Their argon2 work (slow on purpose) runs
//! where the caller's [`Hashing`] says: never on an async worker thread.

use std::net::IpAddr;

use cairn_common::api::{LoginRequest, LoginResponse, PasswordChange};

use super::password::Hashing;
use super::throttle::{self, Keys};
use super::{AuthError, AuthSettings, Caller, password, token};
use crate::store::users::normalize_email;
use crate::store::{LoginRecord, Store, truncate_address};

/// Longest device name kept in the session list.
const MAX_DEVICE_CHARS: usize = 100;

/// A one-line device name of bounded length.
fn device_name(raw: &str) -> String {
    let name: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DEVICE_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        "unnamed device".into()
    } else {
        name.to_owned()
    }
}

/// Checks the credentials and opens a session. Unknown, disabled and wrong-password
/// logins take the same time and get the same error; each attempt counts against
/// the login name from this address, the address, and the login name from anywhere
/// (see [`throttle`]) before the password is checked, and a success takes it back.
/// The password is checked through `hashing`; the new session is not durable until
/// [`Store::commit_durable`].
///
/// # Errors
/// [`AuthError::Throttled`] while a delay runs, [`AuthError::LoginFailed`], or a store
/// error.
pub async fn login(
    store: &Store,
    hashing: &Hashing,
    settings: &AuthSettings,
    now_ms: u64,
    request: &LoginRequest,
    peer: Option<IpAddr>,
) -> Result<LoginResponse, AuthError> {
    let login = normalize_email(&request.email);
    let keys = Keys::new(&login, peer);
    // Counted as a failure before the password is checked: parallel attempts each
    // see the ones before them.
    let reservation = throttle::reserve(store, settings, &keys, now_ms)
        .await?
        .map_err(|wait| AuthError::Throttled { wait })?;
    let user = store.user_by_email(&login).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    // No password longer than the policy allows was ever set: hash a bounded input
    // instead, so the time stays the same and the work bounded.
    let too_long = request.password.len() > password::MAX_BYTES;
    let candidate = if too_long {
        String::new()
    } else {
        request.password.clone()
    };
    let verified = hashing
        .run(move || match hash {
            Some(hash) => password::verify(&hash, &candidate),
            None => password::verify(password::dummy_hash(), &candidate),
        })
        .await?;
    let matches = verified && !too_long;
    let record = |success| LoginRecord {
        at_ms: now_ms,
        success,
        address: peer.map(truncate_address),
        device: device_name(&request.device),
    };
    let user = match user {
        Some(user) if matches && !user.disabled => user,
        other => {
            if let Some(user) = other {
                store.record_login(user.profile.id, &record(false)).await?;
            }
            // The reservation stays: it was a failure.
            drop(reservation);
            return Err(AuthError::LoginFailed);
        }
    };
    store.record_login(user.profile.id, &record(true)).await?;
    throttle::release(store, &keys, reservation).await?;
    open_session(store, settings, now_ms, &user, &request.device).await
}

/// A new session of `user` on `device`, as a login answers it. Expired sessions of
/// the user go first, so they do not pile up. Not durable until
/// [`Store::commit_durable`].
///
/// # Errors
/// A store error.
pub async fn open_session(
    store: &Store,
    settings: &AuthSettings,
    now_ms: u64,
    user: &crate::store::UserRecord,
    device: &str,
) -> Result<LoginResponse, AuthError> {
    for (hash, session) in store.sessions_of(user.profile.id).await? {
        if session.expires_at_ms <= now_ms {
            store.revoke_session(user.profile.id, &hash).await?;
        }
    }
    let (token, token_hash) = token::new_token();
    let ttl = u64::try_from(settings.session_ttl.as_millis()).unwrap_or(u64::MAX);
    let expires_at_ms = now_ms.saturating_add(ttl);
    store
        .create_session(
            &token_hash,
            user.profile.id,
            &device_name(device),
            now_ms,
            expires_at_ms,
        )
        .await?;
    Ok(LoginResponse {
        token,
        user: user.profile.clone(),
        personal_space: user.personal_space,
        expires_at_ms,
        must_change_password: user.must_change_password,
    })
}

/// Checks the caller's own password (before something only its owner may do), a
/// failure counting as a failed password change does.
///
/// # Errors
/// [`AuthError::Throttled`], [`AuthError::WrongPassword`], or a store error.
pub async fn check_own_password(
    store: &Store,
    hashing: &Hashing,
    settings: &AuthSettings,
    now_ms: u64,
    caller: &Caller,
    password: &str,
) -> Result<(), AuthError> {
    let keys = Keys::password_change(&caller.user.profile.email);
    let reservation = throttle::reserve(store, settings, &keys, now_ms)
        .await?
        .map_err(|wait| AuthError::Throttled { wait })?;
    let current = store
        .user(caller.user.profile.id)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    let (stored, given) = (current.password_hash, password.to_owned());
    let right = given.len() <= password::MAX_BYTES
        && hashing
            .run(move || password::verify(&stored, &given))
            .await?;
    if !right {
        // The reservation stays: it was a failure.
        drop(reservation);
        return Err(AuthError::WrongPassword);
    }
    throttle::release(store, &keys, reservation).await?;
    Ok(())
}

/// Changes the caller's password: the current one must match (failures count
/// against the account, as logins do), the new one must pass the policy and differ.
/// Lifts the must-change gate and ends the caller's other sessions. Hashes through
/// `hashing`; not durable until [`Store::commit_durable`].
///
/// # Errors
/// [`AuthError::Throttled`], [`AuthError::WrongPassword`],
/// [`AuthError::BadNewPassword`], or a store error.
pub async fn change_password(
    store: &Store,
    hashing: &Hashing,
    settings: &AuthSettings,
    now_ms: u64,
    caller: &Caller,
    change: &PasswordChange,
) -> Result<(), AuthError> {
    check_own_password(store, hashing, settings, now_ms, caller, &change.current).await?;
    password::check_policy(&change.new).map_err(AuthError::BadNewPassword)?;
    if change.new == change.current {
        return Err(AuthError::BadNewPassword(
            "it is the same as the current one".into(),
        ));
    }
    let new = change.new.clone();
    let hash = hashing
        .run(move || password::hash(&new))
        .await?
        .map_err(AuthError::BadNewPassword)?;
    store
        .set_own_password(caller.user.profile.id, hash, Some(&caller.token_hash))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Device names are one bounded line, never empty.
    #[test]
    fn device_names() {
        assert_eq!(device_name("  laptop\n "), "laptop");
        assert_eq!(device_name(""), "unnamed device");
        assert_eq!(device_name(&"x".repeat(500)).len(), MAX_DEVICE_CHARS);
    }
}
