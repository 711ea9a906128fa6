//! Local backups of the replica, for a client used without a server (and as a
//! second net with one): a snapshot a day, each a consistent copy of the store
//! ([`Replica::snapshot_into`]) with the content of its files, checked by reading
//! it back before it takes its name, kept for 7 days and 4 weeks by default
//! (`[backup]` in `config.toml`). `cairn backup list|now|restore`.
//!
//! A backup is a directory `<dir>/<id>/`: `replica/` (the store), `files/<space>/
//! <sha256>` (the content of its files, hard links where the file system allows)
//! and `backup.json` (what it holds, with the store's sum).

mod restore;
mod settings;

use cairn_common::progress::{Quiet, Report, Unit};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use cairn_common::model::SpaceId;

use crate::files::{FileCache, FileInfo};
use crate::replica::Replica;
use crate::replica::snapshot::{StoreSum, sum_of};

pub use restore::{RestorePlan, restore};
pub use settings::BackupSettings;

/// The description of a backup, `backup.json`.
const MANIFEST: &str = "backup.json";
/// Written in `format`, so that another directory is not taken for a backup.
const FORMAT: &str = "cairn-local-backup";

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    pub format: String,
    /// Its name: the UTC time it was made, `2026-12-01T120842.512Z`.
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// Records in it (live, in the trash, or incomplete).
    pub records: usize,
    /// Store entries and their SHA-256 (see [`StoreSum`]).
    pub entries: u64,
    pub sha256: String,
    /// File contents copied with it.
    pub files: usize,
    /// Bytes on disk.
    pub bytes: u64,
    /// The spaces it holds: when this device leaves one (or is removed), the
    /// backups holding it are deleted, as the space's data is on the device.
    pub spaces: Vec<SpaceId>,
    /// Whether the device was logged in to a server: such a backup is deleted when
    /// the server's history starts over (a purge or a restore there).
    pub logged_in: bool,
}

/// A backup found in the backup directory.
#[derive(Clone, Debug)]
pub struct Found {
    pub info: BackupInfo,
    pub dir: PathBuf,
}

