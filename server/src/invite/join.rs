//! Joining with an invitation code: what the code is for ([`preview`]), then
//! [`join`]: a new address becomes an account with the password the invitee
//! chose; an existing account (its password proves it) gets the membership. Either
//! way the invitee accepted the current privacy notice, which is recorded as
//! evidence, and gets a session.

use std::net::IpAddr;

use cairn_common::api::consent::{ConsentAction, ConsentEntry, Notice};
use cairn_common::api::invitations::{InvitationState, JoinDetails, JoinRequest};
use cairn_common::api::{LoginRequest, LoginResponse};

use super::code_hash;
use crate::auth::password::Hashing;
use crate::auth::throttle::{self, Keys};
use crate::auth::{AuthError, AuthSettings, password};
use crate::store::invitations::{CODE_NOT_VALID, CodePurpose, InvitationRecord};
use crate::store::{AuditEvent, AuditKind, NewUser, Store, StoreError, truncate_address};

/// The open invitation of `code`, counted against the client's address like a
/// failed login until it turns out valid (so codes cannot be guessed faster than
/// passwords).
async fn open_invitation(
    store: &Store,
    auth: &AuthSettings,
    code: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<InvitationRecord, AuthError> {
    let keys = Keys::join_code(peer);
    let reservation = throttle::reserve(store, auth, &keys, now_ms)
        .await?
        .map_err(|wait| AuthError::Throttled { wait })?;
    let record = store
        .invitation_by_code(&code_hash(code))
        .await?
        .filter(|r| r.state(now_ms) == InvitationState::Open && r.purpose == CodePurpose::Join)
        .ok_or_else(|| AuthError::Store(StoreError::NotFound(CODE_NOT_VALID.into())))?;
    throttle::release(store, &keys, reservation).await?;
    Ok(record)
}

/// What the code is for, and the notice to accept.
///
/// # Errors
/// [`AuthError::Throttled`], a code that is not valid ([`StoreError::NotFound`]),
/// or a store error.
pub async fn preview(
    store: &Store,
    auth: &AuthSettings,
    notice: &Notice,
    code: &str,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<JoinDetails, AuthError> {
    let record = open_invitation(store, auth, code, peer, now_ms).await?;
    let space_name = match record.space {
        Some(space) => store.space(space).await?.map(|s| s.name),
        None => None,
    };
    Ok(JoinDetails {
        account_exists: store.user_by_email(&record.email).await?.is_some(),
        email: record.email,
        space_name,
        role: record.role,
        invited_by: record.invited_by_name,
        expires_at_ms: record.expires_at_ms,
        notice: notice.clone(),
    })
}

/// Joins with `request`'s code; a session of the account. Blocking (argon2); not
/// durable until [`Store::commit_durable`].
///
/// # Errors
/// [`AuthError::Throttled`]; a code that is not valid; a notice version that is not
/// the current one, a password the policy refuses or missing names
/// ([`StoreError::InvalidInput`] or [`AuthError::BadNewPassword`]); a wrong
/// password of an existing account ([`AuthError::LoginFailed`]); an inviter who
/// no longer owns the space ([`StoreError::Forbidden`]); or a store error.
pub async fn join(
    store: &Store,
    hashing: &Hashing,
    auth: &AuthSettings,
    notice: &Notice,
    request: &JoinRequest,
    peer: Option<IpAddr>,
    now_ms: u64,
) -> Result<LoginResponse, AuthError> {
    let record = open_invitation(store, auth, &request.code, peer, now_ms).await?;
    if request.accept_version != notice.version {
        return Err(StoreError::InvalidInput(format!(
            "the privacy notice is now version {}; read it again and accept that one",
            notice.version
        ))
        .into());
    }
    let existing = store.user_by_email(&record.email).await?.is_some();
    let session = if existing {
        // The account's own password proves the invitee is its owner.
        let login = LoginRequest {
            email: record.email.clone(),
            password: request.password.clone(),
            device: request.device.clone(),
        };
        let session = crate::auth::login(store, hashing, auth, now_ms, &login, peer).await?;
        // Used once the password was right; a code that lost a race ends the session.
        if let Err(e) = store.use_invitation(&record.code_hash, now_ms).await {
            if let Some(hash) = crate::auth::token::hash_token(&session.token) {
                store.revoke_session(session.user.id, &hash).await?;
            }
            return Err(e.into());
        }
        session
    } else {
        {
            password::check_policy(&request.password).map_err(AuthError::BadNewPassword)?;
            let new = NewUser {
                email: record.email.clone(),
                first_name: request.first_name.clone(),
                last_name: request.last_name.clone(),
                password_hash: String::new(),
                must_change_password: false,
                server_admin: false,
            };
            // Names checked before the code is used, so a typo does not spend it.
            crate::store::users::check_new_user(new.clone())?;
            let given = request.password.clone();
            let hash = hashing
                .run(move || password::hash(&given))
                .await?
                .map_err(AuthError::BadNewPassword)?;
            // Used first: a code that lost a race makes no account.
            store.use_invitation(&record.code_hash, now_ms).await?;
            let created = store
                .create_user(NewUser {
                    password_hash: hash,
                    ..new
                })
                .await?;
            store
                .audit(AuditEvent::new(AuditKind::AccountCreated).subject(&record.email))
                .await;
            let user = store
                .user(created.id)
                .await?
                .ok_or_else(|| StoreError::Internal("the new account is gone".into()))?;
            crate::auth::open_session(store, auth, now_ms, &user, &request.device).await?
        }
    };
    let user = session.user.id;
    if let Some(space) = record.space {
        store
            .set_member(record.invited_by, space, &record.email, Some(record.role))
            .await
            .map_err(|e| match e {
                StoreError::Forbidden(_) | StoreError::NotFound(_) => StoreError::Forbidden(
                    "the person who invited you no longer owns the space; ask an owner of \
                     it for a new invitation"
                        .into(),
                ),
                other => other,
            })?;
    }
    store
        .record_consent(&ConsentEntry {
            user,
            email: record.email.clone(),
            version: notice.version.clone(),
            action: ConsentAction::Accepted,
            at_ms: now_ms,
            address: peer.map(truncate_address).unwrap_or_default(),
        })
        .await?;
    let mut event = AuditEvent::new(AuditKind::InvitationUsed).subject(&record.email);
    if let Some(space) = record.space {
        event = event.space(space);
    }
    store.audit(event).await;
    store
        .audit(
            AuditEvent::new(AuditKind::ConsentGiven)
                .subject(&record.email)
                .detail(format!("privacy notice version {}", notice.version)),
        )
        .await;
    Ok(session)
}
