//! `tui.sock`: while the TUI runs it holds the replica, so `cairn sync` (from cron, say)
//! cannot open it. Instead it connects to this Unix socket in the data directory and
//! asks the running TUI to sync; the TUI answers with the round's summary or failure,
//! which `cairn sync` prints exactly as if it had synced itself.
//!
//! The protocol is one line each way: the request `sync`, the answer one line of JSON
//! ([`Reply`]). The socket is the owner's only (0600, in the 0700 data directory),
//! removed when the TUI exits; a stale one left by a crash is replaced at the next
//! start (the TUI holds the replica lock, so no other TUI can be listening on it).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Failure, SyncSummary};

const FILE: &str = "tui.sock";
/// The request line.
const SYNC: &str = "sync";
/// How long `cairn sync` waits for the TUI's round (it may be pushing a lot).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// The TUI's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// One reply per request goes over a channel: boxing the summary would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Reply {
    Synced(SyncSummary),
    Failed(Failure),
}

/// A request that came in on the socket: the TUI's sync thread runs a round and
/// answers on `reply`.
#[derive(Debug)]
pub struct Request {
    pub reply: Sender<Reply>,
}

/// Where the socket of a data directory lives.
#[must_use]
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Why no running TUI could be asked.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(
        "another cairn holds the data directory but no TUI answered on {path:?} ({reason}); \
         close the other cairn and run `cairn sync` again"
    )]
    NoAnswer { path: PathBuf, reason: String },
    #[error(
        "Unix sockets are not available on this system; close the TUI and run `cairn sync` again"
    )]
    Unsupported,
}

#[cfg(unix)]
mod imp {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::sync::mpsc::{Sender, channel};

    use super::{ANSWER_TIMEOUT, Reply, Request, SYNC, SocketError};

    /// The listening socket; removes its file when dropped.
    #[derive(Debug)]
    pub struct Listener {
        path: PathBuf,
    }

    impl Listener {
        /// Listens on the data directory's socket and hands each request to `requests`.
        ///
        /// # Errors
        /// The socket cannot be created (the TUI runs on without it).
        pub fn start(data_dir: &Path, requests: Sender<Request>) -> std::io::Result<Self> {
            use std::os::unix::fs::PermissionsExt;
            let path = super::path(data_dir);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let listener = UnixListener::bind(&path)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let requests = requests.clone();
                    // One thread per caller: a slow one must not hold up the next.
                    std::thread::spawn(move || serve(stream, &requests));
                }
            });
            Ok(Self { path })
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            // Nothing to do if it is already gone.
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn serve(stream: UnixStream, requests: &Sender<Request>) {
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let mut line = String::new();
        let mut reader = BufReader::new(&stream).take(64);
        if reader.read_line(&mut line).is_err() || line.trim() != SYNC {
            return;
        }
        let (reply, answer) = channel();
        let result = if requests.send(Request { reply }).is_ok() {
            answer.recv_timeout(ANSWER_TIMEOUT).ok()
        } else {
            None
        };
        let reply = result.unwrap_or_else(|| {
            Reply::Failed(crate::sync::Failure {
                kind: crate::sync::FailureKind::Local,
                message: "the running cairn is closing; run `cairn sync` again".into(),
            })
        });
        if let Ok(json) = serde_json::to_string(&reply) {
            let mut stream = &stream;
            let _ = writeln!(stream, "{json}");
        }
    }

    use std::io::Read as _;

    /// Asks the TUI listening in `data_dir` to sync and returns its answer.
    ///
    /// # Errors
    /// [`SocketError::NoAnswer`] when nothing listens or the answer is unreadable.
    pub fn ask(data_dir: &Path) -> Result<Reply, SocketError> {
        let path = super::path(data_dir);
        let fail = |reason: String| SocketError::NoAnswer {
            path: path.clone(),
            reason,
        };
        let mut stream = UnixStream::connect(&path).map_err(|e| fail(e.to_string()))?;
        stream
            .set_read_timeout(Some(ANSWER_TIMEOUT))
            .map_err(|e| fail(e.to_string()))?;
        writeln!(stream, "{SYNC}").map_err(|e| fail(e.to_string()))?;
        let mut line = String::new();
        BufReader::new(&stream)
            .take(1 << 20)
            .read_line(&mut line)
            .map_err(|e| fail(e.to_string()))?;
        serde_json::from_str(line.trim()).map_err(|e| fail(format!("unreadable answer: {e}")))
    }
}

#[cfg(unix)]
pub use imp::{Listener, ask};

/// Without Unix sockets there is no TUI to ask.
///
/// # Errors
/// Always [`SocketError::Unsupported`].
#[cfg(not(unix))]
pub fn ask(_data_dir: &Path) -> Result<Reply, SocketError> {
    Err(SocketError::Unsupported)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A request on the socket reaches the handler, its reply reaches the caller, the
    /// socket is 0600, a stale file is replaced and the file goes with the listener.
    #[test]
    fn round_trip_and_cleanup() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(path(dir.path()), b"stale").expect("stale file");
        let (tx, rx) = std::sync::mpsc::channel::<Request>();
        let listener = Listener::start(dir.path(), tx).expect("listen");
        let mode = std::fs::metadata(path(dir.path()))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let handler = std::thread::spawn(move || {
            let request = rx.recv().expect("request");
            let summary = SyncSummary {
                pushed: 3,
                ..SyncSummary::default()
            };
            request.reply.send(Reply::Synced(summary)).expect("reply");
        });
        let reply = ask(dir.path()).expect("answer");
        handler.join().expect("handler");
        assert!(matches!(reply, Reply::Synced(s) if s.pushed == 3));
        drop(listener);
        assert!(!path(dir.path()).exists());
        let err = ask(dir.path()).expect_err("nobody listens");
        assert!(err.to_string().contains("no TUI answered"), "{err}");
    }
}
