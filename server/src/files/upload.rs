//! One upload being written ([`Upload`], begun by [`Blobs::begin`]): each frame is
//! folded into the whole-file hash, whose digest so far must be the one the
//! frame's header names (one hash per byte checks the frame and the whole file),
//! then copied into an aligned block; full blocks are written past the page cache on a thread of their own, so
//! hashing and writing overlap. When that thread is behind (disks stall for
//! hundreds of milliseconds now and then), a block goes through the page cache
//! on the hashing thread instead, so a stall costs some CPU rather than holding
//! up the upload. Frames are acknowledged without an fsync: bytes a crash loses are sent
//! again (the client asks how much is here), and bytes a crash damages fail the
//! whole-file check at the end. Only the complete file must be durable.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use bytes::Bytes;
use cairn_common::api::files::{FileRef, FileStatus};
use sha2::{Digest, Sha256};

use super::blobs::{BlobError, Blobs, FileKey, sync_dir};
use cairn_common::direct_io::{Block, BlockWriter};

/// Blocks per upload: one filling, one queued, one being written; memory per
/// upload stays these and the few frames queued before them.
const BLOCKS: usize = 3;
/// The files being uploaded, one upload each at a time.
pub(super) type Claims = Arc<Mutex<HashSet<FileKey>>>;
/// The whole-file hash of uploads that stopped before their end, as far as they
/// got, so the next one need not read the partial file back.
pub(super) type KeptHashes = Arc<Mutex<HashMap<FileKey, (u64, Sha256)>>>;

/// Uploads whose running hash is kept at most; beyond, they are rebuilt from disk.
const MAX_KEPT: usize = 4096;

/// The claim on one file's upload, given up when dropped.
pub(super) struct Claim {
    key: FileKey,
    claims: Claims,
}

