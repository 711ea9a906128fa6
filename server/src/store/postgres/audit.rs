//! The audit log on PostgreSQL: the same hash chain as on sled (entries built and
//! verified by [`crate::store::audit`]), one chain for every server. An append
//! takes a transaction-scoped advisory lock, so entries written by two servers at
//! once still each link to the one before. People are named by tokens
//! (`audit_subjects`), which a purge forgets.

use deadpool_postgres::GenericClient;

use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::audit::{Link, next_entry, shown_entry, verify_chain};
use crate::store::users::normalize_email;
use crate::store::{AuditEntry, AuditEvent, AuditVerification, StoreError};

/// The advisory lock of audit appends ("cairn_au").
pub(super) const AUDIT_LOCK: i64 = 0x6361_6972_6e5f_6175;
pub(super) const HEAD: &str = "audit_head";
pub(super) const CHECKPOINT: &str = "audit_checkpoint";

async fn link(client: &impl GenericClient, key: &str) -> Result<Option<Link>, StoreError> {
    let row = client
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
        .await?;
    match row {
        Some(row) => Ok(Some(cairn_common::codec::decode(row.get::<_, &[u8]>(0))?)),
        None => Ok(None),
    }
}

async fn token_of(client: &impl GenericClient, email: &str) -> Result<[u8; 16], StoreError> {
    let email = normalize_email(email);
    let fresh = *uuid::Uuid::new_v4().as_bytes();
    client
        .execute(
            "INSERT INTO audit_subjects (token, email) VALUES ($1, $2)
             ON CONFLICT (email) DO NOTHING",
            &[&&fresh[..], &email],
        )
        .await?;
    let row = client
        .query_one(
            "SELECT token FROM audit_subjects WHERE email = $1",
            &[&email],
        )
        .await?;
    <[u8; 16]>::try_from(row.get::<_, &[u8]>(0)).map_err(|_| {
        cairn_common::codec::CodecError::Malformed("a damaged audit subject".into()).into()
    })
}

impl PgStore {
    /// Appends an event at `at_ms`, committed when it returns.
    ///
    /// # Errors
    /// A database error; the entry is not written then.
    pub async fn audit_at(&self, event: AuditEvent, at_ms: u64) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
            .await?;
        let actor = match event.actor.as_deref() {
            Some(email) => Some(token_of(&tx, email).await?),
            None => None,
        };
        let subject = match event.subject.as_deref() {
            Some(email) => Some(token_of(&tx, email).await?),
            None => None,
        };
        let last = match link(&tx, HEAD).await? {
            Some(head) => Some(head),
            None => link(&tx, CHECKPOINT).await?,
        };
        let (seq, bytes, head) = next_entry(last, event, actor, subject, at_ms)?;
        tx.execute(
            "INSERT INTO audit (seq, entry) VALUES ($1, $2)",
            &[&seq_to_sql(seq)?, &bytes],
        )
        .await?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&HEAD, &cairn_common::codec::encode(&head)?],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every entry, oldest first, people by e-mail (`(purged)` once forgotten).
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.pool.get().await?;
        let names: std::collections::HashMap<Vec<u8>, String> = client
            .query("SELECT token, email FROM audit_subjects", &[])
            .await?
            .into_iter()
            .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, String>(1)))
            .collect();
        client
            .query("SELECT entry FROM audit ORDER BY seq", &[])
            .await?
            .iter()
            .map(|row| {
                shown_entry(row.get::<_, &[u8]>(0), |token| {
                    Ok(names.get(&token[..]).cloned())
                })
            })
            .collect()
    }

    /// Checks every link of the chain, from the checkpoint (or the start) to the
    /// head.
    ///
    /// # Errors
    /// A database error.
    pub async fn audit_verify(&self) -> Result<AuditVerification, StoreError> {
        let mut client = self.pool.get().await?;
        // One snapshot for the head, the checkpoint and the entries.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let (Ok(checkpoint), Ok(head)) = (link(&tx, CHECKPOINT).await, link(&tx, HEAD).await)
        else {
            return Ok(AuditVerification::Broken {
                seq: 0,
                reason: "the head or the retention checkpoint is damaged".into(),
            });
        };
        let rows = tx
            .query("SELECT seq, entry FROM audit ORDER BY seq", &[])
            .await?;
        tx.commit().await?;
        let entries = rows
            .iter()
            .map(|row| Ok((seq_from_sql(row.get(0)).ok(), row.get::<_, Vec<u8>>(1))));
        verify_chain(checkpoint, head, entries)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fresh;
    use crate::store::{AuditEvent, AuditKind, AuditVerification};

    /// Entries appended by two servers at once form one intact chain; an edited
    /// entry is found; people show by e-mail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_chain_for_every_server() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 4).await.expect("second");
        let mut tasks = Vec::new();
        for n in 0..20u64 {
            let store = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tasks.push(tokio::spawn(async move {
                let event = AuditEvent::new(AuditKind::AccountCreated)
                    .actor("admin")
                    .subject(&format!("user{n}@example.com"));
                store.audit_at(event, 1_000 + n).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("audit");
        }
        match first.audit_verify().await.expect("verify") {
            AuditVerification::Intact {
                entries, last_seq, ..
            } => assert_eq!((entries, last_seq), (20, 20)),
            broken @ AuditVerification::Broken { .. } => panic!("{broken:?}"),
        }
        let entries = second.audit_entries().await.expect("entries");
        assert_eq!(entries.len(), 20);
        assert!(entries.iter().all(|e| e.actor == "admin"));
        let client = first.pool.get().await.expect("connection");
        client
            .execute(
                "UPDATE audit SET entry = entry || '\\x00'::bytea WHERE seq = 7",
                &[],
            )
            .await
            .expect("tamper");
        assert!(matches!(
            first.audit_verify().await.expect("verify"),
            AuditVerification::Broken { .. }
        ));
    }
}
