//! The server store on PostgreSQL, for deployments that outgrow one machine: several
//! `cairn-server` processes may share one database (and its replicas and failover).
//!
//! Connections come from a pool (`deadpool-postgres` over `tokio-postgres`). Every
//! change is one transaction that commits with `synchronous_commit = on` before
//! the request is answered. A request dropped mid-way (the client went away) drops
//! its transaction, whose ROLLBACK `tokio-postgres` queues on the connection ahead
//! of anything the next user of the connection sends.
//!
//! The hot statements (a push, a poll, a session check) are prepared once per
//! connection (`prepare_cached`), and independent statements of one step are sent
//! together (pipelined), so a request costs few round trips to the database.

mod accounts;
mod audit;
mod connection;
mod consent;
mod copy;
mod export;
mod mail;
mod migrations;
mod notifications;
mod oplog;
mod purge;
mod shared;
#[cfg(test)]
mod tests;
mod throttle;

use deadpool_postgres::{ManagerConfig, Pool, RecyclingMethod};

pub use super::users::NewAccount;
pub use accounts::is_unique_violation;
pub use migrations::current as schema_version;

use super::StoreError;

/// The store on one PostgreSQL database. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// How long a purge waits for older transactions before it rewrites the
    /// tables anyway ([`purge::OLD_TRANSACTIONS_WAIT`]; tests shorten it).
    purge_wait: std::time::Duration,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`, with
    /// `sslmode` and `sslrootcert` as [`connection`] reads them) with at most
    /// `connections` connections, and brings the schema up to date.
    ///
    /// # Errors
    /// A URL that does not parse, a database that cannot be reached, or a schema
    /// newer than this server knows.
    pub async fn connect(url: &str, connections: usize) -> Result<Self, StoreError> {
        let target = connection::Target::parse(url)?;
        let tls = target.uses_tls();
        let manager = target.manager(ManagerConfig {
            // No test query per checkout (a round trip each time): a dropped
            // transaction's ROLLBACK is already queued ahead of the next user's
            // statements, and a closed connection is not handed out.
            recycling_method: RecyclingMethod::Fast,
        });
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) if tls => StoreError::Pool(format!(
                "{} (the connection uses TLS: if the database's certificate comes from a \
                 private CA, add `sslrootcert=/path/ca.pem` to the url; the certificate \
                 must name the url's host)",
                with_causes(&e)
            )),
            other => other.into(),
        })?;
        migrations::apply(&mut client).await?;
        Ok(Self {
            pool,
            purge_wait: purge::OLD_TRANSACTIONS_WAIT,
        })
    }

    /// The same store, its purges waiting at most `wait` for older transactions.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn with_purge_wait(mut self, wait: std::time::Duration) -> Self {
        self.purge_wait = wait;
        self
    }

    /// The pool, for tests that hold a connection of their own.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema version of the database (see [`schema_version`]).
    ///
    /// # Errors
    /// A database error.
    pub async fn applied_schema(&self) -> Result<i32, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT coalesce(max(version), 0) FROM cairn_schema", &[])
            .await?;
        Ok(row.get(0))
    }
}

/// An error and its causes, "error: cause: cause" (the driver's own message says
/// only "error performing TLS handshake", its cause says why).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message += &format!(": {c}");
        cause = c.source();
    }
    message
}

/// A role as the `members` table keeps it: owner 0, editor 1, viewer 2 (so the
/// highest role sorts first).
fn role_code(role: cairn_common::model::Role) -> i16 {
    match role {
        cairn_common::model::Role::Owner => 0,
        cairn_common::model::Role::Editor => 1,
        cairn_common::model::Role::Viewer => 2,
    }
}

fn role_of_code(code: i16) -> Result<cairn_common::model::Role, StoreError> {
    match code {
        0 => Ok(cairn_common::model::Role::Owner),
        1 => Ok(cairn_common::model::Role::Editor),
        2 => Ok(cairn_common::model::Role::Viewer),
        other => Err(cairn_common::codec::CodecError::Malformed(format!(
            "an unknown role {other}"
        ))
        .into()),
    }
}

/// A seq as PostgreSQL keeps it (`bigint`).
fn seq_to_sql(seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| StoreError::InvalidInput(format!("seq {seq} is out of range")))
}

/// A seq read from PostgreSQL; a negative one is damage.
fn seq_from_sql(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq).map_err(|_| {
        cairn_common::codec::CodecError::Malformed(format!("a negative seq {seq}")).into()
    })
}
