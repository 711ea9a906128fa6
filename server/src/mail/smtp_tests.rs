//! The sender against a real SMTP server (aiosmtpd, [`TestSmtp`]): each kind of
//! connection, a login, a CA file, the backoff with a manual clock, giving up.

use std::time::Duration;

use tokio::sync::watch;

use super::outbox::{Sender, spawn};
use super::transport::Transport;
use super::{MailSecurity, MailSettings, Mailer};
use crate::clock::Clock;
use crate::store::test_support::temp_facade;
use crate::store::{MailKind, MailState, OutgoingMail, Store};
use crate::test_smtp::TestSmtp;

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "Grüße: Ann hat dich eingeladen".into(),
        body: "Hallo Bob,\n\nAnn hat dich in den Bereich „Team“ eingeladen.\n\
               Öffne https://cairn.example.com, um beizutreten.\n"
            .into(),
        kind: MailKind::Invitation,
        user: None,
    }
}

fn sender(store: &Store, settings: &MailSettings, clock: Clock) -> (Sender, Mailer) {
    let mailer = Mailer::new(settings.clone());
    let ca = (!settings.ca_file.as_os_str().is_empty()).then_some(settings.ca_file.as_path());
    let transport = Transport::new(settings, ca).expect("transport");
    let sender = Sender::new(
        store.clone(),
        mailer.clone(),
        transport,
        settings.retry(),
        clock,
    );
    (sender, mailer)
}

fn running() -> watch::Receiver<bool> {
    watch::channel(false).1
}

/// Over required STARTTLS with a login, trusting the test CA: the running sender
/// wakes on the queued mail, which arrives with its headers and its UTF-8 text;
/// the outbox keeps no text of it, and the health is ok.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_over_starttls_with_a_login() {
    let smtp =
        TestSmtp::start(MailSecurity::Starttls, Some(("cairn", "s3cret pass"))).expect("smtp");
    let (_dir, store) = temp_facade();
    let (sender, mailer) = sender(&store, &smtp.mail_settings(), Clock::system());
    let task = spawn(sender);
    // The first round found nothing; the queued mail wakes the sender well
    // before its 30 s tick.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = mailer
        .queue(&store, mail("bob@example.com"))
        .await
        .expect("queue");
    let delivered = tokio::task::spawn_blocking(move || smtp.wait_for(1, Duration::from_secs(10)))
        .await
        .expect("wait")
        .expect("delivered");
    task.stop().await;
    let got = &delivered[0];
    assert_eq!(got.header("X-Test-TLS"), Some("yes"));
    assert_eq!(got.header("X-Test-Login"), Some("cairn"));
    assert_eq!(got.header("Delivered-To"), Some("bob@example.com"));
    assert_eq!(got.header("From"), Some("Cairn <cairn@example.com>"));
    assert_eq!(
        got.header("Message-ID"),
        Some(format!("<{}@example.com>", id.0.simple()).as_str())
    );
    assert!(got.header("Date").is_some());
    assert_eq!(got.subject(), "Grüße: Ann hat dich eingeladen");
    // SMTP ends a message with a line break; the text is the same.
    assert_eq!(got.body.trim_end(), mail("x@example.com").body.trim_end());
    let list = store.mail_list().await.expect("list");
    assert_eq!((list[0].state, list[0].attempts), (MailState::Sent, 1));
    assert!(list[0].mail.subject.is_empty() && list[0].mail.body.is_empty());
    let health = mailer.health();
    assert!(health.failing.is_none() && health.last_success_ms.is_some());
}

/// Implicit TLS, and plain SMTP to a relay on this host, both deliver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_over_implicit_tls_and_to_a_local_relay() {
    for security in [MailSecurity::Tls, MailSecurity::None] {
        let smtp = TestSmtp::start(security, None).expect("smtp");
        let (_dir, store) = temp_facade();
        let (sender, _mailer) = sender(&store, &smtp.mail_settings(), Clock::system());
        store
            .queue_mail(mail("bob@example.com"))
            .await
            .expect("queue");
        assert_eq!(sender.round(&running()).await, None, "{security:?}");
        let delivered = smtp.delivered().expect("read");
        assert_eq!(delivered.len(), 1, "{security:?}");
        let tls = if security == MailSecurity::None {
            "no"
        } else {
            "yes"
        };
        assert_eq!(delivered[0].header("X-Test-TLS"), Some(tls));
    }
}

