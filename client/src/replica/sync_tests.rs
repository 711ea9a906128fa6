//! Tests of the sync side of the replica: remote ops, cursors, outbox drain, spaces
//! and the first login.

use std::collections::HashSet;

use cairn_common::merge::materialize;
use cairn_common::model::{RecordKind, Role, Space, SpaceId, UserId, Value};
use cairn_common::op::{Change, Op};
use chrono::NaiveDate;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")
}

fn title(text: &str) -> Vec<(String, Value)> {
    vec![("title".into(), Value::Text(text.into()))]
}

fn shared(name: &str) -> Space {
    Space {
        id: SpaceId::new(),
        name: name.into(),
        personal: false,
    }
}

/// Ops of a goal written on another replica, in `space`, by another author.
fn foreign_goal(space: SpaceId, name: &str) -> (cairn_common::RecordId, Vec<Op>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = Replica::open(dir.path()).expect("open other");
    let (id, ops) = other
        .create_ops(RecordKind::Goal, space, title(name), today())
        .expect("ops");
    other.commit(&ops).expect("commit");
    let state = other.record(&id).expect("read").expect("present");
    let set = other
        .set_op(&state, "progress", Value::Int(40))
        .expect("set");
    let mut all = ops;
    all.push(set);
    (id, all)
}

/// Remote ops of a record over two pages, the second in reverse order, give the
/// same state as all of them at once, are not queued, and a repeat changes nothing;
/// a change that comes before its record's create (which a server never sends) is
/// set aside, not applied.
#[test]
fn apply_remote_out_of_order_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let space = shared("Team");
    let (id, ops) = foreign_goal(space.id, "Ship it");
    let (creates, mut changes): (Vec<Op>, Vec<Op>) = ops
        .iter()
        .cloned()
        .partition(|op| matches!(op.change, Change::Create { .. }));
    replica.apply_remote(&creates, &[]).expect("creates first");
    changes.reverse();
    let later = replica.apply_remote(&changes, &[]).expect("changes later");
    assert_eq!(later.new_ops, changes.len());
    let expected = materialize(&ops).remove(&id).expect("state");
    assert_eq!(replica.record(&id).expect("read"), Some(expected));
    assert_eq!(replica.outbox_len(), 0);
    let again = replica.apply_remote(&ops, &[]).expect("again");
    assert_eq!(again.new_ops, 0);
    assert_eq!(replica.history(&id).expect("history").len(), ops.len());

    let (orphan, orphan_ops) = foreign_goal(space.id, "Orphan");
    let early: Vec<Op> = orphan_ops
        .into_iter()
        .filter(|op| !matches!(op.change, Change::Create { .. }))
        .collect();
    let applied = replica.apply_remote(&early, &[]).expect("judged");
    assert_eq!(applied.new_ops, 0);
    assert_eq!(applied.quarantined.len(), early.len());
    assert!(replica.record(&orphan).expect("read").is_none());
}

/// Ops from a co-member that contradict what this replica holds are set aside and
/// never merged: a record named in a second space, a create that changes the kind,
/// a clock out of bounds, a text with terminal escapes; the page's other ops are
/// applied and its cursor moves on.
#[test]
fn apply_remote_quarantines_contradictions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let team = shared("Team");
    let other = shared("Other");
    let (id, ops) = foreign_goal(team.id, "Appraisal");
    replica.apply_remote(&ops, &[(team.id, 3)]).expect("goal");
    let before = replica.record(&id).expect("read").expect("goal");
    let author = ops[0].author;
    let forge = |space: SpaceId, change: Change| Op {
        id: cairn_common::OpId::new(),
        space,
        record: id,
        at: cairn_common::Hlc {
            wall_ms: ops[0].at.wall_ms + 1,
            counter: 0,
            node: cairn_common::NodeId(9),
        },
        author,
        change,
    };
    let title = |text: &str| Change::Set {
        field: "title".into(),
        value: Value::Text(text.into()),
        replaces: before.heads("title"),
    };
    let moved = forge(other.id, title("moved"));
    let rekind = forge(
        team.id,
        Change::Create {
            kind: RecordKind::Note,
        },
    );
    let mut unbounded = forge(team.id, title("late"));
    unbounded.at.counter = u32::MAX;
    let escape = forge(team.id, title("\u{1b}[2Jgone"));
    let fine = forge(team.id, title("Appraisal 2026"));
    let page = vec![moved, rekind, unbounded, escape, fine];
    let applied = replica
        .apply_remote(&page, &[(team.id, 8)])
        .expect("page applied");
    assert_eq!(applied.new_ops, 1);
    assert_eq!(applied.quarantined.len(), 4);
    let after = replica.record(&id).expect("read").expect("goal");
    assert_eq!(after.space, team.id);
    assert_eq!(after.kind, Some(RecordKind::Goal));
    assert_eq!(after.title(), "Appraisal 2026");
    assert_eq!(replica.cursor(&team.id).expect("cursor"), 8);
    let counts = replica.set_aside_counts().expect("counts");
    assert_eq!(counts.quarantined, 4);
    assert!(
        replica
            .set_aside()
            .expect("list")
            .iter()
            .any(|a| a.reason.contains("another space") && a.record_title == "Appraisal")
    );
}

