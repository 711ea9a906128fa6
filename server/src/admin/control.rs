//! The running server's control socket, `DIR/control.sock`: admin commands from
//! `cairn-server user ...` while the server holds the data dir. Only the data dir's
//! owner may connect: the socket is 0600 inside a 0700 dir, and each peer's uid is
//! checked against the dir's owner.
//!
//! A command runs on a blocking thread and reports its progress into a watch
//! channel (the latest step) and a counter, which never wait; the connection's task
//! forwards that state to the command line at most every [`PROGRESS_EVERY`] while it
//! changes and at least every [`HEARTBEAT_EVERY`] (a heartbeat, so that the command
//! line can tell a long command from a stuck server), then the outcome
//! ([`AdminAnswer`]).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use cairn_common::progress::{Report, Unit};
use tokio::io::AsyncWrite;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::execute;
use super::protocol::{
    AdminAnswer, AdminRequest, AdminResponse, MAX_REQUEST_BYTES, ProgressUpdate, read_frame_async,
    write_frame_async,
};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::mail::Mailer;
use crate::store::{Store, block_on};
use crate::tls::acme::AcmeHandle;

/// A client gets this long to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Progress is forwarded at most this often: a terminal redraws no faster.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Something is sent at least this often while a command works, changed or not;
/// the command line gives up on a server silent for much longer (its
/// `ANSWER_TIMEOUT`).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// How often [`answer`] forwards progress: [`PROGRESS_EVERY`] and
/// [`HEARTBEAT_EVERY`], shorter in tests.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub every: Duration,
    pub heartbeat: Duration,
}

impl Pace {
    pub const SERVER: Pace = Pace {
        every: PROGRESS_EVERY,
        heartbeat: HEARTBEAT_EVERY,
    };
}

/// The listening control socket; [`ControlSocket::stop`] closes it and removes the
/// file.
pub struct ControlSocket {
    path: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ControlSocket {
    /// Listens on `DIR/control.sock`. The caller holds the data dir's lock, so a
    /// socket file already there was left by a server that died: it is replaced.
    ///
    /// # Errors
    /// If the socket cannot be made (e.g. the path is longer than a Unix socket
    /// path may be) or its permissions cannot be set.
    pub fn start(
        data_dir: &DataDir,
        store: Store,
        backups: Backups,
        mailer: Mailer,
        acme: Option<AcmeHandle>,
    ) -> anyhow::Result<ControlSocket> {
        let path = data_dir.control_socket();
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed the stale control socket {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("removing stale {}", path.display()));
            }
        }
        let owner = std::fs::metadata(data_dir.root())
            .with_context(|| format!("reading the owner of {}", data_dir.root().display()))?
            .uid();
        let listener = UnixListener::bind(&path).with_context(|| {
            format!(
                "cannot listen on the control socket {} (Unix socket paths are limited to \
                 about 100 bytes; use a shorter --data-dir path)",
                path.display()
            )
        })?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {} to its owner", path.display()))?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(
            listener, store, backups, mailer, acme, owner, stopped,
        ));
        Ok(ControlSocket { path, stop, task })
    }

    /// Stops listening, waits for commands in progress (a long export too), and
    /// removes the socket file.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!("the control socket task failed: {e}");
        }
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {e}", self.path.display());
        }
    }
}

async fn accept_loop(
    listener: UnixListener,
    store: Store,
    backups: Backups,
    mailer: Mailer,
    acme: Option<AcmeHandle>,
    owner: u32,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("control socket: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == owner => {}
            Ok(cred) => {
                tracing::warn!(
                    "control socket: refused uid {}: only the data dir's owner (uid {owner}) \
                     may run admin commands",
                    cred.uid()
                );
                continue;
            }
            Err(e) => {
                tracing::warn!("control socket: cannot read the peer's credentials: {e}");
                continue;
            }
        }
        tasks.spawn(handle(
            stream,
            store.clone(),
            backups.clone(),
            mailer.clone(),
            acme.clone(),
        ));
    }
    // Commands in progress finish (an export or backup may take a while) so their
    // changes are complete before the store is flushed and closed.
    while tasks.join_next().await.is_some() {}
}

