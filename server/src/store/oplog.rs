//! Per-space op logs: each accepted op gets the next sequence number of its space.
//!
//! One tree, prefixed keys, so that one sled batch writes an append atomically:
//! - `o` ++ space ++ seq (u64 big-endian) → the op
//! - `i` ++ op id → space ++ seq (idempotency: an op is stored once)
//! - `r`, `k`, `v`: what is known of each record (see `records.rs`)
//! - `s` ++ space → the last seq given out
//! - `p` ++ space ++ record → () for a purged record (see `purge.rs`)
//!
//! Callers check who may push what (author, membership, role, clocks); this file
//! checks what the ops say against what is stored. It judges each record's ops of a
//! push together: a record with one bad op has none of its ops stored and is named
//! in a [`Refusal`]; the other records' ops are stored.

use std::collections::{HashMap, HashSet};

use cairn_common::api::Refusal;
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId};
use cairn_common::op::{Op, OpId};

use super::records::{RecordLimits, home_key, record_key};
use super::{SledStore, StoreError, key2, push_plan};

pub(super) const OPS: u8 = b'o';
const OP_IDS: u8 = b'i';
pub(super) const SEQS: u8 = b's';

/// The last seq of each space seen since the store opened.
#[derive(Default)]
pub(crate) struct SeqCache {
    last: HashMap<SpaceId, u64>,
}

impl SeqCache {
    /// Forgets every cached seq (the database was rewritten).
    pub(crate) fn clear(&mut self) {
        self.last.clear();
    }
}

/// What a push did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Ops stored now.
    pub stored: u32,
    /// Ops already stored (or repeated within the push).
    pub duplicates: u32,
    /// Records whose ops were not stored, and why.
    pub refused: Vec<Refusal>,
}

/// What a poll compares its cursors with, read together: the store's epoch and the
/// user's spaces (in [`Store::spaces_of`](super::Store::spaces_of)'s order), each
/// with the seq of its last op (0 for none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heads {
    pub epoch: cairn_common::api::Epoch,
    pub spaces: Vec<(cairn_common::api::SpaceInfo, u64)>,
}

/// Ops of one space after a cursor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PullPage {
    pub ops: Vec<Op>,
    /// Seq of the last op in `ops` (the cursor given in if `ops` is empty).
    pub cursor: u64,
    /// Encoded bytes of `ops`.
    pub bytes: usize,
    /// More ops wait after `cursor`.
    pub more: bool,
}

fn key(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub(super) fn op_key(space: SpaceId, seq: u64) -> Vec<u8> {
    key(OPS, &[space.as_bytes(), &seq.to_be_bytes()])
}

pub(super) fn op_id_key(id: OpId) -> Vec<u8> {
    key(OP_IDS, &[id.0.as_bytes()])
}

pub(super) fn seq_key(space: SpaceId) -> Vec<u8> {
    key(SEQS, &[space.as_bytes()])
}

pub(super) fn seq_of(bytes: &[u8], at: usize) -> Result<u64, StoreError> {
    bytes
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| codec::CodecError::Malformed("a damaged sequence number".into()).into())
}

