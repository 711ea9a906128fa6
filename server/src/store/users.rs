//! Accounts: create, list, disable, reset the password, look up.

use cairn_common::codec;
use cairn_common::model::{Role, Space, SpaceId, UserId, UserProfile};
use serde::{Deserialize, Serialize};
use sled::Transactional;

use super::{PERSONAL_SPACE_NAME, SledStore, StoreError, key2};
use crate::clock::now_ms;

/// The login name of the standard account.
pub const ADMIN_LOGIN: &str = "admin";
/// Longest first or last name.
const MAX_NAME_CHARS: usize = 200;
/// Longest e-mail address (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// An account to create.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The password, hashed by the caller (argon2id PHC string, see
    /// [`crate::auth::password::hash_new`]): the store keeps hashes, it makes none.
    pub password_hash: String,
    pub must_change_password: bool,
    pub server_admin: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("password_hash", &"<hidden>")
            .field("must_change_password", &self.must_change_password)
            .field("server_admin", &self.server_admin)
            .finish()
    }
}

/// An account to create, already checked and with its password hashed.
#[derive(Clone)]
pub struct NewAccount {
    /// Normalized (see [`normalize_email`]) and checked.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub server_admin: bool,
    pub created_at_ms: u64,
}

/// An account as the admin sees it (no credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAccount {
    pub profile: UserProfile,
    pub disabled: bool,
    pub must_change_password: bool,
    pub server_admin: bool,
    pub created_at_ms: u64,
}

/// An account as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub profile: UserProfile,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub must_change_password: bool,
    /// Manages accounts (through the admin CLI); sees no space he is not a member of.
    pub server_admin: bool,
    pub created_at_ms: u64,
    pub personal_space: SpaceId,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("profile", &self.profile)
            .field("disabled", &self.disabled)
            .field("must_change_password", &self.must_change_password)
            .field("server_admin", &self.server_admin)
            .field("created_at_ms", &self.created_at_ms)
            .field("personal_space", &self.personal_space)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    pub(crate) fn account(&self) -> UserAccount {
        UserAccount {
            profile: self.profile.clone(),
            disabled: self.disabled,
            must_change_password: self.must_change_password,
            server_admin: self.server_admin,
            created_at_ms: self.created_at_ms,
        }
    }
}

/// The stored form of a login name: trimmed and lowercase.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks a normalized e-mail address: one `@` with something on both sides, no
/// spaces or control characters. (Delivery is the mail server's business.)
pub(crate) fn check_email(email: &str) -> Result<(), StoreError> {
    let bad = || StoreError::InvalidEmail(email.to_owned());
    if email.chars().count() > MAX_EMAIL_CHARS
        || email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '\\')
    {
        return Err(bad());
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => Err(bad()),
    }
}

