//! The mail outbox's cases of the suite: queueing and its checks, claims and
//! leases, outcomes, purge and retention, the same on both backends.

use cairn_common::model::UserId;

use crate::store::{
    MailKind, MailOutcome, MailState, OutgoingMail, PurgeTarget, RetentionCutoffs, Store,
    StoreError,
};

const LEASE_MS: u64 = 300_000;

fn mail(to: &str, user: Option<UserId>) -> OutgoingMail {
    OutgoingMail {
        to: to.into(),
        subject: "Grüße: you are invited".into(),
        body: "Hallo,\n\nopen https://cairn.example.com to join.\n".into(),
        kind: MailKind::Invitation,
        user,
    }
}

/// A mail is checked, queued due at once, claimed by one sender for its lease,
/// and its outcome is recorded only by the sender that holds it; a retry waits,
/// a sent mail keeps no text.
pub async fn mail_is_queued_claimed_and_finished(store: &Store) {
    for bad in [
        OutgoingMail {
            to: "not an address".into(),
            ..mail("x@example.com", None)
        },
        OutgoingMail {
            to: "a@example.com, b@example.com".into(),
            ..mail("x@example.com", None)
        },
        OutgoingMail {
            subject: "two\nlines".into(),
            ..mail("x@example.com", None)
        },
        OutgoingMail {
            subject: " ".into(),
            ..mail("x@example.com", None)
        },
        OutgoingMail {
            body: "x".repeat(64 * 1024 + 1),
            ..mail("x@example.com", None)
        },
    ] {
        assert!(
            matches!(
                store.queue_mail_at(bad.clone(), 1_000).await,
                Err(StoreError::InvalidEmail(_) | StoreError::InvalidInput(_))
            ),
            "{bad:?}"
        );
    }
    assert!(store.mail_list().await.expect("list").is_empty());

    let first = store
        .queue_mail_at(mail("ann@example.com", None), 1_000)
        .await
        .expect("queue");
    let second = store
        .queue_mail_at(mail("bob@example.com", None), 2_000)
        .await
        .expect("queue");
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    assert!(
        store
            .claim_mail(a, 500, LEASE_MS)
            .await
            .expect("claim")
            .is_none(),
        "nothing is due before it was queued"
    );
    let claimed = store
        .claim_mail(a, 3_000, LEASE_MS)
        .await
        .expect("claim")
        .expect("the oldest due mail");
    assert_eq!((claimed.id, claimed.claimed_by), (first, Some(a)));
    assert_eq!(claimed.mail, mail("ann@example.com", None));
    let other = store
        .claim_mail(b, 3_000, LEASE_MS)
        .await
        .expect("claim")
        .expect("the next one");
    assert_eq!(other.id, second);
    assert!(
        store
            .claim_mail(b, 3_000 + LEASE_MS - 1, LEASE_MS)
            .await
            .expect("claim")
            .is_none(),
        "both are held"
    );
    // a's lease ended: b takes its mail over, and a's late outcome is not recorded.
    let taken = store
        .claim_mail(b, 3_000 + LEASE_MS, LEASE_MS)
        .await
        .expect("claim")
        .expect("taken over");
    assert_eq!(taken.id, first);
    let sent = MailOutcome::Sent;
    assert!(
        !store
            .finish_mail(first, a, &sent, 4_000)
            .await
            .expect("finish")
    );
    let retry = MailOutcome::Retry {
        error: "Connection error: connection refused".into(),
        next_attempt_ms: 400_000,
    };
    assert!(
        store
            .finish_mail(first, b, &retry, 310_000)
            .await
            .expect("finish")
    );
    assert!(
        store
            .finish_mail(second, b, &sent, 310_000)
            .await
            .expect("finish")
    );
    let list = store.mail_list().await.expect("list");
    assert_eq!(
        list.iter().map(|m| m.id).collect::<Vec<_>>(),
        [first, second]
    );
    let (waiting, done) = (&list[0], &list[1]);
    assert_eq!(
        (waiting.state, waiting.attempts, waiting.next_attempt_ms),
        (MailState::Queued, 1, 400_000)
    );
    assert_eq!(
        waiting.last_error.as_deref(),
        Some("Connection error: connection refused")
    );
    assert_eq!((waiting.claimed_by, waiting.claimed_until_ms), (None, 0));
    assert_eq!(waiting.mail.subject, "Grüße: you are invited");
    assert_eq!(
        (done.state, done.attempts, done.finished_ms),
        (MailState::Sent, 1, Some(310_000))
    );
    assert!(done.mail.subject.is_empty() && done.mail.body.is_empty());
    assert_eq!(done.mail.to, "bob@example.com");
    assert!(
        store
            .claim_mail(a, 399_999, LEASE_MS)
            .await
            .expect("claim")
            .is_none(),
        "the retry waits"
    );
    let again = store
        .claim_mail(a, 400_000, LEASE_MS)
        .await
        .expect("claim")
        .expect("due again");
    assert_eq!(again.id, first);
    let gave_up = MailOutcome::GaveUp {
        error: "still refused".into(),
    };
    assert!(
        store
            .finish_mail(first, a, &gave_up, 400_001)
            .await
            .expect("finish")
    );
    let failed = &store.mail_list().await.expect("list")[0];
    assert_eq!(
        (failed.state, failed.attempts, failed.finished_ms),
        (MailState::Failed, 2, Some(400_001))
    );
    assert!(failed.mail.body.is_empty());
    assert!(
        store
            .claim_mail(a, 1 << 50, LEASE_MS)
            .await
            .expect("claim")
            .is_none(),
        "nothing is left to send"
    );
}