/// A server whose certificate is not from the configured CA is refused (the
/// mail waits), and so is a wrong password; health says which in a few words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_certificate_and_a_wrong_login_are_refused() {
    let smtp = TestSmtp::start(MailSecurity::Tls, Some(("cairn", "right"))).expect("smtp");
    let other = TestSmtp::start(MailSecurity::Tls, None).expect("another CA");
    let (_dir, store) = temp_facade();
    let wrong_ca = MailSettings {
        ca_file: other.ca_file(),
        ..smtp.mail_settings()
    };
    let clock = Clock::manual(1_000_000);
    let (sender_ca, mailer) = sender(&store, &wrong_ca, clock.clone());
    store
        .queue_mail_at(mail("bob@example.com"), clock.now_ms())
        .await
        .expect("queue");
    assert!(sender_ca.round(&running()).await.is_some());
    let summary = mailer.health().failing.expect("failing").summary;
    assert!(
        summary.starts_with("TLS with the SMTP server failed (invalid peer certificate"),
        "{summary}"
    );
    let wrong_login = MailSettings {
        password: crate::secret::Secret("wrong".into()),
        ..smtp.mail_settings()
    };
    let (sender_pw, mailer) = sender(&store, &wrong_login, clock.clone());
    clock.advance(Duration::from_secs(60));
    assert!(sender_pw.round(&running()).await.is_some());
    let summary = mailer.health().failing.expect("failing").summary;
    assert!(
        summary.contains("refused the login (code 535)"),
        "{summary}"
    );
    assert!(!summary.contains("bob"), "{summary}");
    assert!(smtp.delivered().expect("read").is_empty());
    let waiting = &store.mail_list().await.expect("list")[0];
    assert_eq!((waiting.state, waiting.attempts), (MailState::Queued, 2));
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("535"))
    );
}

/// With nobody listening: each failure waits twice as long as the one before;
/// nothing is tried before it is due; after `give_up_hours` the mail is given up,
/// kept as failed without its text, and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_back_off_then_give_up() {
    let smtp = TestSmtp::start(MailSecurity::None, None).expect("smtp");
    let settings = smtp.mail_settings();
    drop(smtp);
    let (_dir, store) = temp_facade();
    let clock = Clock::manual(1_000_000);
    let (sender, mailer) = sender(&store, &settings, clock.clone());
    store
        .queue_mail_at(mail("bob@example.com"), clock.now_ms())
        .await
        .expect("queue");
    let start = clock.now_ms();
    assert_eq!(sender.round(&running()).await, Some(start + 60_000));
    let failing = mailer.health().failing.expect("failing");
    assert_eq!(
        failing.summary,
        "cannot connect to the SMTP server (connection refused)"
    );
    assert_eq!(sender.round(&running()).await, None, "not due yet");
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        sender.round(&running()).await,
        Some(start + 60_000 + 120_000)
    );
    let waiting = &store.mail_list().await.expect("list")[0];
    assert_eq!((waiting.attempts, waiting.state), (2, MailState::Queued));
    clock.advance(Duration::from_secs(72 * 3600));
    assert_eq!(sender.round(&running()).await, None, "given up");
    let failed = &store.mail_list().await.expect("list")[0];
    assert_eq!((failed.attempts, failed.state), (3, MailState::Failed));
    assert!(failed.mail.subject.is_empty() && failed.mail.body.is_empty());
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("Connection error"))
    );
    let audit = store.audit_entries().await.expect("audit");
    let entry = audit.last().expect("an entry");
    assert_eq!(entry.kind, "mail-failed");
    assert!(
        entry.detail.contains("given up after 3 attempts"),
        "{entry:?}"
    );
    assert_eq!(entry.subject, None, "no account: no name in the log");
}
