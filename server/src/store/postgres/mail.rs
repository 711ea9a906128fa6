//! The mail outbox on PostgreSQL (table `mail`, migration 6). Several servers on
//! one database each run a sender; a claim takes one due row with `FOR UPDATE
//! SKIP LOCKED` and sets a lease in the same statement, so two servers never get
//! the same mail (the second one skips the locked row, or sees the lease once the
//! first commits), and a server that dies mid-send lets go when the lease ends.

use cairn_common::model::UserId;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::StoreError;
use crate::store::mail::{MailId, MailKind, MailOutcome, MailState, OutgoingMail, QueuedMail};

/// The columns every query reads, in [`from_row`]'s order.
const COLUMNS: &str = "id, user_id, recipient, kind, subject, body, created_ms, state, attempts, \
                       next_attempt_ms, last_error, finished_ms, claimed_by, claimed_until_ms";

fn state_code(state: MailState) -> i16 {
    match state {
        MailState::Queued => 0,
        MailState::Sent => 1,
        MailState::Failed => 2,
    }
}

fn state_of_code(code: i16) -> Result<MailState, StoreError> {
    match code {
        0 => Ok(MailState::Queued),
        1 => Ok(MailState::Sent),
        2 => Ok(MailState::Failed),
        other => Err(cairn_common::codec::CodecError::Malformed(format!(
            "an unknown mail state {other}"
        ))
        .into()),
    }
}

fn from_row(row: &Row) -> Result<QueuedMail, StoreError> {
    let ms = |column: &str| seq_from_sql(row.get::<_, i64>(column));
    Ok(QueuedMail {
        id: MailId(row.get("id")),
        mail: OutgoingMail {
            to: row.get("recipient"),
            subject: row.get("subject"),
            body: row.get("body"),
            kind: MailKind::from_name(row.get("kind")),
            user: row.get::<_, Option<Uuid>>("user_id").map(UserId),
        },
        created_ms: ms("created_ms")?,
        state: state_of_code(row.get("state"))?,
        attempts: u32::try_from(row.get::<_, i32>("attempts")).unwrap_or(0),
        next_attempt_ms: ms("next_attempt_ms")?,
        last_error: row.get("last_error"),
        finished_ms: row
            .get::<_, Option<i64>>("finished_ms")
            .map(seq_from_sql)
            .transpose()?,
        claimed_by: row.get("claimed_by"),
        claimed_until_ms: ms("claimed_until_ms")?,
    })
}

impl PgStore {
    /// Stores a new mail; committed when it returns.
    ///
    /// # Errors
    /// A database error.
    pub async fn queue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Whatever the database's default, a queued mail survives its failover.
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        tx.execute(
            &format!(
                "INSERT INTO mail ({COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            &[
                &mail.id.0,
                &mail.mail.user.map(|u| u.0),
                &mail.mail.to,
                &mail.mail.kind.name(),
                &mail.mail.subject,
                &mail.mail.body,
                &seq_to_sql(mail.created_ms)?,
                &state_code(mail.state),
                &i32::try_from(mail.attempts).unwrap_or(i32::MAX),
                &seq_to_sql(mail.next_attempt_ms)?,
                &mail.last_error,
                &mail.finished_ms.map(seq_to_sql).transpose()?,
                &mail.claimed_by,
                &seq_to_sql(mail.claimed_until_ms)?,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// See [`crate::store::Store::claim_mail`].
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn claim_mail(
        &self,
        holder: Uuid,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<Option<QueuedMail>, StoreError> {
        let client = self.pool.get().await?;
        let now = seq_to_sql(now_ms)?;
        let until = seq_to_sql(now_ms.saturating_add(lease_ms))?;
        // The row lock of the subquery holds until the statement commits; a row
        // another server has locked is skipped, and one it claimed and committed
        // meanwhile fails the re-checked condition (its lease is in the future).
        let row = client
            .query_opt(
                &format!(
                    "UPDATE mail SET claimed_by = $1, claimed_until_ms = $2
                     WHERE id = (
                         SELECT id FROM mail
                         WHERE state = 0 AND next_attempt_ms <= $3 AND claimed_until_ms <= $3
                         ORDER BY next_attempt_ms, id
                         LIMIT 1
                         FOR UPDATE SKIP LOCKED
                     )
                     AND state = 0 AND next_attempt_ms <= $3 AND claimed_until_ms <= $3
                     RETURNING {COLUMNS}"
                ),
                &[&holder, &until, &now],
            )
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// See [`crate::store::Store::finish_mail`].
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn finish_mail(
        &self,
        id: MailId,
        holder: Uuid,
        outcome: &MailOutcome,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        let Some(row) = tx
            .query_opt(
                &format!("SELECT {COLUMNS} FROM mail WHERE id = $1 FOR UPDATE"),
                &[&id.0],
            )
            .await?
        else {
            return Ok(false);
        };
        let mail = from_row(&row)?;
        if mail.claimed_by != Some(holder) {
            return Ok(false);
        }
        let mail = mail.finished(outcome, now_ms);
        tx.execute(
            "UPDATE mail SET subject = $2, body = $3, state = $4, attempts = $5,
                 next_attempt_ms = $6, last_error = $7, finished_ms = $8, claimed_by = NULL,
                 claimed_until_ms = 0
             WHERE id = $1",
            &[
                &id.0,
                &mail.mail.subject,
                &mail.mail.body,
                &state_code(mail.state),
                &i32::try_from(mail.attempts).unwrap_or(i32::MAX),
                &seq_to_sql(mail.next_attempt_ms)?,
                &mail.last_error,
                &mail.finished_ms.map(seq_to_sql).transpose()?,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every mail, oldest first.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn mail_list(&self) -> Result<Vec<QueuedMail>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query(
                &format!("SELECT {COLUMNS} FROM mail ORDER BY created_ms, id"),
                &[],
            )
            .await?
            .iter()
            .map(from_row)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::tests::fresh;
    use crate::store::{MailKind, MailOutcome, OutgoingMail, QueuedMail};

    /// Two servers' stores claim from one outbox at once: every mail is claimed
    /// by exactly one of them, and each records its outcomes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn each_mail_is_claimed_by_one_server() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 4).await.expect("second");
        let mut queued = HashSet::new();
        for n in 0..40 {
            let mail = QueuedMail::new(
                OutgoingMail {
                    to: format!("person{n}@example.com"),
                    subject: "Digest".into(),
                    body: "Open Cairn.".into(),
                    kind: MailKind::Digest,
                    user: None,
                },
                1_000,
            );
            queued.insert(mail.id);
            first.queue_mail(&mail).await.expect("queue");
        }
        let mut senders = Vec::new();
        for n in 0..4 {
            let store = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            senders.push(tokio::spawn(async move {
                let holder = uuid::Uuid::new_v4();
                let mut mine = Vec::new();
                while let Some(mail) = store
                    .claim_mail(holder, 2_000, 300_000)
                    .await
                    .expect("claim")
                {
                    assert!(
                        store
                            .finish_mail(mail.id, holder, &MailOutcome::Sent, 2_001)
                            .await
                            .expect("finish")
                    );
                    mine.push(mail.id);
                }
                mine
            }));
        }
        let mut claimed = Vec::new();
        for sender in senders {
            claimed.extend(sender.await.expect("sender"));
        }
        assert_eq!(claimed.len(), 40, "no mail claimed twice");
        assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), queued);
    }
}
