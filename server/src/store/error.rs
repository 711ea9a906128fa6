//! What can go wrong in the store; every message says what to do next.

use std::path::PathBuf;

use cairn_common::codec::CodecError;

/// An error of the [`Store`](super::Store).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {dir:?} is in use by a running cairn-server; stop it first \
         (or run this command against the running server)"
    )]
    Locked { dir: PathBuf },
    #[error(
        "cannot use the data directory {dir:?}: {source}; check that it exists and is writable"
    )]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", storage_message(.0))]
    Storage(#[from] sled::Error),
    #[error(
        "the server's data is damaged ({0}); stop the server and restore the latest backup \
         (`cairn-server backup restore`)"
    )]
    Damaged(#[from] CodecError),
    #[error("{0:?} is not an e-mail address; give one like name@example.com")]
    InvalidEmail(String),
    #[error(
        "the login name `admin` is reserved for the standard account; give the user an \
         e-mail address"
    )]
    ReservedName,
    #[error("there is already an account for {0}; use another address or change that account")]
    DuplicateEmail(String),
    #[error("there is no account for {0}; `cairn-server user list` shows the accounts")]
    NoSuchUser(String),
    #[error("{0}")]
    InvalidInput(String),
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0}")]
    NotFound(String),
    /// The caller may see the thing but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts what is stored (e.g. removing the last owner).
    #[error("{0}")]
    Conflict(String),
    #[error("the server failed: {0}; try again")]
    Internal(String),
    #[error("{}", database_message(.0))]
    Database(#[from] tokio_postgres::Error),
    #[error(
        "cannot reach the PostgreSQL database: {0}; check `[store] url` in cairn-server.toml \
         and that the database server runs"
    )]
    Pool(String),
    /// A feature the sled store has and the PostgreSQL store does not have yet.
    #[error(
        "{0} is not available on PostgreSQL yet; it needs a server on sled (the default \
         store), or PostgreSQL's own tools (pg_dump, replicas) meanwhile"
    )]
    NotOnPostgres(&'static str),
}

fn database_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!(
            "the database refused a statement ({}: {}); nothing was changed, try again, and \
             tell the database administrator if it repeats",
            db.code().code(),
            db.message()
        ),
        None => format!("the database connection failed: {error}; nothing was changed, try again"),
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Self::Database(e),
            other => Self::Pool(other.to_string()),
        }
    }
}

fn storage_message(error: &sled::Error) -> String {
    match error {
        sled::Error::Corruption { .. } => format!(
            "the server's store is damaged ({error}); stop the server and restore the latest \
             backup (`cairn-server backup restore`)"
        ),
        _ => format!("the server's store failed: {error}; nothing was changed, try again"),
    }
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(e: sled::transaction::TransactionError<StoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Self::Storage(e),
        }
    }
}
