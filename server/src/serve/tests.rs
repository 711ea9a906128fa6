//! The accept loop against real TLS clients on 127.0.0.1, with a small filter.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cairn_common::api::{Endpoint, endpoints};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warp::Filter;

use super::{Limits, serve};
use crate::init::{SelfSigned, self_signed, write_new_file};
use crate::testing::{Conn, Http};
use crate::tls::TlsHandle;

/// `/healthz` answers at once, `/slow` after 300 ms.
fn routes() -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone {
    let health = warp::path("healthz").map(|| "ok");
    let slow = warp::path("slow").then(|| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        "done"
    });
    health
        .or(slow)
        .recover(|_| async { Ok::<_, Infallible>(warp::http::StatusCode::NOT_FOUND) })
}

struct Running {
    addr: SocketAddr,
    tls: TlsHandle,
    cert: SelfSigned,
    cert_path: PathBuf,
    key_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(limits: Limits) -> Running {
        let dir = tempfile::tempdir().expect("temp dir");
        let cert = self_signed(&[]).expect("cert");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        write_new_file(&cert_path, cert.cert_pem.as_bytes(), 0o644).expect("cert");
        write_new_file(&key_path, cert.key_pem.as_bytes(), 0o600).expect("key");
        let tls = TlsHandle::load(&cert_path, &key_path).expect("tls");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, tls.clone(), |_| routes(), limits, async {
            let _ = stopped.await;
        }));
        Running {
            addr,
            tls,
            cert,
            cert_path,
            key_path,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve returns")
            .expect("no panic")
            .expect("serve ok");
    }
}

fn fast_limits() -> Limits {
    Limits {
        max_connections: 16,
        max_connections_per_address: 16,
        handshake_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(600),
        keepalive_interval: Duration::from_secs(5),
        keepalive_timeout: Duration::from_secs(5),
        body: super::BodyLimits {
            pause: Duration::from_millis(300),
            min_bytes_per_sec: 1,
        },
        shutdown_grace: Duration::from_secs(5),
    }
}

/// Reads until the server closes (or 5 s pass) and returns what it sent.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut got)).await;
    got
}

/// A client trusting the generated certificate gets `/healthz` over HTTP/1.1 and
/// over h2, each picked by ALPN.
#[tokio::test]
async fn healthz_over_http1_and_h2() {
    let server = Running::start(fast_limits()).await;
    for (http, alpn) in [(Http::One, &b"http/1.1"[..]), (Http::Two, &b"h2"[..])] {
        let mut conn = Conn::connect(server.addr, &server.cert.der, http)
            .await
            .expect("connect");
        assert_eq!(conn.alpn.as_deref(), Some(alpn));
        assert_eq!(
            conn.get(endpoints::HEALTHZ).await.expect("get"),
            (200, "ok".to_string())
        );
        assert_eq!(conn.server_fingerprint, server.cert.fingerprint());
    }
    server.stop().await;
}

/// A plain-HTTP request gets no bytes back at all, and the connection is closed.
#[tokio::test]
async fn plain_http_gets_nothing() {
    let server = Running::start(fast_limits()).await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let got = read_to_close(&mut tcp).await;
    assert!(got.is_empty(), "server answered plain HTTP with {got:?}");
    server.stop().await;
}

