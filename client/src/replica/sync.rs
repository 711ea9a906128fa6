//! What sync needs of the replica: ops from the server (not queued again), per-space
//! pull cursors, the outbox read in order and drained once the server acknowledged it,
//! the spaces the user may see with their roles (a space taken away is dropped here),
//! and the first login, when the local user and personal space become the account's.
//!
//! Every write is one sled batch under the writer lock, made durable before it
//! returns, like [`Replica::commit`].

use std::collections::{BTreeMap, BTreeSet, HashSet};

use cairn_common::api::Epoch;
use cairn_common::codec;
use cairn_common::merge::materialize;
use cairn_common::model::{Role, Space, SpaceId, UserId};
use cairn_common::op::{Change, Op, OpId};
use cairn_common::{RecordId, RecordState};

use super::{
    Identity, MAX_CLOCK_AHEAD_MS, MAX_RECORD_BYTES, Replica, ReplicaError, SetAsideKind, keys,
    wall_clock_ms,
};

/// A space this replica knows and the user's role in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownSpace {
    pub space: Space,
    /// The local personal space (before the first login) is the user's own: owner.
    pub role: Role,
}

/// One queued local op and its place in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub seq: u64,
    pub op: Op,
}

/// What [`Replica::sync_spaces`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpaceChanges {
    /// Spaces seen for the first time.
    pub added: Vec<Space>,
    /// Spaces the server no longer lists, with everything of theirs removed locally.
    pub dropped: Vec<Space>,
    /// Records removed with the dropped spaces.
    pub removed: Vec<RecordId>,
}

/// What [`Replica::adopt_identity`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdoptSummary {
    /// Outbox ops now written by the account (and in its personal space).
    pub ops: usize,
    /// Records rebuilt from those ops.
    pub records: Vec<RecordId>,
}

/// The answer of [`Replica::stored_among`]: the stored entries of the ids asked
/// about, or the tree to look each one up in.
enum Stored {
    Found(BTreeMap<Vec<u8>, sled::IVec>),
    LookUp(sled::Tree),
}

impl Stored {
    fn contains(&self, key: &[u8]) -> Result<bool, ReplicaError> {
        match self {
            Self::Found(found) => Ok(found.contains_key(key)),
            Self::LookUp(tree) => Ok(tree.contains_key(key)?),
        }
    }

    /// The stored value of `key`, handed out once.
    fn take(&mut self, key: &[u8]) -> Result<Option<sled::IVec>, ReplicaError> {
        match self {
            Self::Found(found) => Ok(found.remove(key)),
            Self::LookUp(tree) => Ok(tree.get(key)?),
        }
    }
}

fn malformed(what: &str) -> ReplicaError {
    ReplicaError::Codec(codec::CodecError::Malformed(what.into()))
}

fn id_bytes(key: &[u8], from: usize) -> Result<[u8; 16], ReplicaError> {
    key.get(from..from + 16)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| malformed("a key of the wrong length"))
}

