//! Wire types of the sync protocol, shared by client and server.
//!
//! Every endpoint is defined once in [`endpoints`]: its method and path, and the
//! types of its request and response bodies, which travel in the
//! [`codec`](crate::codec) format under [`CONTENT_TYPE`] (but for two plain-text
//! `GET`s, [`endpoints::HEALTHZ`] and [`endpoints::METRICS`]). `docs/PROTOCOL.md`
//! has the same table, kept equal to it by a test. The client sends its
//! [`PROTOCOL_VERSION`] in the [`PROTOCOL_HEADER`] header, and `Authorization: Bearer
//! <token>` on everything but login. Expected protocol outcomes are fields of the
//! responses; failures are an HTTP status with an [`ErrorResponse`] body whose
//! message tells the person what to do next.

use serde::{Deserialize, Serialize};

use crate::model::{RecordId, Role, Space, SpaceId, UserProfile};
use crate::op::{Op, OpId};

pub mod consent;
pub mod endpoints;
pub mod files;
pub mod invitations;
pub mod notifications;

pub use endpoints::{Endpoint, Method};

/// Bumped on any incompatible change of these types; the server answers a client
/// that sends another version with 426 and "please upgrade". Version 2: the store's
/// [`Epoch`] in every sync response, refusals per space or record in a push.
pub const PROTOCOL_VERSION: u16 = 2;
/// Header carrying the client's [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "x-cairn-protocol";
/// The one content type of request and response bodies.
pub const CONTENT_TYPE: &str = "application/vnd.cairn.v1+bincode";
/// Largest request body the server reads; larger ones get 413.
pub const MAX_BODY_BYTES: u64 = 16 << 20;
/// Most ops in one push; a client splits larger outboxes.
pub const MAX_PUSH_OPS: usize = 5_000;
/// Most ops in one pull page, whatever the client asks.
pub const MAX_PULL_OPS: u32 = 10_000;
/// Most encoded op bytes in one pull page (one op may exceed it alone).
pub const MAX_PULL_BYTES: usize = 8 << 20;

/// The body of requests and responses that carry nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty;

/// The one error body of every endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// A stable machine-readable code, e.g. `password_change_required`.
    pub code: String,
    /// What happened and what to do next, for a person.
    pub message: String,
}

/// Stable error codes (the `code` of [`ErrorResponse`]).
pub mod codes {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const THROTTLED: &str = "throttled";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
    /// The privacy notice changed (or was never accepted): accept it first.
    pub const CONSENT_REQUIRED: &str = "consent_required";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    /// An upload does not start where the server's copy ends: ask
    /// [`FilesStatus`](super::endpoints::FilesStatus) and go on from there.
    pub const UPLOAD_OFFSET: &str = "upload_offset";
    /// Another upload of the same file is under way: try again later.
    pub const UPLOAD_BUSY: &str = "upload_busy";
    /// A frame or a whole file arrived with other bytes than its SHA-256 says.
    pub const DAMAGED: &str = "damaged";
    pub const TOO_LARGE: &str = "too_large";
    pub const UPGRADE_REQUIRED: &str = "upgrade_required";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const INTERNAL: &str = "internal";
}

/// Log in with e-mail (or `admin`) and password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// A name for the session list, e.g. `cairn on laptop`.
    pub device: String,
}

/// A new session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// 256 random bits, hex; the server keeps only a hash of it.
    pub token: String,
    pub user: UserProfile,
    /// The user's own space, which records made before the first login join.
    pub personal_space: SpaceId,
    /// Unix milliseconds.
    pub expires_at_ms: u64,
    /// Until the password is changed, every other request is refused.
    pub must_change_password: bool,
}

/// Change the session user's password; the other sessions are revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// One session of the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// A public id of the session (not the token).
    pub id: String,
    pub device: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    /// Whether this is the session making the request.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeSession {
    pub id: String,
}

/// The identity of a server store's history. A new one is made whenever the history
/// may have gone back or been replaced (init, import, restore from a backup, purge of
/// everything): sequence numbers of one epoch mean nothing in another, so a client
/// that sees a new epoch pulls every space from the start and pushes again what it
/// wrote (see `docs/PROTOCOL.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Epoch(pub uuid::Uuid);

impl Epoch {
    /// A fresh, random epoch.
    #[must_use]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for Epoch {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for Epoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

/// Ops for the server. Idempotent by op id: a retry after any failure is safe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<Op>,
}

