//! Reads for `cairn-server export` (every space, its members, its ops with their
//! seqs) and writes for `cairn-server import` (accounts and spaces with the ids of
//! the export), which only an empty store accepts.

use cairn_common::codec;
use cairn_common::model::{Role, Space, SpaceId, UserId};
use cairn_common::op::Op;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::oplog::{op_key, seq_of};
use super::users::{ADMIN_LOGIN, UserRecord};
use super::{SledStore, StoreError, id_at, key2};

/// What an import may replace in the target store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportTarget {
    /// Nothing in it at all.
    Empty,
    /// Only the standard `admin` account that `init` made, with its empty personal
    /// space; the export's accounts replace it.
    FreshAdmin(UserId),
}

type TxError = ConflictableTransactionError<StoreError>;

impl SledStore {
    /// Every space, in id order.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn all_spaces(&self) -> Result<Vec<Space>, StoreError> {
        let mut out = Vec::new();
        for entry in &self.db().spaces {
            let (_, value) = entry?;
            out.push(codec::decode::<Space>(&value)?);
        }
        out.sort_by_key(|s| s.id);
        Ok(out)
    }

    /// The members of a space and their roles, in user-id order (no access check).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn space_roles(&self, space: SpaceId) -> Result<Vec<(UserId, Role)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().members.scan_prefix(space.as_bytes()) {
            let (key, value) = entry?;
            let user = id_at(&key, 16)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged member key".into()))?;
            out.push((UserId::from_bytes(user), codec::decode(&value)?));
        }
        Ok(out)
    }

    /// Every op of a space with its seq, in seq order.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn ops_with_seqs(&self, space: SpaceId) -> Result<Vec<(u64, Op)>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .db()
            .oplog
            .range(op_key(space, 0)..=op_key(space, u64::MAX))
        {
            let (key, value) = entry?;
            out.push((seq_of(&key, 17)?, codec::decode(&value)?));
        }
        Ok(out)
    }

    /// Whether an import may write into this store, and what it then replaces.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] saying what the store holds, or a storage error.
    pub fn import_target(&self) -> Result<ImportTarget, StoreError> {
        let users = self.list_users()?;
        let spaces = self.db().spaces.len();
        let ops = self.db().oplog.scan_prefix([b'o']).count();
        let target = match users.as_slice() {
            [] if spaces == 0 && ops == 0 => Some(ImportTarget::Empty),
            [only] if only.profile.email == ADMIN_LOGIN && spaces <= 1 && ops == 0 => {
                Some(ImportTarget::FreshAdmin(only.profile.id))
            }
            _ => None,
        };
        target.ok_or_else(|| {
            StoreError::Conflict(format!(
                "this server is not empty ({} accounts, {spaces} spaces, {ops} stored entries \
                 of changes); an import only goes into a new server: run `cairn-server init \
                 --data-dir NEW-DIR`, then import into NEW-DIR",
                users.len()
            ))
        })
    }

    /// Removes the account `init` made (and its personal space and sessions), for an
    /// import that brings its own `admin`. Not durable until [`SledStore::flush`].
    ///
    /// # Errors
    /// A storage error.
    pub fn remove_fresh_account(&self, user: UserId) -> Result<(), StoreError> {
        let _accounts = self.accounts_lock();
        let Some(record) = self.user(user)? else {
            return Ok(());
        };
        self.revoke_sessions_of(user, None)?;
        let space = record.personal_space;
        let i = self.db();
        (&i.users, &i.emails, &i.spaces, &i.members, &i.user_spaces).transaction(
            |(users, emails, spaces, members, user_spaces)| {
                users.remove(&user.as_bytes()[..])?;
                emails.remove(record.profile.email.as_bytes())?;
                spaces.remove(&space.as_bytes()[..])?;
                members.remove(key2(space.as_bytes(), user.as_bytes()))?;
                user_spaces.remove(key2(user.as_bytes(), space.as_bytes()))?;
                Ok::<_, TxError>(())
            },
        )?;
        self.wrote();
        Ok(())
    }

    /// Stores an account exactly as given (id, e-mail, flags, personal space id).
    /// Not durable until [`SledStore::flush`].
    ///
    /// # Errors
    /// [`StoreError::DuplicateEmail`], or a storage error.
    pub fn import_account(&self, record: &UserRecord) -> Result<(), StoreError> {
        let _accounts = self.accounts_lock();
        let email = record.profile.email.as_str();
        if self.db().emails.contains_key(email.as_bytes())? {
            return Err(StoreError::DuplicateEmail(email.to_owned()));
        }
        let bytes = codec::encode(record)?;
        let id = record.profile.id;
        let i = self.db();
        (&i.users, &i.emails).transaction(|(users, emails)| {
            users.insert(&id.as_bytes()[..], bytes.as_slice())?;
            emails.insert(email.as_bytes(), &id.as_bytes()[..])?;
            Ok::<_, TxError>(())
        })?;
        self.wrote();
        Ok(())
    }

    /// Stores a space with its members exactly as given. Not durable until
    /// [`SledStore::flush`].
    ///
    /// # Errors
    /// A storage error.
    pub fn import_space(
        &self,
        space: &Space,
        members: &[(UserId, Role)],
    ) -> Result<(), StoreError> {
        let _accounts = self.accounts_lock();
        let bytes = codec::encode(space)?;
        let roles = members
            .iter()
            .map(|(user, role)| Ok((*user, codec::encode(role)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let i = self.db();
        (&i.spaces, &i.members, &i.user_spaces).transaction(|(spaces, by_space, by_user)| {
            spaces.insert(&space.id.as_bytes()[..], bytes.as_slice())?;
            for (user, role) in &roles {
                by_space.insert(key2(space.id.as_bytes(), user.as_bytes()), role.as_slice())?;
                by_user.insert(key2(user.as_bytes(), space.id.as_bytes()), role.as_slice())?;
            }
            Ok::<_, TxError>(())
        })?;
        self.wrote();
        Ok(())
    }
}