impl Claim {
    /// Claims `key`; `None` while another upload holds it.
    pub(super) fn take(claims: &Claims, key: FileKey) -> Option<Self> {
        let mut held = claims.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(key.clone()).then(|| Self {
            key,
            claims: Arc::clone(claims),
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claims
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// Where an upload writes and ends up.
pub(super) struct Paths {
    pub partial: PathBuf,
    pub complete: PathBuf,
}

/// How [`Blobs::begin`] found the file.
pub enum Begun {
    /// The space has it already: nothing to send.
    Complete(FileStatus),
    /// Send the rest from the offset given.
    Writing(Box<Upload>),
}

/// An upload in progress; see the module doc. End it with [`Upload::finish`].
pub struct Upload {
    file: FileRef,
    paths: Paths,
    hasher: Sha256,
    received: u64,
    /// The block being filled; `None` once the upload stopped.
    block: Option<Block>,
    writer: Option<Writer>,
    /// Writes through the page cache while the writing thread is behind.
    spill: BlockWriter,
    kept: KeptHashes,
    claim: Claim,
}

/// The writing thread, its queue of full blocks and the empty ones it gives back.
struct Writer {
    full: SyncSender<Block>,
    empty: Receiver<Block>,
    thread: JoinHandle<io::Result<BlockWriter>>,
}

impl Writer {
    fn start(mut out: BlockWriter, at: u64) -> io::Result<(Self, Block)> {
        let (full, to_write) = sync_channel::<Block>(BLOCKS);
        let (written, empty) = sync_channel::<Block>(BLOCKS);
        for _ in 1..BLOCKS {
            written
                .send(Block::new(at))
                .map_err(|_| io::Error::other("the upload's queue closed"))?;
        }
        let thread = std::thread::Builder::new()
            .name("cairn-upload".into())
            .spawn(move || {
                for block in to_write {
                    out.write(&block)?;
                    // The filling side may be gone (it stopped): then so is the need.
                    let _ = written.send(block);
                }
                Ok(out)
            })?;
        Ok((
            Self {
                full,
                empty,
                thread,
            },
            Block::new(at),
        ))
    }

    /// Queues `block` and takes an empty one, if one is free: else gives `block`
    /// back. `None` if the thread ended.
    fn swap(&self, block: Block) -> Option<Result<Block, Block>> {
        match self.empty.try_recv() {
            Ok(empty) => {
                self.full.send(block).ok()?;
                Some(Ok(empty))
            }
            Err(TryRecvError::Empty) => Some(Err(block)),
            Err(TryRecvError::Disconnected) => None,
        }
    }

    /// Waits for everything queued to be written.
    fn stop(self) -> io::Result<BlockWriter> {
        drop(self.full);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the upload's writing thread panicked"))?
    }
}

impl Upload {
    fn start(
        file: FileRef,
        paths: Paths,
        (received, hasher): (u64, Sha256),
        kept: KeptHashes,
        claim: Claim,
    ) -> io::Result<Self> {
        let out = BlockWriter::open(&paths.partial, true)?;
        let spill = BlockWriter::open(&paths.partial, false)?;
        let (writer, block) = Writer::start(out, received)?;
        Ok(Self {
            file,
            paths,
            hasher,
            received,
            block: Some(block),
            writer: Some(writer),
            spill,
            kept,
            claim,
        })
    }

    /// Bytes of the file held, written or queued.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Appends a frame (its bytes in `parts`) if the file's SHA-256 up to its end
    /// is `sha256`.
    ///
    /// # Errors
    /// [`BlobError::PastEnd`], [`BlobError::FrameDamaged`] (nothing of it is
    /// kept), or a storage error.
    pub fn append(&mut self, parts: &[Bytes], sha256: &[u8; 32]) -> Result<(), BlobError> {
        let len: u64 = parts.iter().map(|p| p.len() as u64).sum();
        if self.received.saturating_add(len) > self.file.size {
            return Err(BlobError::PastEnd {
                size: self.file.size,
            });
        }
        let before = self.hasher.clone();
        for part in parts {
            self.hasher.update(part);
        }
        if self.hasher.clone().finalize().as_slice() != sha256 {
            self.hasher = before;
            return Err(BlobError::FrameDamaged);
        }
        for part in parts {
            self.fill(part)?;
        }
        self.received += len;
        Ok(())
    }

    /// Copies `data` into blocks, queueing the full ones.
    fn fill(&mut self, mut data: &[u8]) -> Result<(), BlobError> {
        while !data.is_empty() {
            let block = self.block.as_mut().ok_or_else(stopped)?;
            let n = block.fill(data);
            data = &data[n..];
            if block.is_full() {
                self.queue_block()?;
            }
        }
        Ok(())
    }

    /// Hands the block being filled to the writing thread and takes an empty one
    /// for the data after it; while the thread is behind, writes it here.
    fn queue_block(&mut self) -> Result<(), BlobError> {
        let (Some(block), Some(writer)) = (self.block.take(), self.writer.as_ref()) else {
            return Err(stopped().into());
        };
        let end = block.end();
        let mut next = match writer.swap(block) {
            Some(Ok(empty)) => empty,
            Some(Err(block)) => {
                self.spill.write(&block)?;
                block
            }
            None => return Err(self.writer_failed()),
        };
        next.reset(end);
        self.block = Some(next);
        Ok(())
    }

    /// Why the writing thread ended early.
    fn writer_failed(&mut self) -> BlobError {
        match self.writer.take().map(Writer::stop) {
            Some(Err(e)) => e.into(),
            _ => stopped().into(),
        }
    }

    /// Writes everything appended and stops the writing thread.
    fn write_all(&mut self) -> Result<BlockWriter, BlobError> {
        if let Some(block) = self.block.take().filter(|b| !b.is_empty()) {
            let writer = self.writer.as_ref().ok_or_else(stopped)?;
            if writer.full.send(block).is_err() {
                return Err(self.writer_failed());
            }
        }
        let writer = self.writer.take().ok_or_else(stopped)?;
        Ok(writer.stop()?)
    }

    /// Writes everything appended. With the whole file here, checks it against its
    /// SHA-256 and makes it complete (durably); else keeps the hash so far for the
    /// next upload of it.
    ///
    /// # Errors
    /// [`BlobError::FileDamaged`] (the partial file is deleted: the upload starts
    /// over), or a storage error.
    pub fn finish(mut self) -> Result<FileStatus, BlobError> {
        let out = self.write_all()?;
        let hasher = std::mem::take(&mut self.hasher);
        if self.received < self.file.size {
            keep(&self.kept, self.claim.key.clone(), self.received, hasher);
            return Ok(FileStatus {
                received: self.received,
                complete: false,
            });
        }
        out.sync()?;
        drop(out);
        let paths = &self.paths;
        if hex::encode(hasher.finalize()) != self.file.sha256 {
            fs::remove_file(&paths.partial)?;
            return Err(BlobError::FileDamaged);
        }
        if let Some(dir) = paths.partial.parent() {
            sync_dir(dir)?;
        }
        fs::rename(&paths.partial, &paths.complete)?;
        if let Some(dir) = paths.complete.parent() {
            sync_dir(dir)?;
        }
        Ok(FileStatus {
            received: self.file.size,
            complete: true,
        })
    }
}

fn stopped() -> io::Error {
    io::Error::other("the upload was stopped")
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Not finished (a panic, or the caller gave up): what was appended is
        // still written, so the file on disk is what the next status call reports.
        if self.writer.is_some() {
            let _ = self.write_all();
        }
    }
}

fn keep(kept: &KeptHashes, key: FileKey, at: u64, hasher: Sha256) {
    let mut map = kept.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_KEPT {
        map.clear();
    }
    map.insert(key, (at, hasher));
}

/// The kept hash state of `key` if it covers exactly `at` bytes (taken out).
pub(super) fn kept_hash(kept: &KeptHashes, key: &FileKey, at: u64) -> Option<Sha256> {
    let taken = kept
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(key);
    match taken {
        Some((held, hasher)) if held == at => Some(hasher),
        _ => None,
    }
}

impl Blobs {
    /// Starts (or resumes) the upload of `file` at `offset`, after every check
    /// that needs no content: the hash's form, the limits, the offset, and that no
    /// other upload of it is under way. Content the space already has is complete
    /// at once.
    ///
    /// # Errors
    /// See [`BlobError`]: limits, a wrong offset, a busy file, storage.
    pub fn begin(
        &self,
        file: &FileRef,
        offset: u64,
        limits: super::blobs::Limits,
    ) -> Result<Begun, BlobError> {
        let (space, sha256) = (file.space, file.sha256.as_str());
        if !cairn_common::api::files::is_sha256(sha256) {
            return Err(BlobError::BadHash);
        }
        if file.size > limits.max_file {
            return Err(BlobError::TooLarge {
                size: file.size,
                max: limits.max_file,
            });
        }
        let key = (space, sha256.to_owned());
        let claim = Claim::take(self.claims(), key.clone()).ok_or(BlobError::Busy)?;
        let status = self.status(space, sha256)?;
        if status.complete {
            return Ok(Begun::Complete(status));
        }
        if offset != status.received {
            return Err(BlobError::Offset {
                given: offset,
                held: status.received,
            });
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
        let paths = self.paths(space, sha256);
        if let Some(dir) = paths.partial.parent() {
            fs::create_dir_all(dir)?;
        }
        let hasher = match kept_hash(self.kept(), &key, offset) {
            Some(hasher) => hasher,
            None if offset == 0 => Sha256::new(),
            // After a restart: read back what is there.
            None => {
                let mut hasher = Sha256::new();
                io::copy(
                    &mut io::Read::take(fs::File::open(&paths.partial)?, offset),
                    &mut hasher,
                )?;
                hasher
            }
        };
        let upload = Upload::start(
            file.clone(),
            paths,
            (offset, hasher),
            Arc::clone(self.kept()),
            claim,
        )?;
        Ok(Begun::Writing(Box::new(upload)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Read;

    use cairn_common::api::files::{Framer, sha256_hex};
    use cairn_common::model::SpaceId;

    use super::*;
    use crate::files::blobs::Limits;

    const LIMITS: Limits = Limits {
        max_file: 1 << 20,
        max_space: 2 << 20,
    };

    /// Uploads `content`, the file's bytes from `offset` on (`before` being the
    /// ones before it), in frames of `frame` bytes, and finishes.
    fn send_frames(
        blobs: &Blobs,
        file: &FileRef,
        (before, content): (&[u8], &[u8]),
        frame: usize,
        limits: Limits,
    ) -> Result<FileStatus, BlobError> {
        let mut upload = match blobs.begin(file, before.len() as u64, limits)? {
            Begun::Complete(status) => return Ok(status),
            Begun::Writing(upload) => *upload,
        };
        let mut framer = Framer::after(Sha256::new().chain_update(before));
        for piece in content.chunks(frame) {
            let header = framer.header(piece).expect("small");
            upload.append(&[Bytes::copy_from_slice(piece)], &header.sha256)?;
        }
        upload.finish()
    }

    /// Uploads `content` (the whole file from its start) in frames of 7 bytes.
    pub(crate) fn send(
        blobs: &Blobs,
        file: &FileRef,
        content: &[u8],
        limits: Limits,
    ) -> Result<FileStatus, BlobError> {
        send_frames(blobs, file, (&[], content), 7, limits)
    }

    fn file_of(space: SpaceId, content: &[u8]) -> FileRef {
        FileRef {
            space,
            sha256: sha256_hex(content),
            size: content.len() as u64,
        }
    }

    /// Frames in order make a checked file; an upload that stops early is resumed
    /// where it stopped (after a restart too); a wrong offset says where to go on;
    /// the same bytes again are there at once.
    #[test]
    fn frames_make_a_checked_file() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let space = SpaceId::new();
        let content = b"hello, resumable world".to_vec();
        let file = file_of(space, &content);
        let (a, b) = content.split_at(9);
        let first = send(&blobs, &file, a, LIMITS).expect("first");
        assert_eq!(
            first,
            FileStatus {
                received: 9,
                complete: false
            }
        );
        assert_eq!(blobs.status(space, &file.sha256).expect("status"), first);
        assert!(matches!(
            send_frames(&blobs, &file, (&a[..3], &content[3..]), 7, LIMITS),
            Err(BlobError::Offset { held: 9, .. })
        ));
        // The server restarts: the hash so far is read from disk.
        let blobs = Blobs::new(dir.path().join("files"));
        let done = send_frames(&blobs, &file, (a, b), 7, LIMITS).expect("rest");
        assert!(done.complete);
        let (mut read, size) = blobs.open(space, &file.sha256).expect("open");
        let mut back = Vec::new();
        read.read_to_end(&mut back).expect("read");
        assert_eq!((back, size), (content.clone(), content.len() as u64));
        // Again: nothing to send.
        assert!(send(&blobs, &file, a, LIMITS).expect("again").complete);
        assert!(matches!(
            blobs.open(SpaceId::new(), &file.sha256),
            Err(BlobError::NotFound)
        ));
    }

    /// A frame whose bytes are not the ones its digest names is refused and
    /// nothing of it is kept, while the frames before it are (and the hash so far
    /// still fits them: the rest goes on); bytes past the file's size are refused;
    /// a whole file that is not the one named starts over.
    #[test]
    fn damage_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let space = SpaceId::new();
        let content = b"the real bytes of a file".to_vec();
        let file = file_of(space, &content);
        let Ok(Begun::Writing(mut upload)) = blobs.begin(&file, 0, LIMITS) else {
            panic!("begins");
        };
        let mut framer = Framer::new();
        let header = framer.header(&content[..5]).expect("header");
        upload
            .append(&[Bytes::copy_from_slice(&content[..5])], &header.sha256)
            .expect("first frame");
        let header = framer.header(&content[5..10]).expect("header");
        assert!(matches!(
            upload.append(&[Bytes::from_static(b"other")], &header.sha256),
            Err(BlobError::FrameDamaged)
        ));
        upload
            .append(&[Bytes::copy_from_slice(&content[5..10])], &header.sha256)
            .expect("the frame itself");
        let status = upload.finish().expect("finish");
        assert_eq!(status.received, 10);
        assert_eq!(blobs.status(space, &file.sha256).expect("status"), status);

        let too_much = [content.as_slice(), b"!"].concat();
        assert!(matches!(
            send_frames(&blobs, &file, (&content[..10], &too_much[10..]), 7, LIMITS),
            Err(BlobError::PastEnd { .. })
        ));
        let lie = FileRef {
            size: content.len() as u64,
            ..file_of(space, b"something else entirely")
        };
        assert!(matches!(
            send(&blobs, &lie, &content, LIMITS),
            Err(BlobError::FileDamaged)
        ));
        assert_eq!(
            blobs.status(space, &lie.sha256).expect("status").received,
            0
        );
    }

    /// An upload of many blocks from an unaligned offset gives the file's bytes,
    /// whether its blocks went past the page cache or (the writing thread behind)
    /// through it.
    #[test]
    fn many_blocks_give_the_bytes_sent() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let content: Vec<u8> = (0..(11 << 20) + 3u32).map(|n| (n % 241) as u8).collect();
        let file = file_of(SpaceId::new(), &content);
        let limits = Limits {
            max_file: 16 << 20,
            max_space: 16 << 20,
        };
        send(&blobs, &file, &content[..5], limits).expect("a head");
        let status = send_frames(&blobs, &file, content.split_at(5), 1 << 20, limits);
        assert!(status.expect("the rest").complete);
        let (mut read, _) = blobs.open(file.space, &file.sha256).expect("open");
        let mut back = Vec::new();
        read.read_to_end(&mut back).expect("read");
        assert!(back == content, "the same bytes");
    }

    /// While one upload of a file is under way, another is refused as busy; once
    /// it ends, the next goes on where it stopped.
    #[test]
    fn one_upload_per_file_at_a_time() {
        let dir = tempfile::tempdir().expect("dir");
        let blobs = Blobs::new(dir.path().join("files"));
        let content = vec![7u8; 100];
        let file = file_of(SpaceId::new(), &content);
        let Ok(Begun::Writing(first)) = blobs.begin(&file, 0, LIMITS) else {
            panic!("begins");
        };
        assert!(matches!(
            blobs.begin(&file, 0, LIMITS),
            Err(BlobError::Busy)
        ));
        drop(first);
        assert!(
            send(&blobs, &file, &content, LIMITS)
                .expect("then")
                .complete
        );
    }
}
