//! `/metrics` of the real server passes Prometheus's own linter, `promtool check
//! metrics` (Debian's `prometheus` package; `PROMTOOL` may name the binary).

use std::io::Write;
use std::process::{Command, Stdio};

use cairn_common::api::endpoints;
use cairn_server::testing::{Conn, Http};
use cairn_tests::server::ServerProcess;

/// The promtool to run: `$PROMTOOL`, else `promtool` on the PATH.
fn promtool() -> String {
    std::env::var("PROMTOOL")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "promtool".to_owned())
}

/// The metrics after 2xx and 4xx answers of several endpoints pass `promtool check
/// metrics` without a problem.
#[tokio::test]
async fn metrics_pass_promtool() {
    let server = ServerProcess::start().expect("server starts");
    server
        .user("ana@example.com", "a long enough password")
        .await
        .expect("user");
    let mut api = server.api().await.expect("api");
    api.login("ana@example.com", "a long enough password")
        .await
        .expect("login");
    // A wrong password: a 4xx.
    assert!(api.login("ana@example.com", "wrong").await.is_err());
    let mut conn = Conn::connect(server.addr, &server.cert_der, Http::One)
        .await
        .expect("connect");
    for path in [endpoints::HEALTHZ, endpoints::HEALTHZ, "/no/such/path"] {
        conn.get(path).await.expect("get");
    }
    let (status, text) = conn.get(endpoints::METRICS).await.expect("metrics");
    assert_eq!(status, 200, "{text}");
    // The text holds both families with samples, so the check is not of an empty page.
    for needed in [
        "cairn_http_requests_total{",
        "cairn_http_request_duration_seconds_bucket{",
        "endpoint=\"/healthz\"",
    ] {
        assert!(text.contains(needed), "{needed} missing in\n{text}");
    }

    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): install Debian's prometheus package for \
                 /usr/bin/promtool, or set PROMTOOL to a promtool binary",
                promtool()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("promtool");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
