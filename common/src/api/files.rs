//! Wire types of file content. A file's metadata is a record (kind `file`) that
//! syncs with the ops; its content is addressed by its space and SHA-256 and moves
//! through three calls:
//!
//! - [`endpoints::FilesStatus`](super::endpoints::FilesStatus): how much of a file
//!   the server holds (to resume an upload, or to skip it: the space has it);
//! - `POST` [`FILE_UPLOAD`](super::endpoints::FILE_UPLOAD)`?space=…&sha256=…&size=…&offset=…`:
//!   one chunk of at most [`MAX_CHUNK_BYTES`] as the raw body, its SHA-256 in
//!   [`CHUNK_SHA256_HEADER`]; chunks go in order, and the server checks each one
//!   and, after the last, the whole file;
//! - `GET` [`FILE_DOWNLOAD`](super::endpoints::FILE_DOWNLOAD)`?space=…&sha256=…`,
//!   with `Range: bytes=N-` to resume: the content as `application/octet-stream`.
//!
//! Content is shared only within a space: the same bytes in two spaces are two
//! files, so asking one space says nothing about another. A non-member gets the
//! same 404 as for content that does not exist.

use serde::{Deserialize, Serialize};

use crate::model::SpaceId;

/// Largest chunk of one upload request.
pub const MAX_CHUNK_BYTES: u64 = 8 << 20;
/// The header with a chunk's SHA-256 (64 hex digits).
pub const CHUNK_SHA256_HEADER: &str = "x-cairn-chunk-sha256";

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
    /// Bytes received so far: the next chunk starts here.
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
