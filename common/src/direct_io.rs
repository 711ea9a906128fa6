//! File content past the page cache. File content is streamed once where it is
//! written (an upload on the server, a download into a device's cache) and once
//! where it is read (a download from the server, an upload from the cache), so
//! copying it through the page cache buys little and costs a copy per byte; on VMs whose host backs guest memory
//! lazily (this project's bench machine) first touches of fresh cache pages
//! dominated the upload (2.5 ms per MiB of kernel time against 0.6 ms to hash
//! it). [`BlockWriter`] writes aligned data with `O_DIRECT` where the file system
//! allows it (MinIO does the same for object data), and the unaligned head and
//! tail of a write through the page cache as usual; [`Reader`] reads aligned
//! blocks the same way. Anywhere `O_DIRECT` is refused, both work the usual way.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::{Buf, Bytes, BytesMut};

/// Alignment of `O_DIRECT` buffers, offsets and lengths: the largest logical
/// block size of common devices.
const ALIGN: usize = 4096;
/// Bytes of a [`Block`].
pub const BLOCK: usize = 2 << 20;

/// A buffer of [`BLOCK`] bytes whose start is [`ALIGN`]ed (safely: a larger
/// vector, used from its first aligned byte; it never grows, so never moves).
struct AlignedBuffer {
    bytes: Vec<u8>,
    start: usize,
}

impl AlignedBuffer {
    fn new() -> Self {
        let bytes = vec![0u8; BLOCK + ALIGN];
        let start = bytes.as_ptr().align_offset(ALIGN);
        Self { bytes, start }
    }

    fn get(&self) -> &[u8] {
        &self.bytes[self.start..self.start + BLOCK]
    }

    fn get_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..self.start + BLOCK]
    }
}

/// Content bound for one place of a file: an aligned buffer standing for the
/// file's bytes from `base` (aligned) on, holding data in `start..end`. Buffer
/// and file being aligned alike, whatever part of the data lies on aligned
/// offsets goes out direct, from any offset an upload resumes at.
pub struct Block {
    buffer: AlignedBuffer,
    base: u64,
    start: usize,
    end: usize,
}

impl Block {
    /// An empty block for data from file offset `at` on.
    #[must_use]
    pub fn new(at: u64) -> Self {
        let mut block = Self {
            buffer: AlignedBuffer::new(),
            base: 0,
            start: 0,
            end: 0,
        };
        block.reset(at);
        block
    }

    /// Empties the block for data from file offset `at` on.
    pub fn reset(&mut self, at: u64) {
        let skip = offset_in_block(at);
        self.base = at - skip as u64;
        self.start = skip;
        self.end = skip;
    }

    /// Copies as much of `data` as fits; how much.
    pub fn fill(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(BLOCK - self.end);
        self.buffer.get_mut()[self.end..self.end + n].copy_from_slice(&data[..n]);
        self.end += n;
        n
    }

    #[must_use]
    pub fn is_full(&self) -> bool {
        self.end == BLOCK
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The file offset just after the data.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.base + self.end as u64
    }
}

/// Writes [`Block`]s to a file (see the module doc).
pub struct BlockWriter {
    /// The same file opened with `O_DIRECT`; `None` where that is refused.
    direct: Option<File>,
    plain: File,
}

impl BlockWriter {
    /// Writes into `path` (created if need be, never truncated); with `direct`
    /// false, or where the file system refuses `O_DIRECT`, through the page cache.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path, direct: bool) -> io::Result<Self> {
        let plain = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let direct = if direct { open_direct(path) } else { None };
        Ok(Self { direct, plain })
    }

    /// Whether aligned data goes past the page cache.
    #[must_use]
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Writes the data of `block` where it belongs: its aligned middle direct,
    /// its unaligned ends through the page cache.
    ///
    /// # Errors
    /// A write error.
    pub fn write(&mut self, block: &Block) -> io::Result<()> {
        let data = block.buffer.get();
        let (start, end) = (block.start, block.end);
        let at = |index: usize| block.base + index as u64;
        let Some(direct) = self.direct.as_ref() else {
            return self.plain.write_all_at(&data[start..end], at(start));
        };
        let middle = start.next_multiple_of(ALIGN).min(end);
        let tail = (end / ALIGN * ALIGN).max(middle);
        self.plain.write_all_at(&data[start..middle], at(start))?;
        match direct.write_all_at(&data[middle..tail], at(middle)) {
            Ok(()) => {}
            // A file system that opens with O_DIRECT but refuses the write (its
            // blocks larger than ours): the usual way from now on.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                self.plain.write_all_at(&data[middle..tail], at(middle))?;
                self.direct = None;
            }
            Err(e) => return Err(e),
        }
        self.plain.write_all_at(&data[tail..end], at(tail))
    }

    /// Makes the data written durable.
    ///
    /// # Errors
    /// A sync error.
    pub fn sync(&self) -> io::Result<()> {
        self.plain.sync_data()
    }
}

