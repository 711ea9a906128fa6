//! Taking a backup: cut, write under a temporary name, fsync, read back, rename.
//!
//! Nothing here writes outside the new backup's temporary directory until the
//! final rename, so a failure (disk full, unwritable directory, a crash) leaves the
//! live data and the older backups as they were; the temporary directory is
//! removed, or by the next backup if the process died.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_common::progress::{Report, Unit};
use chrono::{DateTime, Utc};

use super::format::{
    DATA_FILE, DataWriter, FORMAT_VERSION, FileSum, Hashing, MANIFEST_FILE, Manifest, SpaceCut,
    TreeCount,
};
use super::{BackupError, Backups, TEMP_PREFIX, verify};
use crate::files::blobs::Blobs;
use crate::store::Store;

/// A backup that was written, verified and put in place.
#[derive(Clone, Debug)]
pub struct Created {
    pub manifest: Manifest,
    pub path: PathBuf,
    /// How long pushes waited for the cut.
    pub push_pause: Duration,
    /// The whole backup, cut to rename.
    pub took: Duration,
}

/// Makes `dir` (and its parents) with owner-only access: backups are personnel data.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// fsyncs a directory, so that the names created or renamed in it are durable.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The id of a backup made at `at_ms`: its UTC time, unique in `dir`.
fn new_id(dir: &Path, at_ms: u64) -> String {
    let at = i64::try_from(at_ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_default();
    let base = at.format("%Y%m%dT%H%M%SZ").to_string();
    let mut id = base.clone();
    let mut n = 1;
    while dir.join(&id).exists() || dir.join(format!("{TEMP_PREFIX}{id}")).exists() {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

/// Copies one file's content into the backup as `content-<space>-<sha256>`.
fn copy_content(
    files: &Blobs,
    space: cairn_common::model::SpaceId,
    sha256: &str,
    temp: &Path,
) -> Result<FileSum, BackupError> {
    let (mut source, _) = files.open(space, sha256).map_err(|e| {
        BackupError::io("read a file's content in", files.root())(io::Error::other(e))
    })?;
    let name = content_name(space, sha256);
    let path = temp.join(&name);
    let out = File::create(&path).map_err(BackupError::io("write", &path))?;
    let mut hashing = Hashing::new(BufWriter::with_capacity(1 << 20, out));
    io::copy(&mut source, &mut hashing).map_err(BackupError::io("write", &path))?;
    let (writer, bytes, sha) = hashing.finish();
    let out = writer
        .into_inner()
        .map_err(|e| BackupError::io("write", &path)(e.into_error()))?;
    out.sync_all().map_err(BackupError::io("write", &path))?;
    Ok(FileSum {
        name,
        bytes,
        sha256: sha,
    })
}

/// The name of a file's content in a backup (backups are flat).
#[must_use]
pub fn content_name(space: cairn_common::model::SpaceId, sha256: &str) -> String {
    format!("{CONTENT_PREFIX}{space}-{sha256}")
}

/// What the names of file content in a backup start with.
pub const CONTENT_PREFIX: &str = "content-";

/// Removes what an interrupted backup or prune left (names starting with `.`).
fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') && entry.file_type()?.is_dir() {
            tracing::info!(
                "removing {} left by an interrupted backup",
                entry.path().display()
            );
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// A writer that fails like a full disk after `left` bytes (for tests).
struct Limited<W> {
    inner: W,
    left: Option<u64>,
}

impl<W: Write> Write for Limited<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(left) = &mut self.left {
            if *left < buf.len() as u64 {
                return Err(io::Error::from_raw_os_error(28));
            }
            *left -= buf.len() as u64;
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Takes a backup of `store` into the directory of `backups` as of `now_ms` (the
/// manifest's time and the id), verifies it, and renames it into place, reporting
/// the steps "backing up: records", "backing up: file contents" and those of
/// [`verify::verify_dir`] to `progress`.
///
/// # Errors
/// [`BackupError`] saying what failed; nothing but the temporary directory was
/// written, and that is removed.
pub fn create(
    store: &Store,
    backups: &Backups,
    now_ms: u64,
    progress: &dyn Report,
) -> Result<Created, BackupError> {
    let (dir, _) = backups.config()?;
    let _one_at_a_time = backups.lock();
    let started = Instant::now();
    make_private_dir(dir).map_err(BackupError::io("create the backup directory", dir))?;
    remove_leftovers(dir).map_err(BackupError::io("clean up the backup directory", dir))?;
    let id = new_id(dir, now_ms);
    let temp = dir.join(format!("{TEMP_PREFIX}{id}"));
    make_private_dir(&temp).map_err(BackupError::io("create", &temp))?;
    let written = write_and_verify(
        store,
        backups.files().as_ref(),
        backups.byte_limit(),
        &temp,
        &id,
        now_ms,
        progress,
    );
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(e) => {
            if let Err(cleanup) = fs::remove_dir_all(&temp) {
                tracing::warn!("cannot remove {}: {cleanup}", temp.display());
            }
            return Err(e);
        }
    };
    let (manifest, push_pause) = manifest;
    let path = dir.join(&id);
    fs::rename(&temp, &path).map_err(BackupError::io("rename the new backup to", &path))?;
    sync_dir(dir).map_err(BackupError::io("sync", dir))?;
    Ok(Created {
        manifest,
        path,
        push_pause,
        took: started.elapsed(),
    })
}

fn write_and_verify(
    store: &Store,
    files: Option<&Blobs>,
    byte_limit: Option<u64>,
    temp: &Path,
    id: &str,
    now_ms: u64,
    progress: &dyn Report,
) -> Result<(Manifest, Duration), BackupError> {
    let sled = store.sled("a backup")?;
    let cut = sled.backup_cut()?;
    let data_path = temp.join(DATA_FILE);
    let io_data = || BackupError::io("write", &data_path);
    let file = File::create(&data_path).map_err(io_data())?;
    let limited = Limited {
        inner: BufWriter::with_capacity(1 << 20, file),
        left: byte_limit,
    };
    let mut data = DataWriter::new(Hashing::new(limited)).map_err(io_data())?;
    // The cut's seqs count the ops, unless a purge removed some below them (the
    // bar then ends short of its total).
    let records = cut.trees.iter().map(|(_, e)| e.len() as u64).sum::<u64>()
        + cut.spaces.iter().map(|(_, seq)| seq).sum::<u64>();
    progress.step("backing up: records", Some(records), Unit::Items);
    let mut trees = Vec::new();
    for (name, entries) in &cut.trees {
        for (key, value) in entries {
            data.tree_entry(name, key, value).map_err(io_data())?;
        }
        progress.add(entries.len() as u64);
        trees.push(TreeCount {
            tree: (*name).to_owned(),
            entries: entries.len() as u64,
        });
    }
    let mut spaces = Vec::with_capacity(cut.spaces.len());
    let mut total = 0;
    for &(space, seq) in &cut.spaces {
        let mut ops = 0u64;
        sled.each_op_upto(space, seq, |at, bytes| {
            ops += 1;
            progress.add(1);
            data.op(space, at, bytes).map_err(io_data())
        })?;
        total += ops;
        spaces.push(SpaceCut { space, seq, ops });
    }
    let push_pause = cut.push_pause;
    // Everything up to the cut is read: rewrites of the store may go on.
    drop(cut);
    let hashing = data.finish().map_err(io_data())?;
    let (limited, bytes, sha256) = hashing.finish();
    let file = limited
        .inner
        .into_inner()
        .map_err(|e| io_data()(e.into_error()))?;
    file.sync_all().map_err(io_data())?;
    drop(file);

    let mut sums = vec![FileSum {
        name: DATA_FILE.into(),
        bytes,
        sha256,
    }];
    // File content: complete content never changes, and nothing deletes it while
    // this backup holds the backups' lock, so what the ops at the cut name is here.
    if let Some(files) = files {
        let mut contents = Vec::new();
        for space in &spaces {
            for sha in files
                .list(space.space)
                .map_err(BackupError::io("read the files of", files.root()))?
            {
                contents.push((space.space, sha));
            }
        }
        progress.step(
            "backing up: file contents",
            Some(contents.len() as u64),
            Unit::Items,
        );
        for (space, sha) in contents {
            sums.push(copy_content(files, space, &sha, temp)?);
            progress.add(1);
        }
    }
    let created_at = i64::try_from(now_ms)
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_default();
    let manifest = Manifest {
        format: Manifest::FORMAT.into(),
        version: FORMAT_VERSION,
        id: id.to_owned(),
        created_at: created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        created_at_ms: now_ms,
        server_version: env!("CARGO_PKG_VERSION").into(),
        files: sums,
        ops: total,
        spaces,
        trees,
    };
    let manifest_path = temp.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::io("write", &manifest_path)(io::Error::other(e)))?;
    let mut file =
        File::create(&manifest_path).map_err(BackupError::io("write", &manifest_path))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(BackupError::io("write", &manifest_path))?;
    drop(file);
    sync_dir(temp).map_err(BackupError::io("sync", temp))?;

    verify::verify_dir(temp, id, progress)?;
    Ok((manifest, push_pause))
}
