//! A backup on disk: a directory `BACKUPS/ID/` holding `data` and `manifest.json`.
//!
//! `data` starts with [`DATA_MAGIC`] and a big-endian `u16` version, then records:
//! - `T` tree entry: `u16` name length, name, `u32` key length, key, `u32` value
//!   length, value (the store's bytes, verbatim);
//! - `O` op: 16 bytes space id, `u64` seq, `u32` length, the op as the store holds
//!   it ([`cairn_common::codec`]);
//! - `E` end: `u64` count of the records before it. Nothing may follow.
//!
//! All integers are big-endian. `manifest.json` says what the backup holds (per
//! space the seq of the cut and the op count, per tree the entry count) and the
//! size and SHA-256 of `data`, so a flipped or missing byte is found.

use std::io::{self, Read, Write};

use cairn_common::model::SpaceId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first bytes of a backup's data file.
pub const DATA_MAGIC: &[u8; 12] = b"CAIRN-BACKUP";
/// The format of data file and manifest; bump on any incompatible change.
pub const FORMAT_VERSION: u16 = 1;
/// The data file's name inside a backup.
pub const DATA_FILE: &str = "data";
/// The manifest's name inside a backup.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Longest key or value a backup record may claim (a damaged length must not
/// allocate gigabytes).
pub const MAX_VALUE_BYTES: u32 = cairn_common::codec::DECODE_LIMIT as u32;

const TREE: u8 = b'T';
const OP: u8 = b'O';
const END: u8 = b'E';

/// What a backup holds and how to check it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `cairn-backup`.
    pub format: String,
    pub version: u16,
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_at_ms: u64,
    pub server_version: String,
    pub files: Vec<FileSum>,
    pub ops: u64,
    pub spaces: Vec<SpaceCut>,
    pub trees: Vec<TreeCount>,
}

/// Size and checksum of one file of a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// One space at the cut: its last seq then, and how many ops the backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceCut {
    pub space: SpaceId,
    pub seq: u64,
    pub ops: u64,
}

/// How many entries of a tree the backup holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeCount {
    pub tree: String,
    pub entries: u64,
}

impl Manifest {
    pub const FORMAT: &'static str = "cairn-backup";

    /// The users in the backup.
    pub fn users(&self) -> u64 {
        self.trees
            .iter()
            .find(|t| t.tree == "users")
            .map_or(0, |t| t.entries)
    }

    /// The bytes of all its files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// The records of its data file: tree entries and ops.
    pub fn records(&self) -> u64 {
        self.trees.iter().map(|t| t.entries).sum::<u64>() + self.ops
    }
}

/// One record of a data file.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    Tree {
        name: String,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Op {
        space: SpaceId,
        seq: u64,
        bytes: Vec<u8>,
    },
}

/// A writer that hashes and counts what passes through.
pub struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the hex SHA-256 of what was written.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hash.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn len32(len: usize) -> io::Result<[u8; 4]> {
    u32::try_from(len)
        .ok()
        .filter(|n| *n <= MAX_VALUE_BYTES)
        .map(u32::to_be_bytes)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a value too large to back up"))
}

/// Writes a data file record by record.
pub struct DataWriter<W: Write> {
    out: W,
    records: u64,
}