fn check_name(what: &str, name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(format!(
            "the {what} must be one line of at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// Checks an account to create and makes it ready for a backend: the e-mail
/// normalized and checked (`admin` only for a server admin, the standard account),
/// the names trimmed and checked. The one place these rules live.
///
/// # Errors
/// [`StoreError::InvalidEmail`], [`StoreError::ReservedName`] or
/// [`StoreError::InvalidInput`].
pub(crate) fn check_new_user(new: NewUser) -> Result<NewAccount, StoreError> {
    let email = normalize_email(&new.email);
    if email == ADMIN_LOGIN {
        if !new.server_admin {
            return Err(StoreError::ReservedName);
        }
    } else {
        check_email(&email)?;
    }
    Ok(NewAccount {
        email,
        first_name: check_name("first name", &new.first_name)?,
        last_name: check_name("last name", &new.last_name)?,
        password_hash: new.password_hash,
        must_change_password: new.must_change_password,
        server_admin: new.server_admin,
        created_at_ms: now_ms(),
    })
}

impl NewAccount {
    /// The account as stored, with a fresh id, and its personal space (which it
    /// owns): what every backend writes for a new account.
    #[must_use]
    pub fn into_records(self) -> (UserRecord, Space) {
        let space = Space {
            id: SpaceId::new(),
            name: PERSONAL_SPACE_NAME.into(),
            personal: true,
        };
        let record = UserRecord {
            profile: UserProfile {
                id: UserId::new(),
                email: self.email,
                first_name: self.first_name,
                last_name: self.last_name,
            },
            password_hash: self.password_hash,
            disabled: false,
            must_change_password: self.must_change_password,
            server_admin: self.server_admin,
            created_at_ms: self.created_at_ms,
            personal_space: space.id,
        };
        (record, space)
    }
}

impl SledStore {
    /// [`check_new_user`], then [`SledStore::create_account`]: for the sled store's
    /// own tests (the server goes through [`crate::store::Store::create_user`]).
    #[cfg(test)]
    pub(crate) fn create_user(&self, new: NewUser) -> Result<UserProfile, StoreError> {
        self.create_account(check_new_user(new)?)
    }

    /// Creates a checked account (see [`check_new_user`]) and its personal space
    /// (the user owns it). The e-mail must be unique. Durable when it returns.
    ///
    /// # Errors
    /// [`StoreError::DuplicateEmail`], or a storage error.
    pub fn create_account(&self, new: NewAccount) -> Result<UserProfile, StoreError> {
        let email = new.email.clone();
        let (record, space) = new.into_records();
        let profile = record.profile.clone();
        {
            let _accounts = self.accounts_lock();
            if self.db().emails.contains_key(email.as_bytes())? {
                return Err(StoreError::DuplicateEmail(email));
            }
            let user_bytes = codec::encode(&record)?;
            let space_bytes = codec::encode(&space)?;
            let role = codec::encode(&Role::Owner)?;
            let i = self.db();
            (&i.users, &i.emails, &i.spaces, &i.members, &i.user_spaces).transaction(
                |(users, emails, spaces, members, user_spaces)| {
                    users.insert(&profile.id.as_bytes()[..], user_bytes.as_slice())?;
                    emails.insert(email.as_bytes(), &profile.id.as_bytes()[..])?;
                    spaces.insert(&space.id.as_bytes()[..], space_bytes.as_slice())?;
                    members.insert(
                        key2(space.id.as_bytes(), profile.id.as_bytes()),
                        role.as_slice(),
                    )?;
                    user_spaces.insert(
                        key2(profile.id.as_bytes(), space.id.as_bytes()),
                        role.as_slice(),
                    )?;
                    Ok::<_, sled::transaction::ConflictableTransactionError<StoreError>>(())
                },
            )?;
            self.wrote();
        }
        self.flush()?;
        Ok(profile)
    }

    /// Every account, by e-mail.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn list_users(&self) -> Result<Vec<UserAccount>, StoreError> {
        let mut out = Vec::new();
        for entry in &self.db().users {
            let (_, value) = entry?;
            let record: UserRecord = codec::decode(&value)?;
            out.push(record.account());
        }
        out.sort_by(|a, b| a.profile.email.cmp(&b.profile.email));
        Ok(out)
    }

    /// Disables or enables an account; disabling also ends all its sessions.
    /// Durable when it returns.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] or a storage error.
    pub fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), StoreError> {
        {
            let _accounts = self.accounts_lock();
            let mut record = self.require_user_by_email(email)?;
            record.disabled = disabled;
            self.put_user(&record)?;
            if disabled {
                self.revoke_sessions_of(record.profile.id, None)?;
            }
        }
        self.flush()
    }

    /// Sets a new password (its hash) that the user must change at the next login,
    /// and ends all the user's sessions. Durable when it returns.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] or a storage error.
    pub fn reset_password(&self, email: &str, password_hash: String) -> Result<(), StoreError> {
        {
            let _accounts = self.accounts_lock();
            let mut record = self.require_user_by_email(email)?;
            record.password_hash = password_hash;
            record.must_change_password = true;
            self.put_user(&record)?;
            self.revoke_sessions_of(record.profile.id, None)?;
        }
        self.flush()
    }

    /// Stores a password the user chose (already hashed), lifts the must-change gate,
    /// and ends every session of the user but `keep`. Not durable until
    /// [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the account vanished, or a storage error.
    pub fn set_own_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        let _accounts = self.accounts_lock();
        let mut record = self
            .user(user)?
            .ok_or_else(|| StoreError::NotFound("this account no longer exists".into()))?;
        record.password_hash = password_hash;
        record.must_change_password = false;
        self.put_user(&record)?;
        self.revoke_sessions_of(user, keep)
    }

    /// The account with this id.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        match self.db().users.get(id.as_bytes())? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The account with this login name (any case).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let email = normalize_email(email);
        match self.db().emails.get(email.as_bytes())? {
            Some(id) => match super::id_at(&id, 0) {
                Some(id) => self.user(UserId::from_bytes(id)),
                None => {
                    Err(codec::CodecError::Malformed("a damaged e-mail index entry".into()).into())
                }
            },
            None => Ok(None),
        }
    }

    fn require_user_by_email(&self, email: &str) -> Result<UserRecord, StoreError> {
        self.user_by_email(email)?
            .ok_or_else(|| StoreError::NoSuchUser(normalize_email(email)))
    }

    fn put_user(&self, record: &UserRecord) -> Result<(), StoreError> {
        self.db()
            .users
            .insert(record.profile.id.as_bytes(), codec::encode(record)?)?;
        self.wrote();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};
    use super::*;

    fn new_user(email: &str) -> NewUser {
        NewUser {
            email: email.into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            password_hash: "hash of ann's password".into(),
            must_change_password: false,
            server_admin: false,
        }
    }

    /// A new user is stored lowercase, listed, and owns a personal space.
    #[test]
    fn create_and_list() {
        let (_dir, store) = temp_store();
        let profile = store
            .create_user(new_user(" Ann@Example.COM "))
            .expect("create");
        assert_eq!(profile.email, "ann@example.com");
        let users = store.list_users().expect("list");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].profile, profile);
        assert!(!users[0].disabled && !users[0].server_admin);
        let record = store
            .user_by_email("ANN@example.com")
            .expect("get")
            .expect("found");
        let spaces = store.spaces_of(profile.id).expect("spaces");
        assert_eq!(spaces.len(), 1);
        assert_eq!(spaces[0].space.id, record.personal_space);
        assert!(spaces[0].space.personal);
        assert_eq!(spaces[0].role, Role::Owner);
        assert_eq!(record.password_hash, "hash of ann's password");
    }

    /// Duplicates (in any case), bad addresses and `admin` for a normal user are
    /// refused with their own errors.
    #[test]
    fn create_refusals() {
        let (_dir, store) = temp_store();
        store
            .create_user(new_user("ann@example.com"))
            .expect("create");
        assert!(matches!(
            store.create_user(new_user("ANN@example.com")),
            Err(StoreError::DuplicateEmail(_))
        ));
        for bad in ["ann", "@example.com", "ann@", "a b@example.com", "a@b@c"] {
            assert!(
                matches!(
                    store.create_user(new_user(bad)),
                    Err(StoreError::InvalidEmail(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            store.create_user(new_user("admin")),
            Err(StoreError::ReservedName)
        ));
        let mut admin = new_user("Admin");
        admin.server_admin = true;
        admin.must_change_password = true;
        let profile = store.create_user(admin).expect("standard account");
        assert_eq!(profile.email, "admin");
        assert_eq!(store.list_users().expect("list").len(), 2);
    }

    /// Disabling ends the sessions; enabling again does not bring them back.
    #[test]
    fn disable_revokes_sessions() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let hash = [7u8; 32];
        store
            .create_session(&hash, ann.id, "laptop", 1_000, 10_000)
            .expect("session");
        store
            .set_disabled("ann@example.com", true)
            .expect("disable");
        assert!(store.user(ann.id).expect("get").expect("found").disabled);
        assert!(store.session(&hash).expect("get").is_none());
        store
            .set_disabled("ann@example.com", false)
            .expect("enable");
        assert!(!store.user(ann.id).expect("get").expect("found").disabled);
        assert!(matches!(
            store.set_disabled("nobody@example.com", true),
            Err(StoreError::NoSuchUser(_))
        ));
    }

    /// A reset stores the new hash, requires a change, and ends every session.
    #[test]
    fn reset_password_requires_change() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let hash = [9u8; 32];
        store
            .create_session(&hash, ann.id, "laptop", 1_000, 10_000)
            .expect("session");
        store
            .reset_password("ann@example.com", "new hash".into())
            .expect("reset");
        let record = store.user(ann.id).expect("get").expect("found");
        assert!(record.must_change_password);
        assert_eq!(record.password_hash, "new hash");
        assert!(store.session(&hash).expect("get").is_none());
        assert!(matches!(
            store.reset_password("nobody@example.com", "new hash".into()),
            Err(StoreError::NoSuchUser(_))
        ));
    }

    /// Accounts survive closing and reopening the store.
    #[test]
    fn accounts_persist() {
        let (dir, store) = temp_store();
        let ann = user(&store, "ann");
        drop(store);
        let store = SledStore::open(&dir.path().join("db")).expect("reopen");
        let record = store.user(ann.id).expect("get").expect("found");
        assert_eq!(record.profile, ann);
    }
}
