//! The replica's copies of file content: `files/<space>/<sha256>` in the replica's
//! directory, complete and checked; downloads in progress under `.partial/`;
//! content added here but not yet on the server marked in `.pending/`. Only the
//! process holding the replica's lock touches it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use cairn_common::api::files::{FRAME_BYTES, FileRef, entries_of, is_sha256, space_dirs};
use cairn_common::model::SpaceId;
use sha2::{Digest, Sha256};

use crate::sync::{Digests, digest_count};
use cairn_common::direct_io::{DirectWriter, copy_into};

const PARTIAL: &str = ".partial";
const PENDING: &str = ".pending";

/// Content copied into the cache: what the file record says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    pub sha256: String,
    pub size: u64,
    /// What the bytes look like (`image/jpeg`), told by their first bytes.
    pub content_type: String,
}

/// A download in progress: appends to the partial file past the page cache
/// ([`DirectWriter`]: a fetched file is written once and read rarely, and fresh
/// page-cache pages are costly on some VMs), hashing as it goes. Dropped before
/// [`FileCache::finish`] (a download broken off), it keeps what it was given, for
/// the next attempt to go on from.
pub struct Partial {
    path: PathBuf,
    out: DirectWriter,
    hasher: Hashing,
    /// Bytes it held when opened: the download goes on from here.
    pub held: u64,
}

/// The SHA-256 of the bytes written.
struct Hashing(Sha256);

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partial")
            .field("path", &self.path)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl Partial {
    /// Its hashing and its writing, to be given the same bytes: each on a thread
    /// of its own, they overlap (as [`Write`] it does one, then the other).
    pub fn writers(&mut self) -> [&mut (dyn Write + Send); 2] {
        [&mut self.hasher, &mut self.out]
    }

    /// Writes the bytes it held when opened to `to` (a copy made alongside the
    /// download then needs only what comes after them).
    ///
    /// # Errors
    /// The partial cannot be read, or `to` cannot be written.
    pub fn copy_held(&self, to: &mut (impl Write + ?Sized)) -> io::Result<()> {
        if self.held > 0 {
            copy_into(&self.path, to)?;
        }
        Ok(())
    }
}

