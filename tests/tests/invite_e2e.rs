//! Invitations and consent end to end, with the real binaries and a real SMTP
//! server (aiosmtpd): an owner invites an address, the mail arrives, the invitee
//! joins with the link (accepting the privacy notice) and syncs the space; a used
//! or revoked code is refused; a changed notice blocks sync until accepted; a
//! withdrawal ends the access and tells the space's owner by mail; and the admin's
//! `user add` mails an account invitation instead of making a password. An
//! invitation made while the SMTP server is down arrives once it is back, and an
//! expired code is refused.

use std::time::Duration;

use anyhow::Context;
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, set_config_section};
use cairn_tests::smtp::{MailSecurity, TestSmtp, mail_section};

const ANA: &str = "ana@example.com";
const ANA_PW: &str = "ana's long password";
const BEN: &str = "ben@example.com";
const BEN_PW: &str = "ben's own long password";

/// The link a delivered invitation carries (`cairn join 'LINK'`).
fn link_in(body: &str) -> anyhow::Result<String> {
    let start = body
        .find("cairn join '")
        .context("no `cairn join` line in the mail")?
        + "cairn join '".len();
    let end = body[start..].find('\'').context("the link is not quoted")?;
    Ok(body[start..start + end].replace("=\n", ""))
}

/// `cairn join LINK` for a new account, the password on stdin.
fn join(
    device: &Device,
    server: &ServerProcess,
    link: &str,
) -> anyhow::Result<std::process::Output> {
    device.run(
        &[
            "join",
            link,
            "--yes",
            "--first-name",
            "Ben",
            "--last-name",
            "Berg",
            "--password-stdin",
            "--fingerprint",
            &server.fingerprint,
        ],
        &format!("{BEN_PW}\n"),
    )
}

