//! What export, import and restore need from the PostgreSQL store: every space with
//! its members and its ops with their seqs; whether the database may take an
//! import (empty, or only the standard account of a fresh `init`); and loading
//! accounts, spaces and ops with the seqs they had, the record index rebuilt after.

use std::collections::{BTreeMap, HashMap};

use cairn_common::codec;
use cairn_common::model::{RecordId, Role, Space, SpaceId, UserId};
use cairn_common::op::Op;
use uuid::Uuid;

use super::{PgStore, role_code, role_of_code, seq_from_sql, seq_to_sql};
use crate::store::records::{RecordLimits, RecordMeta, fold};
use crate::store::users::{ADMIN_LOGIN, UserRecord};
use crate::store::{ImportTarget, StoreError};

impl PgStore {
    /// Every space, by id.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn all_spaces(&self) -> Result<Vec<Space>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query("SELECT space FROM spaces ORDER BY id", &[])
            .await?
            .iter()
            .map(|row| Ok(codec::decode(row.get::<_, &[u8]>(0))?))
            .collect()
    }

    /// The members of a space with their roles.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn space_roles(&self, space: SpaceId) -> Result<Vec<(UserId, Role)>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query(
                "SELECT user_id, role FROM members WHERE space_id = $1 ORDER BY user_id",
                &[&space.0],
            )
            .await?
            .iter()
            .map(|row| Ok((UserId(row.get(0)), role_of_code(row.get(1))?)))
            .collect()
    }

    /// Every op of a space with its seq, in seq order.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn ops_with_seqs(&self, space: SpaceId) -> Result<Vec<(u64, Op)>, StoreError> {
        let client = self.pool.get().await?;
        client
            .query(
                "SELECT seq, op FROM ops WHERE space_id = $1 ORDER BY seq",
                &[&space.0],
            )
            .await?
            .iter()
            .map(|row| {
                Ok((
                    seq_from_sql(row.get(0))?,
                    codec::decode(row.get::<_, &[u8]>(1))?,
                ))
            })
            .collect()
    }

    /// Whether the database may take an import: it holds nothing, or only what
    /// `init` made (the standard account with its empty personal space).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] naming what the database holds, or a database error.
    pub async fn import_target(&self) -> Result<ImportTarget, StoreError> {
        let client = self.pool.get().await?;
        let count = |sql: &'static str| {
            let client = &client;
            async move {
                let n: i64 = client.query_one(sql, &[]).await?.get(0);
                Ok::<_, StoreError>(u64::try_from(n).unwrap_or(0))
            }
        };
        let spaces = count("SELECT count(*) FROM spaces").await?;
        let ops = count("SELECT count(*) FROM ops").await?;
        let users: Vec<(Uuid, String)> = client
            .query("SELECT id, email FROM users", &[])
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let target = match users.as_slice() {
            [] if spaces == 0 && ops == 0 => Some(ImportTarget::Empty),
            [(id, email)] if email == ADMIN_LOGIN && spaces <= 1 && ops == 0 => {
                Some(ImportTarget::FreshAdmin(UserId(*id)))
            }
            _ => None,
        };
        target.ok_or_else(|| {
            StoreError::Conflict(format!(
                "this database is not empty ({} accounts, {spaces} spaces, {ops} stored \
                 changes); an import only goes into a new one: create an empty database, \
                 point `[store] url` at it, and import there",
                users.len()
            ))
        })
    }

    /// Removes an account made by `init` (and its personal space) before an import
    /// brings its own.
    ///
    /// # Errors
    /// A database error.
    pub async fn remove_fresh_account(&self, user: UserId) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT record FROM users WHERE id = $1 FOR UPDATE",
                &[&user.0],
            )
            .await?
        else {
            return Ok(());
        };
        let record: UserRecord = codec::decode(row.get::<_, &[u8]>(0))?;
        tx.execute("DELETE FROM users WHERE id = $1", &[&user.0])
            .await?;
        tx.execute(
            "DELETE FROM spaces WHERE id = $1",
            &[&record.personal_space.0],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores an imported account as it is (its id, its personal space's id).
    ///
    /// # Errors
    /// [`StoreError::DuplicateEmail`] or a database error.
    pub async fn import_account(&self, record: &UserRecord) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let inserted = client
            .execute(
                "INSERT INTO users (id, email, record) VALUES ($1, $2, $3)
                 ON CONFLICT (email) DO NOTHING",
                &[
                    &record.profile.id.0,
                    &record.profile.email,
                    &codec::encode(record)?,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::DuplicateEmail(record.profile.email.clone()));
        }
        Ok(())
    }

    /// Stores an imported space with its members.
    ///
    /// # Errors
    /// A database error (a member whose account was not imported first, too).
    pub async fn import_space(
        &self,
        space: &Space,
        members: &[(UserId, Role)],
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO spaces (id, space) VALUES ($1, $2)",
            &[&space.id.0, &codec::encode(space)?],
        )
        .await?;
        for (user, role) in members {
            tx.execute(
                "INSERT INTO members (space_id, user_id, role) VALUES ($1, $2, $3)",
                &[&space.id.0, &user.0, &role_code(*role)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Loads ops with the seqs they had (an import or a restore), raising each
    /// space's counter to its highest seq; [`Self::rebuild_record_index`] follows
    /// once every op is in.
    ///
    /// # Errors
    /// A database error (an op id or seq stored twice, too).
    pub async fn load_ops(&self, ops: &[(u64, Op, Vec<u8>)]) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut last: HashMap<SpaceId, u64> = HashMap::new();
        for chunk in ops.chunks(1_000) {
            let mut spaces = Vec::with_capacity(chunk.len());
            let mut seqs = Vec::with_capacity(chunk.len());
            let mut ids = Vec::with_capacity(chunk.len());
            let mut records = Vec::with_capacity(chunk.len());
            let mut authors = Vec::with_capacity(chunk.len());
            let mut bodies = Vec::with_capacity(chunk.len());
            for (seq, op, bytes) in chunk {
                spaces.push(op.space.0);
                seqs.push(seq_to_sql(*seq)?);
                ids.push(op.id.0);
                records.push(op.record.0);
                authors.push(op.author.0);
                bodies.push(bytes.as_slice());
                let top = last.entry(op.space).or_default();
                *top = (*top).max(*seq);
            }
            tx.execute(
                "INSERT INTO ops (space_id, seq, op_id, record_id, author, op)
                 SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[],
                                      $5::uuid[], $6::bytea[])",
                &[&spaces, &seqs, &ids, &records, &authors, &bodies],
            )
            .await?;
        }
        for (space, seq) in last {
            raise(&tx, space, seq).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a space's seq counter if it is behind `seq` (seqs are never given twice).
    ///
    /// # Errors
    /// A database error.
    pub async fn raise_seq(&self, space: SpaceId, seq: u64) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        raise(&client, space, seq).await
    }

    /// Rebuilds what the store knows of each record (its space, kind and field
    /// sizes) from the stored ops, space by space in seq order, without limits.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn rebuild_record_index(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM records", &[]).await?;
        let spaces: Vec<Uuid> = tx
            .query("SELECT DISTINCT space_id FROM ops ORDER BY space_id", &[])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut homes: HashMap<RecordId, SpaceId> = HashMap::new();
        for space in spaces {
            let mut metas: BTreeMap<(SpaceId, RecordId), RecordMeta> = BTreeMap::new();
            for row in tx
                .query(
                    "SELECT op FROM ops WHERE space_id = $1 ORDER BY seq",
                    &[&space],
                )
                .await?
            {
                let bytes: &[u8] = row.get(0);
                let op: Op = codec::decode(bytes)?;
                // Stored before the one-space rule: the first space keeps it.
                if *homes.entry(op.record).or_insert(op.space) != op.space {
                    continue;
                }
                fold(&mut metas, &op, bytes.len(), &RecordLimits::NONE);
            }
            for ((space, record), meta) in metas {
                tx.execute(
                    "INSERT INTO records (record_id, space_id, meta) VALUES ($1, $2, $3)",
                    &[&record.0, &space.0, &codec::encode(&meta)?],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn raise(
    client: &impl deadpool_postgres::GenericClient,
    space: SpaceId,
    seq: u64,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO space_seqs (space_id, last_seq) VALUES ($1, $2)
             ON CONFLICT (space_id) DO UPDATE
             SET last_seq = greatest(space_seqs.last_seq, EXCLUDED.last_seq)",
            &[&space.0, &seq_to_sql(seq)?],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use cairn_common::codec;
    use cairn_common::model::{RecordId, RecordKind, Role, Value};
    use cairn_common::op::{Change, Op};

    use super::super::tests::{fresh, op};
    use crate::store::{ImportTarget, RecordLimits, StoreError};

    /// A database takes an import only when empty; what one store exports (spaces,
    /// members, ops with their seqs) loads into another as it was, the record index
    /// is rebuilt, and seqs go on where they ended.
    #[tokio::test]
    async fn export_and_load_round_trip() {
        let (_pg, _url, source) = fresh().await;
        let (_pg2, _url2, target) = fresh().await;
        assert_eq!(
            target.import_target().await.expect("empty"),
            ImportTarget::Empty
        );
        let ann = source
            .create_user(super::super::NewAccount {
                email: "ann@example.com".into(),
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                password_hash: "hash".into(),
                must_change_password: false,
                server_admin: false,
                created_at_ms: 1,
            })
            .await
            .expect("ann")
            .id;
        let space = source.spaces_of(ann).await.expect("spaces")[0].space.id;
        let record = RecordId::new();
        let ops = vec![
            op(
                space,
                record,
                Change::Create {
                    kind: RecordKind::Goal,
                },
            ),
            op(
                space,
                record,
                Change::Set {
                    field: "title".into(),
                    value: Value::Text("Grow".into()),
                    replaces: vec![],
                },
            ),
        ];
        source
            .append_ops(&ops, &RecordLimits::NONE)
            .await
            .expect("ops");
        assert!(matches!(
            source.import_target().await,
            Err(StoreError::Conflict(_))
        ));

        let record_of_ann = source.user(ann).await.expect("get").expect("ann");
        target
            .import_account(&record_of_ann)
            .await
            .expect("account");
        for space in source.all_spaces().await.expect("spaces") {
            let members = source.space_roles(space.id).await.expect("members");
            target.import_space(&space, &members).await.expect("space");
            let loaded: Vec<(u64, Op, Vec<u8>)> = source
                .ops_with_seqs(space.id)
                .await
                .expect("ops")
                .into_iter()
                .map(|(seq, op)| {
                    let bytes = codec::encode(&op).expect("encode");
                    (seq, op, bytes)
                })
                .collect();
            target.load_ops(&loaded).await.expect("load");
        }
        target.rebuild_record_index().await.expect("rebuild");
        assert_eq!(target.home_of(record).await.expect("home"), Some(space));
        assert_eq!(target.last_seq(space).await.expect("seq"), 2);
        assert_eq!(
            target.role_of(space, ann).await.expect("role"),
            Some(Role::Owner)
        );
        let page = target
            .ops_after(space, 0, 10, usize::MAX, true)
            .await
            .expect("pull");
        assert_eq!(page.ops, ops);
        // The record index is whole: a change of the kind is refused after the load.
        let wrong = op(
            space,
            record,
            Change::Create {
                kind: RecordKind::Note,
            },
        );
        let refused = target
            .append_ops(&[wrong], &RecordLimits::NONE)
            .await
            .expect("push");
        assert_eq!(refused.refused.len(), 1);
    }
}
