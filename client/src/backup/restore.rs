//! Putting a local backup back: checked first, the current store moved aside
//! (kept until the next restore), the backup's store copied in its place and
//! opened to prove it works; if it does not, the current store comes back.

use cairn_common::progress::{Report, Unit};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Found, verify};
use crate::files::FileCache;
use crate::replica::snapshot::store_dir;
use crate::replica::{Replica, ReplicaError};

/// Where the store before the last restore is kept.
const BEFORE_RESTORE: &str = "replica.before-restore";

/// What a restore will do, to show before it runs.
#[derive(Clone, Debug)]
pub struct RestorePlan {
    pub backup: Found,
    /// Records on this device now.
    pub records_now: usize,
    /// Changes made here that the server has not taken yet (lost by the restore).
    pub unsent_now: usize,
    /// Where the current store will be kept.
    pub kept_at: PathBuf,
}

impl RestorePlan {
    /// Reads what the device holds now (the replica must not be open elsewhere).
    ///
    /// # Errors
    /// The replica is open in another `cairn` (close it first), or does not open.
    pub fn new(data_dir: &Path, backup: Found) -> anyhow::Result<Self> {
        let (records_now, unsent_now) = match Replica::open(data_dir) {
            Ok(replica) => (replica.records().count(), replica.outbox_len()),
            Err(ReplicaError::Locked { .. }) => bail!(CLOSE_FIRST),
            // A damaged store is what a restore is for.
            Err(_) => (0, 0),
        };
        Ok(Self {
            backup,
            records_now,
            unsent_now,
            kept_at: data_dir.join(BEFORE_RESTORE),
        })
    }
}

const CLOSE_FIRST: &str = "another cairn (the TUI?) has the local data open; close it, then run `cairn backup restore` again";

/// Restores `plan`'s backup into `data_dir`, reporting the steps "checking the
/// backup" (its entries), "restoring: store files" and "restoring: file contents"
/// (the backup's files) to `progress`.
///
/// # Errors
/// A damaged backup, the replica open elsewhere, or an I/O error; the store is as
/// it was then.
pub fn restore(data_dir: &Path, plan: &RestorePlan, progress: &dyn Report) -> anyhow::Result<()> {
    verify(&plan.backup, progress)?;
    let opening = match Replica::lock(data_dir) {
        Ok(opening) => opening,
        Err(ReplicaError::Locked { .. }) => bail!(CLOSE_FIRST),
        Err(e) => return Err(e.into()),
    };
    let live = store_dir(data_dir);
    let aside = &plan.kept_at;
    if aside.exists() {
        std::fs::remove_dir_all(aside)
            .with_context(|| format!("cannot remove the older {}", aside.display()))?;
    }
    if live.exists() {
        std::fs::rename(&live, aside)
            .with_context(|| format!("cannot move {} aside", live.display()))?;
    }
    let put_back = |e: anyhow::Error| {
        let _ = std::fs::remove_dir_all(&live);
        if aside.exists() {
            let _ = std::fs::rename(aside, &live);
        }
        e
    };
    progress.step("restoring: store files", None, Unit::Items);
    copy_dir(&store_dir(&plan.backup.dir), &live, progress).map_err(put_back)?;
    progress.step(
        "restoring: file contents",
        Some(plan.backup.info.files as u64),
        Unit::Items,
    );
    copy_files(
        &plan.backup.dir.join("files"),
        &FileCache::new(data_dir),
        progress,
    )
    .map_err(put_back)?;
    match opening.open() {
        Ok(replica) => {
            drop(replica);
            Ok(())
        }
        Err(e) => Err(put_back(anyhow::Error::new(e).context(
            "the restored data does not open; the data from before is back in place",
        ))),
    }
}

/// Copies the directory tree `from` to `to`, durably.
fn copy_dir(from: &Path, to: &Path, progress: &dyn Report) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target, progress)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
            std::fs::File::open(&target)?.sync_all()?;
            progress.add(1);
        }
    }
    std::fs::File::open(to)?.sync_all()?;
    Ok(())
}

/// Puts the backup's file contents into the cache where it lacks them.
fn copy_files(from: &Path, cache: &FileCache, progress: &dyn Report) -> anyhow::Result<()> {
    let Ok(spaces) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for space in spaces.flatten() {
        let Ok(id) = space.file_name().to_string_lossy().parse() else {
            continue;
        };
        for file in std::fs::read_dir(space.path())?.flatten() {
            let sha = file.file_name().to_string_lossy().into_owned();
            progress.add(1);
            if cache.has(id, &sha) {
                continue;
            }
            let to = cache.path(id, &sha);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            cairn_common::export::copy_checked(
                std::fs::File::open(file.path())?,
                &file.path(),
                &to,
                &sha,
            )?;
        }
    }
    Ok(())
}
