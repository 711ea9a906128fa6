//! The accept loop: a bounded number of connections, and of connections per client
//! address, each first checked to be TLS, then a TLS handshake under a timeout, then
//! HTTP/1.1 or h2 (hyper-util's auto builder) serving a warp filter, with a timeout
//! on every phase (first request, headers, idle, h2 pings, request bodies), all
//! under one graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use warp::{Filter, Reply};

use super::activity::{Activity, Tracked};
use super::body::BodyLimits;
use super::peers::{PeerSlot, PeerSlots};
use crate::settings::ServerSettings;
use crate::tls::TlsHandle;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Bounds of the accept loop and of each connection's phases. Every phase after
/// the TCP accept has a timeout, so that a client that stops talking (or never
/// starts) gives its connection slot back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. When all are taken the loop stops accepting, so
    /// further clients wait in the kernel's accept queue (and time out there if it
    /// takes too long) rather than being refused outright: a burst of syncs after
    /// a network outage then slows down instead of failing.
    pub max_connections: usize,
    /// Connections one client address (IPv4 address or IPv6 /64) may hold at once;
    /// more are closed at once, so that one host cannot take every slot.
    pub max_connections_per_address: usize,
    /// Time for the first byte and the whole TLS handshake.
    pub handshake_timeout: Duration,
    /// Time after the handshake for the first request to arrive (protocol
    /// detection, the h2 preface, the first request's headers), and for each HTTP/1.1
    /// request's headers, counted from the end of the previous answer (hyper's
    /// timer, which so also ends idle HTTP/1.1 keep-alive connections).
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed (GOAWAY on
    /// h2).
    pub idle_timeout: Duration,
    /// Every this often the server pings an h2 client ...
    pub keepalive_interval: Duration,
    /// ... and closes the connection if the ping is not answered within this.
    pub keepalive_timeout: Duration,
    /// How fast request bodies must come (see [`BodyLimits`]).
    pub body: BodyLimits,
    /// Time requests in flight get to finish after shutdown starts; connections
    /// still open after it are closed.
    pub shutdown_grace: Duration,
}

impl Limits {
    pub fn from_settings(server: &ServerSettings) -> Limits {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        Limits {
            max_connections: server.max_connections.max(1),
            max_connections_per_address: server.max_connections_per_address.max(1),
            handshake_timeout: secs(server.handshake_timeout_secs),
            header_timeout: secs(server.header_timeout_secs),
            idle_timeout: secs(server.idle_timeout_secs),
            keepalive_interval: secs(server.keepalive_interval_secs),
            keepalive_timeout: secs(server.keepalive_timeout_secs),
            body: BodyLimits {
                pause: secs(server.body_timeout_secs),
                min_bytes_per_sec: server.min_body_bytes_per_sec.max(1),
            },
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
    let peers = PeerSlots::new(limits.max_connections_per_address);
    // Set to true when shutdown starts; every connection watches it.
    let (closing, closing_seen) = watch::channel(false);
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
        let Some(slot) = peers.admit(peer.ip()) else {
            // Debug only: a host over its cap could otherwise fill the log.
            tracing::debug!(
                %peer,
                "closing a connection: the address holds {} already",
                limits.max_connections_per_address
            );
            drop(tcp);
            continue;
        };
        tasks.spawn(connection(
            tcp,
            peer,
            tls.acceptor(),
            app(peer),
            limits,
            closing_seen.clone(),
            (permit, slot),
        ));
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    // No receiver left (no connection open) is fine: there is nothing to tell.
    let _ = closing.send(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    tokio::select! {
        () = drained => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!(
            "connections still open after {:?}; closing them",
            limits.shutdown_grace
        ),
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection: TLS handshake, then HTTP/1.1 or h2 until the client
/// closes, the connection is idle too long, or shutdown starts. The slots are held
/// until it ends.
async fn connection<F, R>(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    filter: F,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
    _slots: (OwnedSemaphorePermit, PeerSlot),
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
    let stream = match tokio::time::timeout(limits.handshake_timeout, handshake).await {
        // A CA validating a TLS-ALPN-01 challenge: the handshake was the answer
        // (RFC 8737), so the connection ends here.
        Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(crate::tls::ACME_TLS_ALPN) => {
            return;
        }
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
    const UPLOAD_WINDOW: u32 = 4 << 20;
    // Frames of file uploads: hyper's default of 16 KiB made every 16 KiB its own
    // wake-up of the handler, a sixth of the server's work in an upload.
    const MAX_FRAME: u32 = 256 << 10;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        // Windows for file uploads: hyper's 1 MiB default held an upload to a few
        // round trips' worth at a time. Bounded per connection, like the
        // connections themselves.
        .initial_stream_window_size(UPLOAD_WINDOW)
        .initial_connection_window_size(UPLOAD_WINDOW * 2)
        .max_frame_size(MAX_FRAME)
        .keep_alive_interval(Some(limits.keepalive_interval))
        .keep_alive_timeout(limits.keepalive_timeout);
    let activity = Activity::new();
    let service = Tracked::new(
        TowerToHyperService::new(warp::service(filter)),
        Arc::clone(&activity),
        limits.body,
    );
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // Why the server ends the connection, if it does.
    let close = async {
        tokio::select! {
            // An error means the loop is gone, which also means closing.
            _ = closing.wait_for(|closing| *closing) => Close::Shutdown,
            () = activity.idle_past(limits.header_timeout, limits.idle_timeout) => Close::Idle,
        }
    };
    let why = tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, "connection ended with an error: {e}");
            }
            return;
        }
        why = close => why,
    };
    // Requests in flight finish, then the connection closes (GOAWAY first on h2;
    // a connection still detecting its protocol closes at once).
    conn.as_mut().graceful_shutdown();
    let finished = match why {
        // The accept loop bounds the wait with the shutdown grace.
        Close::Shutdown => Ok(conn.await),
        Close::Idle => {
            tracing::debug!(%peer, "closing an idle connection");
            // A client that does not read could stall the goodbye; it gets no longer
            // than a request's headers would.
            tokio::time::timeout(limits.header_timeout, conn).await
        }
    };
    if let Ok(Err(e)) = finished {
        tracing::debug!(%peer, "connection ended with an error: {e}");
    }
}

/// Why the server closes a connection.
enum Close {
    Shutdown,
    Idle,
}
