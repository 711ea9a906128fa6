//! Calls to the server outside sync rounds: the privacy notice and the notification
//! settings, which live only on the server. They run on a thread of their own, one at
//! a time in the order asked (two toggles reach the server as they were pressed),
//! because a call may wait on the network for many seconds and the screen must not;
//! each answers as an [`Action::Server`]. Every call reads the session file first,
//! as a sync round does, so a login or logout in another shell counts at once.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use cairn_common::api::consent::AcceptNotice;
use cairn_common::api::{Empty, endpoints};

use super::action::{Action, ServerAnswer, ServerCall, SyncProblem};
use crate::sync::{Client, FailureKind, Session, SyncError};

/// How long one call may take: someone is looking at a popup that waits for it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The thread that makes the calls. It ends when this is dropped.
pub struct ServerCalls {
    calls: Sender<ServerCall>,
}

impl ServerCalls {
    /// Starts the thread for the session of `data_dir`; answers go to `replies`.
    #[must_use]
    pub fn spawn(data_dir: PathBuf, replies: Sender<Action>) -> Self {
        let (calls, inbox) = channel::<ServerCall>();
        std::thread::spawn(move || {
            for call in inbox {
                if replies
                    .send(Action::Server(answer(&data_dir, call)))
                    .is_err()
                {
                    // The UI is gone: nobody waits for answers any more.
                    return;
                }
            }
        });
        Self { calls }
    }

    /// Queues a call. Should the thread be gone, the answer is a failure to show
    /// (never a wait on the network here, on the UI's thread).
    #[must_use]
    pub fn send(&self, call: ServerCall) -> Option<Action> {
        let failed = self.calls.send(call).err()?;
        let problem = SyncProblem::Failed(super::text::SERVER_CALLS_GONE.to_owned());
        Some(Action::Server(failed_answer(&failed.0, problem)))
    }
}

/// Makes one call with the session of `data_dir` and reads the server's answer.
#[must_use]
pub fn answer(data_dir: &Path, call: ServerCall) -> ServerAnswer {
    let client = match connect(data_dir) {
        Ok(client) => client,
        Err(problem) => return failed_answer(&call, problem),
    };
    let problem = |e: SyncError| problem_of(&e);
    match call {
        ServerCall::FetchNotice => ServerAnswer::Notice(
            client
                .call::<endpoints::PrivacyNotice>(&Empty)
                .map_err(problem),
        ),
        ServerCall::AcceptNotice { version } => ServerAnswer::NoticeAccepted(
            client
                .call::<endpoints::ConsentAccept>(&AcceptNotice {
                    version: version.clone(),
                })
                .map(|Empty| version)
                .map_err(problem),
        ),
        ServerCall::LoadNotifications => ServerAnswer::Notifications(
            client
                .call::<endpoints::Notifications>(&Empty)
                .map_err(problem),
        ),
        ServerCall::SetNotifications(change) => ServerAnswer::Notifications(
            client
                .call::<endpoints::NotificationsSet>(&change)
                .map_err(problem),
        ),
    }
}

/// The answer to `call` when it could not be made.
fn failed_answer(call: &ServerCall, problem: SyncProblem) -> ServerAnswer {
    match call {
        ServerCall::FetchNotice => ServerAnswer::Notice(Err(problem)),
        ServerCall::AcceptNotice { .. } => ServerAnswer::NoticeAccepted(Err(problem)),
        ServerCall::LoadNotifications | ServerCall::SetNotifications(_) => {
            ServerAnswer::Notifications(Err(problem))
        }
    }
}

/// A client for the session of `data_dir`.
fn connect(data_dir: &Path) -> Result<Client, SyncProblem> {
    match Session::load(data_dir) {
        Ok(Some(session)) => session
            .client()
            .map(|client| client.with_timeout(CALL_TIMEOUT))
            .map_err(|e| problem_of(&e)),
        Ok(None) => Err(SyncProblem::NotLoggedIn),
        Err(e) => Err(problem_of(&e)),
    }
}

/// What the app is told of a failed round or call. (No session at all is found
/// before a call, and is [`SyncProblem::NotLoggedIn`] there.)
#[must_use]
pub fn problem_of(error: &SyncError) -> SyncProblem {
    match error {
        SyncError::Consent { .. } => SyncProblem::ConsentRequired,
        e if e.kind() == FailureKind::Offline => SyncProblem::Offline,
        e => SyncProblem::Failed(e.short()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a session every call answers "not logged in" at once, in the variant
    /// of its kind, and never touches the network.
    #[test]
    fn without_a_session_calls_say_not_logged_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            answer(dir.path(), ServerCall::FetchNotice),
            ServerAnswer::Notice(Err(SyncProblem::NotLoggedIn))
        );
        let accept = ServerCall::AcceptNotice {
            version: "2".into(),
        };
        assert_eq!(
            answer(dir.path(), accept),
            ServerAnswer::NoticeAccepted(Err(SyncProblem::NotLoggedIn))
        );
        let set = ServerCall::SetNotifications(
            cairn_common::api::notifications::SetNotifications::all(true),
        );
        assert_eq!(
            answer(dir.path(), set),
            ServerAnswer::Notifications(Err(SyncProblem::NotLoggedIn))
        );
    }

    /// A damaged session file is a failure that says to log in again, not a panic.
    #[test]
    fn a_damaged_session_is_a_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(crate::sync::session_path(dir.path()), "server = 3").expect("write");
        match answer(dir.path(), ServerCall::LoadNotifications) {
            ServerAnswer::Notifications(Err(SyncProblem::Failed(reason))) => {
                assert!(reason.contains("cairn login"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The refusal for a changed notice is told apart from other refusals.
    #[test]
    fn consent_is_its_own_problem() {
        let consent = SyncError::Consent {
            message: "accept the new notice".into(),
        };
        assert_eq!(problem_of(&consent), SyncProblem::ConsentRequired);
        let offline = SyncError::Offline {
            server: "https://x".into(),
            reason: "refused".into(),
        };
        assert_eq!(problem_of(&offline), SyncProblem::Offline);
        let refused = SyncError::Refused {
            status: 400,
            code: "bad_request".into(),
            message: "the privacy notice is now version 3".into(),
        };
        assert_eq!(
            problem_of(&refused),
            SyncProblem::Failed("the privacy notice is now version 3".into())
        );
    }
}
