//! Wire types of file content. A file's metadata is a record (kind `file`) that
//! syncs with the ops; its content is addressed by its space and SHA-256 and moves
//! through three calls:
//!
//! - [`endpoints::FilesStatus`](super::endpoints::FilesStatus): how much of a file
//!   the server holds (to resume an upload, or to skip it: the space has it);
//! - `POST` [`FILE_UPLOAD`](super::endpoints::FILE_UPLOAD)`?space=…&sha256=…&size=…&offset=…`:
//!   the content from `offset` on as one streamed body of frames, each a
//!   [`FrameHeader`] (its length, and the SHA-256 of the file up to its end) and
//!   at most [`MAX_FRAME_BYTES`] of content; the server checks each frame before
//!   it keeps it, the last one against the whole file's SHA-256. A request may
//!   stop after any whole frame; the answer says how much is kept;
//! - `GET` [`FILE_DOWNLOAD`](super::endpoints::FILE_DOWNLOAD)`?space=…&sha256=…`,
//!   with `Range: bytes=N-` to resume: the content as `application/octet-stream`.
//!
//! Content is shared only within a space: the same bytes in two spaces are two
//! files, so asking one space says nothing about another. A non-member gets the
//! same 404 as for content that does not exist.

use serde::{Deserialize, Serialize};

use crate::model::SpaceId;

/// Largest frame of an upload body, in bytes of content.
pub const MAX_FRAME_BYTES: u32 = 4 << 20;
/// The frame size the client sends: large enough that a frame's header and its
/// hand-offs cost nothing, small enough that the frames in flight stay a few MiB.
pub const FRAME_BYTES: u32 = 1 << 20;

/// The header of one frame of an upload body: the content's length (4 bytes,
/// big-endian) and the SHA-256 of the file's bytes from its start to the end of
/// this frame (32 bytes); the content follows.
///
/// Why the prefix and not the frame alone: the server keeps the whole file's
/// hash running anyway, so checking a frame costs it one hash of the frame's bytes,
/// not two; and a client that hashed the file once (when it was added) knows the
/// digests at every frame boundary without hashing again. The last frame's digest
/// is the file's own SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub len: u32,
    pub sha256: [u8; 32],
}

impl FrameHeader {
    /// Bytes of a header on the wire.
    pub const BYTES: usize = 36;

    #[must_use]
    pub fn encode(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..4].copy_from_slice(&self.len.to_be_bytes());
        out[4..].copy_from_slice(&self.sha256);
        out
    }

    #[must_use]
    pub fn decode(bytes: &[u8; Self::BYTES]) -> Self {
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[..4]);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&bytes[4..]);
        Self {
            len: u32::from_be_bytes(len),
            sha256,
        }
    }
}

/// Makes the headers of a file's frames by hashing them in order.
#[derive(Clone, Debug, Default)]
pub struct Framer {
    hasher: sha2::Sha256,
}

impl Framer {
    /// For frames from the file's start.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// For frames after the bytes `before` already fed (a resumed upload).
    #[must_use]
    pub fn after(before: sha2::Sha256) -> Self {
        Self { hasher: before }
    }

    /// The header of the next frame, `content`; `None` past [`MAX_FRAME_BYTES`].
    #[must_use]
    pub fn header(&mut self, content: &[u8]) -> Option<FrameHeader> {
        use sha2::Digest as _;
        let len = u32::try_from(content.len())
            .ok()
            .filter(|n| *n <= MAX_FRAME_BYTES)?;
        self.hasher.update(content);
        Some(FrameHeader {
            len,
            sha256: self.hasher.clone().finalize().into(),
        })
    }
}

/// Bytes of an upload body carrying a file of `size` bytes from byte `from` on,
/// in frames that end at the multiples of `frame` and at the file's end, as its
/// `Content-Length` says. (Frames so placed end where a client that hashed the
/// file in steps of `frame` knows the digests.)
#[must_use]
pub fn framed_len(from: u64, size: u64, frame: u32) -> u64 {
    if from >= size {
        return 0;
    }
    let frame = u64::from(frame.max(1));
    let frames = (size - 1) / frame - from / frame + 1;
    size - from + frames * FrameHeader::BYTES as u64
}

/// A file's content: in `space`, `size` bytes with this SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub space: SpaceId,
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub size: u64,
}

impl FileRef {
    /// The query string of the upload and download calls (`space=…&sha256=…&size=…`).
    #[must_use]
    pub fn query(&self) -> String {
        format!(
            "space={}&sha256={}&size={}",
            self.space, self.sha256, self.size
        )
    }
}

/// How much of a file the server holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    /// Bytes received so far: the next upload starts here.
    pub received: u64,
    /// The whole file is there and checked.
    pub complete: bool,
}

/// The SHA-256 of `bytes` as the protocol writes it.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The SHA-256 of everything `reader` gives, read in blocks of 1 MiB.
///
/// # Errors
/// A read error.
pub fn sha256_of(mut reader: impl std::io::Read) -> std::io::Result<String> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The entries of `dir`; none if it does not exist (yet). Server and client keep
/// content the same way, `<root>/<space>/<sha256>`, and read it with this.
///
/// # Errors
/// `dir` exists but cannot be read.
pub fn entries_of(dir: &std::path::Path) -> std::io::Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The spaces with a directory under `root`, by id.
///
/// # Errors
/// `root` exists but cannot be read.
pub fn space_dirs(root: &std::path::Path) -> std::io::Result<Vec<SpaceId>> {
    let mut out: Vec<SpaceId> = entries_of(root)?
        .iter()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<uuid::Uuid>().ok())
        .map(SpaceId)
        .collect();
    out.sort();
    Ok(out)
}

/// Whether `text` is a SHA-256 as the protocol writes it: 64 lowercase hex digits.
#[must_use]
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header reads back as written, in network byte order; each names its
    /// frame's length and the SHA-256 of the file up to its end, the last one the
    /// file's own; content over the limit has none.
    #[test]
    fn frame_headers_name_the_file_so_far() {
        let mut framer = Framer::new();
        let first = framer.header(b"some ").expect("small");
        let bytes = first.encode();
        assert_eq!(&bytes[..4], &[0, 0, 0, 5]);
        assert_eq!(hex::encode(&bytes[4..]), sha256_hex(b"some "));
        assert_eq!(FrameHeader::decode(&bytes), first);
        let last = framer.header(b"content").expect("small");
        assert_eq!(hex::encode(last.sha256), sha256_hex(b"some content"));
        let too_big = vec![0u8; MAX_FRAME_BYTES as usize + 1];
        assert_eq!(framer.header(&too_big), None);
    }

    /// The body length counts one header per frame: a first frame up to the next
    /// multiple, whole ones, and a shorter last one.
    #[test]
    fn framed_lengths() {
        assert_eq!(framed_len(0, 0, 10), 0);
        assert_eq!(framed_len(0, 10, 10), 46);
        assert_eq!(framed_len(0, 11, 10), 11 + 72);
        assert_eq!(framed_len(5, 20, 10), 15 + 72);
        assert_eq!(framed_len(10, 20, 10), 10 + 36);
        assert_eq!(framed_len(20, 20, 10), 0);
    }
}