impl Write for Partial {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write_all(buf)?;
        self.hasher.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The cache of one replica.
#[derive(Clone, Debug)]
pub struct FileCache {
    root: PathBuf,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// What the first bytes of a file say it is.
#[must_use]
pub fn sniff(head: &[u8]) -> String {
    match infer::get(head) {
        Some(kind) => kind.mime_type().to_owned(),
        None if !head.is_empty() && std::str::from_utf8(head).is_ok() => "text/plain".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

impl FileCache {
    /// The cache in the replica directory `replica_dir`.
    #[must_use]
    pub fn new(replica_dir: &Path) -> Self {
        Self {
            root: replica_dir.join("files"),
        }
    }

    /// Where the complete content of `sha256` in `space` is (whether or not it is).
    #[must_use]
    pub fn path(&self, space: SpaceId, sha256: &str) -> PathBuf {
        self.root.join(space.to_string()).join(sha256)
    }

    /// Whether the content is here.
    #[must_use]
    pub fn has(&self, space: SpaceId, sha256: &str) -> bool {
        is_sha256(sha256) && self.path(space, sha256).is_file()
    }

    fn pending_path(&self, file: &FileRef) -> PathBuf {
        self.root
            .join(PENDING)
            .join(format!("{}-{}-{}", file.space, file.sha256, file.size))
    }

    /// Copies the file at `source` into the cache for `space` (hashing it on the
    /// way, and keeping the digests an upload's frames name) and marks it to be
    /// uploaded.
    ///
    /// # Errors
    /// `source` cannot be read, or the cache cannot be written.
    pub fn add(&self, space: SpaceId, source: &Path) -> io::Result<Added> {
        let mut input = File::open(source)?;
        let dir = self.root.join(space.to_string());
        fs::create_dir_all(dir.join(PARTIAL))?;
        let temp = tempfile::NamedTempFile::new_in(dir.join(PARTIAL))?;
        let mut out = temp.as_file();
        let mut hasher = Sha256::new();
        let mut block = vec![0u8; 1 << 20];
        let mut size = 0u64;
        let mut head = Vec::new();
        let mut digests = Digests::new();
        loop {
            let n = input.read(&mut block)?;
            if n == 0 {
                break;
            }
            if head.len() < 8192 {
                head.extend_from_slice(&block[..n.min(8192 - head.len())]);
            }
            out.write_all(&block[..n])?;
            // Hashed in steps that stop at each frame boundary, to note its digest.
            let mut data = &block[..n];
            while !data.is_empty() {
                let frame = u64::from(FRAME_BYTES);
                let step = data
                    .len()
                    .min(usize::try_from(frame - size % frame).unwrap_or(usize::MAX));
                hasher.update(&data[..step]);
                size += step as u64;
                data = &data[step..];
                if size.is_multiple_of(frame) {
                    digests.push(hasher.clone().finalize().into());
                }
            }
        }
        out.sync_all()?;
        // Only boundaries before the end: the last frame names the file's SHA-256.
        digests.truncate(digest_count(size));
        let sha256 = hex::encode(hasher.finalize());
        temp.persist(dir.join(&sha256)).map_err(|e| e.error)?;
        sync_dir(&dir)?;
        self.mark_pending(
            &FileRef {
                space,
                sha256: sha256.clone(),
                size,
            },
            &digests,
        )?;
        Ok(Added {
            sha256,
            size,
            content_type: sniff(&head),
        })
    }

    /// Marks `file` to be uploaded; the mark holds its `digests`.
    fn mark_pending(&self, file: &FileRef, digests: &[[u8; 32]]) -> io::Result<()> {
        let dir = self.root.join(PENDING);
        fs::create_dir_all(&dir)?;
        let mut mark = File::create(self.pending_path(file))?;
        mark.write_all(&digests.concat())?;
        mark.sync_all()?;
        sync_dir(&dir)
    }

    /// The digests of `file` kept since it was added, if its mark holds them
    /// whole (a mark from an older version is empty: the upload hashes instead).
    #[must_use]
    pub fn digests(&self, file: &FileRef) -> Option<Digests> {
        let bytes = fs::read(self.pending_path(file)).ok()?;
        if bytes.len() != digest_count(file.size).checked_mul(32)? {
            return None;
        }
        Some(
            bytes
                .chunks_exact(32)
                .filter_map(|d| <[u8; 32]>::try_from(d).ok())
                .collect(),
        )
    }

    /// Content added here that the server does not have yet, oldest first.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub fn pending(&self) -> io::Result<Vec<FileRef>> {
        let mut found = Vec::new();
        for entry in entries_of(&self.root.join(PENDING))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let modified = entry.metadata()?.modified()?;
            // `<space uuid>-<sha256>-<size>`: the uuid has four dashes of its own.
            let mut parts = name.rsplitn(3, '-');
            let (Some(size), Some(sha256), Some(space)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(size), Ok(space)) = (size.parse(), space.parse::<uuid::Uuid>()) else {
                continue;
            };
            if is_sha256(sha256) {
                found.push((
                    modified,
                    FileRef {
                        space: SpaceId(space),
                        sha256: sha256.to_owned(),
                        size,
                    },
                ));
            }
        }
        found.sort_by_key(|(modified, _)| *modified);
        Ok(found.into_iter().map(|(_, file)| file).collect())
    }

    /// The server has `file` now.
    ///
    /// # Errors
    /// The mark cannot be removed.
    pub fn uploaded(&self, file: &FileRef) -> io::Result<()> {
        match fs::remove_file(self.pending_path(file)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// A download in progress of `sha256` in `space`, to go on at
    /// [`Partial::held`]: what it holds is hashed once here, and what is appended
    /// is hashed as it is written, so the check at the end reads nothing back. A
    /// partial longer than `size` (not this file) starts over.
    ///
    /// # Errors
    /// The cache cannot be read or written.
    pub fn partial(&self, space: SpaceId, sha256: &str, size: u64) -> io::Result<Partial> {
        let dir = self.root.join(space.to_string()).join(PARTIAL);
        fs::create_dir_all(&dir)?;
        let path = dir.join(sha256);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut held = file.metadata()?.len();
        if held > size {
            file.set_len(0)?;
            held = 0;
        }
        let mut hasher = Sha256::new();
        io::copy(&mut File::open(&path)?.take(held), &mut hasher)?;
        Ok(Partial {
            out: DirectWriter::open(&path, held)?,
            path,
            hasher: Hashing(hasher),
            held,
        })
    }

    /// Checks a finished download against its SHA-256 and moves it into the cache;
    /// false (and the partial removed) if the bytes are not the file's.
    ///
    /// # Errors
    /// The cache cannot be read or written.
    pub fn finish(&self, space: SpaceId, sha256: &str, mut partial: Partial) -> io::Result<bool> {
        let dir = self.root.join(space.to_string());
        partial.out.flush()?;
        let path = partial.path.clone();
        if hex::encode(partial.hasher.0.clone().finalize()) != sha256 {
            drop(partial);
            fs::remove_file(&path)?;
            return Ok(false);
        }
        partial.out.sync()?;
        drop(partial);
        fs::rename(&path, dir.join(sha256))?;
        sync_dir(&dir)?;
        Ok(true)
    }

    /// Bytes of complete content per entry, with when each was last used.
    fn entries(&self) -> io::Result<Vec<(std::time::SystemTime, u64, SpaceId, String)>> {
        let mut out = Vec::new();
        for space in space_dirs(&self.root)? {
            for entry in entries_of(&self.root.join(space.to_string()))? {
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_sha256(&name) {
                    let meta = entry.metadata()?;
                    out.push((meta.modified()?, meta.len(), space, name));
                }
            }
        }
        Ok(out)
    }

    /// Marks content as just used, so eviction takes others first.
    pub fn touch(&self, space: SpaceId, sha256: &str) {
        if let Ok(file) = File::options().append(true).open(self.path(space, sha256)) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
    }

    /// Deletes content no file record refers to any more (`wanted` says which are
    /// referred to), and then, least recently used first, content beyond
    /// `max_bytes`; never content still to be uploaded. How many were deleted.
    ///
    /// # Errors
    /// The cache cannot be read or written.
    pub fn tidy(
        &self,
        wanted: impl Fn(SpaceId, &str) -> bool,
        max_bytes: u64,
    ) -> io::Result<usize> {
        let pending: Vec<FileRef> = self.pending()?;
        let is_pending =
            |space: SpaceId, sha: &str| pending.iter().any(|p| p.space == space && p.sha256 == sha);
        let mut entries = self.entries()?;
        let mut removed = 0;
        entries.retain(|(_, _, space, sha)| {
            if wanted(*space, sha) || is_pending(*space, sha) {
                return true;
            }
            if fs::remove_file(self.path(*space, sha)).is_ok() {
                removed += 1;
            }
            false
        });
        let mut total: u64 = entries.iter().map(|(_, size, _, _)| size).sum();
        entries.sort_by_key(|(used, _, _, _)| *used);
        for (_, size, space, sha) in entries {
            if total <= max_bytes {
                break;
            }
            if is_pending(space, &sha) {
                continue;
            }
            fs::remove_file(self.path(space, &sha))?;
            total -= size;
            removed += 1;
        }
        Ok(removed)
    }

    /// Deletes every copy of `space`'s content (the space is gone from here).
    ///
    /// # Errors
    /// The cache cannot be written.
    pub fn remove_space(&self, space: SpaceId) -> io::Result<()> {
        match fs::remove_dir_all(self.root.join(space.to_string())) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The spaces with content (or downloads in progress) here.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub fn spaces(&self) -> io::Result<Vec<SpaceId>> {
        space_dirs(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a file keeps the SHA-256 of its first 1, 2, … frames (those before
    /// its end) with its upload mark, for files ending on a frame boundary too;
    /// they go with the mark.
    #[test]
    fn added_files_keep_their_frame_digests() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = FileCache::new(dir.path());
        let space = SpaceId::new();
        let frame = FRAME_BYTES as usize;
        for size in [0, 10, frame, 2 * frame + 3] {
            let content: Vec<u8> = (0..size).map(|n| (n % 199) as u8).collect();
            let source = dir.path().join(format!("source-{size}"));
            fs::write(&source, &content).expect("write");
            let added = cache.add(space, &source).expect("add");
            let file = FileRef {
                space,
                sha256: added.sha256,
                size: added.size,
            };
            let expected: Vec<[u8; 32]> = (1..)
                .map(|n| n * frame)
                .take_while(|end| *end < size)
                .map(|end| Sha256::digest(&content[..end]).into())
                .collect();
            assert_eq!(cache.digests(&file), Some(expected), "size {size}");
            cache.uploaded(&file).expect("uploaded");
            assert_eq!(cache.digests(&file), None);
        }
    }

    /// A download broken off goes on from what the partial holds; the check at the
    /// end covers the bytes from before and after the break; other bytes fail it
    /// and are deleted.
    #[test]
    fn a_resumed_download_is_checked_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = FileCache::new(dir.path());
        let space = SpaceId::new();
        let content = b"the whole file, in two parts".to_vec();
        let sha = cairn_common::api::files::sha256_hex(&content);
        let size = content.len() as u64;
        let mut first = cache.partial(space, &sha, size).expect("partial");
        assert_eq!(first.held, 0);
        first.write_all(&content[..9]).expect("write");
        drop(first);
        let mut rest = cache.partial(space, &sha, size).expect("again");
        assert_eq!(rest.held, 9);
        rest.write_all(&content[9..]).expect("write");
        assert!(cache.finish(space, &sha, rest).expect("finish"));
        assert!(cache.has(space, &sha));
        assert_eq!(fs::read(cache.path(space, &sha)).expect("read"), content);

        let other = cairn_common::api::files::sha256_hex(b"another file");
        let mut wrong = cache.partial(space, &other, 100).expect("partial");
        wrong.write_all(b"not those bytes").expect("write");
        assert!(!cache.finish(space, &other, wrong).expect("finish"));
        assert!(!cache.has(space, &other));
        assert_eq!(cache.partial(space, &other, 100).expect("fresh").held, 0);
    }
}
