//! Every endpoint of the protocol, each defined once: its method, its path, and the
//! types of its request and response bodies. The client calls endpoints by these
//! types, the server routes them, the usage statistics count them under their
//! paths, and a test keeps the table in `docs/PROTOCOL.md` equal to them, so none
//! of these can disagree with another.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::consent::{AcceptNotice, ConsentList, Notice, WithdrawConsent};
use super::files::{FileRef, FileStatus};
use super::invitations::{
    CreateInvitation, ForgotPassword, InvitationInfo, InvitationList, JoinCode, JoinDetails,
    JoinRequest, ResetPassword, RevokeInvitation,
};
use super::notifications::{NotificationSettings, SetNotifications};
use super::{
    CreateSpace, Empty, ExportPage, ExportRequest, LoginList, LoginRequest, LoginResponse,
    MemberList, PasswordChange, PullRequest, PullResponse, PushRequest, PushResponse, RenameSpace,
    RevokeSession, SessionList, SetMember, SpaceInfo, SpaceList, SpaceRef,
};

/// An HTTP method of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// The method's name on the wire, e.g. `POST`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One endpoint: a [`Request`](Endpoint::Request) body sent as `METHOD PATH` in the
/// [`codec`](crate::codec) format, a [`Response`](Endpoint::Response) body back.
pub trait Endpoint {
    const METHOD: Method;
    /// The exact path, e.g. `/v1/push`.
    const PATH: &'static str;
    type Request: Serialize + DeserializeOwned + Send + 'static;
    type Response: Serialize + DeserializeOwned + Send + 'static;
}

/// One row of the table of endpoints, the types by name: what the docs list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub method: Method,
    pub path: &'static str,
    pub request: &'static str,
    pub response: &'static str,
}

/// `GET /healthz`: plain text `ok`, or `degraded: …` while backups fail; no
/// session, not in the codec format.
pub const HEALTHZ: &str = "/healthz";
/// `GET /metrics`: the usage statistics as Prometheus text, for a server admin's
/// session or a loopback peer; not in the codec format.
pub const METRICS: &str = "/metrics";
/// `GET /v1/notifications/stop?user=…&token=…`: the link in every notification
/// mail, a small HTML page whose button `POST`s the same query (so a mail
/// scanner that follows links turns nothing off); the `POST` turns all of the
/// user's notifications off. No session, not in the codec format.
pub const STOP_MAIL: &str = "/v1/notifications/stop";
/// `POST /v1/files/upload?space=…&sha256=…&size=…&offset=…`: a file's content
/// from `offset` on as a stream of checked frames (see [`super::files`]);
/// answers a [`FileStatus`].
pub const FILE_UPLOAD: &str = "/v1/files/upload";
/// `GET /v1/files/download?space=…&sha256=…`: a file's content, resumable with
/// `Range: bytes=N-` (see [`super::files`]).
pub const FILE_DOWNLOAD: &str = "/v1/files/download";

/// Defines each endpoint as a unit type implementing [`Endpoint`], and the lists
/// of them ([`TABLE`], [`PATHS`]).
macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $name:ident: $method:ident $path:literal, $request:ident => $response:ident;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $name;

            impl Endpoint for $name {
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                type Request = $request;
                type Response = $response;
            }
        )*

        /// Every codec endpoint, in the order of the docs' table.
        pub const TABLE: &[Row] = &[$(
            Row {
                method: Method::$method,
                path: $path,
                request: stringify!($request),
                response: stringify!($response),
            },
        )*];

        /// Every path the server answers: the endpoints', then [`HEALTHZ`],
        /// [`METRICS`], [`STOP_MAIL`], [`FILE_UPLOAD`] and [`FILE_DOWNLOAD`].
        pub const PATHS: &[&str] = &[$($path,)* HEALTHZ, METRICS, STOP_MAIL, FILE_UPLOAD, FILE_DOWNLOAD];
    };
}

