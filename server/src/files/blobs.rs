//! File content on disk: `<dir>/<space>/<sha256>` once complete and checked,
//! `<dir>/<space>/.partial/<sha256>` while an upload arrives ([`super::upload`]).
//! Content is named by its hash, so the same bytes added twice in a space are kept
//! once; spaces never share content. A complete file is fsynced before it is
//! acknowledged.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use cairn_common::api::files::{FileStatus, entries_of, is_sha256, sha256_of, space_dirs};
use cairn_common::model::SpaceId;

use super::upload::{Claims, KeptHashes, Paths};

/// Size limits, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_file: u64,
    pub max_space: u64,
}

/// Why an upload or a read was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such file")]
    NotFound,
    #[error("not a SHA-256 (64 lowercase hex digits)")]
    BadHash,
    #[error(
        "this upload starts at byte {given}, but the server holds {held} bytes of the file: send from {held}"
    )]
    Offset { given: u64, held: u64 },
    #[error(
        "another upload of this file is under way (from another device, or one that broke off \
         and has not timed out yet); sync again in a minute"
    )]
    Busy,
    #[error("the upload goes past the file's size of {size} bytes")]
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
    #[error(
        "a frame arrived damaged (its SHA-256 differs); what came before it is kept: \
         ask how much the server holds and send the rest again"
    )]
    FrameDamaged,
    #[error("the whole file's SHA-256 differs from the one given; the upload starts over")]
    FileDamaged,
    #[error("file storage failed: {0}")]
    Io(#[from] io::Error),
}

/// The content store of one server.
#[derive(Debug)]
pub struct Blobs {
    root: PathBuf,
    /// The files being uploaded: one upload per file at a time.
    claims: Claims,
    /// The whole-file hash of uploads that stopped before their end, as far as
    /// they got; rebuilt from disk after a restart.
    kept: KeptHashes,
}

/// A file's content within the store: its space and SHA-256.
pub(super) type FileKey = (SpaceId, String);

const PARTIAL: &str = ".partial";

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Blobs {
    #[must_use]
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            claims: Claims::default(),
            kept: KeptHashes::default(),
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

    pub(super) fn paths(&self, space: SpaceId, sha256: &str) -> Paths {
        Paths {
            partial: self.partial_path(space, sha256),
            complete: self.complete_path(space, sha256),
        }
    }

    pub(super) fn claims(&self) -> &Claims {
        &self.claims
    }

    pub(super) fn kept(&self) -> &KeptHashes {
        &self.kept
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

    /// The complete content of `sha256` in `space` from byte `from` on (past the
    /// page cache where the file system allows), and its whole size.
    ///
    /// # Errors
    /// [`BlobError::NotFound`] if the space has no such complete file.
    pub fn read_from(
        &self,
        space: SpaceId,
        sha256: &str,
        from: u64,
    ) -> Result<(cairn_common::direct_io::Reader, u64), BlobError> {
        let (file, size) = self.open(space, sha256)?;
        drop(file);
        let reader = cairn_common::direct_io::Reader::open(
            &self.complete_path(space, sha256),
            from.min(size),
            true,
        )?;
        Ok((reader, size))
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
    use cairn_common::api::files::{FileRef, sha256_hex};

    use super::*;
    use crate::files::upload::tests::send;

    const LIMITS: Limits = Limits {
        max_file: 1 << 20,
        max_space: 2 << 20,
    };

    /// Files over the limit, and files that would fill the space past its limit,
    /// are refused before a byte is kept; removal takes content, complete and
    /// partial, and whole spaces.
    #[test]
    fn limits_are_kept_and_removal_is_complete() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let space = SpaceId::new();
        let big = FileRef {
            space,
            sha256: sha256_hex(b"big"),
            size: (1 << 20) + 1,
        };
        assert!(matches!(
            blobs.begin(&big, 0, LIMITS),
            Err(BlobError::TooLarge { .. })
        ));
        let mut shas = Vec::new();
        for n in 0..2u8 {
            let content = vec![n; 1 << 20];
            let file = FileRef {
                space,
                sha256: sha256_hex(&content),
                size: content.len() as u64,
            };
            send(&blobs, &file, &content, LIMITS).expect("fits");
            shas.push(file.sha256);
        }
        let third = vec![9u8; 10];
        let file = FileRef {
            space,
            sha256: sha256_hex(&third),
            size: 10,
        };
        let refused = blobs.begin(&file, 0, LIMITS).map(|_| ());
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
        assert_eq!(
            blobs.status(space, &file.sha256).expect("status").received,
            0
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
