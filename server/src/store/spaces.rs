//! Spaces and their members. Management (rename, members) is for owners; a space a
//! user is not a member of is "not found" for him, exactly like one that does not
//! exist.

use cairn_common::api::{Member, MemberList, SpaceInfo};
use cairn_common::codec;
use cairn_common::model::{Role, Space, SpaceId, UserId};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::users::normalize_email;
use super::{SledStore, StoreError, id_at, key2};

/// Longest space name.
const MAX_NAME_CHARS: usize = 100;

/// What a non-member hears about any space, existing or not.
pub const SPACE_NOT_FOUND: &str =
    "there is no such space, or you are not a member of it; `cairn spaces` lists yours";
pub(crate) const OWNERS_ONLY: &str =
    "only an owner of the space can do this; ask one of its owners";

pub(crate) fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(StoreError::InvalidInput(format!(
            "a space name is one line of 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// The order spaces are listed in: the personal space first, then by name.
pub(crate) fn sort_spaces(spaces: &mut [SpaceInfo]) {
    spaces.sort_by(|a, b| {
        (!a.space.personal, &a.space.name, a.space.id).cmp(&(
            !b.space.personal,
            &b.space.name,
            b.space.id,
        ))
    });
}

fn decode_role(bytes: &[u8]) -> Result<Role, StoreError> {
    Ok(codec::decode(bytes)?)
}

impl SledStore {
    /// The space with this id.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn space(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        match self.db().spaces.get(id.as_bytes())? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The user's role in a space, `None` if not a member (or no such space).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn role_of(&self, space: SpaceId, user: UserId) -> Result<Option<Role>, StoreError> {
        match self
            .db()
            .members
            .get(key2(space.as_bytes(), user.as_bytes()))?
        {
            Some(bytes) => Ok(Some(decode_role(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Every space the user is a member of, with the role: the personal space first,
    /// then by name.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn spaces_of(&self, user: UserId) -> Result<Vec<SpaceInfo>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().user_spaces.scan_prefix(user.as_bytes()) {
            let (key, value) = entry?;
            let id = id_at(&key, 16)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged membership key".into()))?;
            // A membership whose space is gone (purged concurrently) is skipped.
            if let Some(space) = self.space(SpaceId::from_bytes(id))? {
                out.push(SpaceInfo {
                    space,
                    role: decode_role(&value)?,
                });
            }
        }
        sort_spaces(&mut out);
        Ok(out)
    }

    /// Creates a shared space owned by `owner`, with a checked name (see
    /// [`check_name`]). Not durable until [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// A storage error.
    pub fn create_space(&self, owner: UserId, name: String) -> Result<SpaceInfo, StoreError> {
        let space = Space {
            id: SpaceId::new(),
            name,
            personal: false,
        };
        let _accounts = self.accounts_lock();
        self.write_space(&space)?;
        self.write_member(space.id, owner, Some(Role::Owner))?;
        Ok(SpaceInfo {
            space,
            role: Role::Owner,
        })
    }

    /// Renames a space, to a checked name (see [`check_name`]); owners only. Not
    /// durable until [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, [`StoreError::Forbidden`] for a
    /// non-owner.
    pub fn rename_space(
        &self,
        actor: UserId,
        id: SpaceId,
        name: String,
    ) -> Result<SpaceInfo, StoreError> {
        let _accounts = self.accounts_lock();
        let (mut space, role) = self.managed_space(actor, id)?;
        space.name = name;
        self.write_space(&space)?;
        Ok(SpaceInfo { space, role })
    }

    /// The members of a space the actor is a member of (any role), by e-mail.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, or a storage error.
    pub fn members(&self, actor: UserId, id: SpaceId) -> Result<MemberList, StoreError> {
        if self.role_of(id, actor)?.is_none() {
            return Err(StoreError::NotFound(SPACE_NOT_FOUND.into()));
        }
        self.member_list(id)
    }

    /// Adds a member, changes a member's role, or with `role: None` removes a member;
    /// owners only. The last owner can be neither removed nor demoted, and a personal
    /// space gets no other members. Returns the list after the change and the role
    /// the member had before (the caller audits the change). Not durable until
    /// [`SledStore::commit_durable`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member actor or an unknown e-mail,
    /// [`StoreError::Forbidden`] for a non-owner, [`StoreError::Conflict`] for the
    /// last owner or a personal space.
    pub fn set_member(
        &self,
        actor: UserId,
        id: SpaceId,
        email: &str,
        role: Option<Role>,
    ) -> Result<(MemberList, Option<Role>), StoreError> {
        let _accounts = self.accounts_lock();
        let (space, _) = self.managed_space(actor, id)?;
        let email = normalize_email(email);
        let target = self.user_by_email(&email)?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "there is no account for {email}; ask the server admin to create one"
            ))
        })?;
        let target = target.profile.id;
        let current = self.role_of(id, target)?;
        if space.personal && target != actor {
            return Err(StoreError::Conflict(
                "a personal space is not shared; create a shared space and add members there"
                    .into(),
            ));
        }
        if current == Some(Role::Owner) && role != Some(Role::Owner) {
            let owners = self
                .member_list(id)?
                .members
                .iter()
                .filter(|m| m.role == Role::Owner)
                .count();
            if owners <= 1 {
                return Err(StoreError::Conflict(
                    "a space needs at least one owner; make another member owner first".into(),
                ));
            }
        }
        if current != role {
            self.write_member(id, target, role)?;
        }
        Ok((self.member_list(id)?, current))
    }

    /// The space and the actor's role, if the actor owns it.
    fn managed_space(&self, actor: UserId, id: SpaceId) -> Result<(Space, Role), StoreError> {
        let role = self
            .role_of(id, actor)?
            .ok_or_else(|| StoreError::NotFound(SPACE_NOT_FOUND.into()))?;
        if !role.can_manage() {
            return Err(StoreError::Forbidden(OWNERS_ONLY.into()));
        }
        let space = self
            .space(id)?
            .ok_or_else(|| StoreError::NotFound(SPACE_NOT_FOUND.into()))?;
        Ok((space, role))
    }

    pub(super) fn member_list(&self, id: SpaceId) -> Result<MemberList, StoreError> {
        let mut members = Vec::new();
        for entry in self.db().members.scan_prefix(id.as_bytes()) {
            let (key, value) = entry?;
            let user = id_at(&key, 16)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged member key".into()))?;
            if let Some(record) = self.user(UserId::from_bytes(user))? {
                members.push(Member {
                    user: record.profile,
                    role: decode_role(&value)?,
                });
            }
        }
        members.sort_by(|a, b| a.user.email.cmp(&b.user.email));
        Ok(MemberList { space: id, members })
    }

    fn write_space(&self, space: &Space) -> Result<(), StoreError> {
        self.db()
            .spaces
            .insert(space.id.as_bytes(), codec::encode(space)?)?;
        self.wrote();
        Ok(())
    }

    /// Sets (or with `None` removes) a membership in both indexes at once.
    fn write_member(
        &self,
        space: SpaceId,
        user: UserId,
        role: Option<Role>,
    ) -> Result<(), StoreError> {
        let by_space = key2(space.as_bytes(), user.as_bytes());
        let by_user = key2(user.as_bytes(), space.as_bytes());
        let value = role.map(|r| codec::encode(&r)).transpose()?;
        let i = self.db();
        (&i.members, &i.user_spaces).transaction(|(members, user_spaces)| {
            match &value {
                Some(v) => {
                    members.insert(by_space.as_slice(), v.as_slice())?;
                    user_spaces.insert(by_user.as_slice(), v.as_slice())?;
                }
                None => {
                    members.remove(by_space.as_slice())?;
                    user_spaces.remove(by_user.as_slice())?;
                }
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        })?;
        self.wrote();
        Ok(())
    }
}

// The rules of spaces and members are tested on both backends, through the
// facade, by the conformance suite (`store::conformance`).