/// A [`Write`](io::Write) that appends to a file through a [`BlockWriter`]: bytes
/// gather in a [`Block`] and go out a whole block at a time. Dropped unfinished
/// (a transfer broken off), it writes what it still holds, as far as it can.
pub struct DirectWriter {
    out: BlockWriter,
    block: Block,
}

impl DirectWriter {
    /// Writes into `path` from byte `at` on (created if need be, never
    /// truncated); past the page cache where the file system allows it.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path, at: u64) -> io::Result<Self> {
        Ok(Self {
            out: BlockWriter::open(path, true)?,
            block: Block::new(at),
        })
    }

    /// Writes what it holds and makes the file's data durable.
    ///
    /// # Errors
    /// A write or sync error.
    pub fn sync(&mut self) -> io::Result<()> {
        self.write_block()?;
        self.out.sync()
    }

    fn write_block(&mut self) -> io::Result<()> {
        if !self.block.is_empty() {
            self.out.write(&self.block)?;
        }
        self.block.reset(self.block.end());
        Ok(())
    }
}

impl io::Write for DirectWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut data = buf;
        while !data.is_empty() {
            let n = self.block.fill(data);
            data = &data[n..];
            if self.block.is_full() {
                self.write_block()?;
            }
        }
        Ok(buf.len())
    }

    /// Writes what it holds (a part-full block too).
    fn flush(&mut self) -> io::Result<()> {
        self.write_block()
    }
}

impl Drop for DirectWriter {
    fn drop(&mut self) {
        // Best effort: the caller learns of errors from `flush` or `sync`.
        let _ = self.write_block();
    }
}

/// Writes all of the file at `from` to `to`, read past the page cache.
///
/// # Errors
/// A read or write error.
pub fn copy_into(from: &Path, to: &mut (impl io::Write + ?Sized)) -> io::Result<u64> {
    let mut reader = Reader::open(from, 0, true)?;
    let mut copied = 0;
    while let Some(block) = reader.next_block()? {
        io::Write::write_all(to, &block)?;
        copied += block.len() as u64;
    }
    Ok(copied)
}

/// Reads a file from an offset to its end in blocks of `READ` bytes (see the
/// module doc), each its own [`Bytes`] that can be handed on without a copy.
pub struct Reader {
    file: File,
    path: PathBuf,
    direct: bool,
    /// Where the next read starts: aligned while reading direct.
    at: u64,
    /// Bytes of the next block before the offset asked for.
    skip: usize,
}

impl Reader {
    /// Bytes per block: large, because direct reads get no read-ahead.
    pub const READ: usize = 1 << 20;

    /// `path` from byte `from` on; with `direct` false, or where `O_DIRECT` is
    /// refused, through the page cache.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path, from: u64, direct: bool) -> io::Result<Self> {
        if direct && let Some(file) = open_direct_read(path) {
            let skip = offset_in_block(from);
            return Ok(Self {
                file,
                path: path.to_owned(),
                direct: true,
                at: from - skip as u64,
                skip,
            });
        }
        Ok(Self {
            file: File::open(path)?,
            path: path.to_owned(),
            direct: false,
            at: from,
            skip: 0,
        })
    }

    /// The next block; `None` at the end of the file.
    ///
    /// # Errors
    /// A read error.
    pub fn next_block(&mut self) -> io::Result<Option<Bytes>> {
        let mut block = BytesMut::zeroed(Self::READ + ALIGN);
        // Safely aligned: drop the bytes before the first aligned one.
        block.advance(block.as_ptr().align_offset(ALIGN));
        block.truncate(Self::READ);
        let n = match self.file.read_at(&mut block, self.at) {
            Ok(n) => n,
            Err(e) if self.direct && e.kind() == io::ErrorKind::InvalidInput => {
                // Opened direct but refused: the usual way from here (the
                // block's start moves to the offset asked for).
                self.file = File::open(&self.path)?;
                self.direct = false;
                self.at += self.skip as u64;
                self.skip = 0;
                return self.next_block();
            }
            Err(e) => return Err(e),
        };
        if n <= self.skip {
            return Ok(None);
        }
        block.truncate(n);
        block.advance(self.skip);
        self.at += n as u64;
        self.skip = 0;
        Ok(Some(block.freeze()))
    }
}

fn offset_in_block(at: u64) -> usize {
    // The remainder is below ALIGN, so it fits.
    usize::try_from(at % ALIGN as u64).unwrap_or(0)
}

