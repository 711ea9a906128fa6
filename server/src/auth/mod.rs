//! Authentication and authorization: argon2id passwords, session tokens (256 random
//! bits, stored only as SHA-256, expiring), login throttling (per account and
//! address, per address, and per account from all addresses; see [`throttle`]), the
//! must-change-password gate.
//!
//! Roles are checked where spaces are touched (the store's space management and the
//! push handler); the server admin has no role in spaces he is not a member of.

mod login;
pub mod password;
mod session;
pub mod throttle;
pub mod token;

use std::time::Duration;

pub use login::{change_password, check_own_password, login, open_session};
pub use session::{Caller, Gate, authenticate};

use crate::store::StoreError;

/// How sessions and login throttling behave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    /// How long a session lasts after login.
    pub session_ttl: Duration,
    /// Failed logins of one account from one client address before that address
    /// must wait for it.
    pub free_failures: u32,
    /// Failed logins from one client address before delays start. Raise it when many
    /// people reach the server through one address (a company NAT or proxy).
    pub free_failures_per_address: u32,
    /// Failed logins of one account from all addresses together (each address
    /// counting at most `free_failures` of them) before every attempt must wait.
    pub free_failures_per_account: u32,
    /// The first delay; each further failure doubles it.
    pub first_delay: Duration,
    /// The longest delay of an address, or of an account from one address.
    pub max_delay: Duration,
    /// The longest delay of an account from all addresses together: short, since
    /// its owner waits it too.
    pub account_max_delay: Duration,
    /// Counters of a name or address that did not fail for this long are forgotten.
    pub forget_after: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            free_failures: 5,
            free_failures_per_address: 5,
            free_failures_per_account: 50,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            account_max_delay: Duration::from_secs(60),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// A wait in whole seconds, rounded up (never 0: "wait 0 seconds" helps nobody).
#[must_use]
pub fn wait_secs(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis().div_ceil(1000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Why a request was not authenticated or a login refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No valid session: missing, malformed, unknown, revoked or expired token, or a
    /// disabled account.
    #[error(
        "you are not logged in, or your session ended (logged out, revoked or expired); \
         log in with `cairn login`"
    )]
    Unauthorized,
    /// Wrong e-mail or password, unknown or disabled account: one answer for all.
    #[error(
        "the e-mail or password is wrong (or the account is disabled); check them and try \
         again, or ask the server admin"
    )]
    LoginFailed,
    #[error(
        "too many failed logins; wait {} seconds and try again",
        wait_secs(*.wait)
    )]
    Throttled { wait: Duration },
    #[error(
        "the password of this account must be changed before anything else; run \
         `cairn passwd` to choose a new one"
    )]
    PasswordChangeRequired,
    #[error(
        "the privacy notice (version {version}) must be accepted before anything else: \
         run `cairn account consent` to read and accept it"
    )]
    ConsentRequired { version: String },
    #[error("the current password is wrong; give the password you logged in with")]
    WrongPassword,
    #[error("the new password is not accepted: {0}; choose another")]
    BadNewPassword(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
