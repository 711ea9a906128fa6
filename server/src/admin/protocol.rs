//! The admin protocol between `cairn-server user ...` and a running server's
//! control socket: one [`AdminRequest`], then [`AdminAnswer`]s: progress of a long
//! command (at most every 100 ms while it changes, and at least every 5 s as a
//! heartbeat), ending in [`AdminAnswer::Done`] with the [`AdminResponse`]. Every
//! message is a big-endian `u32` length and a [`cairn_common::codec`] body. The same
//! types are executed directly on a stopped data dir, so both paths give the same
//! answers.
//!
//! Every type a command sends or answers is here, so that the command lines and
//! what runs on the store ([`super::commands`]) share them without knowing each
//! other, and the modules the commands use (backup, export, privacy) know none of
//! them.

use std::io::{Read, Write};

use cairn_common::codec;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::settings::Secret;
use crate::store::{AuditEntry, AuditVerification, PurgeOutcome, PurgeTarget};

/// Largest request the control socket reads: requests are a few names.
pub const MAX_REQUEST_BYTES: u32 = 1 << 20;
/// Largest response the CLI reads (a user list of a large licensee fits).
pub const MAX_RESPONSE_BYTES: u32 = codec::DECODE_LIMIT as u32;

/// An admin command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// Create an account. Without a password one is generated and returned once,
    /// and the user must change it at the first login.
    AddUser {
        email: String,
        first_name: String,
        last_name: String,
        password: Option<Secret>,
    },
    /// `cairn-server user add` with mail on: an invitation to an account, mailed
    /// with a link under `link_base` and valid for `valid_days`.
    InviteUser {
        email: String,
        link_base: String,
        valid_days: u32,
    },
    ListUsers,
    SetDisabled {
        email: String,
        disabled: bool,
    },
    /// Set a new password (generated if `None`) that the user must change; ends
    /// the user's sessions.
    ResetPassword {
        email: String,
        password: Option<Secret>,
    },
    /// Write an export into `out` (absolute; created, must be empty). Through the
    /// control socket, the server process writes the files.
    Export {
        out: std::path::PathBuf,
        scope: ExportScope,
    },
    /// Import a whole-server export from `dir` (absolute) into an empty server.
    Import {
        dir: std::path::PathBuf,
    },
    /// `cairn-server backup now|list|verify`.
    Backup(BackupRequest),
    /// Remove a user, a space or everything, rewrite the store without it, and
    /// remove it from kept backups.
    Purge {
        target: PurgeTarget,
    },
    AuditList,
    AuditVerify,
    /// `cairn-server renew-epoch`: the store was restored by other means.
    RenewEpoch,
    /// `cairn-server tls renew`: order a certificate from the ACME CA now (only a
    /// running server can).
    RenewCertificate,
    /// `cairn-server consent list`: all accounts' records, or one's.
    ConsentList {
        user: Option<String>,
    },
    /// `cairn-server mail list`: the outbox.
    MailList,
    /// `cairn-server mail test ADDRESS`: queue a test mail.
    MailTest {
        to: String,
    },
    /// `cairn-server mail digest`: queue the daily digest of `day` now.
    MailDigest {
        day: chrono::NaiveDate,
        /// Where the stop links point.
        link_base: String,
        /// `[notifications] digest_titles`.
        titles: bool,
    },
}

/// What `cairn-server export` covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportScope {
    Server,
    /// One user, by e-mail: what that user may see.
    User(String),
    Space(cairn_common::model::SpaceId),
}