/// `path` opened by `options` with `O_DIRECT` added; `None` where that is
/// refused (tmpfs and some network file systems answer EINVAL) or not Linux.
#[cfg(target_os = "linux")]
fn with_direct(path: &Path, options: &mut OpenOptions) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_DIRECT).open(path).ok()
}

#[cfg(not(target_os = "linux"))]
fn with_direct(_: &Path, _: &mut OpenOptions) -> Option<File> {
    None
}

fn open_direct(path: &Path) -> Option<File> {
    with_direct(path, OpenOptions::new().write(true))
}

fn open_direct_read(path: &Path) -> Option<File> {
    with_direct(path, OpenOptions::new().read(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|n| (n as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Appends `data` at `block.end()` through `out`, block by block.
    fn append(out: &mut BlockWriter, block: &mut Block, mut data: &[u8]) {
        while !data.is_empty() {
            let n = block.fill(data);
            data = &data[n..];
            if block.is_full() {
                out.write(block).expect("write");
                block.reset(block.end());
            }
        }
    }

    /// Appends of every shape (unaligned starts, pieces across blocks, blocks
    /// written part full, a file resumed at an unaligned offset) give the same
    /// bytes, direct or not.
    #[test]
    fn appends_give_the_bytes_written() {
        for direct in [true, false] {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("partial");
            let mut expected = Vec::new();
            let mut out = BlockWriter::open(&path, direct).expect("open");
            assert!(direct || !out.is_direct());
            let mut block = Block::new(0);
            for (n, len) in [1, 4095, 5000, BLOCK + 3, 7, BLOCK - 10, 2 * ALIGN]
                .into_iter()
                .enumerate()
            {
                let piece = pattern(len, n as u8);
                append(&mut out, &mut block, &piece);
                expected.extend_from_slice(&piece);
                if n == 3 {
                    out.write(&block).expect("write");
                    block.reset(block.end());
                    assert_eq!(std::fs::read(&path).expect("read"), expected);
                }
            }
            out.write(&block).expect("write");
            out.sync().expect("sync");
            drop(out);
            let mut out = BlockWriter::open(&path, direct).expect("again");
            let mut block = Block::new(expected.len() as u64);
            let piece = pattern(BLOCK + ALIGN + 1, 9);
            append(&mut out, &mut block, &piece);
            expected.extend_from_slice(&piece);
            out.write(&block).expect("write");
            assert_eq!(
                std::fs::read(&path).expect("read"),
                expected,
                "direct: {direct}"
            );
        }
    }

    /// A [`DirectWriter`] appends from any offset, in pieces of any size, and
    /// [`copy_into`] appends a whole file to it.
    #[test]
    fn direct_writers_append_and_copy() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("copy");
        let mut expected = pattern(5000, 1);
        std::fs::write(&path, &expected).expect("write");
        let mut writer = DirectWriter::open(&path, 5000).expect("open");
        for (n, len) in [1, 4095, BLOCK + 9, 3].into_iter().enumerate() {
            let piece = pattern(len, n as u8);
            io::Write::write_all(&mut writer, &piece).expect("write");
            expected.extend_from_slice(&piece);
        }
        let source = dir.path().join("source");
        let more = pattern(Reader::READ + 77, 5);
        std::fs::write(&source, &more).expect("write");
        assert_eq!(
            copy_into(&source, &mut writer).expect("copy"),
            more.len() as u64
        );
        expected.extend_from_slice(&more);
        writer.sync().expect("sync");
        assert_eq!(std::fs::read(&path).expect("read"), expected);

        // Dropped unfinished, it keeps what it was given.
        let mut writer = DirectWriter::open(&path, expected.len() as u64).expect("again");
        io::Write::write_all(&mut writer, b"tail").expect("write");
        drop(writer);
        expected.extend_from_slice(b"tail");
        assert_eq!(std::fs::read(&path).expect("read"), expected);
    }

    /// Reading from any offset, direct or not, gives the bytes from there to the
    /// end in blocks of at most [`Reader::READ`].
    #[test]
    fn reads_give_the_bytes_from_an_offset() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("complete");
        let content = pattern(2 * Reader::READ + 5000, 3);
        std::fs::write(&path, &content).expect("write");
        for direct in [true, false] {
            for from in [
                0,
                1,
                4095,
                4096,
                Reader::READ + 7,
                content.len(),
                content.len() + 9,
            ] {
                let mut reader = Reader::open(&path, from as u64, direct).expect("open");
                let mut back = Vec::new();
                while let Some(block) = reader.next_block().expect("read") {
                    assert!(!block.is_empty() && block.len() <= Reader::READ);
                    back.extend_from_slice(&block);
                }
                let expected = content.get(from..).unwrap_or_default();
                assert_eq!(back, expected, "from {from}, direct: {direct}");
            }
        }
    }
}
