//! Wire types of the privacy notice and of consent to it.
//!
//! The server holds one privacy notice with a version. Every user accepts the
//! current version before anything else (a joining invitee while joining, everyone
//! else at the next login or sync after it changed: until then requests are refused
//! with [`codes::CONSENT_REQUIRED`](super::codes::CONSENT_REQUIRED)). Each
//! acceptance and each withdrawal is kept as evidence.

use serde::{Deserialize, Serialize};

use crate::model::UserId;

/// The server's privacy notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Names this text; a new version must be accepted again.
    pub version: String,
    /// The notice, in Markdown.
    pub text: String,
}

/// The caller accepts the notice of `version` (the current one, which it has shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptNotice {
    pub version: String,
}

/// The caller withdraws consent: access ends at once. The password confirms it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawConsent {
    pub password: String,
}

/// What a consent record says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentAction {
    Accepted,
    Withdrawn,
}

/// One piece of evidence: who accepted (or withdrew from) which version of the
/// notice, when, and from which network (the client address truncated to its /24
/// or /48).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEntry {
    pub user: UserId,
    /// The account's e-mail at the time; empty once the user was purged.
    pub email: String,
    pub version: String,
    pub action: ConsentAction,
    /// Unix milliseconds.
    pub at_ms: u64,
    pub address: String,
}

/// Consent records, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentList {
    pub entries: Vec<ConsentEntry>,
}
