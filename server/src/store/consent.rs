//! Consent to the privacy notice, as evidence. Trees:
//! - `consents`: user ++ time (big-endian ms) ++ nonce → [`ConsentEntry`], every
//!   acceptance and withdrawal, never changed but by a purge (which blanks the
//!   personal fields and names the pseudonym);
//! - `consent_current`: user → the version the user accepted last (none after a
//!   withdrawal), read by every authenticated request.

use cairn_common::api::consent::{ConsentAction, ConsentEntry};
use cairn_common::codec;
use cairn_common::model::UserId;

use super::{SledStore, StoreError};

fn entry_key(user: UserId, at_ms: u64) -> [u8; 28] {
    let mut key = [0u8; 28];
    key[..16].copy_from_slice(user.as_bytes());
    key[16..24].copy_from_slice(&at_ms.to_be_bytes());
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key[24..]);
    key
}

impl SledStore {
    /// Keeps `entry` as evidence and makes it the user's current consent (an
    /// acceptance sets the accepted version, a withdrawal clears it), durably.
    ///
    /// # Errors
    /// A storage error.
    pub fn record_consent(&self, entry: &ConsentEntry) -> Result<(), StoreError> {
        let db = self.db();
        db.consents
            .insert(entry_key(entry.user, entry.at_ms), codec::encode(entry)?)?;
        match entry.action {
            ConsentAction::Accepted => {
                db.consent_current
                    .insert(entry.user.as_bytes(), entry.version.as_bytes())?;
            }
            ConsentAction::Withdrawn => {
                db.consent_current.remove(entry.user.as_bytes())?;
            }
        }
        drop(db);
        self.wrote();
        self.flush()
    }

    /// The version of the notice `user` accepted last, if any (none after a
    /// withdrawal).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn accepted_notice(&self, user: UserId) -> Result<Option<String>, StoreError> {
        self.db()
            .consent_current
            .get(user.as_bytes())?
            .map(|v| {
                String::from_utf8(v.to_vec()).map_err(|_| {
                    codec::CodecError::Malformed("a consent version is not UTF-8".into()).into()
                })
            })
            .transpose()
    }

    /// The consent records of `users` (all users when `None`), oldest first.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn consents(&self, users: Option<&[UserId]>) -> Result<Vec<ConsentEntry>, StoreError> {
        let db = self.db();
        let mut out = Vec::new();
        let mut read = |iter: sled::Iter| -> Result<(), StoreError> {
            for entry in iter {
                let (_, value) = entry?;
                out.push(codec::decode::<ConsentEntry>(&value)?);
            }
            Ok(())
        };
        match users {
            None => read(db.consents.iter())?,
            Some(users) => {
                for user in users {
                    read(db.consents.scan_prefix(user.as_bytes()))?;
                }
            }
        }
        out.sort_by_key(|e| e.at_ms);
        Ok(out)
    }
}
