//! A store moved from sled to PostgreSQL and back holds what it held, down to the
//! audit chain and the sessions.

use cairn_common::model::{RecordId, RecordKind, Role, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};

use super::migrate::{Contents, postgres_to_sled, sled_to_postgres};
use super::postgres::PgStore;
use super::test_support::{temp_store, user};
use super::{
    AuditEvent, AuditKind, AuditVerification, DayCounts, LoginRecord, PurgeTarget, RecordLimits,
    StoreError,
};
use crate::test_postgres::TestPostgres;

/// Every kind of thing a store holds, in a sled store.
fn filled() -> (tempfile::TempDir, super::SledStore) {
    let (dir, store) = temp_store();
    let ann = user(&store, "ann");
    let bob = user(&store, "bob");
    let eve = user(&store, "eve");
    let team = store
        .create_space(ann.id, "Team".into())
        .expect("space")
        .space
        .id;
    store
        .set_member(ann.id, team, "bob@example.com", Some(Role::Editor))
        .expect("member");
    let record = RecordId::new();
    let at = |n: u64| Hlc {
        wall_ms: 1_000 + n,
        counter: 0,
        node: NodeId(1),
    };
    let ops = vec![
        Op {
            id: OpId::new(),
            space: team,
            record,
            at: at(0),
            author: ann.id,
            change: Change::Create {
                kind: RecordKind::Goal,
            },
        },
        Op {
            id: OpId::new(),
            space: team,
            record,
            at: at(1),
            author: bob.id,
            change: Change::Set {
                field: "title".into(),
                value: Value::Text("Grow the team".into()),
                replaces: vec![],
            },
        },
    ];
    store.append_ops(&ops, &RecordLimits::NONE).expect("ops");
    store
        .create_session(&[7; 32], ann.id, "laptop", 5, 500)
        .expect("session");
    store
        .record_login(
            bob.id,
            &LoginRecord {
                at_ms: 9,
                success: false,
                address: Some("10.1.2.0/24".into()),
                device: "phone".into(),
            },
        )
        .expect("login");
    store.audit_at(
        AuditEvent::new(AuditKind::AccountCreated).subject("bob@example.com"),
        20,
    );
    store
        .add_telemetry(
            40,
            "push",
            &DayCounts {
                classes: [3, 0, 1, 0],
                sum_us: 99,
                ..DayCounts::default()
            },
        )
        .expect("statistics");
    // Purges leave a pseudonymous author and tombstones.
    store
        .purge(&PurgeTarget::User(eve.email))
        .expect("purge eve");
    let personal = store.spaces_of(ann.id).expect("spaces")[0].space.id;
    let private = RecordId::new();
    store
        .append_ops(
            &[Op {
                id: OpId::new(),
                space: personal,
                record: private,
                at: at(2),
                author: ann.id,
                change: Change::Create {
                    kind: RecordKind::Note,
                },
            }],
            &RecordLimits::NONE,
        )
        .expect("private note");
    store
        .purge(&PurgeTarget::Space(personal))
        .expect("empty the personal space");
    store.flush().expect("flush");
    (dir, store)
}

/// sled → PostgreSQL → sled: each copy holds what the original held, the copy's
/// audit chain verifies, and a non-empty target is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_moves_to_postgres_and_back() {
    let (_dir, original) = filled();
    let expected = Contents::of_sled(&original).expect("original");
    assert!(!expected.purged.is_empty(), "a tombstone to copy");
    assert!(!expected.audit.entries.is_empty() && !expected.sessions.is_empty());
    let pg = TestPostgres::shared().expect("PostgreSQL");
    let url = pg.database().expect("database");
    let target = PgStore::connect(&url, 4).await.expect("connect");
    let copied = sled_to_postgres(&original, &target, &cairn_common::progress::Quiet)
        .await
        .expect("to PostgreSQL");
    assert_eq!(copied.difference(&expected), None);
    assert_eq!(copied.users.len(), 2);
    assert!(matches!(
        target.audit_verify().await.expect("verify"),
        AuditVerification::Intact { .. }
    ));
    assert!(matches!(
        sled_to_postgres(&original, &target, &cairn_common::progress::Quiet).await,
        Err(StoreError::Conflict(_))
    ));

    let (_back_dir, back) = temp_store();
    let returned = postgres_to_sled(&target, &back, &cairn_common::progress::Quiet)
        .await
        .expect("back to sled");
    assert_eq!(returned.difference(&expected), None);
    assert!(matches!(
        back.audit_verify().expect("verify"),
        AuditVerification::Intact { .. }
    ));
    assert_eq!(back.epoch(), original.epoch(), "the same history");
    // A data dir that holds accounts of its own is not overwritten.
    assert!(matches!(
        postgres_to_sled(&target, &original, &cairn_common::progress::Quiet).await,
        Err(StoreError::Conflict(_))
    ));
}
