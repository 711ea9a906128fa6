//! What can go wrong talking to the server, classified so that the CLI and the TUI can
//! say what to do: offline, log in again, change the password, upgrade, or a server
//! error. Each message names the next step.

use serde::{Deserialize, Serialize};

use crate::replica::ReplicaError;

/// The class of a failure, for exit messages, the status bar and `--json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The server could not be reached (connect failure or timeout).
    Offline,
    /// The session is gone or expired: log in again.
    Auth,
    /// The account must change its password first.
    Gate,
    /// This client is too old for the server.
    Upgrade,
    /// The server refused the request or failed.
    Server,
    /// Something local: the session file, the replica, the configuration, TLS trust.
    Local,
}

/// A failed sync or server request.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Config(String),
    #[error("not logged in to a server; run `cairn login https://SERVER --email YOU@EXAMPLE.COM`")]
    NotLoggedIn,
    #[error(
        "cannot reach the server {server}: {reason}; check the address and your network (changes stay saved here and sync later)"
    )]
    Offline { server: String, reason: String },
    #[error(
        "the server {server} is not trusted: {detail}. If it uses a self-signed certificate, \
         log in with --fingerprint SHA256 (printed by `cairn-server init`) or --ca-file PEM \
         (its CA certificate)"
    )]
    Untrusted { server: String, detail: String },
    #[error("the server rejected the session ({message}); run `cairn login` again")]
    Unauthorized { message: String },
    #[error("{message} — run `cairn passwd` to change your password first")]
    PasswordChange { message: String },
    /// The server's privacy notice is new to this account: nothing syncs until it
    /// is accepted (`cairn account consent`).
    #[error("{message}")]
    Consent { message: String },
    #[error("the server speaks a newer protocol: please upgrade cairn ({message})")]
    Upgrade { message: String },
    #[error("the server refused: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the server failed (HTTP {status}): {message}; try again later or tell its admin")]
    Server { status: u16, message: String },
    #[error(
        "the server's answer (HTTP {status}) could not be read: {detail}; check that the address \
         is a Cairn server, or upgrade cairn"
    )]
    BadResponse { status: u16, detail: String },
    #[error("{0}")]
    Replica(#[from] ReplicaError),
}

impl SyncError {
    /// The class of this failure.
    #[must_use]
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Offline { .. } => FailureKind::Offline,
            Self::Unauthorized { .. } | Self::NotLoggedIn => FailureKind::Auth,
            Self::PasswordChange { .. } | Self::Consent { .. } => FailureKind::Gate,
            Self::Upgrade { .. } => FailureKind::Upgrade,
            Self::Refused { .. } | Self::Server { .. } | Self::BadResponse { .. } => {
                FailureKind::Server
            }
            Self::Config(_) | Self::Untrusted { .. } | Self::Replica(_) => FailureKind::Local,
        }
    }

    /// A short reason for the status bar.
    #[must_use]
    pub fn short(&self) -> String {
        match self {
            Self::Offline { .. } => "offline".into(),
            Self::Unauthorized { .. } | Self::NotLoggedIn => "log in again (cairn login)".into(),
            Self::PasswordChange { .. } => "change your password (cairn passwd)".into(),
            Self::Consent { .. } => "accept the privacy notice (cairn account consent)".into(),
            Self::Upgrade { .. } => "please upgrade cairn".into(),
            Self::Untrusted { .. } => "server certificate not trusted".into(),
            Self::Refused { message, .. } | Self::Server { message, .. } => message.clone(),
            Self::BadResponse { status, .. } => format!("unreadable answer (HTTP {status})"),
            Self::Config(message) => message.clone(),
            Self::Replica(e) => e.to_string(),
        }
    }
}

/// A failure as it crosses a process boundary (the TUI's socket) or goes to `--json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl From<&SyncError> for Failure {
    fn from(error: &SyncError) -> Self {
        Self {
            kind: error.kind(),
            message: error.to_string(),
        }
    }
}
