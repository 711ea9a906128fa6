//! Accounts, sessions, spaces and memberships on PostgreSQL.
//!
//! The rules that need a consistent read before a write hold across servers
//! because the write takes a row lock first: a change of a space's members locks
//! the space's row (so "one owner remains" is checked and written as one step even
//! when two servers demote two owners at once), and e-mails are unique by the
//! table's constraint (two servers creating one address: one wins, the other is
//! told the address is taken).

use cairn_common::api::{Member, MemberList, SpaceInfo};
use cairn_common::codec;
use cairn_common::model::{Role, Space, SpaceId, UserId, UserProfile};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::{PgStore, role_code, role_of_code};
use crate::store::spaces::{OWNERS_ONLY, SPACE_NOT_FOUND, sort_spaces};
pub use crate::store::users::NewAccount;
use crate::store::users::{UserAccount, UserRecord, normalize_email};
use crate::store::{SessionLookup, SessionRecord, StoreError};

fn user_of(row: &Row, column: usize) -> Result<UserRecord, StoreError> {
    Ok(codec::decode(row.get::<_, &[u8]>(column))?)
}

impl PgStore {
    /// Creates an account and its personal space (the user owns it), in one
    /// transaction.
    ///
    /// # Errors
    /// [`StoreError::DuplicateEmail`] if the address has an account, or a database
    /// error.
    pub async fn create_user(&self, new: NewAccount) -> Result<UserProfile, StoreError> {
        let (record, space) = new.into_records();
        let profile = record.profile.clone();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        let inserted = tx
            .execute(
                "INSERT INTO users (id, email, record) VALUES ($1, $2, $3)
                 ON CONFLICT (email) DO NOTHING",
                &[&profile.id.0, &profile.email, &codec::encode(&record)?],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::DuplicateEmail(profile.email));
        }
        tx.execute(
            "INSERT INTO spaces (id, space) VALUES ($1, $2)",
            &[&space.id.0, &codec::encode(&space)?],
        )
        .await?;
        tx.execute(
            "INSERT INTO members (space_id, user_id, role) VALUES ($1, $2, $3)",
            &[&space.id.0, &profile.id.0, &role_code(Role::Owner)],
        )
        .await?;
        tx.commit().await?;
        Ok(profile)
    }

    /// Every account, by e-mail.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn list_users(&self) -> Result<Vec<UserAccount>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query("SELECT record FROM users ORDER BY email", &[])
            .await?
            .iter()
            .map(|row| Ok(user_of(row, 0)?.account()))
            .collect()
    }

    /// The account with this id.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached("SELECT record FROM users WHERE id = $1")
            .await?;
        let row = client.query_opt(&statement, &[&id.0]).await?;
        row.map(|r| user_of(&r, 0)).transpose()
    }

    /// The account with this login name (any case).
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT record FROM users WHERE email = $1",
                &[&normalize_email(email)],
            )
            .await?;
        row.map(|r| user_of(&r, 0)).transpose()
    }

    /// Changes one account (found by e-mail) in one transaction holding its row:
    /// `change` edits the record and says whether to end the user's sessions (all
    /// but `keep`).
    async fn change_user(
        &self,
        email: &str,
        keep: Option<&[u8; 32]>,
        change: impl FnOnce(&mut UserRecord) -> bool,
    ) -> Result<(), StoreError> {
        let email = normalize_email(email);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        let row = tx
            .query_opt(
                "SELECT record FROM users WHERE email = $1 FOR UPDATE",
                &[&email],
            )
            .await?
            .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?;
        let mut record = user_of(&row, 0)?;
        let end_sessions = change(&mut record);
        tx.execute(
            "UPDATE users SET record = $2 WHERE id = $1",
            &[&record.profile.id.0, &codec::encode(&record)?],
        )
        .await?;
        if end_sessions {
            revoke_all_but(&tx, record.profile.id, keep).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Disables or enables an account; disabling also ends all its sessions.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] or a database error.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<(), StoreError> {
        self.change_user(email, None, |record| {
            record.disabled = disabled;
            disabled
        })
        .await
    }

    /// Sets a new password (hashed) that the user must change at the next login, and
    /// ends all the user's sessions.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] or a database error.
    pub async fn reset_password(
        &self,
        email: &str,
        password_hash: String,
    ) -> Result<(), StoreError> {
        self.change_user(email, None, |record| {
            record.password_hash = password_hash;
            record.must_change_password = true;
            true
        })
        .await
    }

    /// Stores a password the user chose (hashed), lifts the must-change gate, and
    /// ends every session of the user but `keep`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the account vanished, or a database error.
    pub async fn set_own_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        let email = self
            .user(user)
            .await?
            .ok_or_else(|| StoreError::NotFound("this account no longer exists".into()))?
            .profile
            .email;
        self.change_user(&email, keep, |record| {
            record.password_hash = password_hash;
            record.must_change_password = false;
            true
        })
        .await
    }

    /// Stores a new session under the hash of its token.
    ///
    /// # Errors
    /// A database error.
    pub async fn create_session(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        device: &str,
        created_at_ms: u64,
        expires_at_ms: u64,
    ) -> Result<SessionRecord, StoreError> {
        let record = SessionRecord::new(user, device, created_at_ms, expires_at_ms);
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, record) VALUES ($1, $2, $3)",
                &[&&token_hash[..], &user.0, &codec::encode(&record)?],
            )
            .await?;
        Ok(record)
    }

    /// The session with this token hash, expired or not.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn session(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<SessionRecord>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached("SELECT record FROM sessions WHERE token_hash = $1")
            .await?;
        let row = client.query_opt(&statement, &[&&token_hash[..]]).await?;
        match row {
            Some(row) => Ok(Some(codec::decode(row.get::<_, &[u8]>(0))?)),
            None => Ok(None),
        }
    }

    /// The session with this token hash, its account (`None` if the account is
    /// gone) and the notice version it accepted, in one query: what every
    /// authenticated request reads.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn session_lookup(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<SessionLookup>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT s.record, u.record, c.version FROM sessions s
                 LEFT JOIN users u ON u.id = s.user_id
                 LEFT JOIN consent_current c ON c.user_id = s.user_id
                 WHERE s.token_hash = $1",
            )
            .await?;
        let Some(row) = client.query_opt(&statement, &[&&token_hash[..]]).await? else {
            return Ok(None);
        };
        let session: SessionRecord = codec::decode(row.get::<_, &[u8]>(0))?;
        let user = match row.get::<_, Option<&[u8]>>(1) {
            Some(bytes) => Some(codec::decode(bytes)?),
            None => None,
        };
        Ok(Some(SessionLookup {
            session,
            user,
            accepted_notice: row.get(2),
        }))
    }

    /// The sessions of a user with their token hashes, oldest first.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn sessions_of(
        &self,
        user: UserId,
    ) -> Result<Vec<([u8; 32], SessionRecord)>, StoreError> {
        let client = self.pool.get().await?;
        let mut out = Vec::new();
        for row in client
            .query(
                "SELECT token_hash, record FROM sessions WHERE user_id = $1",
                &[&user.0],
            )
            .await?
        {
            let hash = <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)).map_err(|_| {
                codec::CodecError::Malformed("a token hash that is not 32 bytes".into())
            })?;
            let record: SessionRecord = codec::decode(row.get::<_, &[u8]>(1))?;
            out.push((hash, record));
        }
        out.sort_by_key(|(_, s)| (s.created_at_ms, s.id.clone()));
        Ok(out)
    }

    /// Ends one session of `user`.
    ///
    /// # Errors
    /// A database error.
    pub async fn revoke_session(
        &self,
        user: UserId,
        token_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2",
                &[&&token_hash[..], &user.0],
            )
            .await?;
        Ok(())
    }

    /// Ends every session of `user` except `keep`.
    ///
    /// # Errors
    /// A database error.
    pub async fn revoke_sessions_of(
        &self,
        user: UserId,
        keep: Option<&[u8; 32]>,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        revoke_all_but(&client, user, keep).await
    }

    /// The space with this id.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn space(&self, id: SpaceId) -> Result<Option<Space>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT space FROM spaces WHERE id = $1", &[&id.0])
            .await?;
        match row {
            Some(row) => Ok(Some(codec::decode(row.get::<_, &[u8]>(0))?)),
            None => Ok(None),
        }
    }

    /// A user's role in a space, if a member.
    ///
    /// # Errors
    /// A database error.
    pub async fn role_of(&self, space: SpaceId, user: UserId) -> Result<Option<Role>, StoreError> {
        let client = self.pool.get().await?;
        role_in(&client, space, user).await
    }

    /// Every space the user is a member of, with the role: the personal space first,
    /// then by name.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn spaces_of(&self, user: UserId) -> Result<Vec<SpaceInfo>, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT s.space, m.role FROM members m JOIN spaces s ON s.id = m.space_id
                 WHERE m.user_id = $1",
            )
            .await?;
        let mut out = Vec::new();
        for row in client.query(&statement, &[&user.0]).await? {
            out.push(SpaceInfo {
                space: codec::decode(row.get::<_, &[u8]>(0))?,
                role: role_of_code(row.get(1))?,
            });
        }
        sort_spaces(&mut out);
        Ok(out)
    }

    /// Creates a shared space owned by `owner`; `name` is checked by the caller.
    ///
    /// # Errors
    /// A database error.
    pub async fn create_space(&self, owner: UserId, name: String) -> Result<SpaceInfo, StoreError> {
        let space = Space {
            id: SpaceId::new(),
            name,
            personal: false,
        };
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO spaces (id, space) VALUES ($1, $2)",
            &[&space.id.0, &codec::encode(&space)?],
        )
        .await?;
        tx.execute(
            "INSERT INTO members (space_id, user_id, role) VALUES ($1, $2, $3)",
            &[&space.id.0, &owner.0, &role_code(Role::Owner)],
        )
        .await?;
        tx.commit().await?;
        Ok(SpaceInfo {
            space,
            role: Role::Owner,
        })
    }

    /// Renames a space (`name` checked by the caller); owners only.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, [`StoreError::Forbidden`] for a
    /// non-owner, or a database error.
    pub async fn rename_space(
        &self,
        actor: UserId,
        id: SpaceId,
        name: String,
    ) -> Result<SpaceInfo, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let (mut space, role) = managed_space(&tx, actor, id).await?;
        space.name = name;
        tx.execute(
            "UPDATE spaces SET space = $2 WHERE id = $1",
            &[&id.0, &codec::encode(&space)?],
        )
        .await?;
        tx.commit().await?;
        Ok(SpaceInfo { space, role })
    }

    /// The members of a space the actor is a member of (any role), by e-mail.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member, or a database error.
    pub async fn members(&self, actor: UserId, id: SpaceId) -> Result<MemberList, StoreError> {
        let client = self.pool.get().await?;
        if role_in(&client, id, actor).await?.is_none() {
            return Err(StoreError::NotFound(SPACE_NOT_FOUND.into()));
        }
        member_list(&client, id).await
    }

    /// Adds a member, changes a member's role, or with `role: None` removes one;
    /// owners only. The last owner can be neither removed nor demoted, and a
    /// personal space gets no other members. Returns the list after the change and
    /// the role the member had before.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a non-member actor or an unknown e-mail,
    /// [`StoreError::Forbidden`] for a non-owner, [`StoreError::Conflict`] for the
    /// last owner or a personal space, or a database error.
    pub async fn set_member(
        &self,
        actor: UserId,
        id: SpaceId,
        email: &str,
        role: Option<Role>,
    ) -> Result<(MemberList, Option<Role>), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        // The space's row, locked: membership changes of one space take turns.
        let (space, _) = managed_space(&tx, actor, id).await?;
        let email = normalize_email(email);
        let target = tx
            .query_opt("SELECT id FROM users WHERE email = $1", &[&email])
            .await?
            .map(|row| UserId(row.get(0)))
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "there is no account for {email}; ask the server admin to create one"
                ))
            })?;
        if space.personal && target != actor {
            return Err(StoreError::Conflict(
                "a personal space is not shared; create a shared space and add members there"
                    .into(),
            ));
        }
        let current = role_in(&tx, id, target).await?;
        if current == Some(Role::Owner) && role != Some(Role::Owner) {
            let owners: i64 = tx
                .query_one(
                    "SELECT count(*) FROM members WHERE space_id = $1 AND role = $2",
                    &[&id.0, &role_code(Role::Owner)],
                )
                .await?
                .get(0);
            if owners <= 1 {
                return Err(StoreError::Conflict(
                    "a space needs at least one owner; make another member owner first".into(),
                ));
            }
        }
        if current != role {
            match role {
                Some(role) => {
                    tx.execute(
                        "INSERT INTO members (space_id, user_id, role) VALUES ($1, $2, $3)
                         ON CONFLICT (space_id, user_id) DO UPDATE SET role = EXCLUDED.role",
                        &[&id.0, &target.0, &role_code(role)],
                    )
                    .await?;
                }
                None => {
                    tx.execute(
                        "DELETE FROM members WHERE space_id = $1 AND user_id = $2",
                        &[&id.0, &target.0],
                    )
                    .await?;
                }
            }
        }
        let list = member_list(&tx, id).await?;
        tx.commit().await?;
        Ok((list, current))
    }
}