endpoints! {
    /// Log in with e-mail (or `admin`) and password; the only call without a session.
    Login: Post "/v1/login", LoginRequest => LoginResponse;
    /// End the calling session.
    Logout: Post "/v1/logout", Empty => Empty;
    /// Change the caller's password; the other sessions end.
    Password: Post "/v1/password", PasswordChange => Empty;
    /// The caller's sessions.
    Sessions: Post "/v1/sessions", Empty => SessionList;
    /// End one of the caller's sessions.
    SessionsRevoke: Post "/v1/sessions/revoke", RevokeSession => Empty;
    /// Ops for the server.
    Push: Post "/v1/push", PushRequest => PushResponse;
    /// Ops after the client's cursors, and the spaces the caller may see.
    Pull: Post "/v1/pull", PullRequest => PullResponse;
    /// The caller's spaces.
    Spaces: Post "/v1/spaces", Empty => SpaceList;
    /// A new shared space the caller owns.
    SpacesCreate: Post "/v1/spaces/create", CreateSpace => SpaceInfo;
    /// Rename a space (owners only).
    SpacesRename: Post "/v1/spaces/rename", RenameSpace => SpaceInfo;
    /// The members of a space.
    SpacesMembers: Post "/v1/spaces/members", SpaceRef => MemberList;
    /// Add, change or remove a member (owners only).
    SpacesMember: Post "/v1/spaces/member", SetMember => MemberList;
    /// Everything the server holds about the caller, a page of files at a time.
    Export: Post "/v1/export", ExportRequest => ExportPage;
    /// The logins to the caller's account.
    AccountLogins: Post "/v1/account/logins", Empty => LoginList;
    /// The server's privacy notice (no session needed).
    PrivacyNotice: Post "/v1/privacy/notice", Empty => Notice;
    /// Accept the current privacy notice.
    ConsentAccept: Post "/v1/consent/accept", AcceptNotice => Empty;
    /// Withdraw consent: the account's access ends.
    ConsentWithdraw: Post "/v1/consent/withdraw", WithdrawConsent => Empty;
    /// The consent records of a space's members (owners only).
    Consents: Post "/v1/consent/list", SpaceRef => ConsentList;
    /// Invite an e-mail address to a space (owners only); the code goes by mail.
    InvitationsCreate: Post "/v1/invitations/create", CreateInvitation => InvitationInfo;
    /// A space's invitations (owners only).
    Invitations: Post "/v1/invitations", SpaceRef => InvitationList;
    /// Revoke an open invitation (owners only).
    InvitationsRevoke: Post "/v1/invitations/revoke", RevokeInvitation => InvitationList;
    /// What an invitation code is for, and the notice to accept (no session).
    JoinPreview: Post "/v1/join/preview", JoinCode => JoinDetails;
    /// Join with an invitation code (no session): a session of the new or
    /// existing account.
    Join: Post "/v1/join", JoinRequest => LoginResponse;
    /// Mail a one-time code to choose a new password (no session; the same answer
    /// whether or not the account exists).
    PasswordForgot: Post "/v1/password/forgot", ForgotPassword => Empty;
    /// A new password with the mailed code (no session); every session ends.
    PasswordReset: Post "/v1/password/reset", ResetPassword => Empty;
    /// Which mails the caller gets (all off until turned on).
    Notifications: Post "/v1/notifications", Empty => NotificationSettings;
    /// Turn kinds of mail on or off for the caller.
    NotificationsSet: Post "/v1/notifications/set", SetNotifications => NotificationSettings;
    /// How much of a file's content the server holds (members only).
    FilesStatus: Post "/v1/files/status", FileRef => FileStatus;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No two endpoints share a path, and every path is absolute with no trailing
    /// slash (the server matches paths exactly).
    #[test]
    fn paths_are_distinct_and_exact() {
        let mut seen = std::collections::HashSet::new();
        for path in PATHS {
            assert!(seen.insert(path), "{path} twice");
            assert!(path.starts_with('/') && !path.ends_with('/'), "{path}");
        }
        assert_eq!(PATHS.len(), TABLE.len() + 5);
        assert_eq!(Push::PATH, "/v1/push");
    }
}
