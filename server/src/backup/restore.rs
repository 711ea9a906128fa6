//! Restoring a backup: only into a data dir no server is using (its lock), by
//! building a fresh store from the backup next to the old one and swapping it in
//! with renames; the old store is kept aside until the swap succeeded.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use cairn_common::op::Op;
use cairn_common::progress::{Report, Unit};

use super::create::CONTENT_PREFIX;
use super::format::Manifest;
use super::verify::{self, Checked};
use super::{BackupError, create::sync_dir};
use crate::datadir::DataDir;
use crate::store::{SledStore, TreeEntries};

/// Name of the store being built, inside the data dir.
const BUILDING: &str = "db.restoring";
/// Name of the old store while the new one is swapped in.
const OLD: &str = "db.before-restore";
/// Ops loaded per sled batch.
const OPS_PER_BATCH: usize = 10_000;

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// The store now in place.
    pub db: PathBuf,
    /// There was a store before, now replaced.
    pub replaced: bool,
}

/// Restores backup `id` of `backups` into `data_dir`, which must not be in use,
/// reporting the steps "restoring: checksums" (bytes), "restoring: records" and
/// "restoring: file contents" to `progress`.
///
/// # Errors
/// [`BackupError::Refused`] if a server uses the data dir, [`BackupError::NotFound`]
/// or [`BackupError::Damaged`] for the backup, or an I/O or store error; then the
/// data dir's store is as it was.
pub fn restore(
    data_dir: &DataDir,
    backups: &Path,
    id: &str,
    progress: &dyn Report,
) -> Result<Restored, BackupError> {
    let root = data_dir.root();
    fs::create_dir_all(root).map_err(BackupError::io("create the data dir", root))?;
    let Some(_lock) = data_dir
        .try_lock()
        .map_err(|e| BackupError::Refused(e.to_string()))?
    else {
        return Err(BackupError::Refused(format!(
            "{} is in use by a running cairn-server; a restore replaces its data, so stop \
             the server first, then run the restore again",
            root.display()
        )));
    };
    let source = super::backup_path(backups, id)?;
    let manifest = verify::read_manifest(&source, id)?;
    verify::check_sums(&source, &manifest, "restoring: checksums", progress)?;

    let building = root.join(BUILDING);
    remove_if_there(&building)?;
    if let Err(e) = build(&building, &source, &manifest, progress) {
        if let Err(cleanup) = fs::remove_dir_all(&building) {
            tracing::warn!("cannot remove {}: {cleanup}", building.display());
        }
        return Err(e);
    }

    // The files' content next to where it lives, so the swap is a rename.
    let files_dir = crate::settings::Settings::load(root, std::env::vars())
        .map(|s| s.files.dir_in(root))
        .unwrap_or_else(|_| crate::files::FilesSettings::default().dir_in(root));
    let files_building = files_dir.with_extension("restoring");
    remove_if_there(&files_building)?;
    if let Err(e) = build_content(&files_building, &source, &manifest, progress) {
        let _ = fs::remove_dir_all(&building);
        let _ = fs::remove_dir_all(&files_building);
        return Err(e);
    }

    let db = data_dir.db();
    let old = root.join(OLD);
    let replaced = db.exists();
    if replaced {
        // An `OLD` next to a live store is what an earlier restore failed to
        // delete after its swap had succeeded.
        remove_if_there(&old)?;
        fs::rename(&db, &old).map_err(BackupError::io("move the old store aside to", &old))?;
    }
    if let Err(e) = fs::rename(&building, &db) {
        if replaced && let Err(back) = fs::rename(&old, &db) {
            tracing::error!(
                "cannot move the old store back from {} to {}: {back}; do it by hand",
                old.display(),
                db.display()
            );
        }
        return Err(BackupError::io("move the restored store to", &db)(e));
    }
    sync_dir(root).map_err(BackupError::io("sync", root))?;
    swap_content(&files_building, &files_dir)?;
    if replaced && let Err(e) = fs::remove_dir_all(&old) {
        tracing::warn!(
            "the restore succeeded, but the old store {} could not be removed ({e}); \
             remove it by hand",
            old.display()
        );
    }
    // Audit: a restore is recorded in the audit log of the restored store here.
    Ok(Restored {
        manifest,
        db,
        replaced,
    })
}

