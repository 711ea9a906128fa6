//! The accept loop against real TLS clients on 127.0.0.1, with a small filter.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
        handshake_timeout: Duration::from_millis(300),
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
            conn.get("/healthz").await.expect("get"),
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
    assert_eq!(new_conn.get("/healthz").await.expect("new get").0, 200);
    assert!(
        Conn::connect(server.addr, &server.cert.der, Http::One)
            .await
            .is_err(),
        "a client pinned to the old certificate is refused"
    );
    assert_eq!(
        old_conn
            .get("/healthz")
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
    assert_eq!(first.get("/healthz").await.expect("get").0, 200);
    let der = server.cert.der.clone();
    let addr = server.addr;
    let second = tokio::spawn(async move {
        let mut conn = Conn::connect(addr, &der, Http::One).await?;
        conn.get("/healthz").await
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
        conn.get("/healthz").await.expect("get")
    });
    assert_eq!(answer, (200, "ok".to_string()));
    server.stop().expect("clean stop");
}

/// The whole server: the standard admin logs in over TLS (h2) with the password
/// init printed, through the real API, and is told to change it; a wrong password
/// is refused.
#[test]
fn admin_logs_in_through_the_real_api() {
    use bytes::Bytes;
    use cairn_common::api::{
        CONTENT_TYPE, LoginRequest, LoginResponse, PROTOCOL_HEADER, PROTOCOL_VERSION,
    };
    use http_body_util::Full;

    let server = crate::testing::TestServer::start().expect("server");
    let login = |password: &str| {
        let body = cairn_common::codec::encode(&LoginRequest {
            email: "admin".into(),
            password: password.into(),
            device: "test".into(),
        })
        .expect("encode");
        hyper::Request::post(format!("https://localhost:{}/v1/login", server.addr.port()))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", CONTENT_TYPE)
            .body(Full::new(Bytes::from(body)))
            .expect("request")
    };
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
