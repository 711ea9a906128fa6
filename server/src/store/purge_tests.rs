//! Purge, retention and the store rewrite: what goes is gone from every byte of the
//! data dir, what stays is intact and consistent.

use std::path::Path;

use cairn_common::model::{RecordId, RecordKind, Role, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};

use super::Blocking as _;
use super::test_support::{temp_store, user};
use super::{
    AuditEvent, AuditKind, AuditVerification, LoginRecord, PurgeTarget, RetentionCutoffs, SledStore,
};

/// The files under `dir` whose bytes contain `needle`.
pub(crate) fn bytes_under(dir: &Path, needle: &[u8]) -> Vec<String> {
    crate::testing::files_containing(dir, needle)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn op(space: SpaceId, record: RecordId, author: UserId, wall_ms: u64, change: Change) -> Op {
    Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms,
            counter: 0,
            node: NodeId(9),
        },
        author,
        change,
    }
}

/// A goal with `title` in `space` by `author`; returns its id.
fn goal(store: &SledStore, space: SpaceId, author: UserId, title: &str) -> RecordId {
    let record = RecordId::new();
    store
        .append_ops(
            &[
                op(
                    space,
                    record,
                    author,
                    1_000,
                    Change::Create {
                        kind: RecordKind::Goal,
                    },
                ),
                op(
                    space,
                    record,
                    author,
                    1_001,
                    Change::Set {
                        field: "title".into(),
                        value: Value::Text(title.into()),
                        replaces: vec![],
                    },
                ),
            ],
            &crate::store::RecordLimits::NONE,
        )
        .expect("append");
    record
}

fn titles(store: &SledStore, space: SpaceId) -> Vec<String> {
    store
        .ops_after(space, 0, usize::MAX, usize::MAX, true)
        .expect("ops")
        .ops
        .into_iter()
        .filter_map(|op| match op.change {
            Change::Set {
                value: Value::Text(t),
                ..
            } => Some(t),
            _ => None,
        })
        .collect()
}

