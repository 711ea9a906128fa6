//! The client's side of the one export format ([`cairn_common::export`]): a
//! device's replica read as export data (`cairn export --local`), and the server's
//! export of the user fetched and written (`cairn export` logged in), file content
//! included either way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use cairn_common::api::ExportFile;
use cairn_common::export::{
    CheckedFile, ExportData, Scope, SpaceData, copy_checked, format, safe_relative,
};
use cairn_common::model::SpaceId;
use cairn_common::progress::Progress;

use crate::files::{FileCache, FileInfo};
use crate::replica::{Replica, ReplicaError};
use crate::sync::{Client, Session};

/// The replica as export data: its spaces, each with every op it holds (sent or
/// not) numbered in clock order, the content its cache holds, and, when the device
/// is logged in, its user as the one member and author it can name.
///
/// # Errors
/// A storage or decode error of the replica.
pub fn read(replica: &Replica, session: Option<&Session>) -> Result<ExportData, ReplicaError> {
    let mut by_space: BTreeMap<SpaceId, Vec<cairn_common::Op>> = BTreeMap::new();
    for op in replica.ops() {
        let op = op?;
        by_space.entry(op.space).or_default().push(op);
    }
    let cache = FileCache::new(replica.dir());
    let mut contents: BTreeMap<SpaceId, BTreeSet<String>> = BTreeMap::new();
    for state in replica.records() {
        if let Some(file) = FileInfo::of(&state?)
            && cache.has(file.space, &file.sha256)
        {
            contents.entry(file.space).or_default().insert(file.sha256);
        }
    }
    let roles: BTreeMap<SpaceId, _> = replica
        .known_spaces()?
        .into_iter()
        .map(|k| (k.space.id, k.role))
        .collect();
    let mut spaces = replica.spaces()?;
    spaces.sort_by_key(|s| s.id);
    let spaces = spaces
        .into_iter()
        .map(|space| {
            let mut ops = by_space.remove(&space.id).unwrap_or_default();
            ops.sort_by_key(|op| (op.at, op.id));
            let members = match (session, roles.get(&space.id)) {
                (Some(session), Some(role)) => vec![(session.user.clone(), *role)],
                _ => Vec::new(),
            };
            SpaceData {
                members,
                ops: (1..).zip(ops).collect(),
                contents: contents.remove(&space.id).unwrap_or_default(),
                space,
            }
        })
        .collect();
    Ok(ExportData {
        scope: Scope::Device,
        users: Vec::new(),
        sessions: Vec::new(),
        spaces,
        profiles: session
            .map(|s| (s.user.id, s.user.clone()))
            .into_iter()
            .collect(),
    })
}

/// The manifest among an export's files.
///
/// # Errors
/// No manifest, or one that does not read.
pub fn manifest_of(files: &[ExportFile]) -> anyhow::Result<format::Manifest> {
    let manifest = files
        .iter()
        .find(|f| f.path == format::MANIFEST)
        .context("the export has no manifest.json")?;
    serde_json::from_str(&manifest.contents).context("the export's manifest.json does not read")
}

/// What copying an export's file content did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// Copied from this device's cache.
    pub copied: usize,
    /// Downloaded from the server.
    pub downloaded: usize,
    /// Listed without bytes: the exporter did not hold them.
    pub missing: usize,
}

/// Puts the file content `manifest` lists into `dir`: from the cache when it is
/// here, else downloaded through `client` (if any), each checked against its
/// SHA-256 on the way.
///
/// # Errors
/// A damaged copy or download, the server unreachable, or an I/O error.
pub fn write_contents(
    replica: &Replica,
    client: Option<&Client>,
    manifest: &format::Manifest,
    dir: &Path,
    progress: &Progress,
) -> anyhow::Result<Contents> {
    let cache = FileCache::new(replica.dir());
    let mut done = Contents::default();
    for entry in &manifest.contents {
        progress.add(1);
        let Some(path) = &entry.file else {
            done.missing += 1;
            continue;
        };
        let to = dir.join(safe_relative(path)?);
        if cache.has(entry.space, &entry.sha256) {
            let from = cache.path(entry.space, &entry.sha256);
            let source = std::fs::File::open(&from)
                .with_context(|| format!("cannot read {}", from.display()))?;
            copy_checked(source, &from, &to, &entry.sha256)?;
            done.copied += 1;
        } else if let Some(client) = client {
            let file = cairn_common::api::files::FileRef {
                space: entry.space,
                sha256: entry.sha256.clone(),
                size: entry.size,
            };
            let mut out = CheckedFile::create(&to)?;
            client
                .download(&file, 0, &mut [&mut out])
                .with_context(|| format!("cannot download {path} of the export"))?;
            out.finish(&entry.sha256, Path::new(path))?;
            done.downloaded += 1;
        } else {
            done.missing += 1;
        }
    }
    Ok(done)
}
