//! Wire types of invitations: an owner invites an e-mail address to a space, the
//! server mails a one-time code, and the invitee joins with it, choosing their own
//! password and accepting the privacy notice.

use serde::{Deserialize, Serialize};

use super::consent::Notice;
use crate::model::{Role, SpaceId};

/// An invitation's id (not its code: the code is only in the mail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InvitationId(pub uuid::Uuid);

impl InvitationId {
    /// A fresh, random id.
    #[must_use]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for InvitationId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for InvitationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// Invite `email` to `space` as `role` (owners only; not as owner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateInvitation {
    pub space: SpaceId,
    pub email: String,
    pub role: Role,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationState {
    Open,
    Used,
    Revoked,
    Expired,
}

impl InvitationState {
    /// The state as the CLI prints it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Used => "used",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// One invitation, as its space's owners see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub id: InvitationId,
    /// None for an account-only invitation (`cairn-server user add`).
    pub space: Option<SpaceId>,
    pub email: String,
    pub role: Role,
    /// The inviter's name.
    pub invited_by: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    pub state: InvitationState,
}

/// A space's invitations, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationList {
    pub invitations: Vec<InvitationInfo>,
}

/// Revoke an open invitation of `space` (owners only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeInvitation {
    pub space: SpaceId,
    pub id: InvitationId,
}

/// An invitation code, as the invitee got it by mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinCode {
    pub code: String,
}

/// What an invitee is about to join, and the notice to accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinDetails {
    pub email: String,
    /// The space's name, for an invitation to a space.
    pub space_name: Option<String>,
    pub role: Role,
    pub invited_by: String,
    /// The address has an account already: joining asks for its password and adds
    /// the membership; otherwise it makes the account.
    pub account_exists: bool,
    pub expires_at_ms: u64,
    pub notice: Notice,
}

/// Join with a code: the notice's version the invitee accepted, the password (a
/// new one for a new account, the account's own otherwise) and, for a new account,
/// the names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub code: String,
    pub accept_version: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    /// Names the device's session, as at login.
    pub device: String,
}

/// `cairn passwd --forgot`: mail a one-time code to the account of `email`. The
/// answer is the same whether or not there is such an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgotPassword {
    pub email: String,
}

/// Choose a new password with the code the mail carried; every session ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPassword {
    pub email: String,
    pub code: String,
    pub new_password: String,
}
