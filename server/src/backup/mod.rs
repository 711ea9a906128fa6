//! Backups: the server backs itself up while serving, on a schedule, with
//! retention; `cairn-server backup now|list|verify|restore` for the admin.
//!
//! A backup is a directory `BACKUPS/ID/` (`ID` is its UTC time, e.g.
//! `20261122T010000Z`) with a data file and a manifest of checksums. It is a
//! consistent cut (see [`crate::store::Cut`]) taken in a write pause of a few
//! milliseconds, written under a temporary name, fsynced, read back and verified,
//! then renamed into place. A failure is logged with its reason, shown by
//! `/healthz` as `degraded` and retried; it never touches the live data or the
//! older backups.
//!
//! # Layout
//! - [`settings`]: the `[backup]` section of the config.
//! - `state`: [`Backups`], what the backups of a data dir share while a process
//!   runs: where they go, how the last went, one at a time.
//! - [`format`]: the data file and the manifest.
//! - [`create`]: taking a backup.
//! - [`verify`]: reading one back (checksums, every record decoded and checked).
//! - [`restore`]: a fresh store from a backup, swapped in for the old one.
//! - [`retention`]: which backups to keep.
//! - [`schedule`]: when to back up; the scheduler task of a running server.

pub mod create;
mod error;
pub mod forget;
pub mod format;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod settings;
mod state;
#[cfg(test)]
mod tests;
pub mod verify;

use std::path::{Path, PathBuf};

pub use create::Created;
pub use error::BackupError;
use format::Manifest;
pub use state::{BackupFailure, BackupHealth, Backups};

use crate::store::{AuditEvent, AuditKind, Store};

/// Name prefix of a backup being written.
const TEMP_PREFIX: &str = ".tmp-";
/// Name prefix of a backup being removed by retention.
const DELETING_PREFIX: &str = ".deleting-";

/// The path of backup `id` in `dir`, refusing ids that are not plain names.
///
/// # Errors
/// [`BackupError::NotFound`] if there is no such backup.
pub fn backup_path(dir: &Path, id: &str) -> Result<PathBuf, BackupError> {
    let plain = !id.is_empty() && !id.starts_with('.') && !id.contains(['/', '\\']) && id != "..";
    let path = dir.join(id);
    if plain && path.is_dir() {
        Ok(path)
    } else {
        Err(BackupError::NotFound {
            id: id.to_owned(),
            dir: dir.to_owned(),
        })
    }
}

/// A backup's id and its manifest, or why that cannot be read.
pub type Listed = (String, Result<Manifest, BackupError>);

/// The backups in `dir`, oldest first, each with its manifest or why it cannot be
/// read. A missing directory holds none.
///
/// # Errors
/// If the directory exists but cannot be listed.
pub fn list_dir(dir: &Path) -> Result<Vec<Listed>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BackupError::io("list", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(BackupError::io("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        let manifest = verify::read_manifest(&entry.path(), &name);
        out.push((name, manifest));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Takes a backup of `store` and applies retention; records the outcome in
/// `backups` (for `/healthz`) and logs it. What the scheduler and `backup now` run.
///
/// # Errors
/// The backup's failure (already logged and recorded).
pub async fn run_backup(
    store: &Store,
    backups: &Backups,
    now_ms: u64,
    progress: &dyn cairn_common::progress::Report,
) -> Result<Created, BackupError> {
    let (dir, settings) = backups.config()?;
    // Audit: this is the one place every backup (scheduled or `backup now`) passes;
    // the audit log records the outcome here.
    match create::create(store, backups, now_ms, progress) {
        Ok(created) => {
            tracing::info!(
                "backup {} written and verified: {} ops in {} spaces, {} users, {} bytes, \
                 in {:.1?} (pushes paused {:.1?})",
                created.manifest.id,
                created.manifest.ops,
                created.manifest.spaces.len(),
                created.manifest.users(),
                created.manifest.files.iter().map(|f| f.bytes).sum::<u64>(),
                created.took,
                created.push_pause,
            );
            backups.record(Ok((created.manifest.id.clone(), now_ms)));
            store
                .audit_at(
                    AuditEvent::new(AuditKind::Backup)
                        .detail(format!("{} written and verified", created.manifest.id)),
                    now_ms,
                )
                .await;
            match retention::prune(dir, settings) {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!("retention removed backups {}", removed.join(", "));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("retention: {e}"),
            }
            Ok(created)
        }
        Err(e) => {
            tracing::error!(
                "backup failed: {e}; retrying in {} minutes",
                settings.retry_minutes
            );
            store
                .audit_at(
                    AuditEvent::new(AuditKind::Backup).detail(format!("failed: {}", e.summary())),
                    now_ms,
                )
                .await;
            backups.record(Err(BackupFailure {
                at_ms: now_ms,
                reason: e.to_string(),
                summary: e.summary(),
            }));
            Err(e)
        }
    }
}
