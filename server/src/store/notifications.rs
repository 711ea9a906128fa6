//! Notifications by choice: which mails each user wants. Tree `notifications`:
//! user → [`NotificationRecord`]. A user without an entry gets none.

use cairn_common::api::notifications::NotificationSettings;
use cairn_common::codec;
use cairn_common::model::UserId;
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

/// One user's choice, with the token of the stop link in their mails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub settings: NotificationSettings,
    /// 128 random bits, hex: the stop link carries it, so only the mails' reader
    /// can stop them without logging in. It can do nothing but turn mail off.
    pub stop_token: String,
    /// Unix milliseconds of the last change.
    pub changed_ms: u64,
}

impl NotificationRecord {
    /// A first choice, with a new stop token.
    #[must_use]
    pub fn new(settings: NotificationSettings, changed_ms: u64) -> Self {
        Self {
            settings,
            stop_token: {
                let mut bytes = [0u8; 16];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
                hex::encode(bytes)
            },
            changed_ms,
        }
    }
}

impl SledStore {
    /// `user`'s choice, if they ever made one.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn notifications(&self, user: UserId) -> Result<Option<NotificationRecord>, StoreError> {
        self.db()
            .notifications
            .get(user.as_bytes())?
            .map(|v| codec::decode(&v).map_err(Into::into))
            .transpose()
    }

    /// Keeps `user`'s choice, durably.
    ///
    /// # Errors
    /// A storage error.
    pub fn set_notifications(
        &self,
        user: UserId,
        record: &NotificationRecord,
    ) -> Result<(), StoreError> {
        self.db()
            .notifications
            .insert(user.as_bytes(), codec::encode(record)?)?;
        self.wrote();
        self.flush()
    }

    /// Every user's choice, by user id.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn all_notifications(&self) -> Result<Vec<(UserId, NotificationRecord)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().notifications.iter() {
            let (key, value) = entry?;
            let id = <[u8; 16]>::try_from(key.as_ref()).map_err(|_| {
                codec::CodecError::Malformed("a notifications key is not a user id".into())
            })?;
            out.push((UserId::from_bytes(id), codec::decode(&value)?));
        }
        Ok(out)
    }
}