/// Sent only after every op the server stored is durable. Ops are judged per space
/// and per record: what one space or record refuses is listed in `refused`, and
/// everything else of the push is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The store's epoch: a new one means the server's history was replaced.
    pub epoch: Epoch,
    /// Ops stored now.
    pub stored: u32,
    /// Ops the server already had (an earlier try of this push got through).
    pub duplicates: u32,
    /// Ops not stored, grouped by why.
    pub refused: Vec<Refusal>,
}

/// Ops of a push the server did not store, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub space: SpaceId,
    /// The record, when only its ops are refused; `None` for the whole space.
    pub record: Option<RecordId>,
    pub reason: RefusalReason,
    /// What happened and what to do next, for a person.
    pub message: String,
    /// The refused ops, in the order they were pushed.
    pub ops: Vec<OpId>,
}

/// Why ops were refused: what the client does with them follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// The space does not exist or the user is not a member (the same answer for
    /// both). The ops can never be delivered.
    NotMember,
    /// The user may only read the space. The ops may go out if the role comes back.
    ReadOnly,
    /// An op's record was never created on the server; its creator has not pushed
    /// it (yet). Try again later.
    UnknownRecord,
    /// An op is stamped too far ahead of the server's clock. Try again once the
    /// clock is fixed (or the time has come).
    ClockAhead,
    /// An op breaks a rule (its record lives in another space, a value does not fit
    /// the field, a limit is exceeded). It can never be delivered as it is.
    Invalid,
}

impl RefusalReason {
    /// Whether the same ops may be accepted later without being changed.
    #[must_use]
    pub fn may_pass_later(self) -> bool {
        matches!(
            self,
            Self::ReadOnly | Self::UnknownRecord | Self::ClockAhead
        )
    }
}

/// Where the client is in each space it knows. Spaces it does not list start at 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The epoch the cursors belong to (`None` before the first sync). When it is
    /// not the server's, the cursors are ignored and the answer carries no ops, only
    /// the server's epoch: the client starts over.
    pub epoch: Option<Epoch>,
    pub cursors: Vec<Cursor>,
    /// At most this many ops (the server caps it at [`MAX_PULL_OPS`]).
    pub max_ops: u32,
}

/// The sequence number of the last op a client has of a space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub space: SpaceId,
    pub seq: u64,
}

/// A page of ops after the cursors, and the spaces the user may see now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The store's epoch. When it differs from the request's, `batches` is empty.
    pub epoch: Epoch,
    /// Every space the user is a member of, with the role; a space the client has
    /// that is missing here was taken from the user: the client drops it.
    pub spaces: Vec<SpaceInfo>,
    /// New ops per space, in sequence order, with the cursor after them.
    pub batches: Vec<SpaceOps>,
    /// More ops wait: pull again with the new cursors.
    pub more: bool,
}

/// Ops of one space after a cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaceOps {
    pub space: SpaceId,
    pub ops: Vec<Op>,
    /// The sequence number of the last op in `ops`: the client's next cursor.
    pub cursor: u64,
}

/// A space and the requesting user's role in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceInfo {
    pub space: Space,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceList {
    pub spaces: Vec<SpaceInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSpace {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameSpace {
    pub space: SpaceId,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceRef {
    pub space: SpaceId,
}

/// Add a member, change a member's role, or (with `role: None`) remove a member.
/// Owners only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMember {
    pub space: SpaceId,
    pub email: String,
    pub role: Option<Role>,
}

/// One member of a space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user: UserProfile,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    pub space: SpaceId,
    pub members: Vec<Member>,
}

/// One login to the caller's account, successful or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInfo {
    /// Unix milliseconds.
    pub at_ms: u64,
    pub success: bool,
    /// The client's network: IPv4 /24 or IPv6 /48, e.g. `192.0.2.0/24`.
    pub address: Option<String>,
    pub device: String,
}

/// The caller's login records, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginList {
    pub logins: Vec<LoginInfo>,
}

/// Most bytes of file contents in one export page (one larger file comes alone).
pub const MAX_EXPORT_PAGE_BYTES: usize = 16 << 20;

/// Everything the server holds about the caller (the right of access), as the
/// files of a `cairn-server export --user` of the caller, a page at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// Index of the first file wanted: 0, then the `next` of the previous page.
    pub from: u32,
}

/// One file of an export, its path relative to the export directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    pub path: String,
    pub contents: String,
}

/// Files `from..` of the export, at most [`MAX_EXPORT_PAGE_BYTES`] of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPage {
    pub files: Vec<ExportFile>,
    /// How many files the whole export has.
    pub total: u32,
    /// Where the next page starts; `None` after the last file.
    pub next: Option<u32>,
}
