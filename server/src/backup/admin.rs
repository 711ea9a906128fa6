//! `backup now|list|verify` as admin requests: the same code runs in a running
//! server (control socket) and on a stopped data dir.

use serde::{Deserialize, Serialize};

use super::Backups;
use super::format::Manifest;
use crate::store::Store;

/// A backup command sent to the server (restore is not one: it needs the server
/// stopped, and runs in the CLI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupRequest {
    Now,
    List,
    Verify { id: String },
}

/// One backup as `backup list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRow {
    pub id: String,
    pub created_at_ms: u64,
    pub ops: u64,
    pub spaces: u64,
    pub users: u64,
    pub bytes: u64,
    /// Why the backup cannot be read, if it cannot.
    pub damaged: Option<String>,
}

impl BackupRow {
    fn of(manifest: &Manifest) -> Self {
        BackupRow {
            id: manifest.id.clone(),
            created_at_ms: manifest.created_at_ms,
            ops: manifest.ops,
            spaces: manifest.spaces.len() as u64,
            users: manifest.users(),
            bytes: manifest.files.iter().map(|f| f.bytes).sum(),
            damaged: None,
        }
    }
}

/// The answer to a [`BackupRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupResponse {
    /// A backup was written and verified.
    Created {
        backup: BackupRow,
        dir: String,
        push_pause_ms: u64,
    },
    Listed {
        dir: String,
        backups: Vec<BackupRow>,
        /// The last attempt's failure, if the server's last backup failed.
        last_failure: Option<String>,
    },
    Verified {
        backup: BackupRow,
    },
}

/// Runs a backup command on `store` and its `backups`, at `now_ms`.
///
/// # Errors
/// The message of what failed, saying what to do.
pub fn execute(
    store: &Store,
    backups: &Backups,
    request: BackupRequest,
    now_ms: u64,
) -> Result<BackupResponse, super::BackupError> {
    let (dir, _) = backups.config()?;
    Ok(match request {
        BackupRequest::Now => {
            let created = super::run_backup(store, backups, now_ms)?;
            BackupResponse::Created {
                backup: BackupRow::of(&created.manifest),
                dir: dir.display().to_string(),
                push_pause_ms: u64::try_from(created.push_pause.as_millis()).unwrap_or(u64::MAX),
            }
        }
        BackupRequest::List => {
            let listed = super::list_dir(dir)?
                .into_iter()
                .map(|(id, manifest)| match manifest {
                    Ok(m) => BackupRow::of(&m),
                    Err(e) => BackupRow {
                        id,
                        created_at_ms: 0,
                        ops: 0,
                        spaces: 0,
                        users: 0,
                        bytes: 0,
                        damaged: Some(e.to_string()),
                    },
                })
                .collect();
            BackupResponse::Listed {
                dir: dir.display().to_string(),
                backups: listed,
                last_failure: backups.health().failing.map(|f| f.reason),
            }
        }
        BackupRequest::Verify { id } => {
            let path = super::backup_path(dir, &id)?;
            let manifest = super::verify::verify_dir(&path, &id)?;
            BackupResponse::Verified {
                backup: BackupRow::of(&manifest),
            }
        }
    })
}
