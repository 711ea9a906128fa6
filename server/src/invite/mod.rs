//! Invitations: an owner invites an e-mail address to a space; the server mails a
//! one-time code in a link; the invitee joins with it ([`join`]), choosing their
//! own password and accepting the privacy notice.
//!
//! Codes are 128 random bits. The store keeps only their SHA-256 (a copy of the
//! store lets nobody join); a code is used once, expires after `[privacy]
//! invitation_days`, and its space's owners can revoke it. Guessing is throttled
//! per client address like logins.

pub mod join;
pub mod reset;

use cairn_common::api::invitations::{InvitationId, InvitationInfo};
use cairn_common::model::{Role, SpaceId, UserId};
use sha2::{Digest, Sha256};

use crate::store::invitations::InvitationRecord;
use crate::store::users::normalize_email;
use crate::store::{AuditEvent, AuditKind, Store, StoreError};

/// A new code: 32 hex digits.
#[must_use]
pub fn new_code() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// The hash a code is stored and found by. Case, spaces and dashes do not count,
/// so a code copied with a line break or typed in groups still works.
#[must_use]
pub fn code_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

/// The link the mail carries: the code after `#`, which browsers and proxies do
/// not send on, so it stays out of access logs.
#[must_use]
pub fn link(public_url: &str, code: &str) -> String {
    format!("{}/join#{code}", public_url.trim_end_matches('/'))
}

/// An invitation as its space's owners see it at `now_ms`.
#[must_use]
pub fn info(record: &InvitationRecord, now_ms: u64) -> InvitationInfo {
    InvitationInfo {
        id: record.id,
        space: record.space,
        email: record.email.clone(),
        role: record.role,
        invited_by: record.invited_by_name.clone(),
        created_at_ms: record.created_at_ms,
        expires_at_ms: record.expires_at_ms,
        state: record.state(now_ms),
    }
}

/// What an invitation is about to be, before it is stored.
pub struct NewInvitation {
    pub space: Option<SpaceId>,
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    pub now_ms: u64,
    pub valid_days: u32,
}

/// A stored invitation and its code (which goes into the mail and nowhere else).
pub struct Created {
    pub record: InvitationRecord,
    pub code: String,
}

/// Makes and stores an invitation, audited. For a space, `invited_by` must own it
/// and the address must not be a member already; owners are not invited (an
/// owner makes another owner among the members).
///
/// # Errors
/// [`StoreError::InvalidEmail`], [`StoreError::NotFound`] for a space the inviter
/// is not in, [`StoreError::Forbidden`] for a non-owner, [`StoreError::Conflict`]
/// for a member already, or a storage error.
pub async fn create(store: &Store, new: NewInvitation) -> Result<Created, StoreError> {
    let email = normalize_email(&new.email);
    crate::store::users::check_email(&email)?;
    let inviter = store
        .user(new.invited_by)
        .await?
        .ok_or_else(|| StoreError::NotFound("no such user".into()))?;
    if let Some(space) = new.space {
        store
            .require_owner(space, new.invited_by, "invite people to it")
            .await?;
        if new.role == Role::Owner {
            return Err(StoreError::InvalidInput(
                "invite as editor or viewer; make a member owner once they joined".into(),
            ));
        }
        if let Some(existing) = store.user_by_email(&email).await?
            && store.role_of(space, existing.profile.id).await?.is_some()
        {
            return Err(StoreError::Conflict(format!(
                "{email} is a member of the space already"
            )));
        }
    }
    let code = new_code();
    let name = format!(
        "{} {}",
        inviter.profile.first_name, inviter.profile.last_name
    );
    let record = InvitationRecord {
        id: InvitationId::new(),
        space: new.space,
        email: email.clone(),
        role: new.role,
        invited_by: new.invited_by,
        invited_by_name: name.trim().to_owned(),
        created_at_ms: new.now_ms,
        expires_at_ms: new
            .now_ms
            .saturating_add(u64::from(new.valid_days) * 24 * 3600 * 1000),
        code_hash: code_hash(&code),
        used_at_ms: None,
        revoked_at_ms: None,
        purpose: crate::store::invitations::CodePurpose::Join,
    };
    store.create_invitation(&record).await?;
    let mut event = AuditEvent::new(AuditKind::InvitationSent)
        .subject(&email)
        .actor(&inviter.profile.email)
        .detail(format!("as {}", new.role));
    if let Some(space) = new.space {
        event = event.space(space);
    }
    store.audit(event).await;
    Ok(Created { record, code })
}

/// The mail that carries an invitation: the inviter's name, the space's name,
/// the role, the link and the expiry; nothing of the space's content.
#[must_use]
pub fn mail_text(
    record: &InvitationRecord,
    space_name: Option<&str>,
    link: &str,
) -> (String, String) {
    let until = i64::try_from(record.expires_at_ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let (subject, what) = match space_name {
        Some(name) => (
            format!("Invitation to \"{name}\" on Cairn"),
            format!("to the space \"{name}\" on Cairn, as {}", record.role),
        ),
        None => (
            "Your Cairn account".to_owned(),
            "to an account on Cairn".to_owned(),
        ),
    };
    let body = format!(
        "{} invites you {what}.\n\n\
         To join, install Cairn and run:\n\n    cairn join '{link}'\n\n\
         You choose your own password, and you are shown the privacy notice to \
         accept first. The link works once, until {until}.\n\n\
         If you did not expect this mail, ignore it: nothing happens without you.\n",
        record.invited_by_name
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes are 32 hex digits, different each time; their hash ignores case,
    /// spaces and dashes; the link carries the code after `#`.
    #[test]
    fn codes_and_links() {
        let (a, b) = (new_code(), new_code());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let grouped = format!("{}-{} ", &a[..16], a[16..].to_uppercase());
        assert_eq!(code_hash(&grouped), code_hash(&a));
        assert_ne!(code_hash(&a), code_hash(&b));
        assert_eq!(
            link("https://cairn.example.com/", "abc"),
            "https://cairn.example.com/join#abc"
        );
    }
}