/// Purging a user leaves none of their personal bytes in the data dir; shared
/// spaces keep their ops under a pseudonym, the heir owns the space, and the other
/// user's data is intact.
#[test]
fn purge_user_leaves_no_bytes_and_keeps_others() {
    let (dir, store) = temp_store();
    let ann = user(&store, "ann");
    let bob = user(&store, "bob");
    let ann_home = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    let bob_home = store.spaces_of(bob.id).expect("spaces")[0].space.id;
    let team = store
        .create_space(ann.id, "Team".into())
        .expect("team")
        .space
        .id;
    let solo = store
        .create_space(ann.id, "Solo".into())
        .expect("solo")
        .space
        .id;
    // Through the facade, which audits the change (the purge must pseudonymize it).
    super::Store::from(store.clone())
        .set_member(ann.id, team, "bob@example.com", Some(Role::Editor))
        .wait()
        .expect("add bob");
    goal(&store, ann_home, ann.id, "MARKER-ANN-PERSONAL-7f3a");
    goal(&store, solo, ann.id, "MARKER-ANN-SOLO-91c2");
    goal(&store, team, ann.id, "Shared plan by ann");
    goal(&store, team, bob.id, "Shared plan by bob");
    goal(&store, bob_home, bob.id, "MARKER-BOB-KEEP-5d21");
    store
        .create_session(&[5; 32], ann.id, "laptop", 1, u64::MAX)
        .expect("session");
    store
        .record_login(
            ann.id,
            &LoginRecord {
                at_ms: 1,
                success: true,
                address: None,
                device: "MARKER-ANN-DEVICE".into(),
            },
        )
        .expect("login");
    store.audit(AuditEvent::new(AuditKind::AccountCreated).subject("ann@example.com"));
    // Her mail, and mail to her address that names no account (an invitation).
    let mail = |to: &str, user, subject: &str| {
        let mail = crate::store::OutgoingMail {
            to: to.into(),
            subject: subject.into(),
            body: "Open Cairn to see it.".into(),
            kind: crate::store::MailKind::Digest,
            user,
        };
        store
            .queue_mail(&crate::store::QueuedMail::new(mail, 1))
            .expect("queue mail");
    };
    mail("ann@example.com", Some(ann.id), "MARKER-ANN-MAIL-3e8b");
    mail("Ann@Example.com", None, "MARKER-ANN-INVITE-6c1d");
    mail("bob@example.com", Some(bob.id), "MARKER-BOB-MAIL-0a9f");
    store.flush().expect("flush");
    let db = dir.path().join("db");
    assert!(!bytes_under(&db, b"MARKER-ANN-PERSONAL-7f3a").is_empty());

    let outcome = store
        .purge(&PurgeTarget::User("ANN@example.com".into()))
        .expect("purge");
    assert_eq!(outcome.users, ["ann@example.com"]);
    assert!(outcome.spaces_removed.contains(&ann_home) && outcome.spaces_removed.contains(&solo));
    assert_eq!(outcome.new_owners, [(team, "bob@example.com".to_owned())]);
    assert_eq!(outcome.pseudonymized_ops, 2);

    for marker in [
        &b"MARKER-ANN-PERSONAL-7f3a"[..],
        b"MARKER-ANN-SOLO-91c2",
        b"MARKER-ANN-DEVICE",
        b"MARKER-ANN-MAIL-3e8b",
        b"MARKER-ANN-INVITE-6c1d",
        b"ann@example.com",
        ann.id.as_bytes(),
    ] {
        let found = bytes_under(dir.path(), marker);
        assert!(
            found.is_empty(),
            "{:?} still in {found:?}",
            String::from_utf8_lossy(marker)
        );
    }
    assert!(!bytes_under(&db, b"MARKER-BOB-KEEP-5d21").is_empty());
    let mails = store.mail_list().expect("mails");
    assert_eq!(mails.len(), 1, "only bob's mail stays: {mails:?}");
    assert_eq!(mails[0].mail.subject, "MARKER-BOB-MAIL-0a9f");
    assert!(store.user(ann.id).expect("get").is_none());
    assert!(store.session(&[5; 32]).expect("get").is_none());
    assert_eq!(
        store.role_of(team, bob.id).expect("role"),
        Some(Role::Owner)
    );
    assert_eq!(
        titles(&store, team),
        ["Shared plan by ann", "Shared plan by bob"]
    );
    assert_eq!(titles(&store, bob_home), ["MARKER-BOB-KEEP-5d21"]);
    let authors: Vec<UserId> = store
        .ops_after(team, 0, 10, usize::MAX, true)
        .expect("ops")
        .ops
        .iter()
        .map(|o| o.author)
        .collect();
    assert_eq!(authors[0], outcome.pseudonym.expect("pseudonym"));
    assert_eq!(authors[0], authors[1]);
    assert_eq!(authors[2], bob.id);
    assert_eq!(store.spaces_of(bob.id).expect("bob's").len(), 2);
    let entries = store.audit_entries().expect("audit");
    let added = entries
        .iter()
        .find(|e| e.kind == "member-added")
        .expect("bob added");
    assert_eq!(added.actor, "(purged)");
    assert_eq!(added.subject.as_deref(), Some("bob@example.com"));
    let created = entries
        .iter()
        .find(|e| e.kind == "account-created")
        .expect("ann created");
    assert_eq!(created.subject.as_deref(), Some("(purged)"));
    assert!(matches!(
        store.audit_verify().expect("verify"),
        AuditVerification::Intact { .. }
    ));

    // The store works on: new writes, and it reopens.
    goal(&store, team, bob.id, "After the purge");
    drop(store);
    let store = SledStore::open(&db).expect("reopen");
    assert_eq!(titles(&store, team).len(), 3);
}