impl SledStore {
    /// The last seq given out in a space (0 for none).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        match self.db().oplog.get(key(SEQS, &[space.as_bytes()]))? {
            Some(bytes) => seq_of(&bytes, 0),
            None => Ok(0),
        }
    }

    /// Appends the ops that are new, judging each record's ops of the push together
    /// (all of them or none): a record lives in one space for its whole life, a
    /// `Create` may not change its kind, every other op needs its record's `Create`
    /// (stored or in this push), a `Set` must fit the kind's schema and keep the
    /// record within `limits`, and an op id already stored with other content is
    /// refused. Not durable until [`SledStore::commit_durable`].
    ///
    /// The caller has checked authors, clocks, membership and roles.
    ///
    /// # Errors
    /// A storage error or damaged data; nothing is stored then.
    pub fn append_ops(&self, ops: &[Op], limits: &RecordLimits) -> Result<PushOutcome, StoreError> {
        let mut cache = self
            .inner
            .appends
            .lock()
            // The cache is only updated after a successful write: never half-done.
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = self.known_of(ops)?;
        let plan = push_plan::plan(ops, &known, limits)?;
        let mut outcome = PushOutcome {
            stored: 0,
            duplicates: plan.duplicates,
            refused: plan.refused,
        };
        if plan.appends.is_empty() {
            return Ok(outcome);
        }
        let mut batch = sled::Batch::default();
        for (record, space) in &plan.new_homes {
            batch.insert(home_key(*record), space.as_bytes().to_vec());
        }
        for (space, record, meta) in &plan.metas {
            batch.insert(record_key(*space, *record), codec::encode(meta)?);
        }
        let mut next: HashMap<SpaceId, u64> = HashMap::new();
        for (op, bytes) in plan.appends {
            let seq = match next.get(&op.space) {
                Some(s) => *s,
                None => match cache.last.get(&op.space) {
                    Some(s) => *s,
                    None => self.last_seq(op.space)?,
                },
            } + 1;
            next.insert(op.space, seq);
            batch.insert(op_key(op.space, seq), bytes);
            batch.insert(
                op_id_key(op.id),
                key2(op.space.as_bytes(), &seq.to_be_bytes()),
            );
            outcome.stored += 1;
        }
        for (space, seq) in &next {
            batch.insert(seq_key(*space), &seq.to_be_bytes()[..]);
        }
        self.db().oplog.apply_batch(batch)?;
        cache.last.extend(next);
        self.wrote();
        Ok(outcome)
    }

    /// What the store holds about the records and op ids of a push.
    fn known_of(&self, ops: &[Op]) -> Result<push_plan::Known, StoreError> {
        let mut known = push_plan::Known::default();
        let mut seen: HashSet<RecordId> = HashSet::new();
        for op in ops {
            if let Some(stored) = self.stored_op(op.id)? {
                known.stored.insert(op.id, stored);
            }
            if !seen.insert(op.record) {
                continue;
            }
            if let Some(home) = self.home_of(op.record)? {
                known.homes.insert(op.record, home);
                if let Some(meta) = self.record_meta(home, op.record)? {
                    known.metas.insert(op.record, meta);
                }
            }
            if self.is_purged_record(op.space, op.record)? {
                known.purged.insert((op.space, op.record));
            }
        }
        Ok(known)
    }

    /// The stored op with this id.
    fn stored_op(&self, id: OpId) -> Result<Option<Op>, StoreError> {
        let Some(at) = self.db().oplog.get(op_id_key(id))? else {
            return Ok(None);
        };
        let space = super::id_at(&at, 0)
            .ok_or_else(|| codec::CodecError::Malformed("a damaged op index entry".into()))?;
        let seq = seq_of(&at, 16)?;
        match self
            .db()
            .oplog
            .get(op_key(SpaceId::from_bytes(space), seq))?
        {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Ops of `space` after seq `after`, in seq order: at most `max_ops`, and no more
    /// than `max_bytes` encoded bytes unless `first_may_exceed` and the page would
    /// otherwise hold nothing (one op larger than a page must still get through).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn ops_after(
        &self,
        space: SpaceId,
        after: u64,
        max_ops: usize,
        max_bytes: usize,
        first_may_exceed: bool,
    ) -> Result<PullPage, StoreError> {
        let mut page = PullPage {
            cursor: after,
            ..PullPage::default()
        };
        let Some(start) = after.checked_add(1) else {
            return Ok(page);
        };
        let range = op_key(space, start)..=op_key(space, u64::MAX);
        for entry in self.db().oplog.range(range) {
            let (key, value) = entry?;
            let limits = (max_ops, max_bytes, first_may_exceed);
            if !page.take(seq_of(&key, 17)?, &value, limits)? {
                break;
            }
        }
        Ok(page)
    }
}

impl PullPage {
    /// Adds the op stored as `bytes` at `seq` if the page has room by `limits`
    /// (most ops, most bytes, whether a first op may be larger than the bytes):
    /// one op larger than a page still gets through alone. False, with `more`
    /// set, when the page is full.
    ///
    /// # Errors
    /// Damaged op bytes.
    pub(crate) fn take(
        &mut self,
        seq: u64,
        bytes: &[u8],
        (max_ops, max_bytes, first_may_exceed): (usize, usize, bool),
    ) -> Result<bool, StoreError> {
        let fits =
            self.bytes + bytes.len() <= max_bytes || (first_may_exceed && self.ops.is_empty());
        if self.ops.len() >= max_ops || !fits {
            self.more = true;
            return Ok(false);
        }
        self.ops.push(codec::decode(bytes)?);
        self.bytes += bytes.len();
        self.cursor = seq;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};
    use super::*;
    use cairn_common::api::RefusalReason;
    use cairn_common::model::RecordKind;
    use cairn_common::model::{UserId, Value};
    use cairn_common::op::Change;
    use cairn_common::op::{Hlc, NodeId};

    fn op(space: SpaceId, record: RecordId, author: UserId, change: Change) -> Op {
        Op {
            id: OpId::new(),
            space,
            record,
            at: Hlc {
                wall_ms: 1_000,
                counter: 0,
                node: NodeId(1),
            },
            author,
            change,
        }
    }

