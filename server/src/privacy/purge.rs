//! `cairn-server purge`: the store's purge ([`Store::purge`]), then the kept
//! backups, then one audit entry that names no one.
//!
//! Backups: a backup taken before the purge may hold the purged data, and until the
//! backup format can be rewritten entry by entry, every kept backup is deleted
//! (the output lists them) and the admin is told to take a new one.

use std::path::Path;

use crate::admin::AdminResponse;
use crate::admin::protocol::BackupsPurged;
use crate::store::{AuditEvent, AuditKind, PurgeTarget, Store, StoreError};

/// Purges `target` from the store and the backups next to it (`DIR/backups` for a
/// store in `DIR/db`), and logs the purge in the audit log.
///
/// # Errors
/// The store's refusal or failure; a backup that cannot be deleted is an error
/// too (the store is purged by then, the message names the backup).
pub fn purge(store: &Store, target: &PurgeTarget) -> Result<AdminResponse, StoreError> {
    let outcome = store.purge(target)?;
    let backups = match store.dir().parent() {
        Some(root) => purge_backups(&root.join("backups"))?,
        None => BackupsPurged::default(),
    };
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

/// Deletes every kept backup under `dir` (files and directories); returns their
/// names. A missing dir has none.
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
        let removed = if entry.file_type().map_err(io)?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|source| StoreError::Io {
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
