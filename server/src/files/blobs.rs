//! File content on disk: `<dir>/<space>/<sha256>` once complete and checked,
//! `<dir>/<space>/.partial/<sha256>` while chunks arrive. Content is named by its
//! hash, so the same bytes added twice in a space are kept once; spaces never
//! share content. Every write is fsynced before it is acknowledged.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cairn_common::api::files::{
    FileRef, FileStatus, entries_of, is_sha256, sha256_hex, sha256_of, space_dirs,
};
use cairn_common::model::SpaceId;
use sha2::{Digest, Sha256};

/// Size limits, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_file: u64,
    pub max_space: u64,
}

/// Why a chunk or a read was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such file")]
    NotFound,
    #[error("not a SHA-256 (64 lowercase hex digits)")]
    BadHash,
    #[error(
        "this chunk starts at byte {given}, but the server holds {held} bytes of the file: send from {held}"
    )]
    Offset { given: u64, held: u64 },
    #[error("the chunk goes past the file's size of {size} bytes")]
    PastEnd { size: u64 },
    #[error("the file is {size} bytes; this server takes files of at most {max} MiB", max = .max >> 20)]
    TooLarge { size: u64, max: u64 },
    #[error(
        "the space would hold {needed} MiB of files, more than its limit of {max} MiB; \
         delete files from it (and empty the trash) or ask the admin to raise [files] max_space_mib",
        needed = .needed >> 20,
        max = .max >> 20
    )]
    SpaceFull { needed: u64, max: u64 },
    #[error("the chunk arrived damaged (its SHA-256 differs); send it again")]
    ChunkDamaged,
    #[error("the whole file's SHA-256 differs from the one given; the upload starts over")]
    FileDamaged,
    #[error("file storage failed: {0}")]
    Io(#[from] io::Error),
}

/// The content store of one server.
#[derive(Debug)]
pub struct Blobs {
    root: PathBuf,
    /// One writer per file at a time (two uploads of the same bytes take turns).
    writing: Mutex<HashMap<FileKey, Arc<Mutex<()>>>>,
    /// The whole-file hash of uploads in progress as far as they got, so the last
    /// chunk need not read the file back; rebuilt from disk after a restart.
    hashing: Mutex<HashMap<FileKey, (u64, Sha256)>>,
}

/// Uploads whose running hash is kept at most; beyond, they are rebuilt from disk.
const MAX_HASHING: usize = 4096;

/// A file's content within the store: its space and SHA-256.
type FileKey = (SpaceId, String);