    fn title(text: &str) -> Change {
        Change::Set {
            field: "title".into(),
            value: Value::Text(text.into()),
            replaces: vec![],
        }
    }

    /// Ops get consecutive seqs per space, a retry stores nothing, pages follow seqs.
    #[test]
    fn append_idempotent_and_paged() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        let ops = vec![
            op(
                space,
                record,
                ann.id,
                Change::Create {
                    kind: RecordKind::Goal,
                },
            ),
            op(space, record, ann.id, title("one")),
            op(space, record, ann.id, title("two")),
        ];
        let first = store.append_ops(&ops, &RecordLimits::NONE).expect("append");
        assert_eq!(
            first,
            PushOutcome {
                stored: 3,
                duplicates: 0,
                refused: vec![]
            }
        );
        assert_eq!(store.last_seq(space).expect("seq"), 3);
        let again = store.append_ops(&ops, &RecordLimits::NONE).expect("retry");
        assert_eq!(
            again,
            PushOutcome {
                stored: 0,
                duplicates: 3,
                refused: vec![]
            }
        );
        assert_eq!(store.last_seq(space).expect("seq"), 3);

        let page = store
            .ops_after(space, 0, 2, usize::MAX, true)
            .expect("page 1");
        assert_eq!(page.ops, ops[..2]);
        assert_eq!((page.cursor, page.more), (2, true));
        let page = store
            .ops_after(space, 2, 2, usize::MAX, true)
            .expect("page 2");
        assert_eq!(page.ops, ops[2..]);
        assert_eq!((page.cursor, page.more), (3, false));
        let page = store.ops_after(space, 0, 10, 1, true).expect("tiny budget");
        assert_eq!((page.ops.len(), page.more), (1, true));
        let page = store.ops_after(space, 0, 10, 1, false).expect("no budget");
        assert_eq!((page.ops.len(), page.cursor, page.more), (0, 0, true));
    }

    /// A bad op refuses its record's ops of the push, and only those: nothing of
    /// that record is stored, the other records' ops are.
    #[test]
    fn refusal_per_record() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        let create = op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: RecordKind::Goal,
            },
        );
        let bad_field = op(
            space,
            record,
            ann.id,
            Change::Set {
                field: "colour".into(),
                value: Value::Text("red".into()),
                replaces: vec![],
            },
        );
        let wrong_type = op(
            space,
            record,
            ann.id,
            Change::Set {
                field: "progress".into(),
                value: Value::Text("lots".into()),
                replaces: vec![],
            },
        );
        let orphan = op(space, RecordId::new(), ann.id, title("no create"));
        for (bad, reason) in [
            (bad_field, RefusalReason::Invalid),
            (wrong_type, RefusalReason::Invalid),
        ] {
            let outcome = store
                .append_ops(&[create.clone(), bad.clone()], &RecordLimits::NONE)
                .expect("judged");
            assert_eq!(outcome.stored, 0);
            assert_eq!(outcome.refused.len(), 1);
            assert_eq!(outcome.refused[0].reason, reason);
            assert_eq!(outcome.refused[0].ops, vec![create.id, bad.id]);
            assert_eq!(store.last_seq(space).expect("seq"), 0);
            assert_eq!(store.record_kind(space, record).expect("kind"), None);
        }
        let other = RecordId::new();
        let fine = op(
            space,
            other,
            ann.id,
            Change::Create {
                kind: RecordKind::Task,
            },
        );
        let outcome = store
            .append_ops(&[orphan.clone(), fine], &RecordLimits::NONE)
            .expect("judged");
        assert_eq!(outcome.stored, 1, "the other record's op is stored");
        assert_eq!(outcome.refused[0].reason, RefusalReason::UnknownRecord);
        assert_eq!(outcome.refused[0].ops, vec![orphan.id]);

        store
            .append_ops(std::slice::from_ref(&create), &RecordLimits::NONE)
            .expect("create alone");
        let other_kind = op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: RecordKind::Note,
            },
        );
        let outcome = store
            .append_ops(&[other_kind], &RecordLimits::NONE)
            .expect("judged");
        assert_eq!(outcome.refused[0].reason, RefusalReason::Invalid);
        let mut reused = op(space, record, ann.id, title("x"));
        store
            .append_ops(std::slice::from_ref(&reused), &RecordLimits::NONE)
            .expect("set");
        reused.change = title("y");
        let outcome = store
            .append_ops(&[reused], &RecordLimits::NONE)
            .expect("judged");
        assert_eq!(outcome.refused[0].reason, RefusalReason::Invalid);
        assert_eq!(store.last_seq(space).expect("seq"), 3);
    }

    /// A record lives in the space it was created in: ops naming it in another space
    /// (a co-member's forgery) are refused, whoever sends them, and change nothing.
    #[test]
    fn record_stays_in_its_space() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let bob = user(&store, "bob");
        let ann_space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let bob_space = store.spaces_of(bob.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        let create = |space, author| {
            op(
                space,
                record,
                author,
                Change::Create {
                    kind: RecordKind::Note,
                },
            )
        };
        store
            .append_ops(&[create(ann_space, ann.id)], &RecordLimits::NONE)
            .expect("ann's note");
        let forged = create(bob_space, bob.id);
        let outcome = store
            .append_ops(
                &[forged.clone(), op(bob_space, record, bob.id, title("mine"))],
                &RecordLimits::NONE,
            )
            .expect("judged");
        assert_eq!(outcome.stored, 0);
        assert_eq!(outcome.refused[0].reason, RefusalReason::Invalid);
        assert!(outcome.refused[0].message.contains("another space"));
        assert_eq!(store.last_seq(bob_space).expect("seq"), 0);
        assert_eq!(store.home_of(record).expect("home"), Some(ann_space));
    }

    /// The limits hold at push: a record may not take more concurrent values or
    /// bytes than allowed, and the writer is told why.
    #[test]
    fn limits_refuse_the_writer() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        let limits = RecordLimits {
            max_values_per_field: 3,
            max_record_bytes: 64 * 1024,
        };
        let text = |n: usize| Change::Set {
            field: "notes".into(),
            value: Value::Text("x".repeat(n)),
            replaces: vec![],
        };
        let mut ops = vec![op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: RecordKind::Note,
            },
        )];
        ops.extend((0..3).map(|_| op(space, record, ann.id, text(10))));
        assert_eq!(store.append_ops(&ops, &limits).expect("judged").stored, 4);
        let fourth = op(space, record, ann.id, text(10));
        let outcome = store.append_ops(&[fourth], &limits).expect("judged");
        assert!(
            outcome.refused[0].message.contains("at most 3"),
            "{:?}",
            outcome.refused
        );
        let big = op(
            space,
            record,
            ann.id,
            Change::Set {
                field: "title".into(),
                value: Value::Text("t".into()),
                replaces: vec![],
            },
        );
        assert_eq!(store.append_ops(&[big], &limits).expect("judged").stored, 1);
        let huge = op(
            space,
            record,
            ann.id,
            Change::Set {
                field: "agenda".into(),
                value: Value::Text("y".repeat(70 * 1024)),
                replaces: vec![],
            },
        );
        let outcome = store.append_ops(&[huge], &limits).expect("judged");
        assert!(
            outcome.refused[0].message.contains("KiB"),
            "{:?}",
            outcome.refused
        );
    }

    /// A store written before the record index existed gets it rebuilt on open.
    #[test]
    fn record_index_rebuilt() {
        let (dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        store
            .append_ops(
                &[op(
                    space,
                    record,
                    ann.id,
                    Change::Create {
                        kind: RecordKind::Goal,
                    },
                )],
                &RecordLimits::NONE,
            )
            .expect("append");
        {
            let db = store.db();
            db.oplog.remove(b"v").expect("forget layout");
            db.oplog
                .remove(super::super::records::home_key(record))
                .expect("forget home");
            db.oplog
                .insert(
                    super::super::records::record_key(space, record),
                    codec::encode(&RecordKind::Goal).expect("old format"),
                )
                .expect("old kind entry");
        }
        store.flush().expect("flush");
        drop(store);
        let store = super::super::SledStore::open(&dir.path().join("db")).expect("reopen");
        assert_eq!(store.home_of(record).expect("home"), Some(space));
        assert_eq!(
            store.record_kind(space, record).expect("kind"),
            Some(RecordKind::Goal)
        );
    }

    /// Seqs continue after reopening the store.
    #[test]
    fn seq_survives_reopen() {
        let (dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        store
            .append_ops(
                &[op(
                    space,
                    record,
                    ann.id,
                    Change::Create {
                        kind: RecordKind::Task,
                    },
                )],
                &crate::store::RecordLimits::NONE,
            )
            .expect("append");
        store.flush().expect("flush");
        drop(store);
        let store = super::super::SledStore::open(&dir.path().join("db")).expect("reopen");
        store
            .append_ops(
                &[op(space, record, ann.id, Change::Delete)],
                &crate::store::RecordLimits::NONE,
            )
            .expect("append");
        assert_eq!(store.last_seq(space).expect("seq"), 2);
        assert_eq!(
            store
                .ops_after(space, 0, 10, usize::MAX, true)
                .expect("all")
                .ops
                .len(),
            2
        );
    }
}
