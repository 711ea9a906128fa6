//! The mail outbox on sled: tree `mail`, mail id (a UUIDv7, so keys sort by age)
//! → [`QueuedMail`]. One process owns a sled store, but it still keeps leases as
//! PostgreSQL does, so the rules (and the conformance suite) are the same; a
//! claim left by a process that died ends with its lease.
//!
//! Claims and outcomes read and write one entry under the `mail` lock, so the
//! sender and an admin command never interleave there; the tree is small (queued
//! mail and a few days of sent mail), so a claim scans it.

use cairn_common::codec;

use super::mail::{MailId, MailOutcome, QueuedMail};
use super::{SledStore, StoreError};

impl SledStore {
    fn mail_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded data is `()`; every write under it is one sled insert.
        self.inner
            .mail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores a new mail. Durable after [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// A storage error.
    pub fn queue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        let _lock = self.mail_lock();
        self.db()
            .mail
            .insert(mail.id.0.as_bytes(), codec::encode(mail)?)?;
        self.wrote();
        Ok(())
    }

    /// See [`super::Store::claim_mail`].
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn claim_mail(
        &self,
        holder: uuid::Uuid,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<Option<QueuedMail>, StoreError> {
        let _lock = self.mail_lock();
        let db = self.db();
        let mut first: Option<QueuedMail> = None;
        for entry in &db.mail {
            let (_, value) = entry?;
            let mail: QueuedMail = codec::decode(&value)?;
            if mail.is_due(now_ms)
                && first
                    .as_ref()
                    .is_none_or(|f| (mail.next_attempt_ms, mail.id) < (f.next_attempt_ms, f.id))
            {
                first = Some(mail);
            }
        }
        let Some(mut mail) = first else {
            return Ok(None);
        };
        mail.claimed_by = Some(holder);
        mail.claimed_until_ms = now_ms.saturating_add(lease_ms);
        db.mail
            .insert(mail.id.0.as_bytes(), codec::encode(&mail)?)?;
        drop(db);
        self.wrote();
        Ok(Some(mail))
    }

    /// See [`super::Store::finish_mail`]. Durable after [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn finish_mail(
        &self,
        id: MailId,
        holder: uuid::Uuid,
        outcome: &MailOutcome,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let _lock = self.mail_lock();
        let db = self.db();
        let Some(value) = db.mail.get(id.0.as_bytes())? else {
            return Ok(false);
        };
        let mail: QueuedMail = codec::decode(&value)?;
        if mail.claimed_by != Some(holder) {
            return Ok(false);
        }
        let mail = mail.finished(outcome, now_ms);
        db.mail.insert(id.0.as_bytes(), codec::encode(&mail)?)?;
        drop(db);
        self.wrote();
        Ok(true)
    }

    /// Every mail, oldest first.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn mail_list(&self) -> Result<Vec<QueuedMail>, StoreError> {
        let mut out: Vec<QueuedMail> = Vec::new();
        for entry in &self.db().mail {
            let (_, value) = entry?;
            out.push(codec::decode(&value)?);
        }
        // The order PostgreSQL lists them in (ids alone follow the real clock).
        out.sort_by_key(|m| (m.created_ms, m.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{MailKind, OutgoingMail, SledStore, Store};

    /// A queued mail is durable when queueing returns: it is there after the
    /// store is closed and opened again (as after a restart).
    #[tokio::test]
    async fn queued_mail_survives_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("db");
        let store = Store::from(SledStore::open(&db).expect("open"));
        let before = store.sled("test").expect("sled").sync_count();
        let id = store
            .queue_mail(OutgoingMail {
                to: "ann@example.com".into(),
                subject: "Reset your password".into(),
                body: "Open the link to set a new password.".into(),
                kind: MailKind::PasswordReset,
                user: None,
            })
            .await
            .expect("queue");
        let after = store.sled("test").expect("sled").sync_count();
        assert!(after > before, "queueing made it durable (flush and fsync)");
        drop(store);
        let reopened = SledStore::open(&db).expect("reopen");
        let list = reopened.mail_list().expect("list");
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, id);
        assert_eq!(list[0].mail.subject, "Reset your password");
    }
}
