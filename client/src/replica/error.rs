//! Errors of the local replica. Each message says what the user can do about it.

use std::path::PathBuf;

use cairn_common::codec::CodecError;
use cairn_common::model::ModelError;

/// What can go wrong with the local store.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error(
        "another cairn is already using {dir:?}; close it first (or point CAIRN_HOME at another directory)"
    )]
    Locked { dir: PathBuf },
    #[error(
        "cannot use the data directory {dir:?}: {source}; check that it exists and is writable"
    )]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("the local store failed: {0}; your saved data is unchanged, try again")]
    Storage(#[from] sled::Error),
    #[error("the local store holds damaged data ({0}); restore it from an export or a sync")]
    Codec(#[from] CodecError),
    #[error("{0}")]
    Invalid(#[from] ModelError),
    #[error("no record matches {0:?}; `cairn list <kind>` shows the ids")]
    NotFound(String),
    #[error("{prefix:?} matches {count} records; type more of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error("a change to record {0} came before the record itself; it was not saved")]
    UnknownRecord(cairn_common::RecordId),
}

impl From<sled::transaction::TransactionError<ReplicaError>> for ReplicaError {
    fn from(e: sled::transaction::TransactionError<ReplicaError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Self::Storage(e),
        }
    }
}
