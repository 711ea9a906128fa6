//! The op log on a real PostgreSQL ([`TestPostgres`]): the same rules as on sled,
//! and what only several servers on one database can get wrong: gapless seqs under
//! concurrent pushes through separate pools, races on one op id and on one record,
//! and a request dropped in the middle of its transaction.

use std::sync::Arc;
use std::time::Duration;

use cairn_common::model::{RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};

use super::PgStore;
use crate::store::RecordLimits;
use crate::test_postgres::TestPostgres;

/// A fresh database on the shared test server, and a store on it.
pub(super) async fn fresh() -> (Arc<TestPostgres>, String, PgStore) {
    let pg = TestPostgres::shared().expect("PostgreSQL for the tests");
    let url = pg.database().expect("a database");
    let store = PgStore::connect(&url, 8).await.expect("connect");
    (pg, url, store)
}

pub(super) fn op(space: SpaceId, record: RecordId, change: Change) -> Op {
    Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms: 1_000,
            counter: 0,
            node: NodeId(1),
        },
        author: UserId::new(),
        change,
    }
}

fn create(space: SpaceId, record: RecordId) -> Op {
    op(
        space,
        record,
        Change::Create {
            kind: RecordKind::Goal,
        },
    )
}

fn title(space: SpaceId, record: RecordId, text: &str) -> Op {
    op(
        space,
        record,
        Change::Set {
            field: "title".into(),
            value: Value::Text(text.into()),
            replaces: vec![],
        },
    )
}

/// The schema is applied once, recorded, and not again by a second server.
#[tokio::test]
async fn migrations_apply_once() {
    let (_pg, url, store) = fresh().await;
    assert_eq!(
        store.applied_schema().await.expect("version"),
        super::schema_version()
    );
    let second = PgStore::connect(&url, 2).await.expect("second server");
    assert_eq!(
        second.applied_schema().await.expect("version"),
        super::schema_version()
    );
    // A database a newer server has written is refused, not written with old rules.
    let client = store.pool.get().await.expect("connection");
    client
        .execute(
            "INSERT INTO cairn_schema (version) VALUES ($1)",
            &[&(super::schema_version() + 1)],
        )
        .await
        .expect("a newer schema");
    let Err(refused) = PgStore::connect(&url, 2).await else {
        panic!("a newer schema must be refused");
    };
    assert!(refused.to_string().contains("newer"), "{refused}");
}

/// A URL that is not PostgreSQL's is refused with the form to write.
#[tokio::test]
async fn a_bad_url_says_how_to_write_one() {
    let Err(error) = PgStore::connect("mysql://nope", 2).await else {
        panic!("a MySQL URL must be refused");
    };
    assert!(error.to_string().contains("postgres://"), "{error}");
}

/// Two servers (two pools) push to one space at once, eight pushes each, while a
/// reader pulls: every op is stored once, the seqs are 1..=n without a gap, and
/// the reader never sees a seq before the ones under it are visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_from_two_servers_get_gapless_seqs() {
    let (_pg, url, first) = fresh().await;
    let second = PgStore::connect(&url, 8).await.expect("second server");
    let space = SpaceId::new();
    let mut pushes = Vec::new();
    for n in 0..16 {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        pushes.push(tokio::spawn(async move {
            let record = RecordId::new();
            let mut ops = vec![create(space, record)];
            ops.extend((0..20).map(|i| title(space, record, &format!("v{i}"))));
            store
                .append_ops(&ops, &RecordLimits::NONE)
                .await
                .expect("push")
        }));
    }
    let reader = {
        let store = second.clone();
        tokio::spawn(async move {
            let mut cursor = 0;
            let mut seen = 0;
            for _ in 0..400 {
                let page = store
                    .ops_after(space, cursor, 1000, usize::MAX, true)
                    .await
                    .expect("pull");
                seen += page.ops.len();
                assert_eq!(
                    page.cursor,
                    cursor + page.ops.len() as u64,
                    "a page skipped a seq"
                );
                cursor = page.cursor;
                if seen == 16 * 21 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            seen
        })
    };
    let mut stored = 0;
    for push in pushes {
        stored += push.await.expect("task").stored;
    }
    assert_eq!(stored, 16 * 21);
    assert_eq!(first.last_seq(space).await.expect("seq"), 16 * 21);
    let all = first
        .ops_after(space, 0, 10_000, usize::MAX, true)
        .await
        .expect("all");
    assert_eq!(all.ops.len(), 16 * 21);
    assert!(reader.await.expect("reader") <= 16 * 21);
}

/// The same op pushed to two servers at once is stored once; the same record
/// created in two spaces at once lives in one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn races_on_one_op_and_one_record() {
    let (_pg, url, first) = fresh().await;
    let second = PgStore::connect(&url, 8).await.expect("second server");
    for _ in 0..10 {
        let space = SpaceId::new();
        let ops = vec![create(space, RecordId::new())];
        let (a, b) = tokio::join!(
            first.append_ops(&ops, &RecordLimits::NONE),
            second.append_ops(&ops, &RecordLimits::NONE)
        );
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_eq!(a.stored + b.stored, 1);
        assert_eq!(a.duplicates + b.duplicates, 1);

        let record = RecordId::new();
        let (x, y) = (SpaceId::new(), SpaceId::new());
        let (in_x, in_y) = ([create(x, record)], [create(y, record)]);
        let (a, b) = tokio::join!(
            first.append_ops(&in_x, &RecordLimits::NONE),
            second.append_ops(&in_y, &RecordLimits::NONE)
        );
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_eq!(a.stored + b.stored, 1, "{a:?} {b:?}");
        assert_eq!(a.refused.len() + b.refused.len(), 1);
    }
}

/// A push dropped while it waits inside its transaction (the client went away)
/// leaves no transaction open: the connection is clean for the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_push_leaves_no_transaction_open() {
    let (_pg, url, _) = fresh().await;
    let store = PgStore::connect(&url, 1).await.expect("one connection");
    let space = SpaceId::new();
    store
        .append_ops(&[create(space, RecordId::new())], &RecordLimits::NONE)
        .await
        .expect("first push");
    // Another server holds the space's counter, so the next push waits in its
    // transaction until it is dropped.
    let blocker = PgStore::connect(&url, 1).await.expect("blocker");
    let mut holder = blocker.pool.get().await.expect("connection");
    let hold = holder.transaction().await.expect("transaction");
    hold.execute(
        "SELECT last_seq FROM space_seqs WHERE space_id = $1 FOR UPDATE",
        &[&space.0],
    )
    .await
    .expect("lock");
    let waiting = tokio::time::timeout(
        Duration::from_millis(300),
        store.append_ops(&[create(space, RecordId::new())], &RecordLimits::NONE),
    )
    .await;
    assert!(waiting.is_err(), "the push should still wait for the lock");
    hold.rollback().await.expect("release");
    drop(holder);
    let after = store
        .append_ops(&[create(space, RecordId::new())], &RecordLimits::NONE)
        .await
        .expect("the pool's connection serves again");
    assert_eq!(after.stored, 1);
    assert_eq!(store.last_seq(space).await.expect("seq"), 2, "no gap");
    let client = blocker.pool.get().await.expect("connection");
    let open: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .expect("activity")
        .get(0);
    assert_eq!(open, 0, "a transaction was left open");
}
