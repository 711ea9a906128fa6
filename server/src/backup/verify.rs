//! Reading a backup back: the manifest, the checksums, and every record decoded and
//! checked against the manifest. Used after writing a backup, by `backup verify`,
//! and by restore (which loads what it checks).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use cairn_common::codec;
use cairn_common::model::{Space, SpaceId};
use cairn_common::op::Op;
use cairn_common::progress::{Report, Unit};

use super::BackupError;
use super::format::{DATA_FILE, DataReader, FORMAT_VERSION, MANIFEST_FILE, Manifest, Record};
use crate::store::UserRecord;

/// Largest manifest read (one line per space: large licensees have many spaces).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// A record that decoded and fits the manifest.
pub enum Checked {
    Tree {
        name: String,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Op {
        seq: u64,
        op: Op,
        bytes: Vec<u8>,
    },
}

/// Reads and checks the manifest of the backup in `dir`.
///
/// # Errors
/// [`BackupError::Damaged`] if it is missing, unreadable or of another format.
pub fn read_manifest(dir: &Path, id: &str) -> Result<Manifest, BackupError> {
    let path = dir.join(MANIFEST_FILE);
    let mut text = String::new();
    File::open(&path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES).read_to_string(&mut text))
        .map_err(|e| BackupError::damaged(id, format_args!("cannot read its manifest: {e}")))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| BackupError::damaged(id, format_args!("its manifest is damaged: {e}")))?;
    if manifest.format != Manifest::FORMAT || manifest.version != FORMAT_VERSION {
        return Err(BackupError::damaged(
            id,
            format_args!(
                "it is {} version {}, this cairn-server reads {} version {FORMAT_VERSION}",
                manifest.format,
                manifest.version,
                Manifest::FORMAT
            ),
        ));
    }
    if manifest.id != id {
        return Err(BackupError::damaged(
            id,
            format_args!("its manifest names backup {}", manifest.id),
        ));
    }
    Ok(manifest)
}

/// A reader that reports the bytes read (once per buffered read, so cheap).
struct Counting<'a, R> {
    inner: R,
    progress: &'a dyn Report,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

/// Checks size and SHA-256 of every file the manifest lists, as a step `what`
/// of `progress` counting bytes.
///
/// # Errors
/// [`BackupError::Damaged`] naming the first file that differs.
pub fn check_sums(
    dir: &Path,
    manifest: &Manifest,
    what: &str,
    progress: &dyn Report,
) -> Result<(), BackupError> {
    progress.step(what, Some(manifest.bytes()), Unit::Bytes);
    let id = &manifest.id;
    if !manifest.files.iter().any(|f| f.name == DATA_FILE) {
        return Err(BackupError::damaged(id, "its manifest lists no data file"));
    }
    for file in &manifest.files {
        if file.name.contains(['/', '\\']) || file.name.starts_with('.') {
            return Err(BackupError::damaged(
                id,
                "its manifest names a file outside it",
            ));
        }
        let path = dir.join(&file.name);
        let opened = File::open(&path).map_err(|e| {
            BackupError::damaged(id, format_args!("cannot read {}: {e}", file.name))
        })?;
        let mut hashing = super::format::Hashing::new(std::io::sink());
        let mut counting = Counting {
            inner: BufReader::with_capacity(1 << 20, opened),
            progress,
        };
        std::io::copy(&mut counting, &mut hashing).map_err(|e| {
            BackupError::damaged(id, format_args!("cannot read {}: {e}", file.name))
        })?;
        let (_, bytes, sha256) = hashing.finish();
        if bytes != file.bytes || sha256 != file.sha256 {
            return Err(BackupError::damaged(
                id,
                format_args!(
                    "{} does not match its checksum ({bytes} bytes, SHA-256 {sha256}; the \
                     manifest says {} bytes, {})",
                    file.name, file.bytes, file.sha256
                ),
            ));
        }
    }
    Ok(())
}

