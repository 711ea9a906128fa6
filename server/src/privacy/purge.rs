//! `cairn-server purge`: the store's purge ([`Store::purge`]), then the kept
//! backups, then one audit entry that names no one.
//!
//! Backups: a backup taken before the purge may hold the purged data. Every kept
//! backup is deleted (the output lists them) and the admin is told to take a new
//! one; rewriting them record by record without the purged data is not done yet.

use std::path::Path;

use crate::admin::AdminResponse;
use crate::admin::protocol::BackupsPurged;
use crate::backup::{Backups, format};
use crate::store::{AuditEvent, AuditKind, PurgeTarget, Store, StoreError};

/// Purges `target` from the store and its kept `backups`, and logs the purge in the
/// audit log.
///
/// # Errors
/// The store's refusal or failure; a backup that cannot be deleted is an error
/// too (the store is purged by then, the message names the backup).
pub fn purge(
    store: &Store,
    backups: &Backups,
    target: &PurgeTarget,
) -> Result<AdminResponse, StoreError> {
    // No backup may be taken (or restored from) halfway through.
    let _backups = backups.lock();
    let (backup_dir, _) = backups.config().map_err(|e| {
        StoreError::InvalidInput(format!(
            "cannot tell where the backups are ({e}); nothing was purged"
        ))
    })?;
    let outcome = store.purge(target)?;
    let backups = purge_backups(backup_dir)?;
    let what = match target {
        PurgeTarget::User(_) => format!(
            "user (now pseudonym {})",
            outcome.pseudonym.map(|p| p.to_string()).unwrap_or_default()
        ),
        PurgeTarget::Space(id) => format!("space {id}"),
        PurgeTarget::All => "all data".to_owned(),
    };
    store.audit(AuditEvent::new(AuditKind::Purge).detail(format!(
        "{what}; {} entries removed; backups deleted: {}",
        outcome.removed_entries,
        backups.deleted.len()
    )));
    Ok(AdminResponse::Purged { outcome, backups })
}

/// Deletes every kept backup under `dir` (the directories holding a backup's data
/// file or manifest, finished or half-written); returns their names. Anything else
/// in `dir` is left alone. A missing dir has none.
///
/// # Errors
/// [`StoreError::Io`] naming the backup that could not be deleted.
pub fn purge_backups(dir: &Path) -> Result<BackupsPurged, StoreError> {
    let io = |source| StoreError::Io {
        dir: dir.to_owned(),
        source,
    };
    let mut out = BackupsPurged::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let is_backup = path.is_dir()
            && (path.join(format::DATA_FILE).exists() || path.join(format::MANIFEST_FILE).exists());
        if !is_backup {
            continue;
        }
        std::fs::remove_dir_all(&path).map_err(|source| StoreError::Io {
            dir: path.clone(),
            source,
        })?;
        out.deleted
            .push(entry.file_name().to_string_lossy().into_owned());
    }
    out.deleted.sort();
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(out)
}
