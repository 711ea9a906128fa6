//! Who is asking: the session of a bearer token, the must-change-password gate and
//! the privacy notice's gate.

use super::{AuthError, token};
use crate::store::{SessionRecord, Store, UserRecord};

/// The authenticated user of a request and its session.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: UserRecord,
    pub session: SessionRecord,
    pub token_hash: [u8; 32],
}

/// Which of the gates an endpoint keeps: a password that must be changed, then
/// a privacy notice not (or no longer) accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Refused until the password is changed and the notice accepted (every
    /// endpoint but those below).
    Enforce,
    /// Refused until the password is changed: reading, accepting or withdrawing
    /// consent.
    Consent,
    /// Allowed: changing the password, logging out.
    Open,
}

/// The caller of a request with this `Authorization` header value at `now_ms`.
///
/// # Errors
/// [`AuthError::Unauthorized`] for a missing, malformed, unknown, revoked or expired
/// token or a disabled account (one answer for all); [`AuthError::PasswordChangeRequired`]
/// when the gate is enforced and the password must change;
/// [`AuthError::ConsentRequired`] when it is enforced and the user has not accepted
/// `notice_version`.
pub async fn authenticate(
    store: &Store,
    authorization: Option<&str>,
    now_ms: u64,
    gate: Gate,
    notice_version: &str,
) -> Result<Caller, AuthError> {
    let token_hash = authorization
        .and_then(token::bearer)
        .and_then(token::hash_token)
        .ok_or(AuthError::Unauthorized)?;
    let found = store
        .session_lookup(&token_hash)
        .await?
        .ok_or(AuthError::Unauthorized)?;
    let session = found.session;
    if session.expires_at_ms <= now_ms {
        // Tidy up; the answer is the same whether this succeeds or not.
        if let Err(e) = store.revoke_session(session.user, &token_hash).await {
            tracing::warn!("could not remove an expired session: {e}");
        }
        return Err(AuthError::Unauthorized);
    }
    let user = found.user.ok_or(AuthError::Unauthorized)?;
    if user.disabled {
        return Err(AuthError::Unauthorized);
    }
    if gate != Gate::Open && user.must_change_password {
        return Err(AuthError::PasswordChangeRequired);
    }
    if gate == Gate::Enforce && found.accepted_notice.as_deref() != Some(notice_version) {
        return Err(AuthError::ConsentRequired {
            version: notice_version.to_owned(),
        });
    }
    Ok(Caller {
        user,
        session,
        token_hash,
    })
}
