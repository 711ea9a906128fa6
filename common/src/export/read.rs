//! Reading an export directory back, for both importers: the manifest, the
//! accounts and every space's history rebuilt as ops, all checked before an
//! importer writes anything.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

use super::format::{
    ContentEntry, FORMAT, FORMAT_VERSION, HistoryFile, MANIFEST, Manifest, SpaceFile, UserFile,
};
use super::safe_relative;
use crate::model::{RecordKind, Role, Space, UserId, Value, normalize_newlines};
use crate::op::{Change, Op};

/// One space of an export, as ops to import.
#[derive(Clone, Debug)]
pub struct SpaceImport {
    pub space: Space,
    pub members: Vec<(UserId, Role)>,
    /// In the export's log order.
    pub ops: Vec<Op>,
}

/// An export read and checked.
#[derive(Clone, Debug)]
pub struct Export {
    /// The export's directory.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The accounts, in the manifest's order.
    pub users: Vec<UserFile>,
    /// The spaces, in the manifest's order.
    pub spaces: Vec<SpaceImport>,
}

impl Export {
    /// The content entries whose bytes the export holds, with their path on disk.
    ///
    /// # Errors
    /// A content path that leaves the export's directory.
    pub fn held_contents(&self) -> anyhow::Result<Vec<(&ContentEntry, PathBuf)>> {
        let mut out = Vec::new();
        for entry in &self.manifest.contents {
            if let Some(file) = &entry.file {
                out.push((entry, self.dir.join(safe_relative(file)?)));
            }
        }
        Ok(out)
    }

    /// How many ops the export holds.
    #[must_use]
    pub fn op_count(&self) -> usize {
        self.spaces.iter().map(|s| s.ops.len()).sum()
    }
}

/// Whether `path` looks like an export directory (or its manifest).
#[must_use]
pub fn is_export(path: &Path) -> bool {
    path.join(MANIFEST).is_file()
        || (path.file_name().is_some_and(|n| n == MANIFEST) && path.is_file())
}

/// Reads the export in `path` (its directory or its `manifest.json`) and checks it:
/// the format and version, every listed file, seqs running 1, 2, …, histories of
/// the space they are in, and content entries with a well-formed SHA-256.
///
/// # Errors
/// What is wrong, naming the file and what to do.
pub fn read(path: &Path) -> anyhow::Result<Export> {
    let dir = if path.is_dir() {
        path.to_owned()
    } else {
        path.parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let manifest: Manifest = read_json(&dir, MANIFEST)?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        bail!(
            "{} is format {:?} version {}; this Cairn reads {FORMAT} version {FORMAT_VERSION} \
             (export again with this version)",
            dir.join(MANIFEST).display(),
            manifest.format,
            manifest.format_version
        );
    }
    for entry in &manifest.contents {
        if !crate::api::files::is_sha256(&entry.sha256) {
            bail!(
                "{} lists content with a malformed SHA-256 ({:?}); the export was edited",
                dir.join(MANIFEST).display(),
                entry.sha256
            );
        }
    }
    let users = manifest
        .users
        .iter()
        .map(|entry| read_json(&dir, &entry.file))
        .collect::<anyhow::Result<Vec<UserFile>>>()?;
    let spaces = manifest
        .spaces
        .iter()
        .map(|entry| read_space(&dir, &entry.dir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Export {
        dir,
        manifest,
        users,
        spaces,
    })
}

fn read_json<T: DeserializeOwned>(dir: &Path, path: &str) -> anyhow::Result<T> {
    let full = dir.join(safe_relative(path)?);
    let text = std::fs::read_to_string(&full)
        .with_context(|| format!("cannot read {} of the export", full.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a file of a Cairn export (or was edited); see docs/export.schema.json",
            full.display()
        )
    })
}

fn role(text: &str, file: &str) -> anyhow::Result<Role> {
    Role::parse(text).with_context(|| format!("{file}: unknown role {text:?}"))
}

/// Reads one space's files and rebuilds its ops, checking that seqs run 1, 2, …
fn read_space(dir: &Path, space_dir: &str) -> anyhow::Result<SpaceImport> {
    let file = format!("{space_dir}/space.json");
    let space: SpaceFile = read_json(dir, &file)?;
    let members = space
        .members
        .iter()
        .map(|m| Ok((m.user, role(&m.role, &file)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let file = format!("{space_dir}/history.json");
    let history: HistoryFile = read_json(dir, &file)?;
    if history.space != space.id {
        bail!(
            "{file} belongs to space {}, not {}",
            history.space,
            space.id
        );
    }
    let mut ops = Vec::with_capacity(history.ops.len());
    for (n, entry) in history.ops.into_iter().enumerate() {
        let at = |what: &str| format!("{file}: change {} (seq {}): {what}", n + 1, entry.seq);
        if entry.seq != n as u64 + 1 {
            bail!(at("the seqs must run 1, 2, 3, … without gaps"));
        }
        let change = match entry.change.as_str() {
            "create" => Change::Create {
                kind: RecordKind::parse(&entry.kind)
                    .with_context(|| at(&format!("unknown kind {:?}", entry.kind)))?,
            },
            "delete" => Change::Delete,
            "restore" => Change::Restore,
            "set" => Change::Set {
                field: entry
                    .field
                    .clone()
                    .with_context(|| at("a set without field"))?,
                value: plain_newlines(
                    entry
                        .new
                        .clone()
                        .with_context(|| at("a set without new value"))?,
                ),
                replaces: entry.old.iter().flatten().map(|o| o.op).collect(),
            },
            other => bail!(at(&format!("unknown change {other:?}"))),
        };
        ops.push(Op {
            id: entry.op,
            space: space.id,
            record: entry.record,
            at: entry.clock,
            author: entry.author,
            change,
        });
    }
    Ok(SpaceImport {
        space: Space {
            id: space.id,
            name: space.name,
            personal: space.personal,
        },
        members,
        ops,
    })
}

/// Text with Windows line endings, with plain newlines instead: long texts refuse
/// `\r`, and an export edited on Windows may hold some. The op keeps its id: a copy
/// of the same op elsewhere still counts as the same change.
#[must_use]
pub fn plain_newlines(value: Value) -> Value {
    match value {
        Value::Text(text) => match normalize_newlines(&text) {
            Cow::Owned(plain) => Value::Text(plain),
            Cow::Borrowed(_) => Value::Text(text),
        },
        other => other,
    }
}
