use cairn_common::model::{RecordKind, Recurrence, Value};
use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")
}

/// A new replica in a temp dir (kept alive by the returned guard) and its personal space.
fn fresh() -> (tempfile::TempDir, Replica, cairn_common::SpaceId) {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let space = replica.identity().personal_space;
    (dir, replica, space)
}

fn title(text: &str) -> Vec<(String, Value)> {
    vec![("title".into(), Value::Text(text.into()))]
}

/// Committed records are there after the replica is closed and opened again.
#[test]
fn commit_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = {
        let replica = Replica::open(dir.path()).expect("open");
        let space = replica.identity().personal_space;
        let (id, ops) = replica
            .create_ops(
                RecordKind::Goal,
                space,
                title("Hire two engineers"),
                today(),
            )
            .expect("ops");
        let summary = replica.commit(&ops).expect("commit");
        assert_eq!(summary.new_ops, ops.len());
        id
    };
    let replica = Replica::open(dir.path()).expect("reopen");
    let state = replica.record(&id).expect("read").expect("present");
    assert_eq!(state.title(), "Hire two engineers");
    assert_eq!(
        replica.list(RecordKind::Goal, false).expect("list").len(),
        1
    );
    assert!(replica.outbox_len() >= 2);
}

/// A second open of the same directory is refused with an error naming the cause.
#[test]
fn second_open_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = Replica::open(dir.path()).expect("open");
    let err = Replica::open(dir.path()).err().expect("second open fails");
    assert!(matches!(err, ReplicaError::Locked { .. }));
    assert!(err.to_string().contains("another cairn"), "{err}");
}

/// The lock alone already refuses a second `cairn`, before either opens the storage;
/// the storage opens on another thread afterwards.
#[test]
fn the_lock_is_taken_before_the_storage_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opening = Replica::lock(dir.path()).expect("lock");
    let err = Replica::lock(dir.path()).err().expect("second lock fails");
    assert!(matches!(err, ReplicaError::Locked { .. }));
    let replica = std::thread::spawn(move || opening.open())
        .join()
        .expect("thread")
        .expect("open");
    assert!(replica.records().next().is_none());
    assert!(matches!(
        Replica::open(dir.path()).err(),
        Some(ReplicaError::Locked { .. })
    ));
}

/// Committing the same ops twice stores them once.
#[test]
fn commit_is_idempotent() {
    let (_dir, replica, space) = fresh();
    let (_, ops) = replica
        .create_ops(RecordKind::Note, space, title("1:1 Ana"), today())
        .expect("ops");
    replica.commit(&ops).expect("first");
    let outbox = replica.outbox_len();
    let again = replica.commit(&ops).expect("second");
    assert_eq!(again.new_ops, 0);
    assert_eq!(replica.outbox_len(), outbox);
}

/// A batch with one invalid op writes nothing at all.
#[test]
fn invalid_batch_writes_nothing() {
    let (_dir, replica, space) = fresh();
    let (id, mut ops) = replica
        .create_ops(RecordKind::Goal, space, title("Grow"), today())
        .expect("ops");
    ops.push(replica.stamp(
        space,
        id,
        Change::Set {
            field: "progress".into(),
            value: Value::Int(500),
            replaces: vec![],
        },
    ));
    let err = replica.commit(&ops).expect_err("progress 500 is refused");
    assert!(err.to_string().contains("Progress"), "{err}");
    assert!(replica.record(&id).expect("read").is_none());
    assert_eq!(replica.outbox_len(), 0);
}

/// Marking a standard task done records the day and schedules the next one.
#[test]
fn done_schedules_next_task() {
    let (_dir, replica, space) = fresh();
    let mut fields = title("Weekly report");
    fields.push(("recurrence".into(), Value::Recurrence(Recurrence::Weeks(1))));
    let (id, ops) = replica
        .create_ops(RecordKind::Task, space, fields, today())
        .expect("ops");
    replica.commit(&ops).expect("commit");
    let state = replica.record(&id).expect("read").expect("present");
    replica
        .commit(&replica.done_ops(&state, today()).expect("done"))
        .expect("commit done");
    let state = replica.record(&id).expect("read").expect("present");
    assert_eq!(state.get("history"), Some(&Value::Dates(vec![today()])));
    assert_eq!(
        state.get("next_due"),
        Some(&Value::Date(
            NaiveDate::from_ymd_opt(2026, 11, 29).expect("d")
        ))
    );
    assert!(replica.history(&id).expect("history").len() >= 5);
}

/// Records are found by a unique end or start of their id, and not by too little.
#[test]
fn resolve_by_short_id() {
    let (_dir, replica, space) = fresh();
    let (id, ops) = replica
        .create_ops(RecordKind::Goal, space, title("A"), today())
        .expect("ops");
    replica.commit(&ops).expect("commit");
    assert_eq!(replica.resolve(&id.short()).expect("short").id, id);
    assert_eq!(replica.resolve(&id.to_string()).expect("full").id, id);
    assert!(matches!(
        replica.resolve("ab"),
        Err(ReplicaError::NotFound(_))
    ));
    assert!(matches!(
        replica.resolve("zzzzzzzz"),
        Err(ReplicaError::NotFound(_))
    ));
}

/// A change to a record that was never created is refused.
#[test]
fn orphan_change_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let op = replica.stamp(
        replica.identity().personal_space,
        RecordId::new(),
        Change::Delete,
    );
    assert!(matches!(
        replica.commit(&[op]),
        Err(ReplicaError::UnknownRecord(_))
    ));
}

