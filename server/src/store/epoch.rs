//! The store's [`Epoch`]: the identity of its history, in the `meta` tree.
//!
//! A store gets an epoch when it is first opened (init, and the fresh store a
//! restore builds) and a new one when its history is replaced while it stays open
//! (import, purge of everything). The `meta` tree is not backed up, so a restored
//! store never carries the epoch of the store it was copied from. Sequence numbers
//! mean nothing across epochs; clients that see a new one start over (see
//! `docs/PROTOCOL.md`).

use cairn_common::api::Epoch;
use cairn_common::codec;

use super::{SledStore, StoreError};

const EPOCH: &[u8] = b"epoch";

impl SledStore {
    /// The store's epoch.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        *self.inner.epoch.read()
    }

    /// Reads the stored epoch, making (and durably storing) one if there is none.
    pub(super) fn load_epoch(&self) -> Result<Epoch, StoreError> {
        let meta = &self.db().meta;
        if let Some(bytes) = meta.get(EPOCH)? {
            return Ok(codec::decode(&bytes)?);
        }
        let epoch = Epoch::new();
        meta.insert(EPOCH, codec::encode(&epoch)?)?;
        Ok(epoch)
    }

    /// Gives the store a new epoch, durable when this returns: its history was
    /// replaced (import, purge of everything), so clients must start over.
    ///
    /// # Errors
    /// A storage error; the old epoch stays then.
    pub fn renew_epoch(&self) -> Result<Epoch, StoreError> {
        let epoch = Epoch::new();
        self.db().meta.insert(EPOCH, codec::encode(&epoch)?)?;
        self.flush()?;
        *self.inner.epoch.write() = epoch;
        tracing::info!("the store's history was replaced: new epoch {epoch}");
        Ok(epoch)
    }

    /// Re-reads the epoch after the database was swapped (a rewrite keeps the
    /// `meta` tree, so this only matters if the swapped-in copy differs).
    pub(super) fn reload_epoch(&self) -> Result<(), StoreError> {
        let epoch = self.load_epoch()?;
        *self.inner.epoch.write() = epoch;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::SledStore;
    use super::super::test_support::temp_store;

    /// An epoch is made once and kept across reopening; renewing it is durable.
    #[test]
    fn epoch_kept_and_renewed() {
        let (dir, store) = temp_store();
        let first = store.epoch();
        drop(store);
        let store = SledStore::open(&dir.path().join("db")).expect("reopen");
        assert_eq!(store.epoch(), first);
        let renewed = store.renew_epoch().expect("renew");
        assert_ne!(renewed, first);
        drop(store);
        let store = SledStore::open(&dir.path().join("db")).expect("reopen");
        assert_eq!(store.epoch(), renewed);
    }
}
