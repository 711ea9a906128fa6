//! The strings of what lives only on the server: the privacy notice, the
//! notification settings, and what is said when the server cannot be asked.

use crate::tui::action::SyncProblem;
use crate::tui::notifications::Kind;

// Status bar and messages.
pub const SYNC_PAUSED_FOR_NOTICE: &str =
    "sync paused: accept the privacy notice (: privacy notice)";
pub const NOTICE_FETCHING: &str = "Fetching the privacy notice…";
pub const NOTICE_NOT_ACCEPTED: &str = "Privacy notice not accepted: nothing syncs until you \
     accept it (: privacy notice). Your changes stay saved here.";
pub const SERVER_CALLS_GONE: &str =
    "the thread that talks to the server stopped (a bug: please report it); restart cairn";

/// After the server took the acceptance.
#[must_use]
pub fn notice_accepted(version: &str) -> String {
    format!("Privacy notice version {version} accepted; syncing now.")
}

// The notice popup.
pub const NOTICE_BLOCKING: &str = "The server's privacy notice has changed: nothing syncs \
     until you accept it. Your changes stay saved here.";
pub const NOTICE_SENDING: &str = "accepting…";
pub const NOTICE_ACCEPT_HINT: &str = "accept";
pub const NOTICE_CLOSE_HINT: &str = "not now";
pub const SCROLL_HINT: &str = "scroll";
pub const PAGE_HINT: &str = "page";

#[must_use]
pub fn notice_title(version: &str) -> String {
    format!(" Privacy notice — version {version} ")
}

#[must_use]
pub fn notice_question(version: &str) -> String {
    format!("Do you accept this privacy notice (version {version})?")
}

#[must_use]
pub fn notice_failed(reason: &str) -> String {
    format!("Not accepted: {reason}")
}

/// Which lines of a scrolled text are shown, for a popup's bottom border.
#[must_use]
pub fn lines_shown(first: usize, last: usize, total: usize) -> String {
    format!(" {first}–{last} of {total} ")
}

// The notifications popup.
pub const NOTIFICATIONS_TITLE: &str = " Notifications — the mails the server sends you ";
pub const NOTIFICATIONS_INTRO: &str =
    "Kept on the server, for every device. All are off until you turn them on.";
pub const NOTIFICATIONS_LOADING: &str = "Asking the server…";
pub const NOTIFICATIONS_SAVING: &str = "saving…";
pub const MOVE_HINT: &str = "move";
pub const TOGGLE_HINT: &str = "on/off";
pub const CLOSE_HINT: &str = "close";

/// A kind's name and what it sends, as `cairn account notifications` says them.
#[must_use]
pub fn notification_kind(kind: Kind) -> (&'static str, &'static str) {
    (kind.name(), kind.describe())
}

/// A kind's state, the same width either way.
#[must_use]
pub fn switch(on: bool) -> &'static str {
    if on { "[on] " } else { "[off]" }
}

#[must_use]
pub fn notifications_summary(any: bool) -> &'static str {
    if any {
        "Every mail says how to stop it."
    } else {
        "No notification mail is sent to you."
    }
}

// When the server cannot be asked.
pub const NOTIFICATIONS_WHERE: &str = "Notifications are kept";
pub const NOTICE_WHERE: &str = "The privacy notice is kept";

/// Why something kept on the server (`subject`, e.g. [`NOTIFICATIONS_WHERE`]) cannot
/// be shown or changed now, and what to do.
#[must_use]
pub fn server_problem(problem: &SyncProblem, subject: &str) -> String {
    match problem {
        SyncProblem::NotLoggedIn => format!(
            "{subject} on the server: log in first (`cairn login https://SERVER --email YOU` \
             in a shell)."
        ),
        SyncProblem::Offline => {
            format!("{subject} on the server, which cannot be reached now: try again when online.")
        }
        SyncProblem::ConsentRequired => {
            format!("{subject} on the server, which asks you to accept its privacy notice first.")
        }
        SyncProblem::Failed(reason) => format!("{subject} on the server, which said: {reason}"),
    }
}

/// A short reason for a call that failed, e.g. after "Not accepted: ".
#[must_use]
pub fn problem_reason(problem: &SyncProblem) -> String {
    match problem {
        SyncProblem::NotLoggedIn => "not logged in; run `cairn login` in a shell".to_owned(),
        SyncProblem::Offline => {
            "the server cannot be reached; try again when online (y)".to_owned()
        }
        SyncProblem::ConsentRequired => "the server still asks for the notice".to_owned(),
        SyncProblem::Failed(reason) => reason.clone(),
    }
}

// Help: the palette's commands about the server.
pub const HELP_SERVER_HEADING: &str = "On the server (: then the name)";
pub const HELP_SERVER: &[(&str, &str)] = &[
    (
        "notifications",
        "which mails the server sends you: due, follow-ups, invitations",
    ),
    (
        "privacy notice",
        "read the server's privacy notice and accept it (it also shows when sync needs it)",
    ),
];
