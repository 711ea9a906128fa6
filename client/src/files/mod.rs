//! Files in spaces, on the client: a file is a record of kind `file` (name, size,
//! SHA-256, type, the record it belongs to) that syncs with the ops; its content
//! lives in the replica's cache ([`cache`]) and on the server, addressed by space
//! and SHA-256. Content added here is uploaded by the next sync before the ops
//! that name it ([`upload_pending`]); content added elsewhere is downloaded the
//! first time it is opened ([`open`]) and stays for offline use, up to
//! `[files] cache_mib` of `config.toml` ([`tidy`], after every sync).

pub mod cache;

use std::path::{Path, PathBuf};

use cairn_common::api::codes;
use cairn_common::api::endpoints;
use cairn_common::api::files::{FileRef, is_sha256};
use cairn_common::direct_io::copy_into;
use cairn_common::model::{RecordKind, SpaceId, Value};
use cairn_common::{Op, RecordId, RecordState};
use chrono::NaiveDate;

pub use cache::{Added, FileCache, Partial};

use crate::replica::{Replica, ReplicaError};
use crate::sync::{Client, SyncError};

/// The cache's size when `config.toml` does not say.
pub const DEFAULT_CACHE_MIB: u64 = 1024;

/// Why a file could not be added or opened.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the local file cache failed: {0}")]
    Cache(#[from] std::io::Error),
    #[error("cannot write the copy: {0}")]
    Copy(std::io::Error),
    #[error(
        "{name} is not downloaded to this device yet, and the server cannot be reached \
         ({reason}); open it again when online"
    )]
    NotHere { name: String, reason: String },
    #[error("{name} is not downloaded to this device yet; log in (cairn login) to fetch it")]
    NoSession { name: String },
    #[error("{name} arrived damaged (its SHA-256 differs); try again")]
    Damaged { name: String },
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// A file record as the client uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub id: RecordId,
    pub space: SpaceId,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    /// The record it is attached to.
    pub record: Option<RecordId>,
    pub deleted: bool,
}

impl FileInfo {
    /// The file a record describes; `None` for other kinds or a record whose
    /// content fields are missing or malformed (e.g. forged).
    #[must_use]
    pub fn of(state: &RecordState) -> Option<Self> {
        if state.kind != Some(RecordKind::File) {
            return None;
        }
        let text = |field| match state.get(field) {
            Some(Value::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let sha256 = text("sha256").filter(|s| is_sha256(s))?;
        let size = match state.get("size") {
            Some(Value::Int(n)) => u64::try_from(*n).ok()?,
            _ => return None,
        };
        Some(Self {
            id: state.id,
            space: state.space,
            name: text("name").unwrap_or_default(),
            size,
            sha256,
            content_type: text("type").unwrap_or_default(),
            record: match state.get("record") {
                Some(Value::Ref(id)) => Some(*id),
                _ => None,
            },
            deleted: state.is_deleted(),
        })
    }

    /// Its content on the wire.
    #[must_use]
    pub fn file_ref(&self) -> FileRef {
        FileRef {
            space: self.space,
            sha256: self.sha256.clone(),
            size: self.size,
        }
    }
}

/// Every file record of the replica, the trash included.
///
/// # Errors
/// A replica read error.
pub fn all(replica: &Replica) -> Result<Vec<FileInfo>, ReplicaError> {
    let mut out = Vec::new();
    for state in replica.records() {
        if let Some(info) = FileInfo::of(&state?) {
            out.push(info);
        }
    }
    Ok(out)
}

/// Copies the file at `path` into the cache and makes the ops of its record in
/// `space` (attached to `record`, if given). Commit the ops; the next sync uploads
/// the content first.
///
/// # Errors
/// `path` cannot be read, the cache cannot be written, or the record is invalid.
pub fn add(
    replica: &Replica,
    path: &Path,
    space: SpaceId,
    record: Option<RecordId>,
    today: NaiveDate,
) -> Result<(RecordId, Vec<Op>), FileError> {
    let read_error = |source| FileError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(std::io::Error::other("it is not a file")));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let cache = FileCache::new(replica.dir());
    let added = cache.add(space, path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => read_error(e),
        _ => FileError::Cache(e),
    })?;
    let mut values = vec![
        ("name".to_owned(), Value::Text(name)),
        (
            "size".to_owned(),
            Value::Int(i64::try_from(added.size).unwrap_or(i64::MAX)),
        ),
        ("sha256".to_owned(), Value::Text(added.sha256)),
        ("type".to_owned(), Value::Text(added.content_type)),
    ];
    if let Some(record) = record {
        values.push(("record".to_owned(), Value::Ref(record)));
    }
    Ok(replica.create_ops(RecordKind::File, space, values, today)?)
}

