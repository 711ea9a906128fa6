//! `tui.sock`: while the TUI runs it holds the replica, so no other `cairn` can open
//! it. Instead they connect to this Unix socket in the data directory and ask the
//! running TUI: `cairn sync` asks it to sync, every command on the replica (`add`,
//! `list`, `export`, …) asks it to run the command on its replica. The TUI answers
//! with the round's summary, or with what the command printed and its exit status,
//! which the caller prints exactly as if it had done the work itself.
//!
//! The protocol (one request line, answer frames, versions and limits) is in
//! `protocol.rs`; this file moves it over the socket. The socket is the owner's only
//! (0600, in the 0700 data directory), removed when the TUI exits; a stale one left
//! by a crash is replaced at the next start (the TUI holds the replica lock, so no
//! other TUI can be listening on it).

pub mod protocol;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use protocol::{Output, Reply, Request, Run};

const FILE: &str = "tui.sock";
/// How long the TUI waits for a request line: a caller writes it as soon as it connects.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the TUI waits for a caller that stopped reading its answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a caller waits for the answer: a sync round may push a lot, an export or
/// an import of a large replica takes a while.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);
/// Requests served at once; more are refused with "busy" (each takes a thread).
const MAX_CONNECTIONS: usize = 16;

/// What the TUI does with requests that arrive on the socket. Each runs on the
/// connection's own thread, so a slow one holds up neither the screen nor the next.
pub trait Handler: Send + Sync + 'static {
    /// Runs a sync round and returns its outcome.
    fn sync(&self) -> Reply;
    /// Runs a command and returns what it printed.
    fn run(&self, run: Run) -> Output;
}

/// Where the socket of a data directory lives.
#[must_use]
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Why the running TUI gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(
        "another cairn is already using {dir:?} and no TUI answered on {path:?} ({reason}); \
         close the other cairn and run the command again"
    )]
    NoAnswer {
        dir: PathBuf,
        path: PathBuf,
        reason: String,
    },
    /// The request was not sent or not run; the message says what to do.
    #[error("{0}")]
    Refused(String),
    #[error(
        "the running TUI stopped answering ({reason}); it may have quit, or be an older cairn: \
         if the command changes records, check whether it did (`cairn list`), then close the \
         TUI and run the command again"
    )]
    Cut { reason: String },
    #[error(
        "Unix sockets are not available on this system; close the TUI and run the command again"
    )]
    Unsupported,
}

#[cfg(unix)]
mod imp {
    use std::io::{BufRead, BufReader, BufWriter, Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::protocol::{self, Collector, Frame, MAX_FRAME, MAX_REQUEST};
    use super::{
        ANSWER_TIMEOUT, Handler, MAX_CONNECTIONS, Output, REQUEST_TIMEOUT, Reply, Request, Run,
        SocketError, WRITE_TIMEOUT,
    };

    /// The listening socket; removes its file when dropped.
    pub struct Listener {
        path: PathBuf,
        /// Connections being served, shared with their threads.
        active: Arc<AtomicUsize>,
    }

    impl std::fmt::Debug for Listener {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Listener")
                .field("path", &self.path)
                .finish()
        }
    }

    /// Counts a connection while it is served, even if its handler panics.
    struct Active(Arc<AtomicUsize>);

