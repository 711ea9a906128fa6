//! Sessions, keyed by the SHA-256 of their token (the token itself is never stored).

use cairn_common::codec;
use cairn_common::model::UserId;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::{SledStore, StoreError, key2};

/// One session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Public id, shown in the session list and used to revoke it (not the token).
    pub id: String,
    pub user: UserId,
    pub device: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
}

/// What a request's bearer token stands for, read in one step: its session, the
/// account (none if it is gone), and the privacy notice's version the account
/// accepted last (none if none).
#[derive(Clone, Debug)]
pub struct SessionLookup {
    pub session: SessionRecord,
    pub user: Option<super::UserRecord>,
    pub accepted_notice: Option<String>,
}

impl SessionRecord {
    /// A new session with a random public id.
    #[must_use]
    pub fn new(user: UserId, device: &str, created_at_ms: u64, expires_at_ms: u64) -> Self {
        let mut public = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut public);
        Self {
            id: hex::encode(public),
            user,
            device: device.to_owned(),
            created_at_ms,
            expires_at_ms,
        }
    }
}

type TxError = ConflictableTransactionError<StoreError>;

impl SledStore {
    /// Stores a new session under the hash of its token. Not durable until
    /// [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// A storage error.
    pub fn create_session(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        device: &str,
        created_at_ms: u64,
        expires_at_ms: u64,
    ) -> Result<SessionRecord, StoreError> {
        let record = SessionRecord::new(user, device, created_at_ms, expires_at_ms);
        let bytes = codec::encode(&record)?;
        let index = key2(user.as_bytes(), token_hash);
        let i = self.db();
        (&i.sessions, &i.user_sessions).transaction(|(sessions, user_sessions)| {
            sessions.insert(&token_hash[..], bytes.as_slice())?;
            user_sessions.insert(index.as_slice(), &[][..])?;
            Ok::<_, TxError>(())
        })?;
        self.wrote();
        Ok(record)
    }

    /// The session with this token hash, expired or not.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn session(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        match self.db().sessions.get(token_hash)? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The user's sessions with their token hashes, oldest first.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn sessions_of(&self, user: UserId) -> Result<Vec<([u8; 32], SessionRecord)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().user_sessions.scan_prefix(user.as_bytes()) {
            let (key, _) = entry?;
            let Some(hash) = key.get(16..).and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
                continue;
            };
            // An index entry whose session is gone (revoked concurrently) is skipped.
            if let Some(record) = self.session(&hash)? {
                out.push((hash, record));
            }
        }
        out.sort_by_key(|(_, r)| r.created_at_ms);
        Ok(out)
    }

    /// Ends one session. Not durable until [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// A storage error.
    pub fn revoke_session(&self, user: UserId, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        let index = key2(user.as_bytes(), token_hash);
        let i = self.db();
        (&i.sessions, &i.user_sessions).transaction(|(sessions, user_sessions)| {
            sessions.remove(&token_hash[..])?;
            user_sessions.remove(index.as_slice())?;
            Ok::<_, TxError>(())
        })?;
        self.wrote();
        Ok(())
    }

    /// Ends every session of `user` except `keep`. Not durable until
    /// [`SledStore::commit_durable`] (or [`SledStore::flush`]).
    ///
    /// # Errors
    /// A storage error.
    pub fn revoke_sessions_of(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        for (hash, _) in self.sessions_of(user)? {
            if Some(&hash) != keep {
                self.revoke_session(user, &hash)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};

    /// Sessions are found by hash, listed per user, and revoked one or all-but-one.
    #[test]
    fn create_list_revoke() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let bob = user(&store, "bob");
        let a1 = store
            .create_session(&[1; 32], ann.id, "laptop", 1, 100)
            .expect("a1");
        store
            .create_session(&[2; 32], ann.id, "phone", 2, 100)
            .expect("a2");
        store
            .create_session(&[3; 32], ann.id, "tablet", 3, 100)
            .expect("a3");
        store
            .create_session(&[4; 32], bob.id, "laptop", 1, 100)
            .expect("b1");
        assert_eq!(store.session(&[1; 32]).expect("get"), Some(a1.clone()));
        let listed = store.sessions_of(ann.id).expect("list");
        let devices: Vec<_> = listed.iter().map(|(_, s)| s.device.as_str()).collect();
        assert_eq!(devices, ["laptop", "phone", "tablet"]);
        assert_ne!(listed[0].1.id, listed[1].1.id);

        store.revoke_session(ann.id, &[2; 32]).expect("revoke");
        assert!(store.session(&[2; 32]).expect("get").is_none());
        store
            .revoke_sessions_of(ann.id, Some(&[1; 32]))
            .expect("revoke others");
        let left: Vec<_> = store
            .sessions_of(ann.id)
            .expect("list")
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        assert_eq!(left, [[1; 32]]);
        assert_eq!(store.sessions_of(bob.id).expect("bob").len(), 1);
    }
}