/// What [`upload_pending`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uploads {
    /// Files the server has now.
    pub done: usize,
    /// Why files could not go, for a person.
    pub notices: Vec<String>,
}

/// Uploads the content added here that the server does not have, resuming where
/// an earlier attempt stopped. A file the server refuses for good (too large, the
/// space full, not allowed) is reported and no longer tried; one another upload is
/// busy with waits for the next sync; going offline ends the round with the error
/// (the rest waits for the next sync).
///
/// # Errors
/// The server cannot be reached, or the cache cannot be read.
pub fn upload_pending(replica: &Replica, client: &Client) -> Result<Uploads, SyncError> {
    let cache = FileCache::new(replica.dir());
    let cache_error = |e: std::io::Error| SyncError::Config(format!("the local file cache: {e}"));
    let mut uploads = Uploads::default();
    for file in cache.pending().map_err(cache_error)? {
        match upload_one(&cache, client, &file) {
            Ok(()) => {
                cache.uploaded(&file).map_err(cache_error)?;
                uploads.done += 1;
            }
            Err(SyncError::Refused { message, code, .. }) if code == codes::UPLOAD_BUSY => {
                uploads.notices.push(format!("a file waits: {message}"));
            }
            Err(SyncError::Refused { message, code, .. }) if code != codes::UPLOAD_OFFSET => {
                uploads
                    .notices
                    .push(format!("a file was not uploaded: {message}"));
                cache.uploaded(&file).map_err(cache_error)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(uploads)
}

fn upload_one(cache: &FileCache, client: &Client, file: &FileRef) -> Result<(), SyncError> {
    let cache_error = |e: std::io::Error| SyncError::Config(format!("the local file cache: {e}"));
    let mut status = client.call::<endpoints::FilesStatus>(file)?;
    let digests = cache.digests(file);
    while !status.complete {
        let content =
            std::fs::File::open(cache.path(file.space, &file.sha256)).map_err(cache_error)?;
        let before = status.received;
        status = match client.upload(file, status.received, content, digests.clone()) {
            Ok(status) => status,
            // Another device sent part of it meanwhile: go on from where it is.
            Err(SyncError::Refused { code, .. }) if code == codes::UPLOAD_OFFSET => {
                client.call::<endpoints::FilesStatus>(file)?
            }
            Err(e) => return Err(e),
        };
        if !status.complete && status.received <= before {
            // An answer that moves nothing would loop: leave it to the next sync.
            return Err(SyncError::Server {
                status: 200,
                message: format!(
                    "the upload of a file stopped at byte {} of {}",
                    status.received, file.size
                ),
            });
        }
    }
    Ok(())
}

/// The content of `file` on this device: from the cache, else downloaded (going on
/// from an earlier partial download), checked and kept in the cache.
///
/// # Errors
/// Not here and no server to fetch it from, a damaged download, a cache error.
pub fn open(
    replica: &Replica,
    client: Option<&Client>,
    file: &FileInfo,
) -> Result<PathBuf, FileError> {
    fetch(replica, client, file, None)
}

/// As [`open`], and the content copied into `copy` as well: while it downloads,
/// beside the cache's writes, so a file saved elsewhere is not written twice one
/// after the other. `copy` holds the file's bytes only when this returns `Ok`; on an error
/// it holds some of them, to be thrown away.
///
/// # Errors
/// As [`open`], or `copy` cannot be written.
pub fn open_copying(
    replica: &Replica,
    client: Option<&Client>,
    file: &FileInfo,
    copy: &mut (dyn std::io::Write + Send),
) -> Result<PathBuf, FileError> {
    fetch(replica, client, file, Some(copy))
}

fn fetch(
    replica: &Replica,
    client: Option<&Client>,
    file: &FileInfo,
    copy: Option<&mut (dyn std::io::Write + Send)>,
) -> Result<PathBuf, FileError> {
    let cache = FileCache::new(replica.dir());
    let cached = cache.path(file.space, &file.sha256);
    if cache.has(file.space, &file.sha256) {
        cache.touch(file.space, &file.sha256);
        if let Some(copy) = copy {
            copy_into(&cached, copy).map_err(FileError::Copy)?;
        }
        return Ok(cached);
    }
    let Some(client) = client else {
        return Err(FileError::NoSession {
            name: file.name.clone(),
        });
    };
    let mut partial = cache.partial(file.space, &file.sha256, file.size)?;
    let from = partial.held;
    let downloaded = match copy {
        Some(copy) => {
            partial.copy_held(copy).map_err(FileError::Copy)?;
            let [hashing, writing] = partial.writers();
            client.download(&file.file_ref(), from, &mut [hashing, writing, copy])
        }
        None => client.download(&file.file_ref(), from, &mut partial.writers()),
    };
    match downloaded {
        Ok(_) => {}
        Err(SyncError::Offline { reason, .. }) => {
            return Err(FileError::NotHere {
                name: file.name.clone(),
                reason,
            });
        }
        Err(e) => return Err(e.into()),
    }
    if !cache.finish(file.space, &file.sha256, partial)? {
        return Err(FileError::Damaged {
            name: file.name.clone(),
        });
    }
    Ok(cached)
}

/// The cache's limit from `config.toml` (`[files] cache_mib`), in bytes.
#[must_use]
pub fn cache_limit(config_file: &Path) -> u64 {
    #[derive(serde::Deserialize, Default)]
    struct Files {
        cache_mib: Option<u64>,
    }
    #[derive(serde::Deserialize, Default)]
    struct Config {
        #[serde(default)]
        files: Files,
    }
    let mib = std::fs::read_to_string(config_file)
        .ok()
        .and_then(|text| toml::from_str::<Config>(&text).ok())
        .and_then(|c| c.files.cache_mib)
        .unwrap_or(DEFAULT_CACHE_MIB);
    mib.saturating_mul(1 << 20)
}

/// Deletes cached content no live file record here refers to (in the trash,
/// purged, its space gone), then the least recently used beyond
/// `max_bytes`; content not uploaded yet stays. How many were deleted.
///
/// # Errors
/// A replica or cache error.
pub fn tidy(replica: &Replica, max_bytes: u64) -> Result<usize, FileError> {
    let cache = FileCache::new(replica.dir());
    // A file in the trash keeps no copy here: restored, it is downloaded again.
    let wanted: std::collections::HashSet<(SpaceId, String)> = all(replica)?
        .into_iter()
        .filter(|f| !f.deleted)
        .map(|f| (f.space, f.sha256))
        .collect();
    let spaces: std::collections::HashSet<SpaceId> =
        replica.spaces()?.into_iter().map(|s| s.id).collect();
    for space in cache.spaces()? {
        if !spaces.contains(&space) {
            cache.remove_space(space)?;
        }
    }
    Ok(cache.tidy(
        |space, sha| wanted.contains(&(space, sha.to_owned())),
        max_bytes,
    )?)
}

/// A file name that stays in the directory it is written to: no path separators,
/// no `..`, never empty.
#[must_use]
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match cleaned.trim() {
        "" | "." | ".." => "file".to_owned(),
        name => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    /// Separators and dot names cannot lead out of the target directory.
    #[test]
    fn names_cannot_leave_the_directory() {
        assert_eq!(super::safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(super::safe_name(".."), "file");
        assert_eq!(super::safe_name("photo.jpg"), "photo.jpg");
    }
}
