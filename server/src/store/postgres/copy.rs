//! The PostgreSQL side of moving a store between backends (see `store/copy.rs`):
//! sessions, the audit chain as stored, tombstones and the epoch, read and loaded
//! as they are.

use cairn_common::api::Epoch;
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId};
use uuid::Uuid;

use super::audit::{CHECKPOINT, HEAD};
use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::audit::Link;
use crate::store::{AuditChain, SessionRecord, StoreError};

impl PgStore {
    /// Every tombstone of a purged record.
    ///
    /// # Errors
    /// A database error.
    pub async fn purged_records(&self) -> Result<Vec<(SpaceId, RecordId)>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .query(
                "SELECT space_id, record_id FROM purged_records ORDER BY space_id, record_id",
                &[],
            )
            .await?
            .iter()
            .map(|row| (SpaceId(row.get(0)), RecordId(row.get(1))))
            .collect())
    }

    /// Stores tombstones of purged records.
    ///
    /// # Errors
    /// A database error.
    pub async fn load_purged(&self, purged: &[(SpaceId, RecordId)]) -> Result<(), StoreError> {
        let spaces: Vec<Uuid> = purged.iter().map(|(s, _)| s.0).collect();
        let records: Vec<Uuid> = purged.iter().map(|(_, r)| r.0).collect();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO purged_records (space_id, record_id)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
                &[&spaces, &records],
            )
            .await?;
        Ok(())
    }

    /// The audit chain as stored.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn audit_chain(&self) -> Result<AuditChain, StoreError> {
        let client = self.pool.get().await?;
        let link = |key: &'static str| {
            let client = &client;
            async move {
                match client
                    .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                    .await?
                {
                    Some(row) => {
                        Ok::<_, StoreError>(Some(codec::decode::<Link>(row.get::<_, &[u8]>(0))?))
                    }
                    None => Ok(None),
                }
            }
        };
        let mut chain = AuditChain {
            head: link(HEAD).await?,
            checkpoint: link(CHECKPOINT).await?,
            ..AuditChain::default()
        };
        for row in client
            .query("SELECT seq, entry FROM audit ORDER BY seq", &[])
            .await?
        {
            chain
                .entries
                .push((seq_from_sql(row.get(0))?, row.get::<_, Vec<u8>>(1)));
        }
        for row in client
            .query(
                "SELECT token, email FROM audit_subjects ORDER BY token",
                &[],
            )
            .await?
        {
            let token = <[u8; 16]>::try_from(row.get::<_, &[u8]>(0))
                .map_err(|_| codec::CodecError::Malformed("a damaged audit subject".into()))?;
            chain.subjects.push((token, row.get(1)));
        }
        Ok(chain)
    }

    /// Loads an audit chain as it was stored (into a database without one).
    ///
    /// # Errors
    /// A database error.
    pub async fn load_audit_chain(&self, chain: &AuditChain) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        for (seq, bytes) in &chain.entries {
            tx.execute(
                "INSERT INTO audit (seq, entry) VALUES ($1, $2)",
                &[&seq_to_sql(*seq)?, bytes],
            )
            .await?;
        }
        for (key, link) in [(HEAD, chain.head), (CHECKPOINT, chain.checkpoint)] {
            if let Some(link) = link {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&key, &codec::encode(&link)?],
                )
                .await?;
            }
        }
        for (token, email) in &chain.subjects {
            tx.execute(
                "INSERT INTO audit_subjects (token, email) VALUES ($1, $2)",
                &[&&token[..], email],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a session as it was (its token hash and public id kept).
    ///
    /// # Errors
    /// A database error.
    pub async fn load_session(
        &self,
        token_hash: &[u8; 32],
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, record) VALUES ($1, $2, $3)",
                &[&&token_hash[..], &record.user.0, &codec::encode(record)?],
            )
            .await?;
        Ok(())
    }

    /// Sets the store's epoch (a copy of another store keeps its history).
    ///
    /// # Errors
    /// A database error.
    pub async fn set_epoch(&self, epoch: Epoch) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO meta (key, value) VALUES ('epoch', $1)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&codec::encode(&epoch)?],
            )
            .await?;
        Ok(())
    }
}
