//! `cairn import`: an export merged into the replica, losslessly. The export is
//! the one format client and server write ([`cairn_common::export`]): a directory
//! with `manifest.json`, from `cairn export` (local or from the server) or
//! `cairn-server export`; or the single `cairn-export.json` of earlier versions
//! ([`legacy`]).
//!
//! The op history of every record is committed as it is, with its own ids and
//! clocks. Ops are idempotent, so importing twice changes nothing, and importing
//! into an empty replica rebuilds the same records. Everything, file content
//! included, is read and checked before anything is written; the ops are committed
//! in one atomic batch, then the content goes into the cache, marked to be uploaded
//! with the next sync (the server skips content it has).

pub mod legacy;

use cairn_common::progress::{Report, Unit};
use std::path::{Path, PathBuf};

use cairn_common::Op;
use cairn_common::api::files::sha256_of;
use cairn_common::export::read as export_read;
use cairn_common::model::Space;

use crate::files::FileCache;
use crate::replica::{CommitSummary, Replica, ReplicaError};

/// Why an export could not be imported. Every message names the file; nothing was
/// written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not JSON ({source}); give the directory `cairn export` wrote (or its manifest.json)"
    )]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} is not a Cairn export; give the directory `cairn export` or `cairn-server export` wrote (or its manifest.json)"
    )]
    Foreign { path: PathBuf },
    #[error(
        "{path} was written in export format {found}, this cairn reads format {}; upgrade cairn to import it",
        legacy::FORMAT_VERSION
    )]
    Newer { path: PathBuf, found: u64 },
    #[error("{path} is damaged: {reason}; nothing was imported")]
    Damaged { path: PathBuf, reason: String },
    #[error("{path}: {0:#}; nothing was imported", path = .1.display())]
    Export(anyhow::Error, PathBuf),
    #[error("{path} could not be imported: {source}; nothing was imported")]
    Rejected { path: PathBuf, source: ReplicaError },
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// Records in the export.
    pub records: usize,
    /// Ops in the export.
    pub ops: usize,
    /// File contents put into the cache (to be uploaded).
    pub contents: usize,
    /// What the commit did: ops that were new here, records that changed.
    pub commit: CommitSummary,
}

/// What an export holds that the replica takes.
struct Parsed {
    spaces: Vec<Space>,
    ops: Vec<Op>,
    records: usize,
    /// File content to put into the cache: space, SHA-256, where it is.
    contents: Vec<(cairn_common::model::SpaceId, String, PathBuf)>,
}

/// Reads the export at `path`: a directory with `manifest.json`, the manifest
/// itself, or an earlier version's `cairn-export.json`.
fn read(path: &Path, progress: &dyn Report) -> Result<Parsed, ImportError> {
    if export_read::is_export(path) {
        return read_directory(path, progress);
    }
    if path.is_dir() {
        return Err(ImportError::Foreign {
            path: path.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parsed = legacy::parse(path, &text)?;
    Ok(Parsed {
        spaces: parsed.spaces,
        ops: parsed.ops,
        records: parsed.records,
        contents: Vec::new(),
    })
}

/// An export directory, its file content checked against the listed SHA-256.
fn read_directory(path: &Path, progress: &dyn Report) -> Result<Parsed, ImportError> {
    let failed = |e: anyhow::Error| ImportError::Export(e, path.to_owned());
    let export = export_read::read(path).map_err(failed)?;
    let mut contents = Vec::new();
    let held = export.held_contents().map_err(failed)?;
    progress.step(
        "importing: checking file contents",
        Some(held.len() as u64),
        Unit::Items,
    );
    for (entry, file) in held {
        progress.add(1);
        let found = std::fs::File::open(&file)
            .and_then(sha256_of)
            .map_err(|source| ImportError::Read {
                path: file.clone(),
                source,
            })?;
        if found != entry.sha256 {
            return Err(ImportError::Damaged {
                path: file,
                reason: format!(
                    "its SHA-256 is {found}, the manifest lists {}",
                    entry.sha256
                ),
            });
        }
        contents.push((entry.space, entry.sha256.clone(), file));
    }
    let records = export
        .spaces
        .iter()
        .flat_map(|s| &s.ops)
        .map(|op| op.record)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mut spaces = Vec::new();
    let mut ops = Vec::new();
    for space in export.spaces {
        spaces.push(space.space);
        ops.extend(space.ops);
    }
    Ok(Parsed {
        spaces,
        ops,
        records,
        contents,
    })
}

/// Reads the export at `path` and commits its ops and spaces into `replica`, all or
/// nothing, then puts its file content into the cache to be uploaded. Reports the
/// steps "importing: reading the export", "importing: checking file contents",
/// "importing: merging ops" (each op as it is checked; written in one commit) and
/// "importing: file contents" to `progress`.
///
/// # Errors
/// An [`ImportError`] naming the file and the problem; nothing is written then.
pub fn import(
    replica: &Replica,
    path: &Path,
    progress: &dyn Report,
) -> Result<ImportSummary, ImportError> {
    progress.step("importing: reading the export", None, Unit::Items);
    let parsed = read(path, progress)?;
    progress.step(
        "importing: merging ops",
        Some(parsed.ops.len() as u64),
        Unit::Items,
    );
    let commit = replica
        .import_ops(&parsed.ops, &parsed.spaces, progress)
        .map_err(|source| ImportError::Rejected {
            path: path.to_owned(),
            source,
        })?;
    let cache = FileCache::new(replica.dir());
    progress.step(
        "importing: file contents",
        Some(parsed.contents.len() as u64),
        Unit::Items,
    );
    for (space, sha256, file) in &parsed.contents {
        progress.add(1);
        if !cache.has(*space, sha256) {
            cache
                .add(*space, file)
                .map_err(|source| ImportError::Read {
                    path: file.clone(),
                    source,
                })?;
        }
    }
    Ok(ImportSummary {
        records: parsed.records,
        ops: parsed.ops.len(),
        contents: parsed.contents.len(),
        commit,
    })
}