/// A page whose ids span many stored entries (old and new ops mixed, so the batched
/// existence check gives way to one lookup per op) still skips known ops and loads
/// stored records, so the states equal a merge of every op.
#[test]
fn apply_remote_mixed_old_and_new_ops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let space = shared("Team");
    let mut all = Vec::new();
    for i in 0..60 {
        all.extend(foreign_goal(space.id, &format!("goal {i}")).1);
    }
    let stored = replica.apply_remote(&all, &[]).expect("first page");
    assert_eq!(stored.new_ops, all.len());
    let oldest = all.first().expect("ops").clone();
    let newest = all.last().expect("ops").clone();
    let first_record = oldest.record;
    let late = replica
        .set_op(
            &replica
                .record(&first_record)
                .expect("read")
                .expect("stored"),
            "progress",
            Value::Int(90),
        )
        .expect("set");
    let page = vec![oldest, late.clone(), newest];
    let applied = replica.apply_remote(&page, &[]).expect("mixed page");
    assert_eq!(applied.new_ops, 1, "only the new op is new");
    assert_eq!(applied.records, vec![first_record]);
    all.push(late);
    let expected = materialize(&all).remove(&first_record).expect("state");
    assert_eq!(replica.record(&first_record).expect("read"), Some(expected));
    assert_eq!(replica.ops().count(), all.len());
}

/// Remote clocks are observed, except one from more than a day ahead, which is
/// stored all the same.
#[test]
fn apply_remote_observes_clocks_within_a_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let (_, mut ops) = foreign_goal(SpaceId::new(), "Clock");
    let hour_ahead = wall_clock_ms() + 3_600_000;
    ops[0].at.wall_ms = hour_ahead;
    let week_ahead = wall_clock_ms() + 7 * 24 * 3_600_000;
    ops[1].at.wall_ms = week_ahead;
    replica.apply_remote(&ops, &[]).expect("apply");
    let next = replica.stamp(
        SpaceId::new(),
        cairn_common::RecordId::new(),
        Change::Delete,
    );
    assert!(next.at.wall_ms >= hour_ahead, "observed the hour-ahead op");
    assert!(next.at.wall_ms < week_ahead, "not pinned a week ahead");
    assert_eq!(replica.ops().count(), ops.len());
}

/// Cursors written with a page survive a reopen; unknown spaces start at 0.
#[test]
fn cursors_persist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let space = SpaceId::new();
    {
        let replica = Replica::open(dir.path()).expect("open");
        let (_, ops) = foreign_goal(space, "Cursor");
        replica.apply_remote(&ops, &[(space, 42)]).expect("apply");
        replica
            .apply_remote(&[], &[(space, 43)])
            .expect("cursor only");
    }
    let replica = Replica::open(dir.path()).expect("reopen");
    assert_eq!(replica.cursor(&space).expect("cursor"), 43);
    assert_eq!(replica.cursor(&SpaceId::new()).expect("cursor"), 0);
}

