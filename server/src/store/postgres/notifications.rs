//! Notifications by choice on PostgreSQL: one row per user who chose
//! (the same rules as [`crate::store::notifications`] on sled).

use cairn_common::codec;
use cairn_common::model::UserId;

use super::PgStore;
use crate::store::StoreError;
use crate::store::notifications::NotificationRecord;

impl PgStore {
    /// `user`'s choice, if they ever made one.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn notifications(
        &self,
        user: UserId,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query_opt(
                "SELECT record FROM notifications WHERE user_id = $1",
                &[&user.0],
            )
            .await?
            .map(|row| codec::decode(row.get::<_, &[u8]>(0)).map_err(Into::into))
            .transpose()
    }

    /// Keeps `user`'s choice.
    ///
    /// # Errors
    /// A database error.
    pub async fn set_notifications(
        &self,
        user: UserId,
        record: &NotificationRecord,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO notifications (user_id, record) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET record = EXCLUDED.record",
                &[&user.0, &codec::encode(record)?],
            )
            .await?;
        Ok(())
    }

    /// Every user's choice, by user id.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn all_notifications(&self) -> Result<Vec<(UserId, NotificationRecord)>, StoreError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT user_id, record FROM notifications ORDER BY user_id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((UserId(row.get(0)), codec::decode(row.get::<_, &[u8]>(1))?)))
            .collect()
    }
}