const PARTIAL: &str = ".partial";

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Blobs {
    #[must_use]
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            writing: Mutex::new(HashMap::new()),
            hashing: Mutex::new(HashMap::new()),
        }
    }

    /// The directory of the store.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn space_dir(&self, space: SpaceId) -> PathBuf {
        self.root.join(space.to_string())
    }

    fn complete_path(&self, space: SpaceId, sha256: &str) -> PathBuf {
        self.space_dir(space).join(sha256)
    }

    fn partial_path(&self, space: SpaceId, sha256: &str) -> PathBuf {
        self.space_dir(space).join(PARTIAL).join(sha256)
    }

    fn lock(&self, space: SpaceId, sha256: &str) -> Arc<Mutex<()>> {
        let mut map = self
            .writing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget locks nobody holds, so the map does not grow with every file.
        map.retain(|_, lock| Arc::strong_count(lock) > 1);
        Arc::clone(map.entry((space, sha256.to_owned())).or_default())
    }

    /// How much of `file` is here.
    ///
    /// # Errors
    /// A hash that is no SHA-256, or a storage error.
    pub fn status(&self, space: SpaceId, sha256: &str) -> Result<FileStatus, BlobError> {
        if !is_sha256(sha256) {
            return Err(BlobError::BadHash);
        }
        let complete = self.complete_path(space, sha256);
        if let Ok(meta) = fs::metadata(&complete) {
            // Asked for: a record naming it may follow, so the sweep of content no
            // record names leaves it alone for a while (see `gc`).
            if let Ok(file) = File::options().append(true).open(&complete) {
                let _ = file.set_modified(std::time::SystemTime::now());
            }
            return Ok(FileStatus {
                received: meta.len(),
                complete: true,
            });
        }
        let received = fs::metadata(self.partial_path(space, sha256)).map_or(0, |m| m.len());
        Ok(FileStatus {
            received,
            complete: false,
        })
    }

    /// Appends `chunk` (whose SHA-256 the sender gives as `chunk_sha256`) at
    /// `offset` of `file`; after the last chunk checks the whole file and makes it
    /// complete. Content the space already has is acknowledged as complete at once.
    ///
    /// # Errors
    /// See [`BlobError`]: limits, a wrong offset, a damaged chunk or file, storage.
    pub fn append(
        &self,
        file: &FileRef,
        offset: u64,
        chunk: &[u8],
        chunk_sha256: &str,
        limits: Limits,
    ) -> Result<FileStatus, BlobError> {
        let (space, sha256) = (file.space, file.sha256.as_str());
        if !is_sha256(sha256) {
            return Err(BlobError::BadHash);
        }
        if file.size > limits.max_file {
            return Err(BlobError::TooLarge {
                size: file.size,
                max: limits.max_file,
            });
        }
        let lock = self.lock(space, sha256);
        let _writing = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let status = self.status(space, sha256)?;
        if status.complete {
            return Ok(status);
        }
        if offset != status.received {
            return Err(BlobError::Offset {
                given: offset,
                held: status.received,
            });
        }
        let end = offset.saturating_add(chunk.len() as u64);
        if end > file.size {
            return Err(BlobError::PastEnd { size: file.size });
        }
        if sha256_hex(chunk) != chunk_sha256.to_ascii_lowercase() {
            return Err(BlobError::ChunkDamaged);
        }
        if offset == 0 {
            let needed = self.usage(space)?.saturating_add(file.size);
            if needed > limits.max_space {
                return Err(BlobError::SpaceFull {
                    needed,
                    max: limits.max_space,
                });
            }
        }
        let partial = self.partial_path(space, sha256);
        let partial_dir = partial.parent().unwrap_or(&self.root).to_owned();
        fs::create_dir_all(&partial_dir)?;
        let key = (space, sha256.to_owned());
        let mut hasher = self.hash_so_far(&key, offset, &partial)?;
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)?;
        // Chunks are acknowledged without an fsync: bytes a crash loses are sent
        // again (the client asks how much is here), and bytes a crash damages fail
        // the whole-file check below. Only the complete file must be durable.
        out.write_all(chunk)?;
        hasher.update(chunk);
        if end < file.size {
            self.keep_hash(key, end, hasher);
            return Ok(FileStatus {
                received: end,
                complete: false,
            });
        }
        out.sync_data()?;
        drop(out);
        if hex::encode(hasher.finalize()) != sha256 {
            fs::remove_file(&partial)?;
            return Err(BlobError::FileDamaged);
        }
        sync_dir(&partial_dir)?;
        let complete = self.complete_path(space, sha256);
        fs::rename(&partial, &complete)?;
        sync_dir(&self.space_dir(space))?;
        Ok(FileStatus {
            received: file.size,
            complete: true,
        })
    }

    /// The hash state of the first `offset` bytes of an upload: kept from its last
    /// chunk, or read from disk (after a restart).
    fn hash_so_far(&self, key: &FileKey, offset: u64, partial: &Path) -> io::Result<Sha256> {
        let kept = self
            .hashing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
        match kept {
            Some((at, hasher)) if at == offset => Ok(hasher),
            _ if offset == 0 => Ok(Sha256::new()),
            _ => {
                let mut hasher = Sha256::new();
                io::copy(&mut File::open(partial)?.take(offset), &mut hasher)?;
                Ok(hasher)
            }
        }
    }

    fn keep_hash(&self, key: FileKey, at: u64, hasher: Sha256) {
        let mut map = self
            .hashing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_HASHING {
            map.clear();
        }
        map.insert(key, (at, hasher));
    }

    /// The complete content of `sha256` in `space`, open for reading, and its size.
    ///
    /// # Errors
    /// [`BlobError::NotFound`] if the space has no such complete file.
    pub fn open(&self, space: SpaceId, sha256: &str) -> Result<(File, u64), BlobError> {
        if !is_sha256(sha256) {
            return Err(BlobError::NotFound);
        }
        match File::open(self.complete_path(space, sha256)) {
            Ok(file) => {
                let size = file.metadata()?.len();
                Ok((file, size))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Bytes the space holds, complete and partial.
    ///
    /// # Errors
    /// A storage error.
    pub fn usage(&self, space: SpaceId) -> io::Result<u64> {
        let mut total = 0;
        for dir in [self.space_dir(space), self.space_dir(space).join(PARTIAL)] {
            for entry in entries_of(&dir)? {
                let meta = entry.metadata()?;
                if meta.is_file() {
                    total += meta.len();
                }
            }
        }
        Ok(total)
    }

    /// The complete files of `space`, by SHA-256.
    ///
    /// # Errors
    /// A storage error.
    pub fn list(&self, space: SpaceId) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in entries_of(&self.space_dir(space))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_sha256(&name) {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The spaces that hold content.
    ///
    /// # Errors
    /// A storage error.
    pub fn spaces(&self) -> io::Result<Vec<SpaceId>> {
        space_dirs(&self.root)
    }

    /// The complete files of `space` with when each was last written or asked for.
    ///
    /// # Errors
    /// A storage error.
    pub fn list_with_times(
        &self,
        space: SpaceId,
    ) -> io::Result<Vec<(String, std::time::SystemTime)>> {
        let mut out = Vec::new();
        for sha in self.list(space)? {
            let modified = fs::metadata(self.complete_path(space, &sha))?.modified()?;
            out.push((sha, modified));
        }
        Ok(out)
    }

    /// Deletes uploads of `space` that stopped before `before` (never finished).
    /// How many.
    ///
    /// # Errors
    /// A storage error.
    pub fn sweep_partials(
        &self,
        space: SpaceId,
        before: std::time::SystemTime,
    ) -> io::Result<usize> {
        let mut removed = 0;
        for entry in entries_of(&self.space_dir(space).join(PARTIAL))? {
            if entry.metadata()?.modified()? < before {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Deletes one file's content (complete and partial); true if there was any.
    ///
    /// # Errors
    /// A storage error.
    pub fn remove(&self, space: SpaceId, sha256: &str) -> io::Result<bool> {
        if !is_sha256(sha256) {
            return Ok(false);
        }
        let mut removed = false;
        for path in [
            self.complete_path(space, sha256),
            self.partial_path(space, sha256),
        ] {
            match fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if removed {
            sync_dir(&self.space_dir(space))?;
        }
        Ok(removed)
    }

    /// Deletes every file of `space`.
    ///
    /// # Errors
    /// A storage error.
    pub fn remove_space(&self, space: SpaceId) -> io::Result<()> {
        match fs::remove_dir_all(self.space_dir(space)) {
            Ok(()) => sync_dir(&self.root),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The SHA-256 of a file on disk.
///
/// # Errors
/// A read error.
pub fn hash_of(path: &Path) -> io::Result<String> {
    sha256_of(File::open(path)?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn sha(bytes: &[u8]) -> String {
        sha256_hex(bytes)
    }

    const LIMITS: Limits = Limits {
        max_file: 1 << 20,
        max_space: 2 << 20,
    };

    /// Chunks in order make a checked file; a wrong offset says where to go on; a
    /// damaged chunk or file is refused; the same bytes again are there at once.
    #[test]
    fn chunks_make_a_checked_file() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let space = SpaceId::new();
        let content = b"hello, resumable world".to_vec();
        let file = FileRef {
            space,
            sha256: sha(&content),
            size: content.len() as u64,
        };
        let (a, b) = content.split_at(7);
        assert!(matches!(
            blobs.append(&file, 0, a, &sha(b), LIMITS),
            Err(BlobError::ChunkDamaged)
        ));
        let first = blobs.append(&file, 0, a, &sha(a), LIMITS).expect("first");
        assert_eq!(
            first,
            FileStatus {
                received: 7,
                complete: false
            }
        );
        assert_eq!(blobs.status(space, &file.sha256).expect("status"), first);
        match blobs.append(&file, 3, b, &sha(b), LIMITS) {
            Err(BlobError::Offset { held: 7, .. }) => {}
            other => panic!("{other:?}"),
        }
        // The server restarts between chunks: the hash so far is read from disk.
        let blobs = Blobs::new(dir.path().join("files"));
        let done = blobs.append(&file, 7, b, &sha(b), LIMITS).expect("last");
        assert!(done.complete);
        let (mut read, size) = blobs.open(space, &file.sha256).expect("open");
        let mut back = Vec::new();
        read.read_to_end(&mut back).expect("read");
        assert_eq!((back, size), (content.clone(), content.len() as u64));
        // Again: nothing to send.
        assert!(
            blobs
                .append(&file, 0, a, &sha(a), LIMITS)
                .expect("again")
                .complete
        );
        // Another space does not have it.
        assert!(matches!(
            blobs.open(SpaceId::new(), &file.sha256),
            Err(BlobError::NotFound)
        ));

        // Bytes that are not the file given: refused at the end, started over.
        let lie = FileRef {
            sha256: sha(b"something else entirely"),
            ..file.clone()
        };
        assert!(matches!(
            blobs.append(&lie, 0, &content, &sha(&content), LIMITS),
            Err(BlobError::FileDamaged)
        ));
        assert_eq!(
            blobs.status(space, &lie.sha256).expect("status").received,
            0
        );
        assert!(matches!(
            blobs
                .append(&file, 0, b"x", &sha(b"x"), LIMITS)
                .map(|s| s.complete),
            Ok(true)
        ));
    }

    #[test]
    fn limits_are_kept_and_removal_is_complete() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let space = SpaceId::new();
        let big = FileRef {
            space,
            sha256: sha(b"big"),
            size: (1 << 20) + 1,
        };
        assert!(matches!(
            blobs.append(&big, 0, b"big", &sha(b"big"), LIMITS),
            Err(BlobError::TooLarge { .. })
        ));
        let mut shas = Vec::new();
        for n in 0..2u8 {
            let content = vec![n; 1 << 20];
            let file = FileRef {
                space,
                sha256: sha(&content),
                size: content.len() as u64,
            };
            blobs
                .append(&file, 0, &content, &sha(&content), LIMITS)
                .expect("fits");
            shas.push(file.sha256);
        }
        let third = vec![9u8; 10];
        let file = FileRef {
            space,
            sha256: sha(&third),
            size: 10,
        };
        let refused = blobs.append(&file, 0, &third, &sha(&third), LIMITS);
        assert!(
            matches!(refused, Err(BlobError::SpaceFull { .. })),
            "{refused:?}"
        );
        assert!(
            refused
                .map_err(|e| e.to_string())
                .unwrap_err()
                .contains("max_space_mib")
        );
        shas.sort();
        assert_eq!(blobs.list(space).expect("list"), shas);
        assert!(blobs.remove(space, &shas[0]).expect("remove"));
        assert_eq!(blobs.usage(space).expect("usage"), 1 << 20);
        blobs.remove_space(space).expect("remove space");
        assert_eq!(blobs.spaces().expect("spaces"), Vec::<SpaceId>::new());
        assert!(blobs.status(space, "../../etc/passwd").is_err());
    }
}