/// The outbox is read oldest first and drained only by the sequences acknowledged;
/// the count follows and survives a reopen.
#[test]
fn drain_removes_only_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ops = {
        let replica = Replica::open(dir.path()).expect("open");
        let space = replica.identity().personal_space;
        let (_, ops) = replica
            .create_ops(RecordKind::Note, space, title("1:1"), today())
            .expect("ops");
        replica.commit(&ops).expect("commit");
        let entries = replica.outbox(2).expect("outbox");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].op, ops[0]);
        assert!(entries[0].seq < entries[1].seq);
        let later = replica.outbox_from(entries[1].seq, 1).expect("from");
        assert_eq!(later[0].op, ops[1], "reading from a sequence on");
        let drained = replica
            .drain_outbox(&[entries[0].seq, entries[1].seq, 9_999])
            .expect("drain");
        assert_eq!(drained, 2);
        assert_eq!(replica.drain_outbox(&[entries[0].seq]).expect("again"), 0);
        ops
    };
    let replica = Replica::open(dir.path()).expect("reopen");
    assert_eq!(replica.outbox_len(), ops.len() - 2);
    let rest = replica.outbox(100).expect("outbox");
    assert_eq!(
        rest.iter().map(|e| e.op.id).collect::<Vec<_>>(),
        ops[2..].iter().map(|op| op.id).collect::<Vec<_>>()
    );
    // The ops stay in the replica: drained means pushed, not forgotten.
    assert_eq!(replica.ops().count(), ops.len());
}

/// A space the server no longer lists is dropped with its records, ops, history,
/// outbox entries and cursor; the personal space and other spaces stay.
#[test]
fn dropped_space_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let personal = replica.identity().personal_space;
    let (keep, lose) = (shared("Keep"), shared("Lose"));
    let changes = replica
        .sync_spaces(&[(keep.clone(), Role::Editor), (lose.clone(), Role::Owner)])
        .expect("spaces");
    assert_eq!(changes.added.len(), 2);
    let (kept, kept_ops) = foreign_goal(keep.id, "Kept");
    let (lost, lost_ops) = foreign_goal(lose.id, "Lost");
    replica
        .apply_remote(&[kept_ops, lost_ops].concat(), &[(lose.id, 7)])
        .expect("apply");
    let lost_state = replica.record(&lost).expect("read").expect("present");
    replica
        .commit(&[replica.delete_op(&lost_state)])
        .expect("local change in the lost space");
    let (mine, mine_ops) = replica
        .create_ops(RecordKind::Goal, personal, title("Mine"), today())
        .expect("ops");
    replica.commit(&mine_ops).expect("commit");

    let changes = replica
        .sync_spaces(&[(keep.clone(), Role::Viewer)])
        .expect("drop");
    assert_eq!(changes.dropped, vec![lose.clone()]);
    assert_eq!(changes.removed, vec![lost]);
    assert!(replica.record(&lost).expect("read").is_none());
    assert!(replica.history(&lost).expect("history").is_empty());
    assert_eq!(replica.cursor(&lose.id).expect("cursor"), 0);
    assert!(replica.ops().all(|op| op.expect("op").space != lose.id));
    assert_eq!(replica.outbox_len(), mine_ops.len());
    assert_eq!(replica.outbox(100).expect("outbox").len(), mine_ops.len());
    assert!(replica.record(&kept).expect("read").is_some());
    assert!(replica.record(&mine).expect("read").is_some());
    let known = replica.known_spaces().expect("known");
    assert_eq!(known.len(), 2);
    assert_eq!(known[0].space.id, personal, "personal first");
    assert_eq!(known[1].role, Role::Viewer, "role updated");
}

