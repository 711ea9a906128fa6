//! Ops kept out of sync, never dropped without a word: local changes the server
//! cannot take (the space was taken from the user, a record broke a rule) and
//! changes from the server this replica will not merge (a record in two spaces, a
//! value that breaks the schema, a record grown past what this replica reads).
//!
//! Each is kept under `x` ++ op id with why, the space's name and the record's
//! title as they were, so `cairn undelivered` can list and export them, and sync
//! goes on with everything else. Undelivered local ops are taken out of the
//! replica's records (they would otherwise show what nobody else will ever see);
//! quarantined remote ops were never put in.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use cairn_common::codec;
use cairn_common::merge::materialize;
use cairn_common::model::SpaceId;
use cairn_common::op::{Op, OpId};
use cairn_common::{RecordId, RecordState};
use serde::{Deserialize, Serialize};

use super::{Replica, ReplicaError, keys, wall_clock_ms, write_states};

/// Which way an op was going when it was set aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetAsideKind {
    /// A local change the server will not take.
    Undelivered,
    /// A change from the server this replica will not merge.
    Quarantined,
}

/// One op kept out of sync.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    pub kind: SetAsideKind,
    /// Why, for a person.
    pub reason: String,
    /// The space's name and the record's title when it was set aside.
    pub space_name: String,
    pub record_title: String,
    /// When it was set aside (Unix ms).
    pub at_ms: u64,
    pub op: Op,
}

/// What [`Replica::undeliver`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Undelivered {
    /// Ops set aside.
    pub ops: usize,
    /// Records rebuilt without them.
    pub changed: Vec<RecordId>,
    /// Records that had no other op, removed.
    pub removed: Vec<RecordId>,
}

/// How many ops are set aside, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAsideCounts {
    pub undelivered: usize,
    pub quarantined: usize,
}

impl Replica {
    /// Every op set aside, oldest first.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn set_aside(&self) -> Result<Vec<SetAside>, ReplicaError> {
        let mut out = Vec::new();
        for entry in self.inner.tree.scan_prefix([keys::SET_ASIDE]) {
            out.push(codec::decode::<SetAside>(&entry?.1)?);
        }
        out.sort_by_key(|s| (s.at_ms, s.op.at, s.op.id));
        Ok(out)
    }

    /// How many ops are set aside, by kind.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn set_aside_counts(&self) -> Result<SetAsideCounts, ReplicaError> {
        let mut counts = SetAsideCounts::default();
        for entry in self.set_aside()? {
            match entry.kind {
                SetAsideKind::Undelivered => counts.undelivered += 1,
                SetAsideKind::Quarantined => counts.quarantined += 1,
            }
        }
        Ok(counts)
    }

    /// Forgets the set-aside ops of `kind` (all with `None`); returns how many.
    ///
    /// # Errors
    /// A storage error; nothing is forgotten then.
    pub fn discard_set_aside(&self, kind: Option<SetAsideKind>) -> Result<usize, ReplicaError> {
        let _writer = self.writer();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in self.inner.tree.scan_prefix([keys::SET_ASIDE]) {
            let (key, value) = entry?;
            let aside: SetAside = codec::decode(&value)?;
            if kind.is_none_or(|k| k == aside.kind) {
                batch.remove(key);
                n += 1;
            }
        }
        if n > 0 {
            self.inner.tree.apply_batch(batch)?;
            self.make_durable()?;
        }
        Ok(n)
    }

    /// Takes the outbox ops `seqs` out of sync for good: they are set aside as
    /// undelivered with `reason`, removed from the outbox and from this replica's
    /// records (which are rebuilt from their other ops), in one durable batch.
    ///
    /// # Errors
    /// A storage or decode error; nothing is changed then.
    pub fn undeliver(&self, seqs: &[u64], reason: &str) -> Result<Undelivered, ReplicaError> {
        let _writer = self.writer();
        let wanted: HashSet<u64> = seqs.iter().copied().collect();
        let entries: Vec<_> = self
            .outbox(usize::MAX)?
            .into_iter()
            .filter(|e| wanted.contains(&e.seq))
            .collect();
        if entries.is_empty() {
            return Ok(Undelivered::default());
        }
        let mut batch = sled::Batch::default();
        let ops: Vec<Op> = entries.iter().map(|e| e.op.clone()).collect();
        for entry in &entries {
            batch.remove(&keys::outbox(entry.seq)[..]);
        }
        let left = (self.outbox_len() as u64).saturating_sub(entries.len() as u64);
        batch.insert(keys::meta(keys::OUTBOX_LEN), &left.to_be_bytes()[..]);
        self.set_aside_into(&mut batch, &ops, SetAsideKind::Undelivered, reason)?;
        let (changed, removed) = self.unapply_into(&mut batch, &ops)?;
        self.inner.tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(Undelivered {
            ops: entries.len(),
            changed,
            removed,
        })
    }

    /// Adds to `batch` the set-aside entries of `ops`.
    pub(super) fn set_aside_into(
        &self,
        batch: &mut sled::Batch,
        ops: &[Op],
        kind: SetAsideKind,
        reason: &str,
    ) -> Result<(), ReplicaError> {
        let names: BTreeMap<SpaceId, String> =
            self.spaces()?.into_iter().map(|s| (s.id, s.name)).collect();
        let at_ms = wall_clock_ms();
        for op in ops {
            let record_title = self
                .record(&op.record)?
                .map(|s| s.title().to_owned())
                .unwrap_or_default();
            let aside = SetAside {
                kind,
                reason: reason.to_owned(),
                space_name: names.get(&op.space).cloned().unwrap_or_default(),
                record_title,
                at_ms,
                op: op.clone(),
            };
            batch.insert(&keys::set_aside(&op.id)[..], codec::encode(&aside)?);
        }
        Ok(())
    }

    /// Adds to `batch` the removal of `ops` from the replica: the ops, their history
    /// entries, and their records rebuilt from what is left. Returns the records
    /// rebuilt and those left without any op (removed).
    pub(super) fn unapply_into(
        &self,
        batch: &mut sled::Batch,
        ops: &[Op],
    ) -> Result<(Vec<RecordId>, Vec<RecordId>), ReplicaError> {
        let gone: BTreeSet<OpId> = ops.iter().map(|op| op.id).collect();
        let records: BTreeSet<RecordId> = ops.iter().map(|op| op.record).collect();
        let mut states: BTreeMap<RecordId, RecordState> = BTreeMap::new();
        let mut removed = Vec::new();
        for record in &records {
            let kept: Vec<Op> = self
                .history(record)?
                .into_iter()
                .filter(|op| !gone.contains(&op.id))
                .collect();
            match materialize(&kept).remove(record) {
                Some(state) => {
                    states.insert(*record, state);
                }
                None => {
                    batch.remove(&keys::record(record)[..]);
                    removed.push(*record);
                }
            }
        }
        for op in ops {
            batch.remove(&keys::op(&op.record, &op.id)[..]);
        }
        write_states(batch, &states)?;
        Ok((states.into_keys().collect(), removed))
    }
}