async fn handle(
    mut stream: UnixStream,
    store: Store,
    backups: Backups,
    mailer: Mailer,
    acme: Option<AcmeHandle>,
) {
    let request: AdminRequest = match tokio::time::timeout(
        REQUEST_TIMEOUT,
        read_frame_async(&mut stream, MAX_REQUEST_BYTES),
    )
    .await
    {
        Ok(Ok(request)) => request,
        Ok(Err(e)) => {
            let _ = write_frame_async(
                &mut stream,
                &AdminAnswer::Done(AdminResponse::Failed {
                    message: format!("the server could not read the command ({e}); use the cairn-server binary of the same version as the server"),
                }),
            )
            .await;
            return;
        }
        Err(_) => return,
    };
    tracing::info!(?request, "admin command");
    if request == AdminRequest::RenewCertificate {
        // Only the running server's certificate task can order one.
        let response = crate::admin::commands::tls::renew(acme.as_ref()).await;
        if let Err(e) = write_frame_async(&mut stream, &AdminAnswer::Done(response)).await {
            tracing::warn!("control socket: cannot send the answer: {e}");
        }
        return;
    }
    let work = move |report: &dyn Report| match block_on(execute(
        &store, &backups, &mailer, request, report,
    )) {
        Ok(response) => response,
        Err(e) => AdminResponse::failed(e),
    };
    if let Err(e) = answer(&mut stream, Pace::SERVER, work).await {
        tracing::warn!("control socket: cannot send the answer: {e}");
    }
}

/// The latest progress of a command: the step in a watch channel (steps are few),
/// the count in an atomic (one add per item); neither ever waits.
struct SocketReport {
    step: watch::Sender<Option<(String, Option<u64>, Unit)>>,
    done: AtomicU64,
}

impl SocketReport {
    fn latest(&self) -> Option<ProgressUpdate> {
        let step = self.step.borrow();
        let (step, total, unit) = step.as_ref()?;
        Some(ProgressUpdate {
            step: step.clone(),
            done: self.done.load(Ordering::Relaxed),
            total: *total,
            unit: *unit,
        })
    }
}

impl Report for SocketReport {
    fn step(&self, what: &str, total: Option<u64>, unit: Unit) {
        self.done.store(0, Ordering::Relaxed);
        self.step.send_replace(Some((what.to_owned(), total, unit)));
    }

    fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

/// Runs `work` on a blocking thread and answers on `stream` while it runs: its
/// progress as it changes (at most every `pace.every`), a heartbeat when nothing
/// changed for `pace.heartbeat`, and then [`AdminAnswer::Done`] with its outcome. A
/// command line that went away does not stop the command.
///
/// # Errors
/// If the answer cannot be written; the command still runs to its end.
pub async fn answer<W, F>(stream: &mut W, pace: Pace, work: F) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
    F: FnOnce(&dyn Report) -> AdminResponse + Send + 'static,
{
    let report = Arc::new(SocketReport {
        step: watch::Sender::new(None),
        done: AtomicU64::new(0),
    });
    let mut command = tokio::task::spawn_blocking({
        let report = Arc::clone(&report);
        move || work(&*report)
    });
    let mut tick = tokio::time::interval(pace.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = None;
    let mut sent_at = Instant::now();
    let mut failed = None;
    let response = loop {
        tokio::select! {
            biased;
            joined = &mut command => break match joined {
                Ok(response) => response,
                Err(e) => AdminResponse::Failed {
                    message: format!(
                        "the command failed inside the server ({e}); see the server's log"
                    ),
                },
            },
            _ = tick.tick(), if failed.is_none() => {
                let latest = report.latest();
                if (latest.is_some() && latest != sent) || sent_at.elapsed() >= pace.heartbeat {
                    let message = match &latest {
                        Some(update) => AdminAnswer::Progress(update.clone()),
                        None => AdminAnswer::Working,
                    };
                    if let Err(e) = write_frame_async(stream, &message).await {
                        failed = Some(e);
                    }
                    sent = latest;
                    sent_at = Instant::now();
                }
            }
        }
    };
    if let Some(e) = failed {
        return Err(e);
    }
    // The final state, if not sent yet: the command line shows how it ended.
    if let Some(update) = report.latest().filter(|l| Some(l) != sent.as_ref()) {
        write_frame_async(stream, &AdminAnswer::Progress(update)).await?;
    }
    write_frame_async(stream, &AdminAnswer::Done(response)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::protocol::MAX_RESPONSE_BYTES;

    /// Runs `work` behind [`answer`] at `pace` and collects every message sent.
    async fn answers(
        pace: Pace,
        work: impl FnOnce(&dyn Report) -> AdminResponse + Send + 'static,
    ) -> Vec<AdminAnswer> {
        let (mut server, mut client) = UnixStream::pair().expect("pair");
        let answering = tokio::spawn(async move { answer(&mut server, pace, work).await });
        let mut got = Vec::new();
        loop {
            let message: AdminAnswer = read_frame_async(&mut client, MAX_RESPONSE_BYTES)
                .await
                .expect("a whole message");
            let done = matches!(message, AdminAnswer::Done(_));
            got.push(message);
            if done {
                break;
            }
        }
        answering.await.expect("no panic").expect("answered");
        got
    }

    fn done() -> AdminResponse {
        AdminResponse::Users(Vec::new())
    }

    /// A command that reports its steps sends progress as it goes, with the
    /// step, counts and unit, and ends with its outcome.
    #[tokio::test]
    async fn progress_then_done() {
        let pace = Pace {
            every: Duration::from_millis(5),
            heartbeat: Duration::from_secs(60),
        };
        let got = answers(pace, |report| {
            report.step("copying", Some(4), Unit::Bytes);
            for _ in 0..4 {
                std::thread::sleep(Duration::from_millis(50));
                report.add(1);
            }
            done()
        })
        .await;
        assert_eq!(got.last(), Some(&AdminAnswer::Done(done())), "{got:?}");
        let updates: Vec<&ProgressUpdate> = got
            .iter()
            .filter_map(|a| match a {
                AdminAnswer::Progress(u) => Some(u),
                _ => None,
            })
            .collect();
        assert!(updates.len() >= 2, "progress as it changes: {got:?}");
        assert!(
            updates
                .iter()
                .all(|u| u.step == "copying" && u.total == Some(4) && u.unit == Unit::Bytes),
            "{got:?}"
        );
        assert!(
            updates.windows(2).all(|w| w[0].done < w[1].done),
            "only changes are sent, in order: {got:?}"
        );
        assert_eq!(
            updates.last().map(|u| u.done),
            Some(4),
            "the final state before the outcome: {got:?}"
        );
    }

    /// A command whose progress does not change still sends something every
    /// heartbeat: the same state, or `Working` before any step.
    #[tokio::test]
    async fn heartbeat_while_unchanged() {
        let pace = Pace {
            every: Duration::from_millis(5),
            heartbeat: Duration::from_millis(40),
        };
        let got = answers(pace, |_| {
            std::thread::sleep(Duration::from_millis(300));
            done()
        })
        .await;
        let beats = got.iter().filter(|a| **a == AdminAnswer::Working).count();
        assert!(beats >= 2, "heartbeats before any step: {got:?}");

        let got = answers(pace, |report| {
            report.step("rewriting", None, Unit::Items);
            std::thread::sleep(Duration::from_millis(300));
            done()
        })
        .await;
        let same = got
            .iter()
            .filter(|a| matches!(a, AdminAnswer::Progress(u) if u.step == "rewriting"))
            .count();
        assert!(same >= 3, "the unchanged state again and again: {got:?}");
    }

    /// A short command without progress answers with its outcome alone.
    #[tokio::test]
    async fn no_progress_one_done() {
        let got = answers(Pace::SERVER, |_| done()).await;
        assert_eq!(got, [AdminAnswer::Done(done())]);
    }
}