impl Replica {
    /// Stores ops that came from the server, with the cursors reached in their spaces,
    /// in one atomic, durable batch. Unlike [`Self::commit`] they are not queued for
    /// push, and pages of different spaces and retries do not keep order: the merge
    /// gives the same state in any order. Ops already known are skipped. Clocks are
    /// observed, except from more than a day ahead, so one machine with a wrong clock
    /// cannot pin this replica's clock in the future.
    ///
    /// An op this replica will not merge is quarantined (set aside, see
    /// `set_aside.rs`) and the rest goes on: one naming a record in another space
    /// than the record's, changing its kind, coming before its record's `Create`,
    /// with a clock out of bounds, or with a value the schema refuses (remote text is
    /// checked like typed text before anyone sees it); and every new op of a record
    /// whose state would grow past what this replica can read back.
    ///
    /// # Errors
    /// A storage error; nothing is written then.
    pub fn apply_remote(
        &self,
        ops: &[Op],
        cursors: &[(SpaceId, u64)],
    ) -> Result<RemoteApplied, ReplicaError> {
        let mut clock = self.writer();
        let mut batch = sled::Batch::default();
        let mut states: BTreeMap<RecordId, RecordState> = BTreeMap::new();
        let mut taken: BTreeMap<RecordId, Vec<&Op>> = BTreeMap::new();
        let mut quarantined: Vec<(Op, String)> = Vec::new();
        let mut seen = HashSet::new();
        let known =
            self.stored_among(ops.iter().map(|op| keys::op(&op.record, &op.id).to_vec()))?;
        let mut stored =
            self.stored_among(ops.iter().map(|op| keys::record(&op.record).to_vec()))?;
        for op in ops {
            if !seen.insert(op.id) || known.contains(&keys::op(&op.record, &op.id))? {
                continue;
            }
            let state = match states.entry(op.record) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let loaded = stored.take(&keys::record(&op.record))?;
                    let loaded = loaded.map(|bytes| codec::decode(&bytes)).transpose()?;
                    e.insert(loaded.unwrap_or_else(|| RecordState::empty(op)))
                }
            };
            if let Some(reason) = refusal(state, op) {
                quarantined.push((op.clone(), reason));
                continue;
            }
            state.apply(op);
            taken.entry(op.record).or_default().push(op);
        }
        // A record grown too large keeps its state before this page; its new ops
        // are quarantined.
        // Each state is encoded once: to check its size and to write it.
        let mut written: BTreeMap<RecordId, Vec<u8>> = BTreeMap::new();
        for (id, after) in states {
            if !taken.contains_key(&id) {
                continue;
            }
            let bytes = codec::encode(&after)?;
            if bytes.len() > MAX_RECORD_BYTES {
                let reason = format!(
                    "record {id} would take {} bytes here, more than this device reads \
                     ({MAX_RECORD_BYTES}); its other changes are kept",
                    bytes.len()
                );
                let ops = taken.remove(&id).unwrap_or_default();
                quarantined.extend(ops.into_iter().map(|op| (op.clone(), reason.clone())));
                continue;
            }
            written.insert(id, bytes);
        }
        let limit = wall_clock_ms().saturating_add(MAX_CLOCK_AHEAD_MS);
        let mut new_ops = 0;
        for op in taken.values().flatten() {
            if op.at.wall_ms <= limit {
                clock.observe(op.at);
            }
            batch.insert(&keys::op(&op.record, &op.id)[..], codec::encode(*op)?);
            new_ops += 1;
        }
        for (space, seq) in cursors {
            batch.insert(&keys::cursor(space)[..], &seq.to_be_bytes()[..]);
        }
        if new_ops == 0 && cursors.is_empty() && quarantined.is_empty() {
            return Ok(RemoteApplied::default());
        }
        for (op, reason) in &quarantined {
            self.set_aside_into(
                &mut batch,
                std::slice::from_ref(op),
                SetAsideKind::Quarantined,
                reason,
            )?;
        }
        for (id, bytes) in &written {
            batch.insert(&keys::record(id)[..], bytes.as_slice());
        }
        batch.insert(keys::meta("clock"), codec::encode(&*clock)?);
        self.inner.tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(RemoteApplied {
            new_ops,
            records: written.into_keys().collect(),
            quarantined,
        })
    }

    /// Which of the entries `keys` are stored, read in one ordered scan instead of
    /// one lookup each: ids are time-ordered, so a page's keys mostly form one
    /// narrow key range, and in a fresh replica that range is empty. A range holding
    /// many other entries (old and new ids mixed) is looked up key by key.
    fn stored_among(&self, keys: impl Iterator<Item = Vec<u8>>) -> Result<Stored, ReplicaError> {
        let wanted: BTreeSet<Vec<u8>> = keys.collect();
        let (Some(first), Some(last)) = (wanted.first(), wanted.last()) else {
            return Ok(Stored::Found(BTreeMap::new()));
        };
        // Past this many entries in the range, one lookup per key is cheaper.
        let budget = wanted.len().saturating_mul(2).saturating_add(64);
        let mut found = BTreeMap::new();
        for (scanned, entry) in self
            .inner
            .tree
            .range(first.as_slice()..=last.as_slice())
            .enumerate()
        {
            if scanned >= budget {
                return Ok(Stored::LookUp(self.inner.tree.clone()));
            }
            let (k, v) = entry?;
            if wanted.contains(k.as_ref()) {
                found.insert(k.to_vec(), v);
            }
        }
        Ok(Stored::Found(found))
    }

    /// The pull cursor of a space: the sequence number of the last op this replica
    /// has of it (0 for none).
    ///
    /// # Errors
    /// A storage error or a damaged cursor.
    pub fn cursor(&self, space: &SpaceId) -> Result<u64, ReplicaError> {
        match self.inner.tree.get(keys::cursor(space))? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| malformed("a pull cursor is damaged")),
        }
    }

    /// The cursor of every known space.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn cursors(&self) -> Result<Vec<(SpaceId, u64)>, ReplicaError> {
        self.spaces()?
            .into_iter()
            .map(|space| Ok((space.id, self.cursor(&space.id)?)))
            .collect()
    }

    /// Up to `limit` outbox ops, oldest first.
    ///
    /// # Errors
    /// A storage or decode error, or an outbox entry whose op is missing.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, ReplicaError> {
        self.outbox_from(0, limit)
    }

    /// Up to `limit` outbox ops from sequence `from` on, oldest first.
    ///
    /// # Errors
    /// As [`Self::outbox`].
    pub fn outbox_from(&self, from: u64, limit: usize) -> Result<Vec<OutboxEntry>, ReplicaError> {
        let tree = &self.inner.tree;
        let mut out = Vec::new();
        let start = keys::outbox(from).to_vec();
        let end = vec![keys::OUTBOX + 1];
        for entry in tree.range(start..end).take(limit) {
            let (key, value) = entry?;
            let seq = key
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| malformed("an outbox key of the wrong length"))?;
            let record = RecordId::from_bytes(id_bytes(&value, 0)?);
            let id = OpId(uuid::Uuid::from_bytes(id_bytes(&value, 16)?));
            let bytes = tree
                .get(keys::op(&record, &id))?
                .ok_or_else(|| malformed("the outbox names an op that is not stored"))?;
            out.push(OutboxEntry {
                seq,
                op: codec::decode(&bytes)?,
            });
        }
        Ok(out)
    }

    /// Removes pushed ops from the outbox once the server acknowledged them (they
    /// stay in the replica). Sequences no longer queued are ignored.
    ///
    /// # Errors
    /// A storage error; the outbox is unchanged then and the next push resends.
    pub fn drain_outbox(&self, seqs: &[u64]) -> Result<usize, ReplicaError> {
        let _writer = self.writer();
        let tree = &self.inner.tree;
        let mut batch = sled::Batch::default();
        let mut drained = 0u64;
        for seq in seqs.iter().collect::<BTreeSet<_>>() {
            if tree.contains_key(keys::outbox(*seq))? {
                batch.remove(&keys::outbox(*seq)[..]);
                drained += 1;
            }
        }
        if drained == 0 {
            return Ok(0);
        }
        let left = (self.outbox_len() as u64).saturating_sub(drained);
        batch.insert(keys::meta(keys::OUTBOX_LEN), &left.to_be_bytes()[..]);
        tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(usize::try_from(drained).unwrap_or(usize::MAX))
    }

    /// The known spaces with the user's role in each, by name.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn known_spaces(&self) -> Result<Vec<KnownSpace>, ReplicaError> {
        let mut out = Vec::new();
        for space in self.spaces()? {
            let role = match self.inner.tree.get(keys::role(&space.id))? {
                Some(bytes) => codec::decode(&bytes)?,
                None => Role::Owner,
            };
            out.push(KnownSpace { space, role });
        }
        out.sort_by(|a, b| {
            (!a.space.personal, a.space.name.to_lowercase(), a.space.id).cmp(&(
                !b.space.personal,
                b.space.name.to_lowercase(),
                b.space.id,
            ))
        });
        Ok(out)
    }

    /// Makes the known spaces what the server lists: new ones and new names or roles
    /// are stored; a space it no longer lists was taken from the user and is dropped
    /// with its records, ops, history, outbox entries and cursor. The personal space
    /// is never dropped (what is in it is the user's own). One atomic, durable batch.
    ///
    /// # Errors
    /// A storage or decode error; nothing is changed then.
    pub fn sync_spaces(&self, listed: &[(Space, Role)]) -> Result<SpaceChanges, ReplicaError> {
        let _writer = self.writer();
        let tree = &self.inner.tree;
        let personal = self.identity().personal_space;
        let known = self.spaces()?;
        let mut batch = sled::Batch::default();
        let mut changes = SpaceChanges::default();
        let mut any = false;
        for (space, role) in listed {
            let old = known.iter().find(|k| k.id == space.id);
            if old != Some(space) {
                batch.insert(&keys::space(&space.id)[..], codec::encode(space)?);
                any = true;
            }
            if old.is_none() {
                changes.added.push(space.clone());
            }
            let role_bytes = codec::encode(role)?;
            if tree.get(keys::role(&space.id))?.as_deref() != Some(&role_bytes[..]) {
                batch.insert(&keys::role(&space.id)[..], role_bytes);
                any = true;
            }
        }
        let gone: Vec<Space> = known
            .into_iter()
            .filter(|k| k.id != personal && !listed.iter().any(|(s, _)| s.id == k.id))
            .collect();
        if !gone.is_empty() {
            let ids: HashSet<SpaceId> = gone.iter().map(|s| s.id).collect();
            changes.removed = self.remove_spaces(&ids, &mut batch)?;
            changes.dropped = gone;
            any = true;
        }
        if any {
            tree.apply_batch(batch)?;
            self.make_durable()?;
        }
        Ok(changes)
    }

    /// Adds to `batch` the removal of everything of the spaces `ids`; returns the
    /// records removed.
    fn remove_spaces(
        &self,
        ids: &HashSet<SpaceId>,
        batch: &mut sled::Batch,
    ) -> Result<Vec<RecordId>, ReplicaError> {
        let tree = &self.inner.tree;
        let mut removed = Vec::new();
        for state in self.records() {
            let state = state?;
            if !ids.contains(&state.space) {
                continue;
            }
            for entry in tree.scan_prefix(keys::history_prefix(&state.id)) {
                batch.remove(entry?.0);
            }
            batch.remove(&keys::record(&state.id)[..]);
            removed.push(state.id);
        }
        // Unsent changes of a lost space are kept, set aside, never silently dropped.
        let mut unqueued = 0u64;
        let names: std::collections::HashMap<SpaceId, String> =
            self.spaces()?.into_iter().map(|s| (s.id, s.name)).collect();
        for entry in self.outbox(usize::MAX)? {
            if ids.contains(&entry.op.space) {
                batch.remove(&keys::outbox(entry.seq)[..]);
                unqueued += 1;
                let name = names.get(&entry.op.space).map_or("", String::as_str);
                self.set_aside_into(
                    batch,
                    std::slice::from_ref(&entry.op),
                    SetAsideKind::Undelivered,
                    &format!("not delivered: you are no longer a member of {name}"),
                )?;
            }
        }
        if unqueued > 0 {
            let left = (self.outbox_len() as u64).saturating_sub(unqueued);
            batch.insert(keys::meta(keys::OUTBOX_LEN), &left.to_be_bytes()[..]);
        }
        for id in ids {
            batch.remove(&keys::space(id)[..]);
            batch.remove(&keys::role(id)[..]);
            batch.remove(&keys::cursor(id)[..]);
        }
        Ok(removed)
    }

    /// The server epoch the cursors belong to (`None` before the first sync).
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn epoch(&self) -> Result<Option<Epoch>, ReplicaError> {
        self.inner
            .tree
            .get(keys::meta(keys::EPOCH))?
            .map(|bytes| codec::decode(&bytes))
            .transpose()
            .map_err(Into::into)
    }

    /// Whether this replica has pulled from a server before: it has an epoch, or
    /// cursors from before epochs existed.
    ///
    /// # Errors
    /// A storage or decode error.
    pub fn has_pulled(&self) -> Result<bool, ReplicaError> {
        Ok(self.epoch()?.is_some() || self.cursors()?.iter().any(|(_, seq)| *seq > 0))
    }

    /// Takes `epoch` as the server's, for a replica that has never pulled.
    ///
    /// # Errors
    /// A storage error.
    pub fn set_epoch(&self, epoch: Epoch) -> Result<(), ReplicaError> {
        let _writer = self.writer();
        self.inner
            .tree
            .insert(keys::meta(keys::EPOCH), codec::encode(&epoch)?)?;
        self.make_durable()
    }

    /// The server's history was replaced (a restore, an import): starts over with
    /// `epoch` in one durable batch. Every cursor goes back to 0, so every space is
    /// pulled again from the start (ops already here are skipped), and every op this
    /// user wrote that is not queued is queued again, oldest first, so the next push
    /// gives the server back whatever it lost (pushes are idempotent: what it still
    /// has counts as a duplicate). Ops of spaces that are now read-only are queued
    /// too, and held like any other. Returns how many ops were queued again.
    ///
    /// # Errors
    /// A storage or decode error; nothing is changed then.
    pub fn start_over(&self, epoch: Epoch) -> Result<usize, ReplicaError> {
        let _writer = self.writer();
        let user = self.identity().user;
        let mut batch = sled::Batch::default();
        // The outbox is written anew in clock order (causal order: a record's create
        // before its changes), the ops still queued among those queued again.
        let mut queue: BTreeMap<(cairn_common::Hlc, OpId), RecordId> = BTreeMap::new();
        for entry in self.outbox(usize::MAX)? {
            batch.remove(&keys::outbox(entry.seq)[..]);
            queue.insert((entry.op.at, entry.op.id), entry.op.record);
        }
        let queued = queue.len();
        for op in self.ops() {
            let op = op?;
            if op.author == user {
                queue.insert((op.at, op.id), op.record);
            }
        }
        let mut next = self.outbox_next_seq()?;
        for ((_, id), record) in &queue {
            batch.insert(&keys::outbox(next)[..], &keys::outbox_value(record, id)[..]);
            next += 1;
        }
        for entry in self.inner.tree.scan_prefix([keys::CURSOR]) {
            batch.remove(entry?.0);
        }
        batch.insert(keys::meta("outbox_next"), &next.to_be_bytes()[..]);
        batch.insert(
            keys::meta(keys::OUTBOX_LEN),
            &(queue.len() as u64).to_be_bytes()[..],
        );
        batch.insert(keys::meta(keys::EPOCH), codec::encode(&epoch)?);
        batch.insert(keys::meta(keys::RECOVERING), &[1u8][..]);
        self.inner.tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(queue.len() - queued)
    }

    /// Whether a start-over's full pull has not completed yet (it pulls every space
    /// from the start again until it has).
    ///
    /// # Errors
    /// A storage error.
    pub fn is_recovering(&self) -> Result<bool, ReplicaError> {
        Ok(self.inner.tree.contains_key(keys::meta(keys::RECOVERING))?)
    }

    /// Sets every pull cursor back to 0.
    ///
    /// # Errors
    /// A storage error.
    pub fn reset_cursors(&self) -> Result<(), ReplicaError> {
        let _writer = self.writer();
        let mut batch = sled::Batch::default();
        for entry in self.inner.tree.scan_prefix([keys::CURSOR]) {
            batch.remove(entry?.0);
        }
        self.inner.tree.apply_batch(batch)?;
        self.make_durable()
    }

    /// Ends a start-over once every space was pulled from the start: ops of other
    /// authors that the server did not send (`confirmed` holds every op it sent)
    /// are gone from the server for good (their authors' replicas no longer hold
    /// them, or they would have pushed them again), so they leave this replica too,
    /// and it holds what the server holds plus its own ops. Returns the records
    /// rebuilt and those removed.
    ///
    /// # Errors
    /// A storage or decode error; nothing is changed then.
    pub fn finish_recovery(
        &self,
        confirmed: &HashSet<OpId>,
    ) -> Result<crate::replica::Undelivered, ReplicaError> {
        let user = self.identity().user;
        let mut stale = Vec::new();
        for op in self.ops() {
            let op = op?;
            if op.author != user && !confirmed.contains(&op.id) {
                stale.push(op);
            }
        }
        let _writer = self.writer();
        let mut batch = sled::Batch::default();
        let (changed, removed) = self.unapply_into(&mut batch, &stale)?;
        batch.remove(keys::meta(keys::RECOVERING));
        self.inner.tree.apply_batch(batch)?;
        self.make_durable()?;
        Ok(crate::replica::Undelivered {
            ops: stale.len(),
            changed,
            removed,
        })
    }

    /// Whether the identity is already a server account's (set by the first login).
    ///
    /// # Errors
    /// A storage error.
    pub fn is_adopted(&self) -> Result<bool, ReplicaError> {
        Ok(self.inner.tree.contains_key(keys::meta(keys::ADOPTED))?)
    }

    /// The first login: the account `user` and its `personal_space` replace the local
    /// user and personal space. Records made before keep their ids and join the
    /// account's personal space: since none of their ops was pushed, the outbox ops
    /// are rewritten (same op ids) to the account as author and, where they were in the
    /// local personal space, to the account's personal space; their records are
    /// rebuilt. All in one atomic, durable batch, with the new identity.
    ///
    /// Logging in again as the same account changes nothing.
    ///
    /// # Errors
    /// [`ReplicaError::OtherAccount`] if this replica already belongs to another
    /// account, or a storage or decode error; nothing is changed then.
    pub fn adopt_identity(
        &self,
        user: UserId,
        personal_space: SpaceId,
    ) -> Result<AdoptSummary, ReplicaError> {
        let clock = self.writer();
        let tree = &self.inner.tree;
        let old = self.identity();
        if old.user == user && old.personal_space == personal_space {
            return Ok(AdoptSummary::default());
        }
        if self.is_adopted()? {
            return Err(ReplicaError::OtherAccount {
                dir: self.inner.dir.clone(),
            });
        }
        let mut batch = sled::Batch::default();
        let mut records = BTreeSet::new();
        let mut rewritten: BTreeMap<OpId, Op> = BTreeMap::new();
        for entry in self.outbox(usize::MAX)? {
            let mut op = entry.op;
            if op.author != old.user && op.space != old.personal_space {
                continue;
            }
            if op.author == old.user {
                op.author = user;
            }
            if op.space == old.personal_space {
                op.space = personal_space;
            }
            batch.insert(&keys::op(&op.record, &op.id)[..], codec::encode(&op)?);
            records.insert(op.record);
            rewritten.insert(op.id, op);
        }
        // Rebuild each record from all its ops, as they will be once the batch is in.
        let mut states = BTreeMap::new();
        for record in &records {
            let history: Vec<Op> = self
                .history(record)?
                .into_iter()
                .map(|op| rewritten.get(&op.id).cloned().unwrap_or(op))
                .collect();
            states.extend(materialize(&history));
        }
        write_states(&mut batch, &states)?;
        let identity = Identity {
            node: old.node,
            user,
            personal_space,
        };
        let old_space = self
            .spaces()?
            .into_iter()
            .find(|s| s.id == old.personal_space);
        batch.remove(&keys::space(&old.personal_space)[..]);
        batch.remove(&keys::role(&old.personal_space)[..]);
        let space = Space {
            id: personal_space,
            name: old_space.map_or_else(|| "Personal".to_owned(), |s| s.name),
            personal: true,
        };
        batch.insert(&keys::space(&personal_space)[..], codec::encode(&space)?);
        batch.insert(
            &keys::role(&personal_space)[..],
            codec::encode(&Role::Owner)?,
        );
        batch.insert(keys::meta("identity"), codec::encode(&identity)?);
        batch.insert(keys::meta(keys::ADOPTED), &[1u8][..]);
        tree.apply_batch(batch)?;
        self.make_durable()?;
        *self
            .inner
            .identity
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = identity;
        drop(clock);
        Ok(AdoptSummary {
            ops: rewritten.len(),
            records: records.into_iter().collect(),
        })
    }
}

