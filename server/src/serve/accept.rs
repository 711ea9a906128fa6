//! The accept loop: a bounded number of connections, each first checked to be TLS,
//! then a TLS handshake under a timeout, then HTTP/1.1 or h2 (hyper-util's auto
//! builder) serving a warp filter, all under one graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use warp::{Filter, Reply};

use crate::settings::ServerSettings;
use crate::tls::TlsHandle;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Bounds of the accept loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. When all are taken the loop stops accepting, so
    /// further clients wait in the kernel's accept queue (and time out there if it
    /// takes too long) rather than being refused outright: a burst of syncs after
    /// a network outage then slows down instead of failing.
    pub max_connections: usize,
    /// Time for the first byte, the whole TLS handshake, and each request's headers.
    pub handshake_timeout: Duration,
    /// Time requests in flight get to finish after shutdown starts; connections
    /// still open after it are closed.
    pub shutdown_grace: Duration,
}

impl Limits {
    pub fn from_settings(server: &ServerSettings) -> Limits {
        Limits {
            max_connections: server.max_connections.max(1),
            handshake_timeout: Duration::from_secs(server.handshake_timeout_secs.max(1)),
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_settings(&ServerSettings::default())
    }
}

/// Serves `app` over TLS on `listener` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish (up to `limits.shutdown_grace`) and
/// returns once every connection task has ended, so nothing the filter holds
/// (e.g. the store) outlives the call.
///
/// `app` makes the filter for each connection from the peer's address, so routes
/// can throttle by address.
///
/// # Errors
/// None today: failures of single connections are logged, and accept errors
/// (e.g. too many open files) are logged and retried after a pause.
pub async fn serve<M, F, R>(
    listener: TcpListener,
    tls: TlsHandle,
    app: M,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    M: Fn(SocketAddr) -> F,
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connection tasks so the set stays as small as the load.
        while tasks.try_join_next().is_some() {}
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed; stop serving rather than spin.
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Usually out of file descriptors; pausing lets connections close.
                    tracing::warn!("accepting a connection failed: {e}; retrying shortly");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        tasks.spawn(connection(
            tcp,
            peer,
            tls.acceptor(),
            app(peer),
            limits.handshake_timeout,
            graceful.watcher(),
            permit,
        ));
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!(
            "connections still open after {:?}; closing them",
            limits.shutdown_grace
        ),
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection. The permit is held until it ends.
async fn connection<F, R>(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    filter: F,
    handshake_timeout: Duration,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
) where
    F: Filter<Extract = (R,), Error = Infallible> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    let handshake = async {
        // Plain HTTP (or anything not TLS) is dropped before rustls sees it, so not
        // even a TLS alert goes back: the client reads nothing at all.
        let mut first = [0u8; 1];
        let n = tcp.peek(&mut first).await?;
        if n == 0 || first[0] != TLS_HANDSHAKE_RECORD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a TLS handshake",
            ));
        }
        acceptor.accept(tcp).await
    };
    let stream = match tokio::time::timeout(handshake_timeout, handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "TLS handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout);
    builder.http2().timer(TokioTimer::new());
    let service = TowerToHyperService::new(warp::service(filter));
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(conn.into_owned()).await {
        tracing::debug!(%peer, "connection ended with an error: {e}");
    }
}
