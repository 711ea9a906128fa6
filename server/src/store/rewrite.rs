//! Rewriting the store: copy every live entry into a fresh sled database, make it
//! durable, and swap it in for the old one, whose files are then deleted.
//!
//! Why: sled keeps removed values in its files (measured: still there after 400 MiB
//! of further writes and a reopen), so "deleted" is only true of the bytes on disk
//! after a rewrite. The copy can leave entries out or change them on the way
//! ([`Rewriter`]), so a purge is one atomic step: the old database stays untouched
//! until the new one is complete and fsynced.
//!
//! While the server runs, the copy holds the store's write lock (and the account and
//! append locks): requests wait for the copy, none is lost or sees half of it.

use std::path::{Path, PathBuf};

use cairn_common::progress::{Quiet, Report, Unit};

use super::{SledStore, StoreError, Trees, open_sled};

/// What the copy does with one entry.
pub(crate) enum Keep {
    Same,
    Drop,
    Replace(Vec<u8>),
}

/// Decides, entry by entry, what the new database holds.
pub(crate) trait Rewriter {
    /// The fate of `key` → `value` of tree `tree` (sled's tree name).
    ///
    /// # Errors
    /// Damaged data that cannot be judged: the rewrite is abandoned, nothing changes.
    fn entry(&mut self, tree: &[u8], key: &[u8], value: &[u8]) -> Result<Keep, StoreError>;

    /// Entries written into the new database after the copy.
    fn extra(&mut self) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
        Vec::new()
    }
}

/// Copies every entry as it is.
pub(crate) struct KeepAll;

impl Rewriter for KeepAll {
    fn entry(&mut self, _: &[u8], _: &[u8], _: &[u8]) -> Result<Keep, StoreError> {
        Ok(Keep::Same)
    }
}

/// Entries per sled batch of the copy.
const BATCH: usize = 10_000;

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

/// fsyncs every file under `dir` and the directories themselves.
fn fsync_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            fsync_tree(&path)?;
        } else {
            std::fs::File::open(&path)?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

impl SledStore {
    /// Rewrites the store as it is into a fresh database and swaps it in: the
    /// bytes of everything removed so far leave the data dir. Returns how many
    /// entries were copied.
    ///
    /// # Errors
    /// As [`SledStore::rewrite_planned`].
    pub fn compact(&self) -> Result<u64, StoreError> {
        Ok(self
            .rewrite_planned(|_| Ok(Some(KeepAll)), &Quiet)?
            .map_or(0, |(_, copied)| copied))
    }

    /// Copies every live entry through the rewriter that `plan` makes into a fresh
    /// database and swaps it in; the old database's files are deleted. It waits for
    /// a backup reading its [`Cut`](super::Cut). `plan` runs once no account
    /// change, append or audit entry can run any more (reads go on until the copy
    /// starts); it may read the store but not change it, and `None` from it means
    /// there is nothing to do: nothing is rewritten.
    ///
    /// # Errors
    /// A storage or I/O error, damaged data, or `plan`'s error. Before the swap
    /// nothing changed; a failure after it (renaming, reopening) says what to do.
    pub(crate) fn rewrite_planned<R: Rewriter>(
        &self,
        plan: impl FnOnce(&SledStore) -> Result<Option<R>, StoreError>,
        progress: &dyn Report,
    ) -> Result<Option<(R, u64)>, StoreError> {
        let dir = self.inner.dir.clone();
        let io = |source| StoreError::Io {
            dir: dir.clone(),
            source,
        };
        let fresh_dir = sibling(&dir, ".rewrite");
        let old_dir = sibling(&dir, ".old");
        let _cuts = self.cuts_lock();
        let _accounts = self.accounts_lock();
        let mut appends = self
            .inner
            .appends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _audit = self
            .inner
            .audit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(mut rewriter) = plan(self)? else {
            return Ok(None);
        };
        let mut slot = self.inner.trees.write();
        for leftover in [&fresh_dir, &old_dir] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(io)?;
            }
        }
        let Some(current) = slot.as_ref() else {
            return Err(StoreError::Internal(
                "the store is closed after a failed rewrite; restart the server".into(),
            ));
        };
        let copied = match copy_into(&current.db, &fresh_dir, &mut rewriter, progress) {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&fresh_dir);
                return Err(e);
            }
        };
        fsync_tree(&fresh_dir).map_err(io)?;

        // The swap: close the old database, put the new one in its place, reopen.
        *slot = None;
        std::fs::rename(&dir, &old_dir).map_err(io)?;
        if let Err(e) = std::fs::rename(&fresh_dir, &dir) {
            let _ = std::fs::rename(&old_dir, &dir);
            *slot = Some(Trees::open(open_sled(&dir)?)?);
            return Err(io(e));
        }
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        *slot = Some(Trees::open(open_sled(&dir)?)?);
        drop(slot);
        std::fs::remove_dir_all(&old_dir).map_err(io)?;
        appends.clear();
        self.rewritten();
        Ok(Some((rewriter, copied)))
    }
}

/// Copies `from` through `rewriter` into a new database at `to`, flushed, counting
/// the entries read in `progress` (a count without a total: sled counts a tree's
/// entries only by reading them all).
fn copy_into(
    from: &sled::Db,
    to: &Path,
    rewriter: &mut dyn Rewriter,
    progress: &dyn Report,
) -> Result<u64, StoreError> {
    progress.step("rewriting the store: entries", None, Unit::Items);
    let fresh = open_sled(to)?;
    let mut copied = 0u64;
    for name in from.tree_names() {
        let source = from.open_tree(&name)?;
        let target = fresh.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for entry in source.iter() {
            let (key, value) = entry?;
            progress.add(1);
            let value = match rewriter.entry(&name, &key, &value)? {
                Keep::Same => value.to_vec(),
                Keep::Drop => continue,
                Keep::Replace(v) => v,
            };
            batch.insert(&key[..], value);
            in_batch += 1;
            copied += 1;
            if in_batch == BATCH {
                target.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        target.apply_batch(batch)?;
    }
    for (tree, key, value) in rewriter.extra() {
        fresh.open_tree(tree)?.insert(key, value)?;
    }
    fresh.flush()?;
    Ok(copied)
}
