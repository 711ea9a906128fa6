//! Errors of the local replica. Each message says what the user can do about it.

use std::path::PathBuf;

use cairn_common::codec::CodecError;
use cairn_common::model::{ModelError, RecordKind};

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
    #[error(
        "the local data in {dir:?} belongs to another Cairn account; log in as that account, \
         or point CAIRN_HOME at a fresh directory for this one"
    )]
    OtherAccount { dir: PathBuf },
    #[error("{}", storage_message(.0))]
    Storage(#[from] sled::Error),
    #[error(
        "the local store holds damaged data ({0}); restore a local backup (`cairn backup list`, \
         `cairn backup restore ID`), an export (`cairn import`) or, with a server, sync"
    )]
    Codec(#[from] CodecError),
    #[error("{0}")]
    Invalid(#[from] ModelError),
    #[error("no record matches {0:?}; `cairn list <kind>` shows the ids")]
    NotFound(String),
    #[error("{prefix:?} matches {count} records; type more of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error("a change to record {0} came before the record itself; it was not saved")]
    UnknownRecord(cairn_common::RecordId),
    #[error("record {record} is a {from}; a change that makes it a {to} was refused")]
    KindChange {
        record: cairn_common::RecordId,
        from: RecordKind,
        to: RecordKind,
    },
    #[error(
        "a change to record {record} is stamped {} ms since 1970, more than a day ahead of this \
         machine's clock; check the clock here and on the machine it came from",
        .at.wall_ms
    )]
    ClockAhead {
        record: cairn_common::RecordId,
        at: cairn_common::Hlc,
    },
    #[error(
        "record {record} would take {bytes} bytes, more than a record may; shorten its long \
         texts or resolve its conflicts, then try again (nothing was saved)"
    )]
    RecordTooLarge {
        record: cairn_common::RecordId,
        bytes: usize,
    },
}

impl From<sled::transaction::TransactionError<ReplicaError>> for ReplicaError {
    fn from(e: sled::transaction::TransactionError<ReplicaError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Self::Storage(e),
        }
    }
}

fn storage_message(error: &sled::Error) -> String {
    match error {
        sled::Error::Corruption { .. } => format!(
            "the local store is damaged ({error}); restore a local backup (`cairn backup list`, \
             then `cairn backup restore ID`), or move the data directory aside and import an \
             export (`cairn import`) or, with a server, sync afresh"
        ),
        _ => format!("the local store failed: {error}; your saved data is unchanged, try again"),
    }
}