/// Ends every session of `user` except `keep`.
async fn revoke_all_but(
    client: &impl GenericClient,
    user: UserId,
    keep: Option<&[u8; 32]>,
) -> Result<(), StoreError> {
    let keep: &[u8] = keep.map_or(&[], |k| &k[..]);
    client
        .execute(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
            &[&user.0, &keep],
        )
        .await?;
    Ok(())
}

async fn role_in(
    client: &impl GenericClient,
    space: SpaceId,
    user: UserId,
) -> Result<Option<Role>, StoreError> {
    let statement = client
        .prepare_cached("SELECT role FROM members WHERE space_id = $1 AND user_id = $2")
        .await?;
    let row = client.query_opt(&statement, &[&space.0, &user.0]).await?;
    row.map(|r| role_of_code(r.get(0))).transpose()
}

/// The space (its row locked until the transaction ends) and the actor's role, if
/// the actor owns it.
async fn managed_space(
    tx: &deadpool_postgres::Transaction<'_>,
    actor: UserId,
    id: SpaceId,
) -> Result<(Space, Role), StoreError> {
    let row = tx
        .query_opt(
            "SELECT space FROM spaces WHERE id = $1 FOR UPDATE",
            &[&id.0],
        )
        .await?;
    let role = role_in(tx, id, actor).await?;
    let (Some(row), Some(role)) = (row, role) else {
        return Err(StoreError::NotFound(SPACE_NOT_FOUND.into()));
    };
    if !role.can_manage() {
        return Err(StoreError::Forbidden(OWNERS_ONLY.into()));
    }
    Ok((codec::decode(row.get::<_, &[u8]>(0))?, role))
}

async fn member_list(client: &impl GenericClient, id: SpaceId) -> Result<MemberList, StoreError> {
    let mut members = Vec::new();
    for row in client
        .query(
            "SELECT u.record, m.role FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.space_id = $1",
            &[&id.0],
        )
        .await?
    {
        members.push(Member {
            user: user_of(&row, 0)?.profile,
            role: role_of_code(row.get(1))?,
        });
    }
    members.sort_by(|a, b| a.user.email.cmp(&b.user.email));
    Ok(MemberList { space: id, members })
}

/// Whether a database error is a unique-key violation (a race another server won).
#[must_use]
pub fn is_unique_violation(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
