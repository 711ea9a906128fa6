//! A forgotten password: `cairn passwd --forgot` mails a one-time code to the
//! account's address ([`request`]); the code and a new password set it
//! ([`reset`]). The request answers the same whether or not the account exists
//! (and mails nothing then); codes are stored hashed, used once, expire after an
//! hour, and guessing them is throttled like passwords.

use std::net::IpAddr;

use cairn_common::api::invitations::{InvitationId, InvitationState};
use cairn_common::model::Role;

use super::{code_hash, new_code};
use crate::auth::password::{self, Hashing};
use crate::auth::throttle::{self, Keys};
use crate::auth::{AuthError, AuthSettings};
use crate::mail::Mailer;
use crate::store::invitations::{CODE_NOT_VALID, CodePurpose, InvitationRecord};
use crate::store::users::normalize_email;
use crate::store::{AuditEvent, AuditKind, MailKind, OutgoingMail, Store, StoreError};

/// How long a reset code works.
const CODE_VALID_MS: u64 = 3600 * 1000;

/// Mails a code to `email`'s account, if there is one that is not disabled.
/// Counted against the client's address like a failed login, so the request
/// cannot be used to flood a mailbox or probe for accounts.
///
/// # Errors
/// [`AuthError::Throttled`]; mail off ([`StoreError::Conflict`], said whether or
/// not the account exists); or a store error.
pub async fn request(
    store: &Store,
    mailer: &Mailer,
    auth: &AuthSettings,
    email: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<(), AuthError> {
    if let Err(e) = mailer.settings() {
        return Err(StoreError::Conflict(format!(
            "{e}; ask the server's admin to reset your password"
        ))
        .into());
    }
    // Its own counter only: requests do not use up the address's logins.
    let keys = Keys {
        address: None,
        ..Keys::password_reset(peer)
    };
    // Each request counts: it is never taken back.
    let _counted = throttle::reserve(store, auth, &keys, now_ms)
        .await?
        .map_err(|wait| AuthError::Throttled { wait })?;
    let email = normalize_email(email);
    let Some(user) = store.user_by_email(&email).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let code = new_code();
    let record = InvitationRecord {
        id: InvitationId::new(),
        space: None,
        email: email.clone(),
        role: Role::Viewer,
        invited_by: user.profile.id,
        invited_by_name: String::new(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(CODE_VALID_MS),
        code_hash: code_hash(&code),
        used_at_ms: None,
        revoked_at_ms: None,
        purpose: CodePurpose::PasswordReset,
    };
    store.create_invitation(&record).await?;
    let body = format!(
        "Someone (you, we hope) asked to choose a new password for your Cairn account \
         {email}.\n\nTo do so, run within the hour:\n\n    cairn passwd --code {code} \
         --email {email}\n\nIf it was not you, ignore this mail: your password stays \
         as it is.\n"
    );
    mailer
        .queue(
            store,
            OutgoingMail {
                to: email,
                subject: "Choosing a new Cairn password".to_owned(),
                body,
                kind: MailKind::PasswordReset,
                user: Some(user.profile.id),
            },
        )
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(())
}

/// Sets `new_password` for `email`'s account with a code [`request`] mailed:
/// the code is used, every session ends, and the change is audited.
///
/// # Errors
/// [`AuthError::Throttled`]; a code that is not valid for that address; a new
/// password the policy refuses ([`AuthError::BadNewPassword`]); or a store error.
#[allow(clippy::too_many_arguments)] // what a reset needs, each named
pub async fn reset(
    store: &Store,
    hashing: &Hashing,
    auth: &AuthSettings,
    email: &str,
    code: &str,
    new_password: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<(), AuthError> {
    let keys = Keys::password_reset(peer);
    let reservation = throttle::reserve(store, auth, &keys, now_ms)
        .await?
        .map_err(|wait| AuthError::Throttled { wait })?;
    let email = normalize_email(email);
    let hash = code_hash(code);
    let record = store
        .invitation_by_code(&hash)
        .await?
        .filter(|r| {
            r.purpose == CodePurpose::PasswordReset
                && r.email == email
                && r.state(now_ms) == InvitationState::Open
        })
        .ok_or_else(|| AuthError::Store(StoreError::NotFound(CODE_NOT_VALID.into())))?;
    throttle::release(store, &keys, reservation).await?;
    password::check_policy(new_password).map_err(AuthError::BadNewPassword)?;
    let given = new_password.to_owned();
    let new_hash = hashing
        .run(move || password::hash(&given))
        .await?
        .map_err(AuthError::BadNewPassword)?;
    store.use_invitation(&record.code_hash, now_ms).await?;
    store
        .set_own_password(record.invited_by, new_hash, None)
        .await?;
    store
        .audit(
            AuditEvent::new(AuditKind::PasswordReset)
                .subject(&email)
                .detail("by a code mailed to the account"),
        )
        .await;
    Ok(())
}