/// The backup's file content in `dir`, laid out as the live store keeps it.
fn build_content(
    dir: &Path,
    source: &Path,
    manifest: &Manifest,
    progress: &dyn Report,
) -> Result<(), BackupError> {
    fs::create_dir_all(dir).map_err(BackupError::io("create", dir))?;
    let contents = manifest
        .files
        .iter()
        .filter_map(|f| Some((f, f.name.strip_prefix(CONTENT_PREFIX)?)));
    progress.step(
        "restoring: file contents",
        Some(contents.clone().count() as u64),
        Unit::Items,
    );
    for (file, rest) in contents {
        // `<space uuid>-<sha256>`: the sha256 is the last 64 characters.
        let (space, sha) = rest.split_at(rest.len().saturating_sub(65));
        let sha = sha.trim_start_matches('-');
        let (Ok(space), true) = (
            space.parse::<uuid::Uuid>(),
            cairn_common::api::files::is_sha256(sha),
        ) else {
            return Err(BackupError::damaged(
                &manifest.id,
                format_args!("{} names no space", file.name),
            ));
        };
        let space_dir = dir.join(space.to_string());
        fs::create_dir_all(&space_dir).map_err(BackupError::io("create", &space_dir))?;
        let to = space_dir.join(sha);
        fs::copy(source.join(&file.name), &to).map_err(BackupError::io("write", &to))?;
        fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(BackupError::io("sync", &to))?;
        sync_dir(&space_dir).map_err(BackupError::io("sync", &space_dir))?;
        progress.add(1);
    }
    Ok(())
}

/// Puts the restored content in place of the live content.
fn swap_content(building: &Path, live: &Path) -> Result<(), BackupError> {
    let old = live.with_extension("before-restore");
    remove_if_there(&old)?;
    if live.exists() {
        fs::rename(live, &old).map_err(BackupError::io("move the old files aside to", &old))?;
    }
    fs::rename(building, live).map_err(BackupError::io("move the restored files to", live))?;
    if let Some(parent) = live.parent() {
        sync_dir(parent).map_err(BackupError::io("sync", parent))?;
    }
    remove_if_there(&old)
}

fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(BackupError::io("remove the leftover", path)(e))
        }
        _ => Ok(()),
    }
}

/// A fresh store in `dir` holding exactly what the backup holds. A backup is of a
/// sled store and restores into one (a data dir), so this talks to sled directly.
fn build(
    dir: &Path,
    source: &Path,
    manifest: &Manifest,
    progress: &dyn Report,
) -> Result<(), BackupError> {
    let store = SledStore::open(dir)?;
    let mut trees: BTreeMap<String, TreeEntries> = BTreeMap::new();
    let mut ops: Vec<(u64, Op, Vec<u8>)> = Vec::with_capacity(OPS_PER_BATCH);
    verify::walk(source, manifest, "restoring: records", progress, |record| {
        match record {
            Checked::Tree { name, key, value } => trees.entry(name).or_default().push((key, value)),
            Checked::Op { seq, op, bytes } => {
                ops.push((seq, op, bytes));
                if ops.len() >= OPS_PER_BATCH {
                    store.load_ops(&ops)?;
                    ops.clear();
                }
            }
        }
        Ok(())
    })?;
    store.load_ops(&ops)?;
    for (name, entries) in trees {
        store.load_tree(&name, entries)?;
    }
    for space in &manifest.spaces {
        store.raise_seq(space.space, space.seq)?;
    }
    store.rebuild_record_index()?;
    // The restored store starts its own audit log (backups do not hold the old one).
    store.audit(
        crate::store::AuditEvent::new(crate::store::AuditKind::Restore)
            .detail(format!("from backup {}", manifest.id)),
    );
    store.flush()?;
    drop(store);
    sync_dir(dir).map_err(BackupError::io("sync", dir))?;
    Ok(())
}
