//! What backups need from the store: a consistent cut taken in a short write pause,
//! the ops up to it, and loading a backup into a fresh store.
//!
//! The cut: the op logs are append-only and every op has a seq in its space, so
//! "every space's ops up to its last seq at one instant" is a consistent copy that
//! can be read after the pause while pushes go on. The instant is taken holding the
//! accounts lock (so no account, space or membership changes) and the appends lock
//! (so no push is half-written) just long enough to read the seq counters; the
//! account trees are then copied still under the accounts lock, which pushes and
//! pulls do not take.
//!
//! A [`Cut`] holds off rewrites of the store ([`SledStore::rewrite_planned`]: compaction,
//! retention, purge) until it is dropped, so that the ops up to it can be read
//! across many statements while the database stays the same one.
//!
//! Where backups go, how the last ones went and that one runs at a time is not the
//! store's business: see [`crate::backup::Backups`].

use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use cairn_common::codec;
use cairn_common::model::SpaceId;
use cairn_common::op::Op;

use super::{SledStore, StoreError, oplog};

/// Trees copied verbatim into a backup (all written under the accounts lock).
/// Sessions and login throttling are left out on purpose: a restore must not bring
/// back tokens that were revoked since; everyone logs in again.
pub const BACKED_UP_TREES: &[&str] = &[
    "users",
    "emails",
    "spaces",
    "members",
    "user_spaces",
    // The audit log and its name map, so a restore keeps the administrative history
    // (and its hash chain) of the moment of the backup.
    "audit",
    "audit_subjects",
    // Consent is evidence, and invitations are promises made by mail.
    "consents",
    "consent_current",
    "invitations",
    "invitation_codes",
    // What each user chose to be mailed.
    "notifications",
];

/// Key/value pairs of one tree.
pub type TreeEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// A consistent cut of the store. No rewrite of the store runs until it is dropped:
/// read the ops up to it ([`SledStore::each_op_upto`]) before.
#[derive(Debug)]
pub struct Cut<'a> {
    /// Every space that has ops, with its last seq at the cut, by space id.
    pub spaces: Vec<(SpaceId, u64)>,
    /// [`BACKED_UP_TREES`] at the cut, in that order.
    pub trees: Vec<(&'static str, TreeEntries)>,
    /// How long pushes were held back.
    pub push_pause: Duration,
    /// How long account changes were held back.
    pub account_pause: Duration,
    /// Keeps rewrites out while the ops up to the cut are read.
    _reading: MutexGuard<'a, ()>,
}

impl SledStore {
    /// Takes a consistent cut (see the module comment).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn backup_cut(&self) -> Result<Cut<'_>, StoreError> {
        // Before the accounts lock, as a rewrite takes them.
        let reading = self.cuts_lock();
        let _accounts = self.accounts_lock();
        let paused = Instant::now();
        let spaces = {
            let _appends = self
                .inner
                .appends
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut spaces = Vec::new();
            for entry in self.db().oplog.scan_prefix([oplog::SEQS]) {
                let (key, value) = entry?;
                let space = super::id_at(&key, 1).ok_or_else(|| {
                    codec::CodecError::Malformed("a damaged seq counter key".into())
                })?;
                spaces.push((SpaceId::from_bytes(space), oplog::seq_of(&value, 0)?));
            }
            spaces
        };
        let push_pause = paused.elapsed();
        // The audit lock is a leaf lock (appending takes no other), so holding it
        // after the accounts lock cannot deadlock; it keeps entry and head together.
        let _audit = self
            .inner
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut trees = Vec::with_capacity(BACKED_UP_TREES.len());
        for name in BACKED_UP_TREES {
            let tree = self.db().db.open_tree(name)?;
            let mut entries = Vec::new();
            for entry in &tree {
                let (key, value) = entry?;
                entries.push((key.to_vec(), value.to_vec()));
            }
            trees.push((*name, entries));
        }
        Ok(Cut {
            spaces,
            trees,
            push_pause,
            account_pause: paused.elapsed(),
            _reading: reading,
        })
    }

    /// Calls `each(seq, encoded op)` for the ops of `space` with seq ≤ `upto`, in
    /// seq order. Ops up to a cut never change while the [`Cut`] is held, so this
    /// may run while pushes go on.
    ///
    /// # Errors
    /// A storage error, damaged data, or the error of `each`.
    pub fn each_op_upto<E: From<StoreError>>(
        &self,
        space: SpaceId,
        upto: u64,
        mut each: impl FnMut(u64, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let range = oplog::op_key(space, 1)..=oplog::op_key(space, upto);
        for entry in self.db().oplog.range(range) {
            let (key, value) = entry.map_err(StoreError::from)?;
            each(oplog::seq_of(&key, 17)?, &value)?;
        }
        Ok(())
    }

    /// Loads entries of a backed-up tree into this (fresh) store, in one batch.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a tree a backup may not hold, or a storage
    /// error.
    pub fn load_tree(&self, name: &str, entries: TreeEntries) -> Result<(), StoreError> {
        if !BACKED_UP_TREES.contains(&name) {
            return Err(StoreError::InvalidInput(format!(
                "the backup holds a tree {name:?} this server does not know; restore it \
                 with the cairn-server version that wrote it"
            )));
        }
        let mut batch = sled::Batch::default();
        for (key, value) in entries {
            batch.insert(key, value);
        }
        self.db().db.open_tree(name)?.apply_batch(batch)?;
        self.wrote();
        Ok(())
    }

    /// Loads ops with the seqs they had into this (fresh) store, in one batch, with
    /// the op-id index and the seq counters, so that the restored server continues
    /// every space's seqs where the backup ended. The record index is rebuilt once
    /// every op is in ([`SledStore::rebuild_record_index`]).
    ///
    /// # Errors
    /// A storage error.
    pub fn load_ops(&self, ops: &[(u64, Op, Vec<u8>)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut last: std::collections::HashMap<SpaceId, u64> = Default::default();
        for (seq, op, bytes) in ops {
            batch.insert(oplog::op_key(op.space, *seq), bytes.as_slice());
            let mut at = op.space.as_bytes().to_vec();
            at.extend_from_slice(&seq.to_be_bytes());
            batch.insert(oplog::op_id_key(op.id), at);
            let top = last.entry(op.space).or_default();
            *top = (*top).max(*seq);
        }
        for (space, seq) in last {
            if seq > self.last_seq(space)? {
                batch.insert(oplog::seq_key(space), &seq.to_be_bytes()[..]);
            }
        }
        self.db().oplog.apply_batch(batch)?;
        self.wrote();
        Ok(())
    }

    /// Sets a space's seq counter if it is behind `seq`: a backup's cut may end
    /// after ops that were removed since (purge), and seqs must never be given twice.
    ///
    /// # Errors
    /// A storage error.
    pub fn raise_seq(&self, space: SpaceId, seq: u64) -> Result<(), StoreError> {
        if seq > self.last_seq(space)? {
            self.db()
                .oplog
                .insert(oplog::seq_key(space), &seq.to_be_bytes()[..])?;
            self.wrote();
        }
        Ok(())
    }
}
