//! Invitations. Trees:
//! - `invitations`: invitation id → [`InvitationRecord`];
//! - `invitation_codes`: SHA-256 of the code → invitation id (the code itself is
//!   only in the mail: a copy of the store does not let anyone join).
//!
//! Using a code is one step under the accounts lock, so a code is used once
//! however many requests race with it.

use cairn_common::api::invitations::{InvitationId, InvitationState};
use cairn_common::codec;
use cairn_common::model::{Role, SpaceId, UserId};
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

/// An invitation as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub id: InvitationId,
    /// None: an account only (`cairn-server user add`).
    pub space: Option<SpaceId>,
    /// Lowercase.
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    /// The inviter's name when inviting (shown to the invitee).
    pub invited_by_name: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    pub code_hash: [u8; 32],
    /// When the code was used (by the account of `email`).
    pub used_at_ms: Option<u64>,
    pub revoked_at_ms: Option<u64>,
    /// What the code is for: joining, or choosing a new password.
    pub purpose: CodePurpose,
}

/// What a one-time code mailed to an address is for. A code of one purpose is
/// never taken for the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePurpose {
    /// An invitation: join a space, or get an account.
    Join,
    /// `cairn passwd --forgot`: choose a new password.
    PasswordReset,
}

impl InvitationRecord {
    /// Where it stands at `now_ms`.
    #[must_use]
    pub fn state(&self, now_ms: u64) -> InvitationState {
        if self.used_at_ms.is_some() {
            InvitationState::Used
        } else if self.revoked_at_ms.is_some() {
            InvitationState::Revoked
        } else if now_ms >= self.expires_at_ms {
            InvitationState::Expired
        } else {
            InvitationState::Open
        }
    }
}

/// Why a code cannot be used: one answer for all, so that a guesser learns
/// nothing about codes that exist.
pub const CODE_NOT_VALID: &str = "this invitation code is not valid: it may be mistyped, \
     expired, used or revoked; ask the person who invited you for a new invitation";

impl SledStore {
    /// Stores a new invitation, durably.
    ///
    /// # Errors
    /// A storage error.
    pub fn create_invitation(&self, record: &InvitationRecord) -> Result<(), StoreError> {
        let db = self.db();
        db.invitations
            .insert(record.id.0.as_bytes(), codec::encode(record)?)?;
        db.invitation_codes
            .insert(record.code_hash, record.id.0.as_bytes())?;
        drop(db);
        self.wrote();
        self.flush()
    }

    /// The invitations to `space` (all when `None`), newest first.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn invitations(&self, space: Option<SpaceId>) -> Result<Vec<InvitationRecord>, StoreError> {
        let mut out = Vec::new();
        for entry in &self.db().invitations {
            let (_, value) = entry?;
            let record: InvitationRecord = codec::decode(&value)?;
            if space.is_none() || record.space == space {
                out.push(record);
            }
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.created_at_ms));
        Ok(out)
    }

    /// The invitation whose code hashes to `code_hash`, whatever its state.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn invitation_by_code(
        &self,
        code_hash: &[u8; 32],
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let db = self.db();
        let Some(id) = db.invitation_codes.get(code_hash)? else {
            return Ok(None);
        };
        db.invitations
            .get(id)?
            .map(|v| codec::decode(&v).map_err(StoreError::from))
            .transpose()
    }

    /// Revokes the open invitation `id` of `space` at `now_ms`, durably.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for no such invitation of that space,
    /// [`StoreError::Conflict`] when it is no longer open.
    pub fn revoke_invitation(
        &self,
        space: SpaceId,
        id: InvitationId,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let _one_at_a_time = self.accounts_lock();
        let db = self.db();
        let mut record: InvitationRecord = match db.invitations.get(id.0.as_bytes())? {
            Some(v) => codec::decode(&v)?,
            None => return Err(StoreError::NotFound("no such invitation".into())),
        };
        if record.space != Some(space) {
            return Err(StoreError::NotFound("no such invitation".into()));
        }
        if record.state(now_ms) != InvitationState::Open {
            return Err(StoreError::Conflict(format!(
                "the invitation is {} already",
                record.state(now_ms).name()
            )));
        }
        record.revoked_at_ms = Some(now_ms);
        db.invitations
            .insert(id.0.as_bytes(), codec::encode(&record)?)?;
        drop(db);
        self.wrote();
        self.flush()
    }

    /// Marks the open invitation of `code_hash` used at `now_ms`, durably, and
    /// returns it: once only, however many requests race.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] with [`CODE_NOT_VALID`] for a code that is
    /// unknown, used, revoked or expired.
    pub fn use_invitation(
        &self,
        code_hash: &[u8; 32],
        now_ms: u64,
    ) -> Result<InvitationRecord, StoreError> {
        let _one_at_a_time = self.accounts_lock();
        let mut record = self
            .invitation_by_code(code_hash)?
            .filter(|r| r.state(now_ms) == InvitationState::Open)
            .ok_or_else(|| StoreError::NotFound(CODE_NOT_VALID.into()))?;
        record.used_at_ms = Some(now_ms);
        self.db()
            .invitations
            .insert(record.id.0.as_bytes(), codec::encode(&record)?)?;
        self.wrote();
        self.flush()?;
        Ok(record)
    }
}