/// Ops of another replica, given out of order, reproduce the same record here, are
/// queued for sync, bring their space along, and a second import changes nothing.
#[test]
fn import_foreign_ops_in_any_order() {
    let from = tempfile::tempdir().expect("tempdir");
    let to = tempfile::tempdir().expect("tempdir");
    let source = Replica::open(from.path()).expect("open source");
    let space = source.identity().personal_space;
    let (id, ops) = source
        .create_ops(RecordKind::Goal, space, title("Grow"), today())
        .expect("ops");
    source.commit(&ops).expect("commit");
    let state = source.record(&id).expect("read").expect("present");
    source.commit(&[source.delete_op(&state)]).expect("delete");
    let mut history = source.history(&id).expect("history");
    history.reverse();
    let spaces = source.spaces().expect("spaces");

    let target = Replica::open(to.path()).expect("open target");
    let summary = target
        .import_ops(&history, &spaces, &Quiet)
        .expect("import");
    assert_eq!(summary.new_ops, history.len());
    assert_eq!(
        target.record(&id).expect("read"),
        source.record(&id).expect("read")
    );
    assert_eq!(target.outbox_len(), history.len());
    assert!(
        target
            .spaces()
            .expect("spaces")
            .iter()
            .any(|s| s.id == space)
    );
    let again = target.import_ops(&history, &spaces, &Quiet).expect("again");
    assert_eq!(again, CommitSummary::default());
    assert_eq!(target.outbox_len(), history.len());
}

/// An import whose changes lack their record's create, or hold a bad value, writes nothing.
#[test]
fn bad_import_writes_nothing() {
    let (_dir, replica, space) = fresh();
    let (id, mut ops) = replica
        .create_ops(RecordKind::Goal, space, title("Grow"), today())
        .expect("ops");
    let orphan = replica.stamp(space, RecordId::new(), Change::Delete);
    let mut with_orphan = ops.clone();
    with_orphan.push(orphan);
    assert!(matches!(
        replica.import_ops(&with_orphan, &[], &Quiet),
        Err(ReplicaError::UnknownRecord(_))
    ));
    ops.insert(
        0,
        replica.stamp(
            space,
            id,
            Change::Set {
                field: "progress".into(),
                value: Value::Int(500),
                replaces: vec![],
            },
        ),
    );
    assert!(replica.import_ops(&ops, &[], &Quiet).is_err());
    assert!(replica.record(&id).expect("read").is_none());
    assert_eq!(replica.outbox_len(), 0);
}

/// An op from far in the future is refused: it would pin this replica's clock there.
#[test]
fn far_future_clock_is_refused() {
    let (_dir, replica, space) = fresh();
    let (_, mut ops) = replica
        .create_ops(RecordKind::Goal, space, title("Future"), today())
        .expect("ops");
    for op in &mut ops {
        op.at.wall_ms = u64::MAX;
    }
    assert!(matches!(
        replica.import_ops(&ops, &[], &Quiet),
        Err(ReplicaError::ClockAhead { .. })
    ));
    assert_eq!(replica.outbox_len(), 0);
    // The local clock is untouched: a new op is stamped near now.
    let op = replica.stamp(space, RecordId::new(), Change::Delete);
    assert!(op.at.wall_ms < u64::MAX / 2);
}

/// A second Create that would turn a record into another kind is refused.
#[test]
fn kind_change_is_refused() {
    let (_dir, replica, space) = fresh();
    let (id, ops) = replica
        .create_ops(RecordKind::Goal, space, title("Stay a goal"), today())
        .expect("ops");
    replica.commit(&ops).expect("commit");
    let hostile = replica.stamp(
        space,
        id,
        Change::Create {
            kind: RecordKind::Potential,
        },
    );
    assert!(matches!(
        replica.commit(&[hostile]),
        Err(ReplicaError::KindChange { .. })
    ));
    assert_eq!(
        replica.record(&id).expect("read").expect("present").kind,
        Some(RecordKind::Goal)
    );
}

/// A record that would grow past the size that can be read back is refused, and the
/// replica stays readable.
#[test]
fn oversized_record_is_refused() {
    let (_dir, replica, space) = fresh();
    let (id, ops) = replica
        .create_ops(RecordKind::Note, space, title("Big"), today())
        .expect("ops");
    replica.commit(&ops).expect("commit");
    // Seventeen concurrent 1 MiB versions of the notes: each passes the field check,
    // together they pass the record limit.
    let text = "x".repeat(1 << 20);
    let versions: Vec<Op> = (0..17)
        .map(|_| {
            replica.stamp(
                space,
                id,
                Change::Set {
                    field: "notes".into(),
                    value: Value::Text(text.clone()),
                    replaces: vec![],
                },
            )
        })
        .collect();
    assert!(matches!(
        replica.commit(&versions),
        Err(ReplicaError::RecordTooLarge { .. })
    ));
    assert_eq!(
        replica
            .list(RecordKind::Note, false)
            .expect("still readable")
            .len(),
        1
    );
}

/// A long text big enough for sled to store as a separate blob file (over ~128 KiB)
/// commits through the blob fsync path and is there after a reopen.
#[test]
fn large_text_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = "Long appraisal notes. ".repeat(20_000);
    let id = {
        let replica = Replica::open(dir.path()).expect("open");
        let space = replica.identity().personal_space;
        let mut fields = title("Annual appraisal");
        fields.push(("notes".into(), Value::Text(notes.clone())));
        let (id, ops) = replica
            .create_ops(RecordKind::Note, space, fields, today())
            .expect("ops");
        replica.commit(&ops).expect("commit");
        id
    };
    assert!(
        dir.path()
            .join("replica/blobs")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some()),
        "no blob file written"
    );
    let replica = Replica::open(dir.path()).expect("reopen");
    let state = replica.record(&id).expect("read").expect("present");
    assert_eq!(state.text("notes"), notes);
}