/// A client that connects and says nothing is disconnected after the handshake
/// timeout, not held open.
#[tokio::test]
async fn silent_connection_is_closed_after_timeout() {
    let server = Running::start(fast_limits()).await;
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("closed before 5 s")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

/// A request in flight when shutdown starts still gets its answer; afterwards the
/// port accepts no new connections.
#[tokio::test]
async fn shutdown_lets_request_in_flight_finish() {
    let server = Running::start(fast_limits()).await;
    let addr = server.addr;
    let mut conn = Conn::connect(addr, &server.cert.der, Http::One)
        .await
        .expect("connect");
    let request = tokio::spawn(async move { conn.get("/slow").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    let answer = request.await.expect("no panic").expect("answered");
    assert_eq!(answer, (200, "done".to_string()));
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

/// After `reload()`, new connections get the new certificate while a connection
/// opened before keeps working with the old one.
#[tokio::test]
async fn reload_serves_new_certificate_to_new_connections() {
    let server = Running::start(fast_limits()).await;
    let mut old_conn = Conn::connect(server.addr, &server.cert.der, Http::Two)
        .await
        .expect("connect");

    let new_cert = self_signed(&[]).expect("cert");
    std::fs::write(&server.cert_path, &new_cert.cert_pem).expect("cert");
    std::fs::write(&server.key_path, &new_cert.key_pem).expect("key");
    server.tls.reload().expect("reload");

    let mut new_conn = Conn::connect(server.addr, &new_cert.der, Http::One)
        .await
        .expect("new");
    assert_eq!(new_conn.server_fingerprint, new_cert.fingerprint());
    assert_eq!(
        new_conn.get(endpoints::HEALTHZ).await.expect("new get").0,
        200
    );
    assert!(
        Conn::connect(server.addr, &server.cert.der, Http::One)
            .await
            .is_err(),
        "a client pinned to the old certificate is refused"
    );
    assert_eq!(
        old_conn
            .get(endpoints::HEALTHZ)
            .await
            .expect("old conn still works")
            .0,
        200
    );
    server.stop().await;
}

/// With the connection limit reached, a further client is not served until a
/// connection closes.
#[tokio::test]
async fn connection_limit_makes_extra_clients_wait() {
    let limits = Limits {
        max_connections: 1,
        ..fast_limits()
    };
    let server = Running::start(limits).await;
    let mut first = Conn::connect(server.addr, &server.cert.der, Http::One)
        .await
        .expect("first");
    assert_eq!(first.get(endpoints::HEALTHZ).await.expect("get").0, 200);
    let der = server.cert.der.clone();
    let addr = server.addr;
    let second = tokio::spawn(async move {
        let mut conn = Conn::connect(addr, &der, Http::One).await?;
        conn.get(endpoints::HEALTHZ).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !second.is_finished(),
        "second client served beyond the limit"
    );
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("served after the first closed")
        .expect("no panic")
        .expect("answer");
    assert_eq!(answer.0, 200);
    server.stop().await;
}

/// A second server on a data dir that a running server holds is refused with an
/// error naming the dir; the running one keeps serving.
#[test]
fn second_server_on_same_data_dir_is_refused() {
    let server = crate::testing::TestServer::start().expect("server");
    let settings =
        crate::settings::Settings::load(server.data_dir(), std::iter::empty()).expect("settings");
    let err = super::Instance::open(settings)
        .err()
        .expect("second server refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&server.data_dir().display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("another cairn-server"), "{msg}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let answer = runtime.block_on(async {
        let mut conn = server.connect(Http::Two).await.expect("connect");
        conn.get(endpoints::HEALTHZ).await.expect("get")
    });
    assert_eq!(answer, (200, "ok".to_string()));
    server.stop().expect("clean stop");
}

/// The whole server: the standard admin logs in over TLS (h2) with the password
/// init printed, through the real API, and is told to change it; a wrong password
/// is refused.
#[test]
fn admin_logs_in_through_the_real_api() {
    use cairn_common::api::LoginResponse;

    let server = crate::testing::TestServer::start().expect("server");
    let login = |password: &str| login_request(server.addr, password);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut conn = server.connect(Http::Two).await.expect("connect");
        let (status, body) = conn
            .send(login(&server.admin_password))
            .await
            .expect("login");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let response: LoginResponse = cairn_common::codec::decode(&body).expect("decode");
        assert_eq!(response.user.email, "admin");
        assert!(response.must_change_password);
        let (status, _) = conn
            .send(login("wrong-password"))
            .await
            .expect("wrong login");
        assert_eq!(status, 401);
    });
    server.stop().expect("clean stop");
}

/// Reads until the peer closes (EOF or an error, e.g. a TLS stream cut without
/// close_notify) and returns what came and when; `None` if still open after `limit`.
async fn read_until_closed<S>(stream: &mut S, limit: Duration) -> Option<(Vec<u8>, Duration)>
where
    S: tokio::io::AsyncRead + Unpin,
{
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.ok()?;
    Some((got, started.elapsed()))
}

/// The frame types in raw h2 bytes (each frame: 3-byte length, type, flags, stream).
fn h2_frame_types(mut bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let len = usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        types.push(bytes[3]);
        bytes = &bytes[(9 + len).min(bytes.len())..];
    }
    types
}

const H2_GOAWAY: u8 = 7;

/// TLS connections that send nothing after the handshake are closed after the
/// header timeout, and the slots they held serve a client that was waiting.
#[tokio::test]
async fn silent_tls_connections_are_closed_and_free_their_slots() {
    let limits = Limits {
        max_connections: 2,
        max_connections_per_address: 2,
        ..fast_limits()
    };
    let server = Running::start(limits).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(
            crate::testing::tls_connect(None, server.addr, &server.cert.der, Http::One)
                .await
                .expect("idle connection"),
        );
    }
    let (addr, der) = (server.addr, server.cert.der.clone());
    let waiting = tokio::spawn(async move {
        let mut conn = Conn::connect(addr, &der, Http::One).await?;
        conn.get(endpoints::HEALTHZ).await
    });
    let opened = std::time::Instant::now();
    for stream in &mut idle {
        let (got, _) = read_until_closed(stream, Duration::from_secs(5))
            .await
            .expect("the silent connection is closed");
        assert!(got.is_empty(), "{got:?}");
    }
    let after = opened.elapsed();
    assert!(
        after >= Duration::from_millis(200),
        "closed after {after:?}"
    );
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting client is served")
        .expect("no panic")
        .expect("answer");
    assert_eq!(answer, (200, "ok".to_string()));
    server.stop().await;
}

/// An h2 connection that sends only the preface and its settings gets a GOAWAY and
/// is closed after the header timeout.
#[tokio::test]
async fn h2_preface_alone_is_closed() {
    let server = Running::start(fast_limits()).await;
    let mut tls = crate::testing::tls_connect(None, server.addr, &server.cert.der, Http::Two)
        .await
        .expect("connect");
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .expect("preface");
    let (got, after) = read_until_closed(&mut tls, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(
        after >= Duration::from_millis(200),
        "closed after {after:?}"
    );
    assert!(
        h2_frame_types(&got).contains(&H2_GOAWAY),
        "no GOAWAY in {:?}",
        h2_frame_types(&got)
    );
    server.stop().await;
}

/// An h2 connection stays open while used, and is closed once no request was in
/// flight for the idle timeout.
#[tokio::test]
async fn idle_h2_connection_is_closed() {
    let server = Running::start(fast_limits()).await;
    let mut conn = Conn::connect(server.addr, &server.cert.der, Http::Two)
        .await
        .expect("connect");
    for _ in 0..3 {
        assert_eq!(conn.get(endpoints::HEALTHZ).await.expect("in use").0, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(
        conn.get(endpoints::HEALTHZ).await.is_err(),
        "the idle connection is still open"
    );
    server.stop().await;
}

/// A login request for the standard admin account.
fn login_request(
    addr: SocketAddr,
    password: &str,
) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    use cairn_common::api::{CONTENT_TYPE, LoginRequest, PROTOCOL_HEADER, PROTOCOL_VERSION};
    let body = cairn_common::codec::encode(&LoginRequest {
        email: "admin".into(),
        password: password.into(),
        device: "test".into(),
    })
    .expect("encode");
    hyper::Request::post(format!(
        "https://localhost:{}{}",
        addr.port(),
        endpoints::Login::PATH
    ))
    .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
    .header("content-type", CONTENT_TYPE)
    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
    .expect("request")
}

/// The real server: one host (127.0.0.2) holding its per-address cap of silent TLS
/// connections has any further one closed at once, while another host (127.0.0.1)
/// still logs in and gets `/healthz`; the host's slots come back when it closes.
#[test]
fn per_address_cap_keeps_slots_for_others() {
    let server = crate::testing::TestServer::start_with(|s| {
        s.server.max_connections = 3;
        s.server.max_connections_per_address = 2;
        // Long enough that no timeout frees a slot during the test.
        s.server.header_timeout_secs = 60;
    })
    .expect("server");
    let hog: std::net::IpAddr = "127.0.0.2".parse().expect("ip");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let connect =
            || crate::testing::tls_connect(Some(hog), server.addr, &server.cert_der, Http::One);
        let mut held = vec![
            connect().await.expect("first"),
            connect().await.expect("second"),
        ];
        let started = std::time::Instant::now();
        let over = tokio::time::timeout(Duration::from_secs(5), connect())
            .await
            .expect("the connection over the cap is not left waiting");
        assert!(
            over.is_err(),
            "a third connection from one address was served"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        let served = async {
            let mut conn = server.connect(Http::Two).await.expect("connect");
            let (status, body) = conn
                .send(login_request(server.addr, &server.admin_password))
                .await
                .expect("login");
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            assert_eq!(conn.get(endpoints::HEALTHZ).await.expect("healthz").0, 200);
        };
        tokio::time::timeout(Duration::from_secs(10), served)
            .await
            .expect("another host is served at once");

        held.clear();
        let again = async {
            loop {
                match connect().await {
                    Ok(stream) => break stream,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        };
        let mut stream = tokio::time::timeout(Duration::from_secs(5), again)
            .await
            .expect("the host's slots come back after it closed");
        // Served, not closed at once: the server answers a request on it.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("request");
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).await.expect("answer");
        assert_eq!(&buf, b"HTTP/1.1 200");
    });
    server.stop().expect("clean stop");
}

/// The real server: a request that declares a body and never sends it is answered
/// with 408 after the body timeout, and its connection closed.
#[test]
fn body_that_never_comes_is_ended() {
    use cairn_common::api::{CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION};
    let server =
        crate::testing::TestServer::start_with(|s| s.server.body_timeout_secs = 1).expect("server");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut tls = crate::testing::tls_connect(None, server.addr, &server.cert_der, Http::One)
            .await
            .expect("connect");
        let head = format!(
            "POST /v1/login HTTP/1.1\r\nHost: localhost\r\n{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\n\
             content-type: {CONTENT_TYPE}\r\ncontent-length: 64\r\n\r\n"
        );
        tls.write_all(head.as_bytes()).await.expect("headers");
        let (got, after) = read_until_closed(&mut tls, Duration::from_secs(10))
            .await
            .expect("the request is ended");
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(after >= Duration::from_millis(900), "ended after {after:?}");
    });
    server.stop().expect("clean stop");
}

/// The real server: after a host (127.0.0.2) failed the admin's password many
/// times, the admin still logs in at once from another host (127.0.0.1).
#[test]
fn admin_is_not_locked_out_by_another_host() {
    let server = crate::testing::TestServer::start().expect("server");
    let guesser: std::net::IpAddr = "127.0.0.2".parse().expect("ip");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut conn = Conn::connect_from(guesser, server.addr, &server.cert_der, Http::Two)
            .await
            .expect("connect");
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let (status, _) = conn
                .send(login_request(server.addr, "not the password"))
                .await
                .expect("guess");
            statuses.push(status.as_u16());
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
        let mut conn = server.connect(Http::Two).await.expect("connect");
        let (status, body) = conn
            .send(login_request(server.addr, &server.admin_password))
            .await
            .expect("login");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    });
    server.stop().expect("clean stop");
}
