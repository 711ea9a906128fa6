//! Consent to the privacy notice and invitations on PostgreSQL: the same rules as
//! [`crate::store::consent`] and [`crate::store::invitations`] on sled. Using a
//! code locks its row, so it is used once whichever server the requests reach.

use cairn_common::api::consent::{ConsentAction, ConsentEntry};
use cairn_common::api::invitations::{InvitationId, InvitationState};
use cairn_common::codec;
use cairn_common::model::{SpaceId, UserId};

use super::{PgStore, seq_to_sql};
use crate::store::StoreError;
use crate::store::invitations::{CODE_NOT_VALID, InvitationRecord};

impl PgStore {
    /// Keeps `entry` and makes it the user's current consent, in one transaction.
    ///
    /// # Errors
    /// A database error.
    pub async fn record_consent(&self, entry: &ConsentEntry) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO consents (user_id, at_ms, entry) VALUES ($1, $2, $3)",
            &[
                &entry.user.0,
                &seq_to_sql(entry.at_ms)?,
                &codec::encode(entry)?,
            ],
        )
        .await?;
        match entry.action {
            ConsentAction::Accepted => {
                tx.execute(
                    "INSERT INTO consent_current (user_id, version) VALUES ($1, $2)
                     ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version",
                    &[&entry.user.0, &entry.version],
                )
                .await?;
            }
            ConsentAction::Withdrawn => {
                tx.execute(
                    "DELETE FROM consent_current WHERE user_id = $1",
                    &[&entry.user.0],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The version of the notice `user` accepted last, if any.
    ///
    /// # Errors
    /// A database error.
    pub async fn accepted_notice(&self, user: UserId) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt(
                "SELECT version FROM consent_current WHERE user_id = $1",
                &[&user.0],
            )
            .await?
            .map(|row| row.get(0)))
    }

    /// The consent records of `users` (all when `None`), oldest first.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn consents(
        &self,
        users: Option<&[UserId]>,
    ) -> Result<Vec<ConsentEntry>, StoreError> {
        let client = self.pool.get().await?;
        let rows = match users {
            None => {
                client
                    .query("SELECT entry FROM consents ORDER BY at_ms, id", &[])
                    .await?
            }
            Some(users) => {
                let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
                client
                    .query(
                        "SELECT entry FROM consents WHERE user_id = ANY($1) ORDER BY at_ms, id",
                        &[&ids],
                    )
                    .await?
            }
        };
        rows.iter()
            .map(|row| Ok(codec::decode(row.get::<_, &[u8]>(0))?))
            .collect()
    }

    /// Stores a new invitation.
    ///
    /// # Errors
    /// A database error.
    pub async fn create_invitation(&self, record: &InvitationRecord) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO invitations (id, space_id, code_hash, created_at_ms, record)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &record.id.0,
                    &record.space.map(|s| s.0),
                    &record.code_hash.as_slice(),
                    &seq_to_sql(record.created_at_ms)?,
                    &codec::encode(record)?,
                ],
            )
            .await?;
        Ok(())
    }

    /// The invitations to `space` (all when `None`), newest first.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn invitations(
        &self,
        space: Option<SpaceId>,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        let client = self.pool.get().await?;
        let rows = match space {
            None => {
                client
                    .query(
                        "SELECT record FROM invitations ORDER BY created_at_ms DESC",
                        &[],
                    )
                    .await?
            }
            Some(space) => {
                client
                    .query(
                        "SELECT record FROM invitations WHERE space_id = $1
                         ORDER BY created_at_ms DESC",
                        &[&space.0],
                    )
                    .await?
            }
        };
        rows.iter()
            .map(|row| Ok(codec::decode(row.get::<_, &[u8]>(0))?))
            .collect()
    }

    /// The invitation whose code hashes to `code_hash`, whatever its state.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn invitation_by_code(
        &self,
        code_hash: &[u8; 32],
    ) -> Result<Option<InvitationRecord>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query_opt(
                "SELECT record FROM invitations WHERE code_hash = $1",
                &[&code_hash.as_slice()],
            )
            .await?
            .map(|row| Ok(codec::decode(row.get::<_, &[u8]>(0))?))
            .transpose()
    }

    /// Revokes the open invitation `id` of `space` at `now_ms`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for no such invitation of that space,
    /// [`StoreError::Conflict`] when it is no longer open.
    pub async fn revoke_invitation(
        &self,
        space: SpaceId,
        id: InvitationId,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT record FROM invitations WHERE id = $1 AND space_id = $2 FOR UPDATE",
                &[&id.0, &space.0],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound("no such invitation".into()))?;
        let mut record: InvitationRecord = codec::decode(row.get::<_, &[u8]>(0))?;
        if record.state(now_ms) != InvitationState::Open {
            return Err(StoreError::Conflict(format!(
                "the invitation is {} already",
                record.state(now_ms).name()
            )));
        }
        record.revoked_at_ms = Some(now_ms);
        tx.execute(
            "UPDATE invitations SET record = $2 WHERE id = $1",
            &[&id.0, &codec::encode(&record)?],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the open invitation of `code_hash` used at `now_ms` and returns it,
    /// once only, whichever server the racing requests reach.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] with [`CODE_NOT_VALID`] for a code that is
    /// unknown, used, revoked or expired.
    pub async fn use_invitation(
        &self,
        code_hash: &[u8; 32],
        now_ms: u64,
    ) -> Result<InvitationRecord, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut record: InvitationRecord = tx
            .query_opt(
                "SELECT record FROM invitations WHERE code_hash = $1 FOR UPDATE",
                &[&code_hash.as_slice()],
            )
            .await?
            .map(|row| codec::decode(row.get::<_, &[u8]>(0)))
            .transpose()?
            .filter(|r: &InvitationRecord| r.state(now_ms) == InvitationState::Open)
            .ok_or_else(|| StoreError::NotFound(CODE_NOT_VALID.into()))?;
        record.used_at_ms = Some(now_ms);
        tx.execute(
            "UPDATE invitations SET record = $2 WHERE id = $1",
            &[&record.id.0, &codec::encode(&record)?],
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }
}
