//! What moving a store to another backend needs beyond export and import: the
//! parts of the store that export leaves out because they belong to the server,
//! not to the people (sessions, the audit chain as stored, tombstones of purged
//! records, the epoch), read and loaded as they are. `cairn-server migrate` copies
//! a store with these and with export's own functions (see `store::migrate`).

use cairn_common::api::Epoch;
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId};
use serde::{Deserialize, Serialize};

use super::audit::Link;
use super::{SessionRecord, SledStore, StoreError, id_at, key2};

/// The audit chain as stored: entries (seq and the bytes that are hashed), head,
/// retention checkpoint, and the tokens that stand for people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditChain {
    pub entries: Vec<(u64, Vec<u8>)>,
    pub(crate) head: Option<Link>,
    pub(crate) checkpoint: Option<Link>,
    pub subjects: Vec<([u8; 16], String)>,
}

impl SledStore {
    /// Every tombstone of a purged record.
    ///
    /// # Errors
    /// A storage error or a damaged key.
    pub fn purged_records(&self) -> Result<Vec<(SpaceId, RecordId)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().oplog.scan_prefix([b'p']) {
            let (key, _) = entry?;
            let (Some(space), Some(record)) = (id_at(&key, 1), id_at(&key, 17)) else {
                return Err(codec::CodecError::Malformed("a damaged tombstone".into()).into());
            };
            out.push((SpaceId::from_bytes(space), RecordId::from_bytes(record)));
        }
        Ok(out)
    }

    /// Stores tombstones of purged records.
    ///
    /// # Errors
    /// A storage error.
    pub fn load_purged(&self, purged: &[(SpaceId, RecordId)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (space, record) in purged {
            let mut key = vec![b'p'];
            key.extend_from_slice(space.as_bytes());
            key.extend_from_slice(record.as_bytes());
            batch.insert(key, Vec::new());
        }
        self.db().oplog.apply_batch(batch)?;
        self.wrote();
        Ok(())
    }

    /// The audit chain as stored.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn audit_chain(&self) -> Result<AuditChain, StoreError> {
        let db = self.db();
        let link = |key: &[u8]| -> Result<Option<Link>, StoreError> {
            match db.audit.get(key)? {
                Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
                None => Ok(None),
            }
        };
        let mut chain = AuditChain {
            head: link(b"h")?,
            checkpoint: link(b"c")?,
            ..AuditChain::default()
        };
        for entry in db.audit.scan_prefix([b'e']) {
            let (key, value) = entry?;
            let seq = super::audit::entry_seq(&key)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged audit key".into()))?;
            chain.entries.push((seq, value.to_vec()));
        }
        for entry in db.audit_subjects.scan_prefix([b't']) {
            let (key, value) = entry?;
            let token = id_at(&key, 1)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged audit subject".into()))?;
            chain
                .subjects
                .push((token, String::from_utf8_lossy(&value).into_owned()));
        }
        Ok(chain)
    }

    /// Loads an audit chain as it was stored (into a store without one).
    ///
    /// # Errors
    /// A storage error.
    pub fn load_audit_chain(&self, chain: &AuditChain) -> Result<(), StoreError> {
        let db = self.db();
        let mut batch = sled::Batch::default();
        for (seq, bytes) in &chain.entries {
            let mut key = vec![b'e'];
            key.extend_from_slice(&seq.to_be_bytes());
            batch.insert(key, bytes.as_slice());
        }
        if let Some(head) = chain.head {
            batch.insert(&b"h"[..], codec::encode(&head)?);
        }
        if let Some(checkpoint) = chain.checkpoint {
            batch.insert(&b"c"[..], codec::encode(&checkpoint)?);
        }
        db.audit.apply_batch(batch)?;
        let mut batch = sled::Batch::default();
        for (token, email) in &chain.subjects {
            batch.insert(key2(b"t", token), email.as_bytes());
            batch.insert(key2(b"m", email.as_bytes()), &token[..]);
        }
        db.audit_subjects.apply_batch(batch)?;
        drop(db);
        self.wrote();
        Ok(())
    }

    /// Stores a session as it was (its token hash and public id kept).
    ///
    /// # Errors
    /// A storage error.
    pub fn load_session(
        &self,
        token_hash: &[u8; 32],
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        let db = self.db();
        db.sessions
            .insert(&token_hash[..], codec::encode(record)?)?;
        db.user_sessions
            .insert(key2(record.user.as_bytes(), token_hash), &[][..])?;
        drop(db);
        self.wrote();
        Ok(())
    }

    /// Sets the store's epoch (a copy of another store keeps its history, so its
    /// clients need not start over).
    ///
    /// # Errors
    /// A storage error.
    pub fn set_epoch(&self, epoch: Epoch) -> Result<(), StoreError> {
        self.db().meta.insert(b"epoch", codec::encode(&epoch)?)?;
        self.flush()?;
        self.reload_epoch()
    }
}