/// A purge of a user takes the mail that is theirs or goes to their address;
/// a purge of everything takes all mail.
pub async fn purging_takes_the_mail(store: &Store) {
    let new = |email: &str| crate::store::NewUser {
        email: email.into(),
        first_name: "First".into(),
        last_name: "Last".into(),
        password_hash: format!("hash of {email}"),
        must_change_password: false,
        server_admin: false,
    };
    let ann = store
        .create_user(new("ann@example.com"))
        .await
        .expect("ann");
    let bob = store
        .create_user(new("bob@example.com"))
        .await
        .expect("bob");
    store
        .queue_mail_at(mail("ann.private@example.org", Some(ann.id)), 1)
        .await
        .expect("ann's");
    store
        .queue_mail_at(mail("ANN@example.com", None), 2)
        .await
        .expect("to ann");
    store
        .queue_mail_at(mail("bob@example.com", Some(bob.id)), 3)
        .await
        .expect("bob's");
    store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge ann");
    let left = store.mail_list().await.expect("list");
    assert_eq!(
        left.iter().map(|m| m.mail.to.as_str()).collect::<Vec<_>>(),
        ["bob@example.com"]
    );
    store.purge(&PurgeTarget::All).await.expect("purge all");
    assert!(store.mail_list().await.expect("list").is_empty());
}

/// Retention removes mails sent or given up before its cut; queued mail stays
/// whatever its age.
pub async fn retention_sweeps_old_mail(store: &Store) {
    let old = store
        .queue_mail_at(mail("old@example.com", None), 1_000)
        .await
        .expect("old");
    let recent = store
        .queue_mail_at(mail("recent@example.com", None), 1_001)
        .await
        .expect("recent");
    let waiting = store
        .queue_mail_at(mail("waiting@example.com", None), 1_002)
        .await
        .expect("waiting");
    let holder = uuid::Uuid::new_v4();
    for (at, outcome) in [
        (2_000, MailOutcome::Sent),
        (
            9_000,
            MailOutcome::GaveUp {
                error: "refused".into(),
            },
        ),
    ] {
        let claimed = store
            .claim_mail(holder, at, LEASE_MS)
            .await
            .expect("claim")
            .expect("due");
        store
            .finish_mail(claimed.id, holder, &outcome, at)
            .await
            .expect("finish");
    }
    let list = store.mail_list().await.expect("list");
    assert_eq!(
        list.iter().map(|m| m.id).collect::<Vec<_>>(),
        [old, recent, waiting]
    );
    let cut = RetentionCutoffs {
        mail_before_ms: Some(5_000),
        ..RetentionCutoffs::default()
    };
    let outcome = store.sweep_retention(cut).await.expect("sweep");
    assert_eq!((outcome.mails, outcome.rewritten), (1, true));
    let left: Vec<_> = store
        .mail_list()
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(left, [recent, waiting]);
    let again = store.sweep_retention(cut).await.expect("sweep");
    assert!(!again.rewritten);
}
