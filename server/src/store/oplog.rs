//! Per-space op logs: each accepted op gets the next sequence number of its space.
//!
//! One tree, prefixed keys, so that one sled batch writes an append atomically:
//! - `o` ++ space ++ seq (u64 big-endian) → the op
//! - `i` ++ op id → space ++ seq (idempotency: an op is stored once)
//! - `r` ++ space ++ record → the record's kind (to check `Set`s against the schema)
//! - `s` ++ space → the last seq given out
//!
//! Callers check who may push what (author, membership, role, clocks); this file
//! checks what the ops say against what is stored, and refuses the whole push if any
//! op is wrong.

use std::collections::HashMap;

use cairn_common::codec;
use cairn_common::model::{RecordId, RecordKind, SpaceId};
use cairn_common::op::{Change, Op, OpId};

use super::{Store, StoreError, key2};

const OPS: u8 = b'o';
const OP_IDS: u8 = b'i';
const RECORDS: u8 = b'r';
const SEQS: u8 = b's';

/// The last seq of each space seen since the store opened.
#[derive(Default)]
pub(crate) struct SeqCache {
    last: HashMap<SpaceId, u64>,
}

/// What a push did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Ops stored now.
    pub stored: u32,
    /// Ops already stored (or repeated within the push).
    pub duplicates: u32,
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

pub(super) fn seq_of(bytes: &[u8], at: usize) -> Result<u64, StoreError> {
    bytes
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| codec::CodecError::Malformed("a damaged sequence number".into()).into())
}

fn invalid(index: usize, op: &Op, what: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidInput(format!(
        "change {} of the push (record {}): {what}; nothing of this push was stored",
        index + 1,
        op.record
    ))
}