/// Why a remote op may not be merged into `state` (its record as this replica has
/// it), or `None` if it may.
fn refusal(state: &RecordState, op: &Op) -> Option<String> {
    if op.space != state.space {
        return Some(format!(
            "it names record {} in another space than the one the record lives in; a \
             co-member's client is broken or forging changes",
            op.record
        ));
    }
    if !op.at.is_bounded() {
        return Some("its clock is out of bounds (a broken or forged client)".into());
    }
    match (&op.change, state.kind) {
        (Change::Create { kind }, Some(existing)) if *kind != existing => Some(format!(
            "it would make a {existing} a {kind}; a record keeps its kind"
        )),
        (Change::Create { .. }, _) => None,
        (_, None) => Some("it came before its record was created".into()),
        (_, Some(kind)) => op
            .validate(kind)
            .err()
            .map(|e| format!("its value breaks the rules of the field: {e}")),
    }
}

/// What [`Replica::apply_remote`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteApplied {
    /// Ops stored now.
    pub new_ops: usize,
    /// Records whose state changed.
    pub records: Vec<RecordId>,
    /// Ops set aside, and why.
    pub quarantined: Vec<(Op, String)>,
}

/// Adds the encoded states to `batch`, refusing one too large to read back.
pub(super) fn write_states(
    batch: &mut sled::Batch,
    states: &BTreeMap<RecordId, RecordState>,
) -> Result<(), ReplicaError> {
    for (id, state) in states {
        let bytes = codec::encode(state)?;
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(ReplicaError::RecordTooLarge {
                record: *id,
                bytes: bytes.len(),
            });
        }
        batch.insert(&keys::record(id)[..], bytes);
    }
    Ok(())
}
