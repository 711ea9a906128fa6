//! Notifications by choice end to end, with the real binaries and a real SMTP
//! server (aiosmtpd): nothing is mailed until a user turns it on; a user who chose
//! the digest gets exactly their own due items, one who did not gets nothing; a
//! user who chose invitations hears of being added to a space; the stop link in a
//! mail turns everything off; all of it is audited.

use std::time::Duration;

use anyhow::Context;
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, set_config_section};
use cairn_tests::smtp::{MailSecurity, TestSmtp, mail_section};

const ANA: &str = "ana@example.com";
const BEN: &str = "ben@example.com";
const PW: &str = "a long enough password";
const TODAY: &str = "2026-12-10";

/// Adds a record with `cairn add … --json`; its short id (the last 8 hex digits).
fn add(device: &Device, kind: &str, title: &str, fields: &[&str]) -> anyhow::Result<String> {
    let mut args = vec!["add", kind, title, "--space", "Team", "--json"];
    for field in fields {
        args.extend(["-f", field]);
    }
    let record = device.json(&args)?;
    let id = record["id"].as_str().context("the new record's id")?;
    Ok(id.replace('-', "")[24..].to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_and_membership_mails_only_by_choice() -> anyhow::Result<()> {
    let smtp = TestSmtp::start(MailSecurity::Tls, None)?;
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "mail", &mail_section(&smtp, 1, 2))
    })?;
    set_config_section(
        server.data_dir(),
        "server",
        &format!("public_url = \"{}\"", server.url()),
    )?;
    server.user(ANA, PW).await?;
    server.user(BEN, PW).await?;
    let (ana, ben) = (Device::new()?, Device::new()?);
    ana.login(&server, ANA, PW)?;
    ben.login(&server, BEN, PW)?;

    // Off by default; Ben chooses only the mail about new spaces.
    let off = ben.json(&["account", "notifications", "--json"])?;
    assert_eq!(
        off,
        serde_json::json!({"due": false, "follow_ups": false, "invitations": false})
    );
    ben.ok(&["account", "notifications", "on", "--invitations"])?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok(&["spaces", "add-member", "Team", BEN, "--role", "editor"])?;
    let mails = smtp.wait_for(1, Duration::from_secs(20))?;
    assert_eq!(mails[0].header("Delivered-To"), Some(BEN));
    assert!(
        mails[0].subject().contains("Team"),
        "{}",
        mails[0].subject()
    );
    assert!(
        mails[0].body.contains("cairn account notifications off"),
        "{}",
        mails[0].body
    );

    // Records in the shared space, due around TODAY.
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    let ana_overdue = add(
        &ana,
        "commitment",
        "Ana's overdue promise",
        &["due=2026-12-09"],
    )?;
    let ana_task = add(
        &ana,
        "task",
        "Ana's weekly report",
        &["recurrence=weekly", "next_due=2026-12-10"],
    )?;
    let ana_follow_up = add(&ana, "note", "1:1 with Ben", &["follow_up=2026-12-10"])?;
    let private = add(
        &ana,
        "note",
        "Private talk",
        &["follow_up=2026-12-10", "private=yes"],
    )?;
    let later = add(
        &ana,
        "commitment",
        "Ana's later promise",
        &["due=2026-12-11"],
    )?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    let bens = add(&ben, "commitment", "Ben's promise", &["due=2026-12-08"])?;
    ben.ok(&["sync"])?;

    // Ana turns everything on; the digest of TODAY goes to her alone.
    let on = ana.ok(&["account", "notifications", "on"])?;
    assert!(on.contains("due") && on.contains("on"), "{on}");
    let out = server.admin(&["mail", "digest", "--date", TODAY], "")?;
    assert!(out.contains("queued 1 digest"), "{out}");
    let mails = smtp.wait_for(2, Duration::from_secs(20))?;
    let digest = mails
        .iter()
        .find(|m| m.header("Delivered-To") == Some(ANA))
        .context("Ana's digest")?;
    for id in [&ana_overdue, &ana_task, &ana_follow_up] {
        assert!(
            digest.body.contains(id.as_str()),
            "{id} missing:\n{}",
            digest.body
        );
    }
    for id in [&private, &later, &bens] {
        assert!(
            !digest.body.contains(id.as_str()),
            "{id} listed:\n{}",
            digest.body
        );
    }
    assert!(
        !digest.body.contains("promise"),
        "titles stay on the server:\n{}",
        digest.body
    );
    assert!(digest.subject().contains('3'), "{}", digest.subject());
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.header("Delivered-To") == Some(BEN))
            .count(),
        1,
        "Ben chose no digest"
    );

    // The stop link: a GET only asks; the POST stops every notification.
    let link = digest
        .body
        .lines()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("https://")))
        .context("the stop link")?;
    let path = &link[server.url().len()..];
    let mut api = server.api().await?;
    let (status, page) = api.get(path).await?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert_eq!(
        ana.json(&["account", "notifications", "--json"])?["due"],
        true,
        "looking at the link changes nothing"
    );
    let (status, _) = api.raw(path, None, Vec::new()).await?;
    assert_eq!(status, 200);
    let (status, _) = api
        .raw(&path.replace("token=", "token=0"), None, Vec::new())
        .await?;
    assert_eq!(status, 404, "a wrong token does nothing");
    let now = ana.json(&["account", "notifications", "--json"])?;
    assert_eq!(
        now,
        serde_json::json!({"due": false, "follow_ups": false, "invitations": false})
    );
    let out = server.admin(&["mail", "digest", "--date", TODAY], "")?;
    assert!(out.contains("queued 0 digest"), "{out}");

    let audit = server.admin(&["audit", "list"], "")?;
    for kind in ["notifications-changed", "digest-sent"] {
        assert!(audit.contains(kind), "{kind} missing: {audit}");
    }
    Ok(())
}
