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

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cairn_common::codec;
use cairn_common::model::SpaceId;
use cairn_common::op::Op;

use super::{Store, StoreError, oplog};
use crate::settings::BackupSettings;

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
];

/// Key/value pairs of one tree.
pub type TreeEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// A consistent cut of the store.
#[derive(Debug)]
pub struct Cut {
    /// Every space that has ops, with its last seq at the cut, by space id.
    pub spaces: Vec<(SpaceId, u64)>,
    /// [`BACKED_UP_TREES`] at the cut, in that order.
    pub trees: Vec<(&'static str, TreeEntries)>,
    /// How long pushes were held back.
    pub push_pause: Duration,
    /// How long account changes were held back.
    pub account_pause: Duration,
}

/// The outcome of the last backups, for `/healthz` and `backup list`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupHealth {
    /// Id and time (ms) of the last backup that was written and verified.
    pub last_success: Option<(String, u64)>,
    /// Time (ms), full reason and a short reason that names no path, of the last
    /// failed attempt, if no backup succeeded after it.
    pub failing: Option<BackupFailure>,
}

/// A failed backup attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFailure {
    pub at_ms: u64,
    /// The whole message, for the log and the admin.
    pub reason: String,
    /// A few words without paths or data, fit for the unauthenticated `/healthz`.
    pub summary: String,
}

#[derive(Default)]
pub(super) struct BackupState {
    /// One backup (or rewrite of backups) at a time.
    running: Mutex<()>,
    health: Mutex<BackupHealth>,
    /// Tests simulate a full disk: a backup's data file fails after this many bytes.
    byte_limit: Mutex<Option<u64>>,
    /// The backup directory and settings of the running server, so that admin
    /// commands through its control socket use the same as its scheduler.
    config: Mutex<Option<(PathBuf, BackupSettings)>>,
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Both guarded values stay whole if a holder panics: `()` and a plain record.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store {
    /// Held by a backup from its cut until it is in place, and by anything that
    /// rewrites the op logs or kept backups (purge), so neither sees the other
    /// half-done.
    pub fn backup_lock(&self) -> MutexGuard<'_, ()> {
        relock(&self.inner.backup.running)
    }

    /// The outcome of the last backups.
    #[must_use]
    pub fn backup_health(&self) -> BackupHealth {
        relock(&self.inner.backup.health).clone()
    }

    /// Records a backup's outcome: a success clears an earlier failure.
    pub fn record_backup(&self, outcome: Result<(String, u64), BackupFailure>) {
        let mut health = relock(&self.inner.backup.health);
        match outcome {
            Ok(done) => {
                health.last_success = Some(done);
                health.failing = None;
            }
            Err(failure) => health.failing = Some(failure),
        }
    }

    /// Registers the backup directory and settings the running server uses.
    pub fn set_backup_config(&self, dir: PathBuf, settings: BackupSettings) {
        *relock(&self.inner.backup.config) = Some((dir, settings));
    }

    /// What [`Store::set_backup_config`] registered.
    #[must_use]
    pub fn backup_config(&self) -> Option<(PathBuf, BackupSettings)> {
        relock(&self.inner.backup.config).clone()
    }

    /// The simulated disk size for backups, if a test set one.
    pub(crate) fn backup_byte_limit(&self) -> Option<u64> {
        *relock(&self.inner.backup.byte_limit)
    }

    /// Makes the data file of every following backup fail like a full disk after
    /// `bytes` (`None`: no limit). For tests of failing backups.
    #[cfg(any(test, feature = "testing"))]
    pub fn simulate_backup_disk_full(&self, bytes: Option<u64>) {
        *relock(&self.inner.backup.byte_limit) = bytes;
    }

    /// Takes a consistent cut (see the module comment).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn backup_cut(&self) -> Result<Cut, StoreError> {
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
        })
    }

    /// Calls `each(seq, encoded op)` for the ops of `space` with seq ≤ `upto`, in
    /// seq order. Ops up to a cut never change, so this may run while pushes go on.
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
    /// every op is in ([`Store::rebuild_record_index`]).
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
