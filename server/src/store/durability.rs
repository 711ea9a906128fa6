//! Making writes durable: sled's flush, then fsync of its files, batched.
//!
//! sled 0.34's `flush` writes with `sync_file_range` and never fsyncs (sled#1452), so
//! after a power loss an "acknowledged" write could be gone. After each flush we fsync
//! sled's data file and every blob file not synced yet (values over about 128 KiB
//! live in `blobs/`, one file each).
//!
//! Group commit: every write bumps `written`. [`SledStore::commit_durable`] waits for one
//! leader at a time; the leader notes `written`, flushes and fsyncs, and marks that
//! generation durable. Whoever waited behind it and whose write is covered returns
//! without an fsync of its own, so many concurrent pushes cost one fsync.

use std::collections::HashSet;
use std::ffi::OsString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{SledStore, StoreError};

#[derive(Default)]
pub(super) struct Durability {
    /// Generation of the newest write (bumped after the write is applied).
    written: AtomicU64,
    /// Every write up to this generation is durable.
    durable: AtomicU64,
    /// One flush at a time; a tokio mutex because waiters hold their place across
    /// the await of the leader's flush.
    leader: tokio::sync::Mutex<()>,
    /// Blob files already fsynced (sled never rewrites a blob in place).
    synced_blobs: Mutex<HashSet<OsString>>,
    /// How many flush+fsync rounds ran (for tests and benchmarks).
    syncs: AtomicU64,
}

impl SledStore {
    /// Notes that a write was applied; returns its generation.
    pub(super) fn wrote(&self) -> u64 {
        self.inner.durability.written.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Notes that the database was rewritten and fsynced whole: every write so far
    /// is durable, and the blob files are new.
    pub(super) fn rewritten(&self) {
        let d = &self.inner.durability;
        d.synced_blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        d.durable
            .fetch_max(d.written.load(Ordering::Acquire), Ordering::AcqRel);
    }

    /// Makes every write so far durable (flush, then fsync), blocking the thread.
    ///
    /// # Errors
    /// A storage or I/O error; the writes may then not be durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        let upto = self.inner.durability.written.load(Ordering::Acquire);
        self.flush_and_fsync()?;
        self.inner
            .durability
            .durable
            .fetch_max(upto, Ordering::AcqRel);
        Ok(())
    }

    /// Returns once every write made before the call is durable, sharing one
    /// flush+fsync with every caller that waits at the same time.
    ///
    /// # Errors
    /// A storage or I/O error of the flush this call depended on.
    pub async fn commit_durable(&self) -> Result<(), StoreError> {
        let d = &self.inner.durability;
        let target = d.written.load(Ordering::Acquire);
        if d.durable.load(Ordering::Acquire) >= target {
            return Ok(());
        }
        let _leader = d.leader.lock().await;
        if d.durable.load(Ordering::Acquire) >= target {
            // The leader before us flushed our write too.
            return Ok(());
        }
        let upto = d.written.load(Ordering::Acquire);
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.flush_and_fsync())
            .await
            .map_err(|e| StoreError::Internal(format!("the flush task failed: {e}")))??;
        d.durable.fetch_max(upto, Ordering::AcqRel);
        Ok(())
    }

    /// How many flush+fsync rounds ran since the store was opened.
    #[must_use]
    pub fn sync_count(&self) -> u64 {
        self.inner.durability.syncs.load(Ordering::Acquire)
    }

    fn flush_and_fsync(&self) -> Result<(), StoreError> {
        self.db().db.flush()?;
        let dir = &self.inner.dir;
        let mut synced = self
            .inner
            .durability
            .synced_blobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cairn_common::storage::fsync_sled_files(dir, &mut synced).map_err(|source| {
            StoreError::Io {
                dir: dir.clone(),
                source,
            }
        })?;
        self.inner.durability.syncs.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};

    /// A write followed by commit_durable runs one flush+fsync; with nothing new, none.
    #[tokio::test]
    async fn commit_durable_syncs_only_when_needed() {
        let (_dir, store) = temp_store();
        let before = store.sync_count();
        store.commit_durable().await.expect("nothing to do");
        assert_eq!(store.sync_count(), before);
        store.wrote();
        store.commit_durable().await.expect("commit");
        assert_eq!(store.sync_count(), before + 1);
        store.commit_durable().await.expect("again");
        assert_eq!(store.sync_count(), before + 1);
    }

    /// Many concurrent commits after many writes share flushes: never more flushes
    /// than callers, every caller returns durable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commits_share_flushes() {
        let (_dir, store) = temp_store();
        let before = store.sync_count();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.wrote();
                store.commit_durable().await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("commit");
        }
        let d = &store.inner.durability;
        let ord = std::sync::atomic::Ordering::Acquire;
        assert!(d.durable.load(ord) >= d.written.load(ord));
        let syncs = store.sync_count() - before;
        assert!((1..=16).contains(&syncs), "{syncs} syncs");
    }

    /// The blocking flush marks every earlier write durable and reaches the data file.
    #[test]
    fn flush_marks_durable() {
        let (_dir, store) = temp_store();
        user(&store, "ann");
        let d = &store.inner.durability;
        let ord = std::sync::atomic::Ordering::Acquire;
        assert_eq!(d.durable.load(ord), d.written.load(ord));
        assert!(store.dir().join("db").is_file());
    }
}
