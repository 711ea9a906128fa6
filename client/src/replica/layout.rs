//! Converting a replica written by an older version to the current key layout
//! ([`keys::LAYOUT`]), once, when it is opened.
//!
//! Layout 1 kept each op under `o` ++ op id with an empty `h` ++ record ++ op id
//! entry beside it, and outbox entries held the op id alone. Layout 2 keeps the op
//! itself under `h` ++ record ++ op id and outbox entries hold record ++ op id: one
//! entry per op instead of two, which halves what applying a page writes. The
//! conversion is one atomic batch, so a crash leaves the old layout whole.

use cairn_common::RecordId;
use cairn_common::codec;
use cairn_common::op::{Op, OpId};

use super::{Replica, ReplicaError, keys};

impl Replica {
    /// Converts the replica to [`keys::LAYOUT`] if it is older; a new replica is
    /// marked current.
    pub(super) fn convert_layout(&self) -> Result<(), ReplicaError> {
        let tree = &self.inner.tree;
        if tree.get(keys::meta(keys::LAYOUT_KEY))?.as_deref() == Some(&[keys::LAYOUT][..]) {
            return Ok(());
        }
        let _writer = self.writer();
        let mut batch = sled::Batch::default();
        // Layout 1's empty history entries; those whose op is stored are written
        // again below, with the op (in a batch the later write of a key wins).
        for entry in tree.scan_prefix([keys::HISTORY]) {
            let (key, value) = entry?;
            if value.is_empty() {
                batch.remove(key);
            }
        }
        for entry in tree.scan_prefix([keys::OLD_OP]) {
            let (key, value) = entry?;
            let op: Op = codec::decode(&value)?;
            batch.insert(&keys::op(&op.record, &op.id)[..], value);
            batch.remove(key);
        }
        for entry in tree.scan_prefix([keys::OUTBOX]) {
            let (key, value) = entry?;
            if value.len() != 16 {
                continue;
            }
            let mut id = [0u8; 16];
            id.copy_from_slice(&value);
            let id = OpId(uuid::Uuid::from_bytes(id));
            let Some(bytes) = tree.get(keys::old_op(&id))? else {
                return Err(ReplicaError::Codec(codec::CodecError::Malformed(
                    "the outbox names an op that is not stored".into(),
                )));
            };
            let record: RecordId = codec::decode::<Op>(&bytes)?.record;
            batch.insert(key, &keys::outbox_value(&record, &id)[..]);
        }
        batch.insert(keys::meta(keys::LAYOUT_KEY), &[keys::LAYOUT][..]);
        tree.apply_batch(batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cairn_common::model::{RecordKind, Value};

    use super::*;

    /// A replica in layout 1 (ops by id, empty history entries, outbox of op ids)
    /// opens with the same records, history and outbox.
    #[test]
    fn layout_one_is_converted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (id, history, outbox) = {
            let replica = Replica::open(dir.path()).expect("open");
            let space = replica.identity().personal_space;
            let (id, ops) = replica
                .create_ops(
                    RecordKind::Goal,
                    space,
                    vec![("title".into(), Value::Text("Old layout".into()))],
                    chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
                )
                .expect("ops");
            replica.commit(&ops).expect("commit");
            // Write it back the way layout 1 kept it.
            let tree = &replica.inner.tree;
            let mut batch = sled::Batch::default();
            for op in replica.history(&id).expect("history") {
                batch.remove(&keys::op(&op.record, &op.id)[..]);
                batch.insert(&keys::old_op(&op.id)[..], codec::encode(&op).expect("op"));
                batch.insert(&keys::op(&op.record, &op.id)[..], &[][..]);
            }
            for entry in replica.outbox(usize::MAX).expect("outbox") {
                batch.insert(&keys::outbox(entry.seq)[..], &entry.op.id.0.as_bytes()[..]);
            }
            batch.remove(keys::meta(keys::LAYOUT_KEY));
            tree.apply_batch(batch).expect("old layout");
            replica.make_durable().expect("durable");
            let history: Vec<Op> = tree
                .scan_prefix([keys::OLD_OP])
                .map(|e| codec::decode(&e.expect("entry").1).expect("op"))
                .collect();
            (id, history, ops.len())
        };
        let replica = Replica::open(dir.path()).expect("reopen converts");
        let mut now = replica.history(&id).expect("history");
        let mut before = history;
        now.sort_by_key(|op| op.id);
        before.sort_by_key(|op| op.id);
        assert_eq!(now, before);
        assert_eq!(replica.outbox(usize::MAX).expect("outbox").len(), outbox);
        assert_eq!(replica.ops().count(), outbox);
        assert!(replica.record(&id).expect("read").is_some());
    }
}