/// The outcome of an admin command. Refusals (no such user, weak password) are
/// [`AdminResponse::Failed`] with a message saying what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminResponse {
    UserAdded {
        user: UserRow,
        /// The generated password, when none was given.
        generated_password: Option<Secret>,
    },
    Users(Vec<UserRow>),
    /// An account invitation was mailed (queued) to `email`.
    UserInvited {
        email: String,
        expires_at_ms: u64,
    },
    /// The account was disabled or enabled.
    DisabledSet {
        email: String,
        disabled: bool,
    },
    PasswordReset {
        email: String,
        generated_password: Option<Secret>,
    },
    Failed {
        message: String,
    },
    Exported {
        dir: std::path::PathBuf,
        files: u32,
        users: u32,
        spaces: u32,
    },
    Imported {
        /// The imported accounts' e-mails; none of them has a password yet.
        accounts: Vec<String>,
        spaces: u32,
        ops: u64,
    },
    Backup(BackupResponse),
    Purged {
        outcome: PurgeOutcome,
        backups: BackupsPurged,
    },
    AuditEntries(Vec<AuditEntry>),
    AuditVerified(AuditVerification),
    /// The store's new epoch.
    /// A new certificate from the ACME CA is served, with this fingerprint.
    CertificateRenewed {
        fingerprint: String,
    },
    EpochRenewed {
        epoch: String,
    },
    /// Consent records, oldest first.
    Consents(Vec<cairn_common::api::consent::ConsentEntry>),
    /// The outbox, oldest first.
    Mails {
        mails: Vec<MailRow>,
        /// Whether this server sends mail (`[mail] enabled`).
        on: bool,
        /// The running server's last attempt, if it failed (a short cause).
        failing: Option<String>,
    },
    MailQueued {
        id: String,
        to: String,
    },
    /// How many digest mails were queued.
    DigestQueued {
        mails: usize,
    },
}

impl AdminResponse {
    /// A refusal or failure, its message saying what to do.
    pub fn failed(e: impl std::fmt::Display) -> Self {
        AdminResponse::Failed {
            message: e.to_string(),
        }
    }
}

/// One message of the control socket's answer: zero or more progress messages,
/// then `Done`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminAnswer {
    /// Still working, and nothing reported yet (a heartbeat).
    Working,
    /// How far the command is.
    Progress(ProgressUpdate),
    /// The command's outcome; nothing follows.
    Done(AdminResponse),
}

/// The latest state of a command's [`cairn_common::progress::Report`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressUpdate {
    /// The step, e.g. "exporting: ops".
    pub step: String,
    /// How many done in this step.
    pub done: u64,
    /// How many there are, if known.
    pub total: Option<u64>,
    pub unit: cairn_common::progress::Unit,
}

/// A backup command sent to the server (restore is not one: it needs the server
/// stopped, and runs in the CLI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupRequest {
    Now,
    List,
    Verify { id: String },
}

/// One backup as `backup list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRow {
    pub id: String,
    pub created_at_ms: u64,
    pub ops: u64,
    pub spaces: u64,
    pub users: u64,
    pub bytes: u64,
    /// Why the backup cannot be read, if it cannot.
    pub damaged: Option<String>,
}

/// The answer to a [`BackupRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupResponse {
    /// A backup was written and verified.
    Created {
        backup: BackupRow,
        dir: String,
        push_pause_ms: u64,
    },
    Listed {
        dir: String,
        backups: Vec<BackupRow>,
        /// The last attempt's failure, if the server's last backup failed.
        last_failure: Option<String>,
    },
    Verified {
        backup: BackupRow,
    },
}

/// What a purge did to the kept backups (names of backups under `DIR/backups`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupsPurged {
    pub deleted: Vec<String>,
    pub rewritten: Vec<String>,
}

/// A mail as `mail list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    pub to: String,
    pub created_at_ms: u64,
    pub attempts: u32,
    /// When a queued mail is tried next.
    pub next_attempt_ms: Option<u64>,
    /// When it was sent or given up.
    pub finished_at_ms: Option<u64>,
    pub last_error: Option<String>,
}

/// An account as the admin commands show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub server_admin: bool,
    pub created_at_ms: u64,
}

fn too_large(len: u32, max: u32) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("admin message of {len} bytes is larger than the limit of {max}"),
    )
}