impl Store {
    /// The kind of a record of a space, if its `Create` is stored.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn record_kind(
        &self,
        space: SpaceId,
        record: RecordId,
    ) -> Result<Option<RecordKind>, StoreError> {
        match self
            .inner
            .oplog
            .get(key(RECORDS, &[space.as_bytes(), record.as_bytes()]))?
        {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The last seq given out in a space (0 for none).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        match self.inner.oplog.get(key(SEQS, &[space.as_bytes()]))? {
            Some(bytes) => seq_of(&bytes, 0),
            None => Ok(0),
        }
    }

    /// Appends the ops that are new, all or none: a `Create` may not change a
    /// record's kind, every other op needs its record's `Create` (stored or in this
    /// push), and a `Set` must fit the kind's schema. An op id already stored with
    /// other content is refused. Not durable until [`Store::commit_durable`].
    ///
    /// The caller has checked authors, clocks, membership and roles.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] naming the first bad op, or a storage error.
    pub fn append_ops(&self, ops: &[Op]) -> Result<PushOutcome, StoreError> {
        let mut cache = self
            .inner
            .appends
            .lock()
            // The cache is only updated after a successful write: never half-done.
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut outcome = PushOutcome::default();
        let mut fresh: Vec<(usize, &Op)> = Vec::with_capacity(ops.len());
        let mut in_push: HashMap<OpId, usize> = HashMap::new();
        let mut kinds: HashMap<(SpaceId, RecordId), RecordKind> = HashMap::new();
        let mut new_kinds: HashMap<(SpaceId, RecordId), RecordKind> = HashMap::new();

        // Pass 1: duplicates, and the kinds that creates give.
        for (index, op) in ops.iter().enumerate() {
            if let Some(&first) = in_push.get(&op.id) {
                if ops[first] != *op {
                    return Err(invalid(
                        index,
                        op,
                        "an op id is used twice with other content",
                    ));
                }
                outcome.duplicates += 1;
                continue;
            }
            in_push.insert(op.id, index);
            if let Some(stored) = self.stored_op(op.id)? {
                if stored != *op {
                    return Err(invalid(
                        index,
                        op,
                        "the server holds another change under this op id",
                    ));
                }
                outcome.duplicates += 1;
                continue;
            }
            if let Change::Create { kind } = op.change {
                let slot = (op.space, op.record);
                let known = match kinds.get(&slot) {
                    Some(k) => Some(*k),
                    None => self.record_kind(op.space, op.record)?,
                };
                match known {
                    Some(existing) if existing != kind => {
                        return Err(invalid(
                            index,
                            op,
                            format_args!("the record is a {existing}; it cannot become a {kind}"),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        new_kinds.insert(slot, kind);
                    }
                }
                kinds.insert(slot, kind);
            }
            fresh.push((index, op));
        }

        // Pass 2: every other op against its record's kind.
        for &(index, op) in &fresh {
            if matches!(op.change, Change::Create { .. }) {
                continue;
            }
            let slot = (op.space, op.record);
            let kind = match kinds.get(&slot) {
                Some(k) => *k,
                None => match self.record_kind(op.space, op.record)? {
                    Some(k) => {
                        kinds.insert(slot, k);
                        k
                    }
                    None => {
                        return Err(invalid(
                            index,
                            op,
                            "the record was never created (its Create op is neither stored nor \
                             in this push); push the Create first",
                        ));
                    }
                },
            };
            if let Err(e) = op.validate(kind) {
                return Err(invalid(index, op, e));
            }
        }

        if fresh.is_empty() {
            return Ok(outcome);
        }

        // One batch: ops, op-id index, record kinds, seq counters.
        let mut batch = sled::Batch::default();
        let mut next: HashMap<SpaceId, u64> = HashMap::new();
        for &(_, op) in &fresh {
            let seq = match next.get(&op.space) {
                Some(s) => *s,
                None => match cache.last.get(&op.space) {
                    Some(s) => *s,
                    None => self.last_seq(op.space)?,
                },
            } + 1;
            next.insert(op.space, seq);
            batch.insert(op_key(op.space, seq), codec::encode(op)?);
            batch.insert(
                key(OP_IDS, &[op.id.0.as_bytes()]),
                key2(op.space.as_bytes(), &seq.to_be_bytes()),
            );
        }
        for ((space, record), kind) in &new_kinds {
            batch.insert(
                key(RECORDS, &[space.as_bytes(), record.as_bytes()]),
                codec::encode(kind)?,
            );
        }
        for (space, seq) in &next {
            batch.insert(key(SEQS, &[space.as_bytes()]), &seq.to_be_bytes()[..]);
        }
        self.inner.oplog.apply_batch(batch)?;
        cache.last.extend(next);
        outcome.stored = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
        self.wrote();
        Ok(outcome)
    }

    /// The stored op with this id.
    fn stored_op(&self, id: OpId) -> Result<Option<Op>, StoreError> {
        let Some(at) = self.inner.oplog.get(key(OP_IDS, &[id.0.as_bytes()]))? else {
            return Ok(None);
        };
        let space = super::id_at(&at, 0)
            .ok_or_else(|| codec::CodecError::Malformed("a damaged op index entry".into()))?;
        let seq = seq_of(&at, 16)?;
        match self
            .inner
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
        for entry in self.inner.oplog.range(range) {
            let (key, value) = entry?;
            let fits =
                page.bytes + value.len() <= max_bytes || (first_may_exceed && page.ops.is_empty());
            if page.ops.len() >= max_ops || !fits {
                page.more = true;
                break;
            }
            page.ops.push(codec::decode(&value)?);
            page.bytes += value.len();
            page.cursor = seq_of(&key, 17)?;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};
    use super::*;
    use cairn_common::model::{UserId, Value};
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
        let first = store.append_ops(&ops).expect("append");
        assert_eq!(
            first,
            PushOutcome {
                stored: 3,
                duplicates: 0
            }
        );
        assert_eq!(store.last_seq(space).expect("seq"), 3);
        let again = store.append_ops(&ops).expect("retry");
        assert_eq!(
            again,
            PushOutcome {
                stored: 0,
                duplicates: 3
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

    /// A bad op anywhere refuses the whole push: nothing stored, seq unchanged.
    #[test]
    fn append_all_or_nothing() {
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
        for bad in [bad_field, wrong_type, orphan] {
            let err = store
                .append_ops(&[create.clone(), bad])
                .expect_err("refused");
            assert!(matches!(err, StoreError::InvalidInput(_)), "{err}");
            assert_eq!(store.last_seq(space).expect("seq"), 0);
            assert_eq!(store.record_kind(space, record).expect("kind"), None);
        }
        store.append_ops(&[create]).expect("create alone");
        let other_kind = op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: RecordKind::Note,
            },
        );
        assert!(store.append_ops(&[other_kind]).is_err());
        let mut reused = op(space, record, ann.id, title("x"));
        store
            .append_ops(std::slice::from_ref(&reused))
            .expect("set");
        reused.change = title("y");
        assert!(store.append_ops(&[reused]).is_err());
        assert_eq!(store.last_seq(space).expect("seq"), 2);
    }

    /// Seqs continue after reopening the store.
    #[test]
    fn seq_survives_reopen() {
        let (dir, store) = temp_store();
        let ann = user(&store, "ann");
        let space = store.spaces_of(ann.id).expect("spaces")[0].space.id;
        let record = RecordId::new();
        store
            .append_ops(&[op(
                space,
                record,
                ann.id,
                Change::Create {
                    kind: RecordKind::Task,
                },
            )])
            .expect("append");
        store.flush().expect("flush");
        drop(store);
        let store = super::super::Store::open(&dir.path().join("db")).expect("reopen");
        store
            .append_ops(&[op(space, record, ann.id, Change::Delete)])
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
