//! Certificates from a trusted CA by ACME, end to end against Pebble (Let's
//! Encrypt's test CA) on loopback, with the real `cairn-server` and `cairn`: a fresh
//! server whose CA is not reachable yet serves its own certificate and says so in
//! `/healthz`; once the CA is up it obtains a certificate (TLS-ALPN-01 on its own
//! port), and a client that trusts only the CA's root logs in and syncs; a forced
//! renewal is served to new connections while an open one keeps working; after a
//! restart the server serves the kept certificate with the CA gone.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use anyhow::Context;
use cairn_common::api::endpoints;
use cairn_server::testing::{Conn, Http};
use cairn_tests::acme::{TestPebble, acme_section};
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, set_config_section};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

const ANA: &str = "ana@example.com";
const PW: &str = "a long enough password";

/// `/healthz` over a new connection that trusts `root`.
async fn health(server: &ServerProcess, root: &[u8]) -> anyhow::Result<(String, String)> {
    let mut conn = Conn::connect(server.addr, root, Http::One).await?;
    let (_, body) = conn.get(endpoints::HEALTHZ).await?;
    Ok((conn.server_fingerprint.clone(), body))
}

/// Logs `device` in as Ana, trusting the certificates `root` signs (no fingerprint).
fn login_trusting(device: &Device, url: &str, root: &std::path::Path) -> anyhow::Result<String> {
    device.ok_with(
        &[
            "login",
            url,
            "--email",
            ANA,
            "--password-stdin",
            "--ca-file",
            &root.to_string_lossy(),
        ],
        &format!("{PW}\n"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_gets_its_certificate_from_the_ca_and_renews_it() -> anyhow::Result<()> {
    let mut pebble = TestPebble::prepare()?;
    let mut server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "tls.acme", &acme_section(&pebble))
    })?;
    // The CA is not up: the server serves init's certificate and says why not.
    server.user(ANA, PW).await?;
    let self_signed = server.cert_der.clone();
    let mut degraded = String::new();
    for _ in 0..100 {
        degraded = health(&server, &self_signed).await?.1;
        if degraded.contains("certificate renewal failing") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        degraded.starts_with("degraded: certificate renewal failing:"),
        "{degraded}"
    );

    // The CA comes up: the next try obtains a certificate.
    pebble.start(server.addr.port())?;
    let root_path = pebble.issuing_root()?;
    let root = CertificateDer::from_pem_file(&root_path)?.to_vec();
    let mut first = None;
    for _ in 0..300 {
        if let Ok((fingerprint, body)) = health(&server, &root).await {
            assert_eq!(body, "ok");
            first = Some(fingerprint);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = first.with_context(|| {
        format!(
            "no certificate from the CA:\n{}\nthe server's log:\n{}",
            pebble.log(),
            server.log()
        )
    })?;
    let acme_dir = server.data_dir().join("acme");
    for file in ["account.json", "cert.pem", "key.pem"] {
        let mode = std::fs::metadata(acme_dir.join(file))?.permissions().mode();
        assert_eq!(mode & 0o077, 0, "{file} is the owner's only");
    }

    // A client that trusts the CA's root (and no fingerprint) logs in and syncs.
    let ana = Device::new()?;
    let url = format!("https://localhost:{}", server.addr.port());
    login_trusting(&ana, &url, &root_path)?;
    ana.ok(&["add", "goal", "Served by a trusted certificate"])?;
    let synced = ana.ok(&["sync"])?;
    assert!(synced.contains("pushed"), "{synced}");

    // A forced renewal: new connections get the new certificate, an open one
    // keeps working.
    let mut open = Conn::connect(server.addr, &root, Http::Two).await?;
    assert_eq!(open.server_fingerprint, first);
    let renewed = server.admin(&["tls", "renew"], "")?;
    assert!(renewed.contains("new connections get"), "{renewed}");
    let (second, body) = health(&server, &root).await?;
    assert_ne!(second, first, "a new certificate");
    assert!(renewed.contains(&second), "{renewed}");
    assert_eq!(body, "ok");
    let (status, body) = open.get(endpoints::HEALTHZ).await?;
    assert_eq!((status, body.as_str()), (200, "ok"), "the open connection");
    ana.ok(&["add", "goal", "After the renewal"])?;
    ana.ok(&["sync"])?;

    // Restarted with the CA gone, it serves the kept certificate at once.
    pebble.stop();
    server.signal("TERM")?;
    assert!(
        server.wait_exit(Duration::from_secs(30))?,
        "the server stops"
    );
    server.serve_again()?;
    let (fingerprint, _) = health(&server, &root).await?;
    assert_eq!(fingerprint, second);
    ana.ok(&["add", "goal", "After the restart"])?;
    ana.ok(&["sync"])?;
    let fresh = Device::new()?;
    login_trusting(&fresh, &url, &root_path)?;
    assert_eq!(fresh.goal_titles()?.len(), 3);
    Ok(())
}
