//! Sync in the background, for the TUI: a thread that runs a round at start, then on
//! an interval, when asked (the `s` key), and when `cairn sync` asks over `tui.sock`
//! (through a [`SyncHandle`]).
//! It reads the session file before every round, so a login, `cairn passwd` or
//! `cairn logout` in another shell takes effect without a restart; with no session
//! it stays quiet. Progress goes to a callback, which the TUI turns into actions.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Failure, FailureKind, Session, SyncError, SyncSummary, sync_round};
use crate::replica::Replica;

/// The outcome of a round for someone who waited for it: `cairn sync` over
/// `tui.sock` gets it from the TUI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// One reply per request goes over a channel: boxing the summary would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Reply {
    Synced(SyncSummary),
    Failed(Failure),
}

/// What the background thread reports.
// One event per round goes over a channel: boxing the summary would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    /// No session file: nothing to sync (an offline-only user).
    NoSession,
    /// A round began.
    Started,
    /// A round ended.
    Finished(Result<SyncSummary, SyncError>),
}

enum Message {
    Now,
    /// A round for someone who waits for its outcome.
    Asked(Sender<Reply>),
    Stop,
}

/// The running background sync.
pub struct Background {
    messages: Sender<Message>,
    thread: JoinHandle<()>,
}

/// Asks the background thread for a round and waits for its outcome (what `cairn
/// sync` over `tui.sock` gets). Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct SyncHandle {
    messages: Sender<Message>,
}

impl SyncHandle {
    /// Runs a round on the background thread and returns its outcome; waits at most
    /// `wait` (a failure then says to try again).
    #[must_use]
    pub fn sync(&self, wait: Duration) -> Reply {
        let (reply, answer) = channel();
        let outcome = if self.messages.send(Message::Asked(reply)).is_ok() {
            answer.recv_timeout(wait).ok()
        } else {
            None
        };
        outcome.unwrap_or_else(|| {
            Reply::Failed(Failure {
                kind: FailureKind::Local,
                message: "the running cairn is closing or busy; run `cairn sync` again".into(),
            })
        })
    }
}

impl Background {
    /// Starts the thread on `replica` (whose directory holds the session file); the
    /// first round runs at once, then every `interval`.
    pub fn start(
        replica: Replica,
        interval: Duration,
        report: impl Fn(Event) + Send + 'static,
    ) -> Self {
        let (messages, inbox) = channel();
        let data_dir = replica.dir().to_owned();
        let thread =
            std::thread::spawn(move || run(&replica, &data_dir, interval, &inbox, &report));
        Self { messages, thread }
    }

    /// Asks for a round now (ignored while one runs; it has just begun anyway).
    pub fn sync_now(&self) {
        let _ = self.messages.send(Message::Now);
    }

    /// A handle for rounds whose outcome someone waits for.
    #[must_use]
    pub fn handle(&self) -> SyncHandle {
        SyncHandle {
            messages: self.messages.clone(),
        }
    }

    /// Stops the thread, waiting at most `wait` for a round in flight: what it
    /// applied is durable batch by batch, so leaving mid-round loses nothing.
    pub fn stop(self, wait: Duration) {
        let _ = self.messages.send(Message::Stop);
        let deadline = Instant::now() + wait;
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
        }
    }
}

fn run(
    replica: &Replica,
    data_dir: &Path,
    interval: Duration,
    inbox: &Receiver<Message>,
    report: &dyn Fn(Event),
) {
    let mut next = Instant::now();
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        let reply = match inbox.recv_timeout(wait) {
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Message::Now) | Err(RecvTimeoutError::Timeout) => None,
            Ok(Message::Asked(reply)) => Some(reply),
        };
        let answer = round(replica, data_dir, reply.is_some(), report);
        if let Some(reply) = reply {
            let _ = reply.send(answer);
        }
        // Requests that piled up during the round are answered by the next one.
        next = Instant::now() + interval;
    }
}

fn round(replica: &Replica, data_dir: &Path, count: bool, report: &dyn Fn(Event)) -> Reply {
    let session = match Session::load(data_dir) {
        Ok(Some(session)) => session,
        Ok(None) => {
            report(Event::NoSession);
            return Reply::Failed(Failure::from(&SyncError::NotLoggedIn));
        }
        Err(e) => {
            let reply = Reply::Failed(Failure::from(&e));
            report(Event::Finished(Err(e)));
            return reply;
        }
    };
    report(Event::Started);
    let result = session
        .client()
        .and_then(|client| sync_round(replica, &client, count));
    let reply = match &result {
        Ok(summary) => Reply::Synced(summary.clone()),
        Err(e) => Reply::Failed(Failure::from(e)),
    };
    report(Event::Finished(result));
    reply
}
