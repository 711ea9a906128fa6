//! Sync in the background, for the TUI: a thread that runs a round at start, then on
//! an interval, when asked (the `s` key), and when `cairn sync` asks over `tui.sock`.
//! It reads the session file before every round, so a login, `cairn passwd` or
//! `cairn logout` in another shell takes effect without a restart; with no session
//! it stays quiet. Progress goes to a callback, which the TUI turns into actions.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::socket::{self, Reply};
use super::{Failure, Session, SyncError, SyncSummary, sync_round};
use crate::replica::Replica;

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
    Socket(socket::Request),
    Stop,
}

/// The running background sync.
pub struct Background {
    messages: Sender<Message>,
    thread: JoinHandle<()>,
    #[cfg(unix)]
    _listener: Option<socket::Listener>,
}

impl Background {
    /// Starts the thread on `replica` (whose directory holds the session file and the
    /// socket); the first round runs at once, then every `interval`.
    pub fn start(
        replica: Replica,
        interval: Duration,
        report: impl Fn(Event) + Send + 'static,
    ) -> Self {
        let (messages, inbox) = channel();
        let data_dir = replica.dir().to_owned();
        #[cfg(unix)]
        let listener = {
            let (requests, incoming) = channel();
            let forward = messages.clone();
            std::thread::spawn(move || {
                for request in incoming {
                    if forward.send(Message::Socket(request)).is_err() {
                        break;
                    }
                }
            });
            // Without the socket the TUI still syncs; only cron's requests go unanswered.
            socket::Listener::start(&data_dir, requests).ok()
        };
        let thread =
            std::thread::spawn(move || run(&replica, &data_dir, interval, &inbox, &report));
        Self {
            messages,
            thread,
            #[cfg(unix)]
            _listener: listener,
        }
    }

    /// Asks for a round now (ignored while one runs; it has just begun anyway).
    pub fn sync_now(&self) {
        let _ = self.messages.send(Message::Now);
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
            Ok(Message::Socket(request)) => Some(request.reply),
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