/// A server sending through `smtp`, and Ana's device, logged in, owning Team.
async fn server_with_ana(smtp: &TestSmtp) -> anyhow::Result<(ServerProcess, Device)> {
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "mail", &mail_section(smtp, 1, 2))
    })?;
    server.user(ANA, ANA_PW).await?;
    let ana = Device::new()?;
    ana.login(&server, ANA, ANA_PW)?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    Ok((server, ana))
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_join_notice_and_withdrawal() -> anyhow::Result<()> {
    let smtp = TestSmtp::start(MailSecurity::Tls, None)?;
    let (mut server, ana) = server_with_ana(&smtp).await?;
    ana.ok_with(&["sync"], "")?;
    ana.ok_with(&["add", "goal", "Team plan", "--space", "Team"], "")?;
    ana.ok_with(&["sync"], "")?;

    // The invitation arrives by mail, with the link and nothing of the space's content.
    let out = ana.ok_with(&["spaces", "invite", "Team", BEN, "--role", "editor"], "")?;
    assert!(out.contains("Invited ben@example.com"), "{out}");
    let mails = smtp.wait_for(1, Duration::from_secs(20))?;
    let invitation = &mails[0];
    assert_eq!(invitation.header("Delivered-To"), Some(BEN));
    assert!(
        invitation.subject().contains("Team"),
        "{}",
        invitation.subject()
    );
    assert!(
        !invitation.body.contains("Team plan"),
        "{}",
        invitation.body
    );
    let link = link_in(&invitation.body)?;

    // Ben joins with it: a new account, the notice accepted, the space synced.
    let ben = Device::new()?;
    let joined = join(&ben, &server, &link)?;
    let stdout = String::from_utf8_lossy(&joined.stdout);
    assert!(
        joined.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    assert!(stdout.contains("accepted the privacy notice"), "{stdout}");
    assert_eq!(ben.goal_titles()?, ["Team plan"]);

    // The code works once.
    let again = join(&Device::new()?, &server, &link)?;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not valid"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A revoked invitation's link is refused too.
    ana.ok_with(&["spaces", "invite", "Team", "cem@example.com"], "")?;
    let mails = smtp.wait_for(2, Duration::from_secs(20))?;
    let to_cem = mails
        .iter()
        .find(|m| m.header("Delivered-To") == Some("cem@example.com"))
        .context("cem's invitation")?;
    let cem_link = link_in(&to_cem.body)?;
    let list = ana.json(&["spaces", "invitations", "Team", "--json"])?;
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|i| i["email"] == "cem@example.com"))
        .and_then(|i| i["id"].as_str())
        .context("cem's invitation listed")?
        .to_owned();
    ana.ok_with(&["spaces", "revoke-invitation", "Team", &id[..8]], "")?;
    let revoked = join(&Device::new()?, &server, &cem_link)?;
    assert!(!revoked.status.success());

    // A new notice: sync stops until it is accepted.
    let notice = server.data_dir().join("notice-v2.md");
    std::fs::write(&notice, "# Privacy notice, second version\n\nNew terms.\n")?;
    server.kill9()?;
    set_config_section(
        server.data_dir(),
        "privacy",
        "notice_file = \"notice-v2.md\"\nnotice_version = \"2\"",
    )?;
    server.serve_again()?;
    let refused = ben.fail(&["sync"], "")?;
    assert!(refused.contains("cairn account consent"), "{refused}");
    let shown = ben.ok_with(&["account", "consent", "--show"], "")?;
    assert!(shown.contains("second version"), "{shown}");
    ben.ok_with(&["account", "consent", "--yes"], "")?;
    ben.ok_with(&["sync"], "")?;

    // Ben withdraws: his access ends, and Ana, the space's owner, gets a mail.
    let out = ben.ok_with(
        &["account", "withdraw-consent", "--yes", "--password-stdin"],
        &format!("{BEN_PW}\n"),
    )?;
    assert!(out.contains("withdrawn"), "{out}");
    let mails = smtp.wait_for(3, Duration::from_secs(20))?;
    let told = mails
        .iter()
        .find(|m| m.header("Delivered-To") == Some(ANA))
        .context("the owner's mail")?;
    assert!(
        told.body.contains(BEN) && told.body.contains("Team"),
        "{}",
        told.body
    );
    // The space's owner (once she accepted the new notice too) reads the evidence
    // of her members' consent.
    ana.ok_with(&["account", "consent", "--yes"], "")?;
    let records = ana.json(&["spaces", "consents", "Team", "--json"])?;
    let bens: Vec<(&str, &str)> = records
        .as_array()
        .context("an array")?
        .iter()
        .filter(|r| r["email"] == BEN)
        .map(|r| {
            (
                r["action"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        bens,
        [
            ("accepted", "cairn-1"),
            ("accepted", "2"),
            ("withdrawn", "2")
        ],
        "{records}"
    );
    let again = Device::new()?;
    let login = again.run(
        &[
            "login",
            &server.url(),
            "--email",
            BEN,
            "--password-stdin",
            "--fingerprint",
            &server.fingerprint,
        ],
        &format!("{BEN_PW}\n"),
    )?;
    assert!(
        !login.status.success(),
        "a withdrawn account logs in no more"
    );
    // `cairn-server user add` without a password mails an account invitation.
    set_config_section(
        server.data_dir(),
        "server",
        &format!("public_url = \"{}\"", server.url()),
    )?;
    let out = server.admin(&["user", "add", "dan@example.com"], "")?;
    assert!(out.contains("invited dan@example.com"), "{out}");
    let mails = smtp.wait_for(4, Duration::from_secs(20))?;
    let to_dan = mails
        .iter()
        .find(|m| m.header("Delivered-To") == Some("dan@example.com"))
        .context("dan's invitation")?;
    assert!(to_dan.subject().contains("account"), "{}", to_dan.subject());
    let dan = Device::new()?;
    let joined = join(&dan, &server, &link_in(&to_dan.body)?)?;
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    assert!(
        server
            .admin(&["user", "list"], "")?
            .contains("dan@example.com")
    );

    // A forgotten password: the same answer for any address, a code by mail to a
    // real one only, used once.
    let out = ana.ok_with(&["passwd", "--forgot", "--email", ANA], "")?;
    let nobody = ana.ok_with(&["passwd", "--forgot", "--email", "nobody@example.com"], "")?;
    assert_eq!(
        out.replace(ANA, "X"),
        nobody.replace("nobody@example.com", "X")
    );
    let mails = smtp.wait_for(5, Duration::from_secs(20))?;
    let reset = mails
        .iter()
        .find(|m| m.subject().contains("new Cairn password"))
        .context("the reset mail")?;
    assert_eq!(reset.header("Delivered-To"), Some(ANA));
    let code = reset
        .body
        .split("--code ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .context("the code in the mail")?
        .to_owned();
    let new_pw = "ana's brand new password";
    ana.ok_with(
        &[
            "passwd",
            "--code",
            &code,
            "--email",
            ANA,
            "--password-stdin",
        ],
        &format!("{new_pw}\n"),
    )?;
    let used = ana.fail(
        &[
            "passwd",
            "--code",
            &code,
            "--email",
            ANA,
            "--password-stdin",
        ],
        "another password here\n",
    )?;
    assert!(used.contains("not valid"), "{used}");
    Device::new()?.login(&server, ANA, new_pw)?;
    assert!(
        smtp.delivered()?
            .iter()
            .all(|m| m.header("Delivered-To") != Some("nobody@example.com"))
    );

    // The evidence, for the admin: Ben accepted two versions, then withdrew.
    let records = server.admin(&["consent", "list", "--user", BEN], "")?;
    let lines: Vec<&str> = records.lines().collect();
    assert_eq!(lines.len(), 3, "{records}");
    assert!(
        lines[0].contains("accepted") && lines[0].contains("cairn-1"),
        "{records}"
    );
    assert!(
        lines[1].contains("accepted") && lines[1].contains("version 2 "),
        "{records}"
    );
    assert!(
        lines[2].contains("withdrawn") && lines[2].contains("127.0.0.0/24"),
        "{records}"
    );
    let audit = server.admin(&["audit", "list"], "")?;
    for kind in [
        "invitation-sent",
        "invitation-used",
        "consent-given",
        "consent-withdrawn",
    ] {
        assert!(audit.contains(kind), "{kind} missing: {audit}");
    }
    Ok(())
}

/// An invitation made while the SMTP server is down arrives once it is back. A
/// week later its code is refused with the same answer as a wrong one, and its
/// owner sees it as expired. (The week passes in the store: the server is stopped
/// and the invitation's expiry moved into the past.)
#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_waits_for_smtp_and_expires() -> anyhow::Result<()> {
    let mut smtp = TestSmtp::start(MailSecurity::Tls, None)?;
    let (mut server, ana) = server_with_ana(&smtp).await?;
    smtp.stop();
    let out = ana.ok_with(&["spaces", "invite", "Team", BEN], "")?;
    assert!(out.contains("Invited"), "{out}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(smtp.delivered()?.is_empty());
    smtp.start_again()?;
    let mails = smtp.wait_for(1, Duration::from_secs(30))?;
    let link = link_in(&mails[0].body)?;

    server.kill9()?;
    {
        let db = cairn_server::datadir::DataDir::new(server.data_dir().to_path_buf()).db();
        let store = cairn_server::store::Store::open(&db)?;
        let past = cairn_server::clock::now_ms() - 1;
        for mut invitation in store.invitations(None).await? {
            invitation.expires_at_ms = past;
            store.create_invitation(&invitation).await?;
        }
        store.flush().await?;
    }
    server.serve_again()?;

    let refused = join(&Device::new()?, &server, &link)?;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not valid"), "{stderr}");
    let list = ana.json(&["spaces", "invitations", "Team", "--json"])?;
    assert_eq!(list[0]["state"], "expired", "{list}");
    Ok(())
}
