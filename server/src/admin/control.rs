//! The running server's control socket, `DIR/control.sock`: admin commands from
//! `cairn-server user ...` while the server holds the data dir. Only the data dir's
//! owner may connect: the socket is 0600 inside a 0700 dir, and each peer's uid is
//! checked against the dir's owner.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::execute;
use super::protocol::{
    AdminRequest, AdminResponse, MAX_REQUEST_BYTES, read_frame_async, write_frame_async,
};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::mail::Mailer;
use crate::store::{Store, block_on};
use crate::tls::acme::AcmeHandle;

/// A client gets this long to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

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

    /// Stops listening, waits for commands in progress (they are short), and
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
    // Commands in progress finish (each is one short store call) so their
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
                &AdminResponse::Failed {
                    message: format!("the server could not read the command ({e}); use the cairn-server binary of the same version as the server"),
                },
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
        if let Err(e) = write_frame_async(&mut stream, &response).await {
            tracing::warn!("control socket: cannot send the answer: {e}");
        }
        return;
    }
    let response = match tokio::task::spawn_blocking(move || {
        block_on(execute(&store, &backups, &mailer, request))
    })
    .await
    {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => AdminResponse::Failed {
            message: e.to_string(),
        },
        Err(e) => AdminResponse::Failed {
            message: format!("the command failed inside the server ({e}); see the server's log"),
        },
    };
    if let Err(e) = write_frame_async(&mut stream, &response).await {
        tracing::warn!("control socket: cannot send the answer: {e}");
    }
}
