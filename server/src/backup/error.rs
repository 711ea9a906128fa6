//! What can go wrong with a backup; every message says what to do next.

use std::io;
use std::path::PathBuf;

use crate::store::StoreError;

/// A failed backup, verify, list or restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "cannot {action} {path}: {source}; check that the backup directory exists, is \
         writable by the server's user and has free space ([backup] dir in cairn-server.toml)"
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("backup {id} is damaged: {reason}; use another backup (`cairn-server backup list`)")]
    Damaged { id: String, reason: String },
    #[error("there is no backup {id} in {dir}; `cairn-server backup list` shows the backups")]
    NotFound { id: String, dir: PathBuf },
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| BackupError::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn damaged(id: &str, reason: impl std::fmt::Display) -> Self {
        BackupError::Damaged {
            id: id.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// A few words on the cause, naming no path and no data: what the
    /// unauthenticated `/healthz` may show.
    #[must_use]
    pub fn summary(&self) -> String {
        match self {
            BackupError::Io { source, .. } => match source.raw_os_error() {
                // ENOSPC and EDQUOT, whose ErrorKinds are not all stable.
                Some(28) => "no space left on the backup disk".into(),
                Some(122) => "disk quota exceeded".into(),
                _ => format!("cannot write the backup directory ({})", source.kind()),
            },
            BackupError::Store(_) => "the store could not be read".into(),
            BackupError::Damaged { .. } => "the new backup did not verify".into(),
            BackupError::NotFound { .. } | BackupError::Refused(_) => "refused".into(),
        }
    }
}
