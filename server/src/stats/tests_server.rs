//! The statistics of a real server on 127.0.0.1: `/metrics` over TLS from loopback,
//! and the counts stored at shutdown read again after a restart.

use std::net::SocketAddr;

use cairn_common::api::{Endpoint, endpoints};
use tokio::sync::oneshot;

use crate::serve::Instance;
use crate::settings::Settings;
use crate::testing::{Conn, Http, TestServer};

/// The sum over all days of the `cairn_http_requests_total` lines of `endpoint`
/// and `class` (a run may cross midnight).
fn requests(text: &str, endpoint: &str, class: &str) -> u64 {
    let tail = format!("endpoint=\"{endpoint}\",class=\"{class}\"}}");
    text.lines()
        .filter(|l| l.starts_with("cairn_http_requests_total{") && l.contains(&tail))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Counts made by one run (kept in memory only, the interval being an hour) are
/// stored at shutdown, and the restarted server serves them at `/metrics` to a
/// loopback client.
#[test]
fn counts_survive_a_restart() {
    let server =
        TestServer::start_with(|s| s.stats.persist_interval_secs = 3600).expect("server starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = server.connect(Http::One).await.expect("connect");
        let (status, text) = conn.get(endpoints::METRICS).await.expect("metrics");
        assert_eq!(status, 200, "{text}");
        assert!(
            text.contains("# TYPE cairn_http_requests_total counter"),
            "{text}"
        );
        for _ in 0..5 {
            assert_eq!(conn.get(endpoints::HEALTHZ).await.expect("healthz").0, 200);
        }
        assert_eq!(conn.get("/no/such/path").await.expect("other").0, 404);
    });
    let cert_der = server.cert_der.clone();
    let dir = server.stop().expect("stops cleanly");

    let mut settings = Settings::load(&dir.path().join("data"), std::iter::empty()).expect("load");
    settings.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let instance = Instance::open(settings).expect("reopens");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(instance.serve(listener, async {
            let _ = stopped.await;
        }));
        let mut conn = Conn::connect(addr, &cert_der, Http::One)
            .await
            .expect("connect");
        let (status, text) = conn.get(endpoints::METRICS).await.expect("metrics");
        assert_eq!(status, 200, "{text}");
        assert_eq!(requests(&text, endpoints::HEALTHZ, "2xx"), 5, "{text}");
        assert_eq!(requests(&text, endpoints::METRICS, "2xx"), 1, "{text}");
        assert_eq!(requests(&text, "other", "4xx"), 1, "{text}");
        let _ = stop.send(());
        serving.await.expect("joins").expect("serves");
    });
}

/// A client that sends a login's headers and part of its body, then hangs up, is
/// counted as a 4xx of `/v1/login`, never as a 5xx (it was not the server's fault).
#[test]
fn client_abort_mid_body_is_a_4xx() {
    use cairn_common::api::{CONTENT_TYPE, PROTOCOL_HEADER, PROTOCOL_VERSION};
    use tokio::io::AsyncWriteExt;

    let server =
        TestServer::start_with(|s| s.stats.persist_interval_secs = 1).expect("server starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut tls = crate::testing::tls_connect(None, server.addr, &server.cert_der, Http::One)
            .await
            .expect("connect");
        let head = format!(
            "POST /v1/login HTTP/1.1\r\nHost: localhost\r\n{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\n\
             content-type: {CONTENT_TYPE}\r\ncontent-length: 64\r\n\r\nCAIRN"
        );
        tls.write_all(head.as_bytes()).await.expect("part of a request");
        tls.flush().await.expect("flush");
        tls.shutdown().await.expect("hang up");
        drop(tls);

        let mut conn = server.connect(Http::One).await.expect("connect");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let text = loop {
            let (status, text) = conn.get(endpoints::METRICS).await.expect("metrics");
            assert_eq!(status, 200, "{text}");
            if requests(&text, endpoints::Login::PATH, "4xx") > 0 || std::time::Instant::now() > deadline {
                break text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        assert_eq!(requests(&text, endpoints::Login::PATH, "4xx"), 1, "{text}");
        assert_eq!(requests(&text, endpoints::Login::PATH, "5xx"), 0, "{text}");
    });
    server.stop().expect("clean stop");
}
