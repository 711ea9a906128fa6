//! Purge and retention on a real PostgreSQL, down to the table files.

use cairn_common::model::Role;

use super::super::NewAccount;
use super::super::tests::fresh;
use crate::store::conformance::cases::goal;
use crate::store::{
    AuditEvent, AuditKind, AuditVerification, LoginRecord, PurgeTarget, RecordLimits, StoreError,
    ThrottleState,
};

fn account(email: &str) -> NewAccount {
    NewAccount {
        email: email.into(),
        first_name: "A".into(),
        last_name: "B".into(),
        password_hash: "hash".into(),
        must_change_password: false,
        server_admin: email == "admin",
        created_at_ms: 1,
    }
}

/// Every file of the database's tables, as bytes (not the write-ahead log: that is
/// the administrator's, see the module doc of `purge.rs`).
fn table_files_contain(pg: &crate::test_postgres::TestPostgres, marker: &[u8]) -> bool {
    let mut stack = vec![pg.data_dir().join("base")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(marker.len()).any(|w| w == marker)
            {
                return true;
            }
        }
    }
    false
}

/// Purging a user removes the account, sessions, login records, counters and
/// personal space; their ops in a shared space stay under a pseudonym; the space
/// gets an heir as owner; the audit log no longer names them; and no byte of their
/// personal notes is left in the table files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_a_user_leaves_no_byte_in_the_tables() {
    let (pg, _url, store) = fresh().await;
    let ann = store
        .create_user(account("ann@example.com"))
        .await
        .expect("ann")
        .id;
    store
        .create_user(account("bob@example.com"))
        .await
        .expect("bob");
    let team = store
        .create_space(ann, "Team".into())
        .await
        .expect("team")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Editor))
        .await
        .expect("bob joins");
    let personal = store.spaces_of(ann).await.expect("spaces")[0].space.id;
    let marker = "purge-marker-7f3a9c-personal";
    store
        .append_ops(&goal(personal, ann, marker), &RecordLimits::NONE)
        .await
        .expect("personal note");
    store
        .append_ops(&goal(team, ann, "shared work"), &RecordLimits::NONE)
        .await
        .expect("shared note");
    store
        .create_session(&[1; 32], ann, "laptop", 1, 100)
        .await
        .expect("session");
    store
        .record_login(
            ann,
            &LoginRecord {
                at_ms: 5,
                success: true,
                address: None,
                device: "laptop".into(),
            },
        )
        .await
        .expect("login");
    let key =
        String::from_utf8_lossy(&crate::store::purge::throttle_key("ann@example.com")).into_owned();
    store
        .set_throttle_state(
            &key,
            ThrottleState {
                failures: 2,
                last_failure_ms: 3,
            },
        )
        .await
        .expect("counter");
    store
        .audit_at(
            AuditEvent::new(AuditKind::AccountCreated).subject("ann@example.com"),
            10,
        )
        .await
        .expect("audit");

    // Mail to her carries the marker too (a mail's text never holds notes, but
    // the test must see the mail table rewritten as well).
    store
        .queue_mail(&crate::store::QueuedMail::new(
            crate::store::OutgoingMail {
                to: "ann@example.com".into(),
                subject: "Weekly digest".into(),
                body: marker.into(),
                kind: crate::store::MailKind::Digest,
                user: Some(ann),
            },
            10,
        ))
        .await
        .expect("mail");

    // Written out to the table files first, so the test can see it go.
    let client = store.pool.get().await.expect("connection");
    client
        .batch_execute("CHECKPOINT")
        .await
        .expect("checkpoint");
    drop(client);
    assert!(
        table_files_contain(&pg, marker.as_bytes()),
        "the note should be in the table files before the purge"
    );
    // Another server's transaction, open across the purge, could still see the
    // note: the purge waits for it before it rewrites the tables.
    let (seen, snapshot_taken) = tokio::sync::oneshot::channel();
    let other = store.clone();
    let holder = tokio::spawn(async move {
        let mut client = other.pool.get().await.expect("connection");
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .start()
            .await
            .expect("transaction");
        tx.query("SELECT 1", &[]).await.expect("snapshot");
        let _ = seen.send(());
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        tx.commit().await.expect("commit");
    });
    snapshot_taken.await.expect("the other transaction started");
    let outcome = store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge");
    assert_eq!(outcome.users, ["ann@example.com"]);
    assert_eq!(outcome.spaces_removed, [personal]);
    assert_eq!(outcome.pseudonymized_ops, 2);
    assert_eq!(outcome.new_owners.len(), 1);
    assert!(
        store
            .user_by_email("ann@example.com")
            .await
            .expect("get")
            .is_none()
    );
    assert!(store.session(&[1; 32]).await.expect("get").is_none());
    assert!(store.logins_of(ann, 10).await.expect("logins").is_empty());
    assert_eq!(
        store.throttle_state(&key).await.expect("get"),
        ThrottleState::default()
    );
    let bob = store
        .user_by_email("bob@example.com")
        .await
        .expect("get")
        .expect("bob stays")
        .profile
        .id;
    assert_eq!(
        store.role_of(team, bob).await.expect("role"),
        Some(Role::Owner)
    );
    let shared = store
        .ops_after(team, 0, 100, usize::MAX, true)
        .await
        .expect("shared ops");
    assert_eq!(shared.ops.len(), 2, "the shared work stays");
    assert!(
        shared
            .ops
            .iter()
            .all(|o| Some(o.author) == outcome.pseudonym)
    );
    assert!(
        store
            .ops_after(personal, 0, 100, usize::MAX, true)
            .await
            .expect("personal")
            .ops
            .is_empty()
    );
    assert!(store.mail_list().await.expect("mail").is_empty());
    let entries = store.audit_entries().await.expect("audit");
    assert_eq!(entries[0].subject.as_deref(), Some("(purged)"));
    assert!(matches!(
        store.audit_verify().await.expect("verify"),
        AuditVerification::Intact { .. }
    ));
    holder.await.expect("the other transaction ended");
    assert!(
        !table_files_contain(&pg, marker.as_bytes()),
        "the purged note is still in the table files"
    );
    assert!(matches!(
        store.purge(&PurgeTarget::User("admin".into())).await,
        Err(StoreError::Conflict(_))
    ));
}

/// A transaction older than the purge that stays open past the purge's wait (an
/// idle session of some other program) does not stop the purge: the tables are
/// rewritten anyway, the user is gone, and the outcome says how many such
/// transactions were open, so that the admin is told to run `VACUUM FULL` later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_says_when_older_transactions_stayed_open() {
    let (_pg, url, store) = fresh().await;
    let store = store.with_purge_wait(std::time::Duration::from_millis(300));
    store.create_user(account("admin")).await.expect("admin");
    store
        .create_user(account("ann@example.com"))
        .await
        .expect("ann");
    let (other, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("another session");
    let connection = tokio::spawn(connection);
    other
        .batch_execute("BEGIN; SELECT txid_current();")
        .await
        .expect("an open transaction with an id");
    let outcome = store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge");
    assert!(outcome.older_transactions_open >= 1, "{outcome:?}");
    assert!(
        store
            .user_by_email("ann@example.com")
            .await
            .expect("read")
            .is_none()
    );
    other.batch_execute("COMMIT").await.expect("commit");
    drop(other);
    connection.await.expect("task").expect("connection");
    // With none open, the next purge has nothing to say.
    store
        .create_user(account("bob@example.com"))
        .await
        .expect("bob");
    let outcome = store
        .purge(&PurgeTarget::User("bob@example.com".into()))
        .await
        .expect("purge");
    assert_eq!(outcome.older_transactions_open, 0);
}