/// Decodes every record of the data file, checks it against the manifest, and
/// hands it to `each`; a step `what` of `progress` counting the records.
///
/// # Errors
/// [`BackupError::Damaged`] for a record that does not decode or does not fit, or
/// the error of `each`.
pub fn walk(
    dir: &Path,
    manifest: &Manifest,
    what: &str,
    progress: &dyn Report,
    mut each: impl FnMut(Checked) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    progress.step(what, Some(manifest.records()), Unit::Items);
    let id = manifest.id.as_str();
    let bad = |reason: &dyn std::fmt::Display| BackupError::damaged(id, reason);
    let file = File::open(dir.join(DATA_FILE))
        .map_err(|e| bad(&format_args!("cannot read {DATA_FILE}: {e}")))?;
    let mut reader =
        DataReader::new(BufReader::with_capacity(1 << 20, file)).map_err(|e| bad(&e))?;
    let cuts: HashMap<SpaceId, u64> = manifest.spaces.iter().map(|s| (s.space, s.seq)).collect();
    let mut ops: HashMap<SpaceId, (u64, u64)> = HashMap::new();
    let mut trees: HashMap<String, u64> = HashMap::new();
    while let Some(record) = reader.next_record().map_err(|e| bad(&e))? {
        progress.add(1);
        match record {
            Record::Tree { name, key, value } => {
                let decoded = match name.as_str() {
                    "users" => codec::decode::<UserRecord>(&value).map(|_| ()),
                    "spaces" => codec::decode::<Space>(&value).map(|_| ()),
                    _ => Ok(()),
                };
                decoded.map_err(|e| bad(&format_args!("an entry of {name}: {e}")))?;
                *trees.entry(name.clone()).or_default() += 1;
                each(Checked::Tree { name, key, value })?;
            }
            Record::Op { space, seq, bytes } => {
                let op: Op = codec::decode(&bytes)
                    .map_err(|e| bad(&format_args!("op {seq} of space {space}: {e}")))?;
                let Some(&cut) = cuts.get(&space) else {
                    return Err(bad(&format_args!(
                        "it holds ops of space {space}, which its manifest does not list"
                    )));
                };
                let (count, last) = ops.entry(space).or_default();
                if op.space != space || seq == 0 || seq > cut || seq <= *last {
                    return Err(bad(&format_args!(
                        "op {seq} of space {space} is out of place (cut at {cut})"
                    )));
                }
                *count += 1;
                *last = seq;
                each(Checked::Op { seq, op, bytes })?;
            }
        }
    }
    let total: u64 = ops.values().map(|(n, _)| n).sum();
    if total != manifest.ops {
        return Err(bad(&format_args!(
            "it holds {total} ops, its manifest says {}",
            manifest.ops
        )));
    }
    for space in &manifest.spaces {
        let held = ops.get(&space.space).map_or(0, |(n, _)| *n);
        if held != space.ops {
            return Err(bad(&format_args!(
                "space {} has {held} ops, its manifest says {}",
                space.space, space.ops
            )));
        }
    }
    for tree in &manifest.trees {
        let held = trees.get(&tree.tree).copied().unwrap_or(0);
        if held != tree.entries {
            return Err(bad(&format_args!(
                "{} has {held} entries, its manifest says {}",
                tree.tree, tree.entries
            )));
        }
    }
    if trees
        .keys()
        .any(|t| !manifest.trees.iter().any(|m| &m.tree == t))
    {
        return Err(bad(&"it holds a tree its manifest does not list"));
    }
    Ok(())
}

/// Reads the whole backup in `dir` back: manifest, checksums, every record, as the
/// steps "verifying: checksums" (bytes) and "verifying: records" of `progress`.
///
/// # Errors
/// [`BackupError::Damaged`] saying what is wrong.
pub fn verify_dir(dir: &Path, id: &str, progress: &dyn Report) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(dir, id)?;
    check_sums(dir, &manifest, "verifying: checksums", progress)?;
    walk(dir, &manifest, "verifying: records", progress, |_| Ok(()))?;
    Ok(manifest)
}