/// Makes a backup of `replica` now in `settings.dir`, checks it, then deletes the
/// backups the retention no longer keeps. Reports the steps "backing up: store
/// entries", "backing up: records and files" and "backing up: reading back" (with
/// the total of entries) to `progress`.
///
/// # Errors
/// A replica, storage or I/O error, or a copy that does not read back the same;
/// nothing half-made is left under a backup's name.
pub fn create(
    replica: &Replica,
    settings: &BackupSettings,
    progress: &dyn Report,
) -> anyhow::Result<Found> {
    let now = Utc::now();
    let id = now.format("%Y-%m-%dT%H%M%S%.3fZ").to_string();
    std::fs::create_dir_all(&settings.dir).with_context(|| {
        format!(
            "cannot create the backup directory {}",
            settings.dir.display()
        )
    })?;
    cairn_common::storage::restrict_to_owner(&settings.dir)
        .with_context(|| format!("cannot restrict {} to you", settings.dir.display()))?;
    let final_dir = settings.dir.join(&id);
    if final_dir.exists() {
        bail!("a backup named {id} exists already; wait a second and try again");
    }
    let partial = settings.dir.join(format!(".{id}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let made = make(replica, &partial, &id, now, progress);
    let info = match made {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    remember(replica.dir(), &settings.dir)?;
    std::fs::rename(&partial, &final_dir)
        .with_context(|| format!("cannot name the backup {}", final_dir.display()))?;
    std::fs::File::open(&settings.dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", settings.dir.display()))?;
    prune(settings)?;
    Ok(Found {
        info,
        dir: final_dir,
    })
}

fn make(
    replica: &Replica,
    dir: &Path,
    id: &str,
    now: DateTime<Utc>,
    progress: &dyn Report,
) -> anyhow::Result<BackupInfo> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    progress.step("backing up: store entries", None, Unit::Items);
    let sum = replica.snapshot_into(dir, progress)?;
    progress.step("backing up: records and files", None, Unit::Items);
    let mut records = 0;
    let mut files = 0;
    let cache = FileCache::new(replica.dir());
    for state in replica.records() {
        let state = state?;
        records += 1;
        progress.add(1);
        let Some(file) = FileInfo::of(&state) else {
            continue;
        };
        if !cache.has(file.space, &file.sha256) {
            continue;
        }
        let to = dir
            .join("files")
            .join(file.space.to_string())
            .join(&file.sha256);
        if to.exists() {
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let from = cache.path(file.space, &file.sha256);
        // Cached content never changes (it is named by its hash), so a hard link
        // is as good as a copy and costs no space.
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .with_context(|| format!("cannot copy {} into the backup", from.display()))?;
        }
        files += 1;
    }
    // Read back before it counts: the store as written must be the store as read.
    progress.step("backing up: reading back", Some(sum.entries), Unit::Items);
    let again = sum_of(dir, progress).context("the backup does not read back")?;
    if again != sum {
        bail!(
            "the backup read back differently ({} entries, expected {}); the disk may be \
             failing; nothing was kept",
            again.entries,
            sum.entries
        );
    }
    let info = BackupInfo {
        format: FORMAT.to_owned(),
        id: id.to_owned(),
        created_at: now,
        records,
        entries: sum.entries,
        sha256: sum.sha256,
        files,
        bytes: size_of(dir),
        spaces: replica.spaces()?.into_iter().map(|s| s.id).collect(),
        logged_in: crate::sync::Session::load(replica.dir())
            .ok()
            .flatten()
            .is_some(),
    };
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&info)?)?;
    Ok(info)
}

/// Bytes under `dir`.
fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    let mut todo = vec![dir.to_owned()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => todo.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// The backups in `settings.dir`, newest first. Directories that are not backups
/// (or half-made ones) are left out.
///
/// # Errors
/// The directory cannot be read.
pub fn list(settings: &BackupSettings) -> anyhow::Result<Vec<Found>> {
    let entries = match std::fs::read_dir(&settings.dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", settings.dir.display()));
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(text) = std::fs::read(dir.join(MANIFEST)) else {
            continue;
        };
        if let Ok(info) = serde_json::from_slice::<BackupInfo>(&text)
            && info.format == FORMAT
        {
            found.push(Found { info, dir });
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.info.created_at));
    Ok(found)
}

/// Deletes the backups the retention does not keep: every one of the last 24
/// hours (a `backup now` before something risky stays), the newest of each of the
/// last `keep_daily` days and of each of the last `keep_weekly` weeks (ISO weeks),
/// and always the newest one.
///
/// # Errors
/// A backup that cannot be deleted.
pub fn prune(settings: &BackupSettings) -> anyhow::Result<usize> {
    let found = list(settings)?;
    let keep = kept(
        &found.iter().map(|f| f.info.created_at).collect::<Vec<_>>(),
        settings,
        Utc::now(),
    );
    let mut removed = 0;
    for (backup, keep) in found.iter().zip(keep) {
        if !keep {
            std::fs::remove_dir_all(&backup.dir).with_context(|| {
                format!("cannot delete the old backup {}", backup.dir.display())
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Which of `times` (newest first) the retention keeps.
fn kept(times: &[DateTime<Utc>], settings: &BackupSettings, now: DateTime<Utc>) -> Vec<bool> {
    let mut keep = vec![false; times.len()];
    let mut days = std::collections::HashSet::new();
    let mut weeks = std::collections::HashSet::new();
    for (i, at) in times.iter().enumerate() {
        let age_days = (now - *at).num_days();
        let day = at.date_naive();
        let week = (day.iso_week().year(), day.iso_week().week());
        if age_days < 1 {
            keep[i] = true;
        }
        if age_days < i64::from(settings.keep_daily) && days.insert(day) {
            keep[i] = true;
        }
        if age_days < i64::from(settings.keep_weekly) * 7 && weeks.insert(week) {
            keep[i] = true;
        }
    }
    if let Some(first) = keep.first_mut() {
        *first = true;
    }
    keep
}

/// Makes today's backup if the newest one is a day old or more (or there is
/// none); what it made. Quiet: for every start of the TUI and every command.
///
/// # Errors
/// As [`create`].
pub fn daily(replica: &Replica, settings: &BackupSettings) -> anyhow::Result<Option<Found>> {
    // Logged in, the server's daily backups keep this device's data, and its
    // deletions (purges, removed members) must not be outlived by copies here.
    let logged_in = crate::sync::Session::load(replica.dir())
        .ok()
        .flatten()
        .is_some();
    if !settings.enabled || logged_in {
        return Ok(None);
    }
    let newest = list(settings)?.into_iter().next();
    let due = newest.is_none_or(|n| Utc::now() - n.info.created_at >= chrono::Duration::days(1));
    if !due {
        return Ok(None);
    }
    create(replica, settings, &Quiet).map(Some)
}

/// Where this device has put backups, kept in the data directory, so that a
/// sync can delete what a space's removal or a server's purge must delete there too.
const REGISTRY: &str = "backup-dirs.json";

fn registered(data_dir: &Path) -> Vec<PathBuf> {
    std::fs::read(data_dir.join(REGISTRY))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn remember(data_dir: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut dirs = registered(data_dir);
    if !dirs.iter().any(|d| d == dir) {
        dirs.push(dir.to_owned());
        std::fs::write(data_dir.join(REGISTRY), serde_json::to_vec_pretty(&dirs)?)
            .context("cannot record where backups are")?;
    }
    Ok(())
}

/// Deletes this device's backups that hold a space the replica no longer has (it
/// left, or was removed, or the space was purged), and with `started_over` every
/// backup made while logged in (the server's history went back: a purge there must
/// not survive here). How many were deleted.
///
/// # Errors
/// A replica error, or a backup that cannot be deleted.
pub fn forget_gone(replica: &Replica, started_over: bool) -> anyhow::Result<usize> {
    let spaces: std::collections::HashSet<SpaceId> =
        replica.spaces()?.into_iter().map(|s| s.id).collect();
    let mut removed = 0;
    for dir in registered(replica.dir()) {
        let settings = BackupSettings {
            dir,
            ..BackupSettings::defaults(replica.dir())
        };
        for found in list(&settings)? {
            let gone = found.info.spaces.iter().any(|s| !spaces.contains(s));
            if gone || (started_over && found.info.logged_in) {
                std::fs::remove_dir_all(&found.dir)
                    .with_context(|| format!("cannot delete the backup {}", found.dir.display()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// The daily backup while the TUI runs: checked at start and every hour.
pub struct DailyBackups {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DailyBackups {
    /// Starts checking; a failure is tried again at the next check.
    #[must_use]
    pub fn spawn(replica: Replica, settings: BackupSettings) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let _ = daily(&replica, &settings);
                for _ in 0..3600 {
                    if stopped.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops checking, waiting for a backup under way to finish.
    pub fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The store's sum of a backup, read afresh, compared with what it recorded.
///
/// # Errors
/// A backup that does not read, or reads differently from when it was made.
pub fn verify(found: &Found, progress: &dyn Report) -> anyhow::Result<StoreSum> {
    progress.step("checking the backup", Some(found.info.entries), Unit::Items);
    let sum = sum_of(&found.dir, progress)
        .with_context(|| format!("the backup {} does not read", found.info.id))?;
    if sum.entries != found.info.entries || sum.sha256 != found.info.sha256 {
        bail!(
            "the backup {} is damaged (it reads differently from when it was made); choose \
             another (`cairn backup list`)",
            found.info.id
        );
    }
    Ok(sum)
}

#[cfg(test)]
mod tests;
