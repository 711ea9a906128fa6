//! A consistent copy of the replica's store, for local backups: every entry
//! copied into a fresh sled database (so values removed here do not come along)
//! while no write can run, and summed, so that a copy can be checked later.

use cairn_common::progress::Report;
use std::path::{Path, PathBuf};

use cairn_common::storage;
use sha2::{Digest, Sha256};

use super::{Replica, ReplicaError, SLED_DIR, open_sled};

/// What a store holds, to compare a copy with its original.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSum {
    /// Entries (key and value pairs).
    pub entries: u64,
    /// SHA-256 over every key and value in key order, each length-prefixed.
    pub sha256: String,
}

#[derive(Default)]
struct Summing {
    entries: u64,
    hasher: Sha256,
}

impl Summing {
    fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries += 1;
        for part in [key, value] {
            self.hasher.update((part.len() as u64).to_be_bytes());
            self.hasher.update(part);
        }
    }

    fn finish(self) -> StoreSum {
        StoreSum {
            entries: self.entries,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// The directory of the store inside a replica directory (or a backup).
#[must_use]
pub fn store_dir(dir: &Path) -> PathBuf {
    dir.join(SLED_DIR)
}

impl Replica {
    /// Copies the store into a new store under `dir` (as [`store_dir`]), durably,
    /// under the writer lock so that no write is half in it; its sum. Each entry
    /// copied is one more done for `progress`.
    ///
    /// # Errors
    /// A storage or I/O error; `dir` may then hold a partial copy to delete.
    pub fn snapshot_into(
        &self,
        dir: &Path,
        progress: &dyn Report,
    ) -> Result<StoreSum, ReplicaError> {
        let target = store_dir(dir);
        let copy = open_sled(&target)?;
        let tree = copy.open_tree("replica")?;
        let mut sum = Summing::default();
        {
            let _writer = self.writer();
            let mut batch = sled::Batch::default();
            let mut in_batch = 0;
            for entry in self.inner.tree.iter() {
                let (key, value) = entry?;
                sum.add(&key, &value);
                batch.insert(key, value);
                progress.add(1);
                in_batch += 1;
                if in_batch == 10_000 {
                    tree.apply_batch(std::mem::take(&mut batch))?;
                    in_batch = 0;
                }
            }
            tree.apply_batch(batch)?;
        }
        copy.flush()?;
        storage::fsync_sled_files(&target, &mut Default::default()).map_err(|source| {
            ReplicaError::Io {
                dir: target.clone(),
                source,
            }
        })?;
        Ok(sum.finish())
    }
}

/// The sum of the store under `dir` (a backup's), read afresh; each entry read is
/// one more done for `progress`.
///
/// # Errors
/// A storage error: the copy is damaged.
pub fn sum_of(dir: &Path, progress: &dyn Report) -> Result<StoreSum, ReplicaError> {
    let db = open_sled(&store_dir(dir))?;
    let tree = db.open_tree("replica")?;
    let mut sum = Summing::default();
    for entry in tree.iter() {
        let (key, value) = entry?;
        sum.add(&key, &value);
        progress.add(1);
    }
    Ok(sum.finish())
}