/// The first login keeps records made before it: their unpushed ops get the account
/// as author and its personal space (same op ids), the records are rebuilt, ops that
/// came from elsewhere are untouched, and the identity survives a reopen. Another
/// account is refused afterwards.
#[test]
fn adopt_identity_keeps_pre_login_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (user, server_space) = (UserId::new(), SpaceId::new());
    let team = shared("Team");
    let (foreign, foreign_ops) = foreign_goal(team.id, "Theirs");
    let mine = {
        let replica = Replica::open(dir.path()).expect("open");
        let old = replica.identity();
        let (mine, ops) = replica
            .create_ops(RecordKind::Goal, old.personal_space, title("Mine"), today())
            .expect("ops");
        replica.commit(&ops).expect("commit");
        replica.apply_remote(&foreign_ops, &[]).expect("remote");
        let summary = replica.adopt_identity(user, server_space).expect("adopt");
        assert_eq!(summary.ops, ops.len());
        assert_eq!(summary.records, vec![mine]);
        let history = replica.history(&mine).expect("history");
        assert_eq!(
            history.iter().map(|op| op.id).collect::<Vec<_>>(),
            ops.iter().map(|op| op.id).collect::<Vec<_>>()
        );
        assert!(
            history
                .iter()
                .all(|op| op.author == user && op.space == server_space)
        );
        let state = replica.record(&mine).expect("read").expect("kept");
        assert_eq!(state.space, server_space);
        assert_eq!(state.title(), "Mine");
        assert_eq!(replica.outbox_len(), ops.len());
        assert!(
            replica
                .outbox(100)
                .expect("outbox")
                .iter()
                .all(|e| e.op.author == user)
        );
        assert_eq!(replica.history(&foreign).expect("history"), {
            let mut sorted = foreign_ops.clone();
            sorted.sort_by_key(|op| (op.at, op.id));
            sorted
        });
        assert_eq!(
            replica.stamp(server_space, mine, Change::Delete).author,
            user
        );
        mine
    };
    let replica = Replica::open(dir.path()).expect("reopen");
    assert_eq!(replica.identity().user, user);
    assert_eq!(replica.identity().personal_space, server_space);
    assert!(replica.record(&mine).expect("read").is_some());
    let spaces = replica.known_spaces().expect("spaces");
    assert_eq!(spaces.len(), 1);
    assert_eq!(spaces[0].space.id, server_space);
    assert_eq!(
        replica.adopt_identity(user, server_space).expect("same"),
        AdoptSummary::default()
    );
    let err = replica
        .adopt_identity(UserId::new(), SpaceId::new())
        .expect_err("another account");
    assert!(matches!(err, ReplicaError::OtherAccount { .. }), "{err}");
}

/// A start-over queues every op this user wrote again, oldest first (a record's
/// create before its changes), forgets the cursors and marks the replica as
/// recovering; finishing it drops the ops of others the server no longer sent, keeps
/// this user's own, and clears the mark.
#[test]
fn start_over_and_finish_recovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = Replica::open(dir.path()).expect("open");
    let team = shared("Team");
    replica
        .sync_spaces(&[(team.clone(), Role::Editor)])
        .expect("spaces");
    let (mine, ops) = replica
        .create_ops(RecordKind::Goal, team.id, title("Mine"), today())
        .expect("ops");
    replica.commit(&ops).expect("commit");
    replica
        .drain_outbox(
            &replica
                .outbox(usize::MAX)
                .expect("outbox")
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
        )
        .expect("pushed");
    let (kept, kept_ops) = foreign_goal(team.id, "Still on the server");
    let (lost, lost_ops) = foreign_goal(team.id, "Lost with the restore");
    let mut remote = kept_ops.clone();
    remote.extend(lost_ops);
    replica
        .apply_remote(&remote, &[(team.id, 9)])
        .expect("pulled");

    let requeued = replica
        .start_over(cairn_common::api::Epoch::new())
        .expect("start over");
    assert_eq!(requeued, ops.len());
    assert!(replica.is_recovering().expect("flag"));
    assert_eq!(replica.cursor(&team.id).expect("cursor"), 0);
    let queued = replica.outbox(usize::MAX).expect("outbox");
    assert!(
        matches!(queued[0].op.change, Change::Create { .. }),
        "create first"
    );
    assert!(
        queued
            .windows(2)
            .all(|w| (w[0].op.at, w[0].op.id) <= (w[1].op.at, w[1].op.id))
    );

    let confirmed: HashSet<_> = kept_ops.iter().map(|op| op.id).collect();
    let swept = replica.finish_recovery(&confirmed).expect("finish");
    assert_eq!(swept.removed, vec![lost]);
    assert!(replica.record(&lost).expect("read").is_none());
    assert!(replica.record(&kept).expect("read").is_some());
    assert!(
        replica.record(&mine).expect("read").is_some(),
        "own ops stay"
    );
    assert!(!replica.is_recovering().expect("flag"));
}