/// A shared space goes entirely; a personal one is emptied, kept, keeps counting
/// seqs, and drops later pushes of its purged records.
#[test]
fn purge_space_shared_and_personal() {
    let (dir, store) = temp_store();
    let ann = user(&store, "ann");
    let home = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    let team = store
        .create_space(ann.id, "Team".into())
        .expect("team")
        .space
        .id;
    goal(&store, team, ann.id, "MARKER-TEAM-1");
    let old = goal(&store, home, ann.id, "MARKER-HOME-2");
    let outcome = store.purge(&PurgeTarget::Space(team)).expect("purge team");
    assert_eq!(outcome.spaces_removed, [team]);
    assert!(store.space(team).expect("get").is_none());
    assert!(bytes_under(dir.path(), b"MARKER-TEAM-1").is_empty());
    assert!(!bytes_under(dir.path(), b"MARKER-HOME-2").is_empty());

    let outcome = store.purge(&PurgeTarget::Space(home)).expect("purge home");
    assert_eq!(outcome.spaces_emptied, [home]);
    assert!(bytes_under(dir.path(), b"MARKER-HOME-2").is_empty());
    assert!(store.space(home).expect("get").is_some());
    assert_eq!(store.last_seq(home).expect("seq"), 2);
    let late = op(
        home,
        old,
        ann.id,
        5_000,
        Change::Set {
            field: "title".into(),
            value: Value::Text("MARKER-LATE".into()),
            replaces: vec![],
        },
    );
    let pushed = store
        .append_ops(&[late], &crate::store::RecordLimits::NONE)
        .expect("acknowledged");
    assert_eq!((pushed.stored, pushed.duplicates), (0, 1));
    goal(&store, home, ann.id, "new after purge");
    assert_eq!(store.last_seq(home).expect("seq"), 4);
    assert!(matches!(
        store.purge(&PurgeTarget::Space(SpaceId::new())),
        Err(super::StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.purge(&PurgeTarget::User("admin".into())),
        Err(super::StoreError::Conflict(_))
    ));
}

/// Purge --all leaves only the standard admin account with an empty space.
#[test]
fn purge_all_keeps_only_admin() {
    let (dir, store) = temp_store();
    let admin = store
        .create_user(super::NewUser {
            email: "admin".into(),
            first_name: String::new(),
            last_name: String::new(),
            password_hash: crate::auth::password::hash("admin password 1").expect("hash"),
            must_change_password: false,
            server_admin: true,
        })
        .expect("admin");
    let ann = user(&store, "ann");
    let admin_home = store.spaces_of(admin.id).expect("spaces")[0].space.id;
    goal(&store, admin_home, admin.id, "MARKER-ADMIN-OWN");
    let home = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    goal(&store, home, ann.id, "MARKER-ALL-ANN");
    store.purge(&PurgeTarget::All).expect("purge all");
    for marker in [
        &b"MARKER-ALL-ANN"[..],
        b"MARKER-ADMIN-OWN",
        b"ann@example.com",
    ] {
        assert!(bytes_under(dir.path(), marker).is_empty());
    }
    let users = store.list_users().expect("list");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].profile.email, "admin");
    assert_eq!(store.spaces_of(admin.id).expect("spaces").len(), 1);
}

