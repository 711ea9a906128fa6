//! End to end: the real `cairn-server` sends mail through a real SMTP server
//! (aiosmtpd, see `cairn_tests::smtp`): a test mail over STARTTLS with a login;
//! mail that waits while the SMTP server is down (queued, `/healthz` degraded,
//! `mail list` telling the error and the next try), survives a crash of the
//! server, and goes once the SMTP server is back on its port; and mail off.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_tests::server::{ServerProcess, set_config_section};
use cairn_tests::smtp::{MailSecurity, TestSmtp, mail_section};

/// `mail list --json` of the server's data dir.
fn mail_list(server: &ServerProcess) -> anyhow::Result<serde_json::Value> {
    let out = server.admin(&["mail", "list", "--json"], "")?;
    serde_json::from_str(&out).with_context(|| format!("mail list --json printed {out}"))
}

/// Waits until `check` holds, up to `timeout`; the last value it saw otherwise.
async fn until<T: std::fmt::Debug>(
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> anyhow::Result<T>,
    check: impl Fn(&T) -> bool,
) -> anyhow::Result<T> {
    let start = Instant::now();
    loop {
        let value = probe().await?;
        if check(&value) {
            return Ok(value);
        }
        if start.elapsed() > timeout {
            bail!("not there within {timeout:?}; last: {value:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn health(server: &ServerProcess) -> anyhow::Result<String> {
    Ok(server.api().await?.health_body().await?.1)
}

/// `cairn-server mail test ADDRESS` through the running server: the mail arrives
/// over STARTTLS (the server trusting the test CA through `ca_file`) after a
/// login, and `mail list` shows it sent.
#[tokio::test(flavor = "multi_thread")]
async fn mail_test_arrives_over_starttls_with_a_login() -> anyhow::Result<()> {
    let smtp = TestSmtp::start(MailSecurity::Starttls, Some(("cairn", "mail password")))?;
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "mail", &mail_section(&smtp, 60, 3600))
    })?;
    let out = server.admin(&["mail", "test", "bob@example.com"], "")?;
    assert!(out.contains("queued test mail"), "{out}");
    let delivered = smtp.wait_for(1, Duration::from_secs(20))?;
    let mail = &delivered[0];
    assert_eq!(mail.header("X-Test-TLS"), Some("yes"));
    assert_eq!(mail.header("X-Test-Login"), Some("cairn"));
    assert_eq!(mail.header("Delivered-To"), Some("bob@example.com"));
    assert_eq!(mail.header("From"), Some("Cairn <cairn@example.com>"));
    assert_eq!(mail.subject(), "Cairn test mail");
    assert!(mail.body.contains("[mail] settings work"), "{}", mail.body);
    let list = until(
        Duration::from_secs(10),
        async || mail_list(&server),
        |l| l["mails"][0]["state"] == "sent",
    )
    .await?;
    assert_eq!(list["on"], true);
    assert_eq!(list["mails"][0]["kind"], "other");
    assert_eq!(list["mails"][0]["to"], "bob@example.com");
    assert_eq!(health(&server).await?, "ok");
    Ok(())
}

/// The SMTP server is down: the mail stays queued, `/healthz` says degraded with
/// a short cause, `mail list` shows the error and the next try. A crash of the
/// server loses nothing, and mail queued on the stopped data dir waits too. Once
/// the SMTP server is back on the same port, all of it is delivered and the
/// health is ok again.
#[tokio::test(flavor = "multi_thread")]
async fn mail_waits_while_smtp_is_down_and_goes_when_it_is_back() -> anyhow::Result<()> {
    let mut smtp = TestSmtp::start(MailSecurity::Tls, None)?;
    smtp.stop();
    let mut server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "mail", &mail_section(&smtp, 1, 2))
    })?;
    server.admin(&["mail", "test", "ann@example.com"], "")?;
    let body = until(
        Duration::from_secs(15),
        async || health(&server).await,
        |b| b != "ok",
    )
    .await?;
    assert_eq!(
        body,
        "degraded: mail failing: cannot connect to the SMTP server (connection refused)"
    );
    let list = until(
        Duration::from_secs(10),
        async || mail_list(&server),
        |l| l["mails"][0]["attempts"].as_u64() >= Some(1),
    )
    .await?;
    let mail = &list["mails"][0];
    assert_eq!(mail["state"], "queued");
    assert!(mail["next_attempt_ms"].as_u64().is_some(), "{mail}");
    assert!(
        mail["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Connection refused")),
        "{mail}"
    );
    assert_eq!(
        list["failing"],
        body.trim_start_matches("degraded: mail failing: ")
    );
    let text = server.admin(&["mail", "list"], "")?;
    assert!(
        text.contains("ann@example.com")
            && text.contains("next try")
            && text.contains("last error"),
        "{text}"
    );

    // A crash keeps the queued mail; a mail queued while the server is stopped
    // waits in the outbox of the data dir.
    server.kill9()?;
    server.admin(&["mail", "test", "bob@example.com"], "")?;
    let stopped = mail_list(&server)?;
    assert_eq!(stopped["mails"].as_array().map(Vec::len), Some(2));
    server.serve()?;
    smtp.start_again()?;
    let delivered = smtp.wait_for(2, Duration::from_secs(30))?;
    let mut to: Vec<_> = delivered
        .iter()
        .filter_map(|m| m.header("Delivered-To"))
        .collect();
    to.sort_unstable();
    assert_eq!(to, ["ann@example.com", "bob@example.com"]);
    until(
        Duration::from_secs(10),
        async || health(&server).await,
        |b| b == "ok",
    )
    .await?;
    let list = until(
        Duration::from_secs(10),
        async || mail_list(&server),
        |l| {
            l["mails"]
                .as_array()
                .is_some_and(|m| m.iter().all(|m| m["state"] == "sent"))
        },
    )
    .await?;
    assert_eq!(list["failing"], serde_json::Value::Null);
    Ok(())
}

/// With `[mail]` off (the default), `mail test` says so and what to set, on the
/// running server and on its stopped data dir, and nothing is queued.
#[tokio::test(flavor = "multi_thread")]
async fn mail_test_says_when_mail_is_off() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    for _ in 0..2 {
        let err = server
            .admin(&["mail", "test", "bob@example.com"], "")
            .expect_err("mail is off");
        let text = format!("{err:#}");
        assert!(
            text.contains("mail is off") && text.contains("[mail]"),
            "{text}"
        );
        let list = mail_list(&server)?;
        assert_eq!(list["on"], false);
        assert_eq!(list["mails"].as_array().map(Vec::len), Some(0));
        server.kill9()?;
    }
    Ok(())
}