    impl Drop for Active {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Listener {
        /// Listens on the data directory's socket and hands each request to `handler`.
        ///
        /// # Errors
        /// The socket cannot be created (the TUI runs on without it).
        pub fn start(data_dir: &Path, handler: Arc<dyn Handler>) -> std::io::Result<Self> {
            use std::os::unix::fs::PermissionsExt;
            let path = super::path(data_dir);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let listener = UnixListener::bind(&path)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            let active = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&active);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    if counter.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                        counter.fetch_sub(1, Ordering::SeqCst);
                        refuse_busy(&stream);
                        continue;
                    }
                    let guard = Active(Arc::clone(&counter));
                    let handler = Arc::clone(&handler);
                    std::thread::spawn(move || {
                        let _guard = guard;
                        serve(&stream, handler.as_ref());
                    });
                }
            });
            Ok(Self { path, active })
        }

        /// Stops taking requests (the socket file goes) and waits at most `wait` for
        /// those being served: a command that is committing gets to answer its caller.
        pub fn finish(self, wait: Duration) {
            // Nothing to do if it is already gone.
            let _ = std::fs::remove_file(&self.path);
            let deadline = Instant::now() + wait;
            while self.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            // Nothing to do if it is already gone.
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Answers a connection over the limit at once; its request is not read.
    fn refuse_busy(stream: &UnixStream) {
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let frame = Frame::Refused(format!(
            "the running TUI is busy with {MAX_CONNECTIONS} other requests; try again in a moment"
        ));
        let mut stream = stream;
        let _ = stream.write_all(protocol::encode_frame(&frame).as_bytes());
    }

    /// Reads one request, runs it and writes the answer.
    fn serve(stream: &UnixStream, handler: &dyn Handler) {
        let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        let mut reader = BufReader::new(stream);
        let frames = match read_line(&mut reader, MAX_REQUEST) {
            Err(e) => vec![Frame::Refused(format!(
                "the running TUI could not read the request ({e}); run the command again"
            ))],
            Ok(line) => match protocol::decode_request(&line) {
                Err(message) => vec![Frame::Refused(message)],
                Ok(Request::Sync) => vec![Frame::Sync(handler.sync())],
                Ok(Request::Run(run)) => protocol::frames(&handler.run(run)),
            },
        };
        let mut writer = BufWriter::new(stream);
        for frame in &frames {
            // A caller that went away gets nothing more; the work is done either way.
            if writer
                .write_all(protocol::encode_frame(frame).as_bytes())
                .is_err()
            {
                return;
            }
        }
        let _ = writer.flush();
    }

    /// One line of at most `max` bytes, without its newline; `Ok("")` at the end.
    fn read_line(reader: &mut impl BufRead, max: usize) -> std::io::Result<String> {
        let mut line = String::new();
        reader
            .take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .read_line(&mut line)?;
        if line.len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {max} bytes"),
            ));
        }
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(line)
    }

    /// Sends `request` to the TUI listening in `data_dir` and hands each frame of the
    /// answer to `take` until it returns the result.
    fn exchange<T>(
        data_dir: &Path,
        request: &Request,
        mut take: impl FnMut(Frame) -> Result<Option<T>, String>,
    ) -> Result<T, SocketError> {
        let line = protocol::encode_request(request).map_err(SocketError::Refused)?;
        let path = super::path(data_dir);
        let no_answer = |reason: String| SocketError::NoAnswer {
            dir: data_dir.to_owned(),
            path: path.clone(),
            reason,
        };
        let mut stream = UnixStream::connect(&path).map_err(|e| no_answer(e.to_string()))?;
        stream
            .set_read_timeout(Some(ANSWER_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT)))
            .map_err(|e| no_answer(e.to_string()))?;
        // A TUI that refuses at once (busy) does not read the request: if writing
        // fails, its answer may still be there to read.
        let written = stream.write_all(line.as_bytes());
        let mut reader = BufReader::new(&stream);
        loop {
            let line = match read_line(&mut reader, MAX_FRAME) {
                Ok(line) if line.is_empty() => {
                    return Err(match written {
                        Err(e) => no_answer(e.to_string()),
                        Ok(()) => SocketError::Cut {
                            reason: "it closed the connection without an answer".into(),
                        },
                    });
                }
                Ok(line) => line,
                // A read timeout shows as either kind, depending on the system.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(SocketError::Cut {
                        reason: format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()),
                    });
                }
                Err(e) => {
                    return Err(SocketError::Cut {
                        reason: e.to_string(),
                    });
                }
            };
            let frame =
                protocol::decode_frame(&line).map_err(|reason| SocketError::Cut { reason })?;
            if let Some(done) = take(frame).map_err(SocketError::Refused)? {
                return Ok(done);
            }
        }
    }

    /// Asks the TUI listening in `data_dir` to sync and returns its answer.
    ///
    /// # Errors
    /// [`SocketError::NoAnswer`] when nothing listens, [`SocketError::Refused`] or
    /// [`SocketError::Cut`] when the TUI would not or did not answer.
    pub fn ask_sync(data_dir: &Path) -> Result<Reply, SocketError> {
        exchange(data_dir, &Request::Sync, |frame| match frame {
            Frame::Sync(reply) => Ok(Some(reply)),
            Frame::Refused(message) => Err(message),
            _ => Err("the running TUI answered another request; run `cairn sync` again".into()),
        })
    }

    /// Asks the TUI listening in `data_dir` to run a command and returns what it
    /// printed and its exit status.
    ///
    /// # Errors
    /// As [`ask_sync`].
    pub fn ask_run(data_dir: &Path, run: Run) -> Result<Output, SocketError> {
        let mut collector = Collector::default();
        exchange(data_dir, &Request::Run(run), |frame| collector.push(frame))
    }
}

#[cfg(unix)]
pub use imp::{Listener, ask_run, ask_sync};

/// Without Unix sockets there is no TUI to ask.
///
/// # Errors
/// Always [`SocketError::Unsupported`].
#[cfg(not(unix))]
pub fn ask_sync(_data_dir: &Path) -> Result<Reply, SocketError> {
    Err(SocketError::Unsupported)
}

/// Without Unix sockets there is no TUI to ask.
///
/// # Errors
/// Always [`SocketError::Unsupported`].
#[cfg(not(unix))]
pub fn ask_run(_data_dir: &Path, _run: Run) -> Result<Output, SocketError> {
    Err(SocketError::Unsupported)
}

/// Without Unix sockets nothing listens; the TUI runs on without.
#[cfg(not(unix))]
#[derive(Debug)]
pub struct Listener;

#[cfg(not(unix))]
impl Listener {
    /// # Errors
    /// Always: there are no Unix sockets here.
    pub fn start(_data_dir: &Path, _handler: std::sync::Arc<dyn Handler>) -> std::io::Result<Self> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    pub fn finish(self, _wait: Duration) {}
}

#[cfg(all(test, unix))]
mod tests;