fn encode_frame<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let body = codec::encode(value).map_err(std::io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(|_| too_large(u32::MAX, u32::MAX))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> std::io::Result<T> {
    codec::decode(body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Writes one frame (blocking; the CLI side).
///
/// # Errors
/// The I/O error, or an encode error.
pub fn write_frame<T: Serialize>(w: &mut impl Write, value: &T) -> std::io::Result<()> {
    w.write_all(&encode_frame(value)?)?;
    w.flush()
}

/// Reads one frame of at most `max` bytes (blocking; the CLI side).
///
/// # Errors
/// The I/O error, a frame over `max`, or bytes that do not decode.
pub fn read_frame<T: serde::de::DeserializeOwned>(
    r: &mut impl Read,
    max: u32,
) -> std::io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len);
    if len > max {
        return Err(too_large(len, max));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)?;
    decode_body(&body)
}

/// Writes one frame (the server side).
///
/// # Errors
/// As [`write_frame`].
pub async fn write_frame_async<T: Serialize>(
    w: &mut (impl AsyncWrite + Unpin),
    value: &T,
) -> std::io::Result<()> {
    w.write_all(&encode_frame(value)?).await?;
    w.flush().await
}

/// Reads one frame of at most `max` bytes (the server side).
///
/// # Errors
/// As [`read_frame`].
pub async fn read_frame_async<T: serde::de::DeserializeOwned>(
    r: &mut (impl AsyncRead + Unpin),
    max: u32,
) -> std::io::Result<T> {
    let len = r.read_u32().await?;
    if len > max {
        return Err(too_large(len, max));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).await?;
    decode_body(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request survives the frame round trip, sync to async and back.
    #[tokio::test]
    async fn frames_round_trip() {
        let request = AdminRequest::AddUser {
            email: "a@example.com".into(),
            first_name: "A".into(),
            last_name: "B".into(),
            password: Some(Secret("pw-123456".into())),
        };
        let mut buf = Vec::new();
        write_frame(&mut buf, &request).expect("write");
        let back: AdminRequest = read_frame_async(&mut buf.as_slice(), MAX_REQUEST_BYTES)
            .await
            .expect("read");
        assert_eq!(back, request);
        let mut buf = Vec::new();
        write_frame_async(&mut buf, &AdminResponse::Users(vec![]))
            .await
            .expect("write");
        let back: AdminResponse =
            read_frame(&mut buf.as_slice(), MAX_RESPONSE_BYTES).expect("read");
        assert_eq!(back, AdminResponse::Users(vec![]));
        let mut buf = Vec::new();
        let answers = [
            AdminAnswer::Working,
            AdminAnswer::Progress(ProgressUpdate {
                step: "exporting: ops".into(),
                done: 3,
                total: Some(9),
                unit: cairn_common::progress::Unit::Bytes,
            }),
            AdminAnswer::Done(AdminResponse::Users(vec![])),
        ];
        for answer in &answers {
            write_frame_async(&mut buf, answer).await.expect("write");
        }
        let mut read = buf.as_slice();
        for answer in answers {
            let back: AdminAnswer = read_frame(&mut read, MAX_RESPONSE_BYTES).expect("read");
            assert_eq!(back, answer);
        }
    }

    /// A length prefix over the limit is refused before anything is allocated.
    #[test]
    fn oversized_frame_is_refused() {
        let mut frame = (MAX_REQUEST_BYTES + 1).to_be_bytes().to_vec();
        frame.extend_from_slice(b"CAIRN");
        let err = read_frame::<AdminRequest>(&mut frame.as_slice(), MAX_REQUEST_BYTES)
            .expect_err("too large");
        assert!(err.to_string().contains("limit"), "{err}");
    }

    /// Passwords in a request never show in its `Debug` output (logs).
    #[test]
    fn debug_hides_passwords() {
        let request = AdminRequest::ResetPassword {
            email: "a@example.com".into(),
            password: Some(Secret("sekrit-pass".into())),
        };
        assert!(!format!("{request:?}").contains("sekrit-pass"));
    }
}