/// Retention removes old login records, old audit entries (the chain still
/// verifies from its checkpoint) and records long in the trash, and nothing newer.
#[test]
fn retention_sweep_by_cutoffs() {
    let (dir, store) = temp_store();
    let ann = user(&store, "ann");
    let home = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    for (at, device) in [(100, "MARKER-OLD-LOGIN"), (900, "recent")] {
        let record = LoginRecord {
            at_ms: at,
            success: true,
            address: None,
            device: device.into(),
        };
        store.record_login(ann.id, &record).expect("login");
    }
    for at in [100, 200, 900] {
        store.audit_at(
            AuditEvent::new(AuditKind::Backup).detail(format!("at {at}")),
            at,
        );
    }
    let trashed = goal(&store, home, ann.id, "MARKER-TRASHED");
    let kept = goal(&store, home, ann.id, "kept in trash, recent");
    store
        .append_ops(
            &[
                op(home, trashed, ann.id, 2_000, Change::Delete),
                op(home, kept, ann.id, 9_000, Change::Delete),
            ],
            &crate::store::RecordLimits::NONE,
        )
        .expect("delete");

    let nothing = store
        .sweep_retention(RetentionCutoffs {
            logins_before_ms: Some(50),
            audit_before_ms: Some(50),
            trash_before_ms: Some(1_500),
            mail_before_ms: None,
        })
        .expect("sweep");
    assert!(!nothing.rewritten);

    let swept = store
        .sweep_retention(RetentionCutoffs {
            logins_before_ms: Some(500),
            audit_before_ms: Some(500),
            trash_before_ms: Some(5_000),
            mail_before_ms: None,
        })
        .expect("sweep");
    assert_eq!(
        (
            swept.login_records,
            swept.audit_entries,
            swept.trash_records
        ),
        (1, 2, 1)
    );
    assert!(bytes_under(dir.path(), b"MARKER-OLD-LOGIN").is_empty());
    assert!(bytes_under(dir.path(), b"MARKER-TRASHED").is_empty());
    assert_eq!(store.logins_of(ann.id, 10).expect("logins").len(), 1);
    assert_eq!(titles(&store, home), ["kept in trash, recent"]);
    assert_eq!(store.audit_entries().expect("audit").len(), 1);
    assert!(matches!(
        store.audit_verify().expect("verify"),
        AuditVerification::Intact {
            entries: 1,
            first_seq: 3,
            ..
        }
    ));
    store.audit_at(AuditEvent::new(AuditKind::Backup), 1_000);
    assert!(matches!(
        store.audit_verify().expect("verify"),
        AuditVerification::Intact {
            entries: 2,
            last_seq: 4,
            ..
        }
    ));
}

/// Rewrites while other threads write lose nothing that was written, and the
/// writers never see an error.
#[test]
fn rewrite_under_concurrent_writes_loses_nothing() {
    let (_dir, store) = temp_store();
    let ann = user(&store, "ann");
    let home = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..60 {
                    goal(&store, home, ann.id, &format!("w{w}-{i}"));
                    store
                        .create_session(&[w * 60 + i; 32], ann.id, "x", 1, u64::MAX)
                        .expect("session");
                }
            })
        })
        .collect();
    for _ in 0..5 {
        store.compact().expect("compact");
    }
    for writer in writers {
        writer.join().expect("writer did not fail");
    }
    store.compact().expect("compact");
    assert_eq!(titles(&store, home).len(), 180);
    assert_eq!(store.last_seq(home).expect("seq"), 360);
    assert_eq!(store.sessions_of(ann.id).expect("sessions").len(), 180);
}

/// What a purge reports: the store's rewrite counts every entry it reads, the
/// ones it keeps and the ones it drops.
#[test]
fn purge_counts_the_entries_it_rewrites() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use cairn_common::progress::{Report, Unit};

    #[derive(Default)]
    struct Recorder {
        steps: Mutex<Vec<String>>,
        done: AtomicU64,
    }
    impl Report for Recorder {
        fn step(&self, what: &str, _total: Option<u64>, _unit: Unit) {
            self.steps
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(what.to_owned());
            self.done.store(0, Ordering::Relaxed);
        }
        fn add(&self, n: u64) {
            self.done.fetch_add(n, Ordering::Relaxed);
        }
    }

    let (_dir, store) = temp_store();
    let ann = user(&store, "ann");
    let team = store
        .create_space(ann.id, "Team".into())
        .expect("team")
        .space
        .id;
    for n in 0..20 {
        goal(&store, team, ann.id, &format!("goal {n}"));
    }
    let recorder = Recorder::default();
    let outcome = store
        .purge_reporting(&PurgeTarget::Space(team), &recorder)
        .expect("purge");
    let steps = recorder.steps.lock().expect("steps").clone();
    assert_eq!(steps, ["rewriting the store: entries"]);
    let read = recorder.done.load(Ordering::Relaxed);
    assert_eq!(
        read,
        outcome.kept_entries + outcome.removed_entries,
        "{outcome:?}"
    );
    assert!(outcome.removed_entries >= 20, "{outcome:?}");
}