impl<W: Write> DataWriter<W> {
    /// Writes the header.
    ///
    /// # Errors
    /// The write's I/O error.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(DATA_MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_be_bytes())?;
        Ok(DataWriter { out, records: 0 })
    }

    /// # Errors
    /// The write's I/O error, or a key or value over [`MAX_VALUE_BYTES`].
    pub fn tree_entry(&mut self, name: &str, key: &[u8], value: &[u8]) -> io::Result<()> {
        let name_len = u16::try_from(name.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a tree name too long"))?;
        self.out.write_all(&[TREE])?;
        self.out.write_all(&name_len.to_be_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&len32(key.len())?)?;
        self.out.write_all(key)?;
        self.out.write_all(&len32(value.len())?)?;
        self.out.write_all(value)?;
        self.records += 1;
        Ok(())
    }

    /// # Errors
    /// The write's I/O error, or an op over [`MAX_VALUE_BYTES`].
    pub fn op(&mut self, space: SpaceId, seq: u64, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(&[OP])?;
        self.out.write_all(space.as_bytes())?;
        self.out.write_all(&seq.to_be_bytes())?;
        self.out.write_all(&len32(bytes.len())?)?;
        self.out.write_all(bytes)?;
        self.records += 1;
        Ok(())
    }

    /// Writes the end record and returns the writer.
    ///
    /// # Errors
    /// The write's I/O error.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[END])?;
        self.out.write_all(&self.records.to_be_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn damaged(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("damaged data file: {what}"),
    )
}

/// Reads a data file record by record; checks the header, the lengths and the end.
pub struct DataReader<R: Read> {
    input: R,
    records: u64,
    ended: bool,
}

impl<R: Read> DataReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// Not a backup data file, another format version, or an I/O error.
    pub fn new(mut input: R) -> io::Result<Self> {
        let mut magic = [0u8; 12];
        input
            .read_exact(&mut magic)
            .map_err(|_| damaged("too short for a header"))?;
        if &magic != DATA_MAGIC {
            return Err(damaged("not a Cairn backup (wrong magic bytes)"));
        }
        let version = u16::from_be_bytes(read_array(&mut input)?);
        if version != FORMAT_VERSION {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the backup has format {version}, this cairn-server reads format \
                     {FORMAT_VERSION}; use the cairn-server version that wrote it"
                ),
            ));
        }
        Ok(DataReader {
            input,
            records: 0,
            ended: false,
        })
    }

    /// The next record; `None` after the end record (which must be the last bytes).
    ///
    /// # Errors
    /// Damaged or truncated data, or an I/O error.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        if self.ended {
            return Ok(None);
        }
        let [tag] = read_array::<1>(&mut self.input)?;
        let record = match tag {
            TREE => {
                let name_len = u16::from_be_bytes(read_array(&mut self.input)?);
                let name = String::from_utf8(read_vec(&mut self.input, u32::from(name_len))?)
                    .map_err(|_| damaged("a tree name is not UTF-8"))?;
                let key_len = u32::from_be_bytes(read_array(&mut self.input)?);
                let key = read_vec(&mut self.input, key_len)?;
                let value_len = u32::from_be_bytes(read_array(&mut self.input)?);
                let value = read_vec(&mut self.input, value_len)?;
                Record::Tree { name, key, value }
            }
            OP => {
                let space = SpaceId::from_bytes(read_array(&mut self.input)?);
                let seq = u64::from_be_bytes(read_array(&mut self.input)?);
                let len = u32::from_be_bytes(read_array(&mut self.input)?);
                let bytes = read_vec(&mut self.input, len)?;
                Record::Op { space, seq, bytes }
            }
            END => {
                let count = u64::from_be_bytes(read_array(&mut self.input)?);
                if count != self.records {
                    return Err(damaged(format_args!(
                        "the end record counts {count} records, the file holds {}",
                        self.records
                    )));
                }
                let mut rest = [0u8; 1];
                if self.input.read(&mut rest)? != 0 {
                    return Err(damaged("bytes after the end record"));
                }
                self.ended = true;
                return Ok(None);
            }
            other => return Err(damaged(format_args!("unknown record tag {other:#04x}"))),
        };
        self.records += 1;
        Ok(Some(record))
    }
}

fn read_array<const N: usize>(input: &mut impl Read) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    input.read_exact(&mut buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            damaged("truncated (no end record)")
        } else {
            e
        }
    })?;
    Ok(buf)
}

fn read_vec(input: &mut impl Read, len: u32) -> io::Result<Vec<u8>> {
    if len > MAX_VALUE_BYTES {
        return Err(damaged(format_args!("a length of {len} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    input.read_exact(&mut buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            damaged("truncated (no end record)")
        } else {
            e
        }
    })?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records survive the round trip; truncation and trailing bytes are refused.
    #[test]
    fn data_round_trip_and_damage() {
        let space = SpaceId::new();
        let mut w = DataWriter::new(Vec::new()).expect("header");
        w.tree_entry("users", b"k", b"v").expect("tree");
        w.op(space, 7, b"op-bytes").expect("op");
        let bytes = w.finish().expect("end");
        let mut r = DataReader::new(bytes.as_slice()).expect("header");
        assert_eq!(
            r.next_record().expect("first"),
            Some(Record::Tree {
                name: "users".into(),
                key: b"k".to_vec(),
                value: b"v".to_vec()
            })
        );
        assert_eq!(
            r.next_record().expect("second"),
            Some(Record::Op {
                space,
                seq: 7,
                bytes: b"op-bytes".to_vec()
            })
        );
        assert_eq!(r.next_record().expect("end"), None);

        let read_all = |b: &[u8]| -> io::Result<()> {
            let mut r = DataReader::new(b)?;
            while r.next_record()?.is_some() {}
            Ok(())
        };
        assert!(read_all(&bytes[..bytes.len() - 1]).is_err(), "truncated");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_all(&longer).is_err(), "trailing byte");
        let mut foreign = bytes;
        foreign[0] = b'X';
        assert!(read_all(&foreign).is_err(), "wrong magic");
    }
}
