//! Purge and retention on PostgreSQL: the same rules as on sled (see
//! `store/purge.rs`), carried out in one transaction, then the rows' old versions
//! are removed from the table files.
//!
//! What "no byte left" means here, honestly: after the transaction commits, the
//! deleted and rewritten rows are dead tuples; `VACUUM FULL` rewrites each affected
//! table (and its indexes) into new files without them, and a `CHECKPOINT` writes
//! that out. What remains is outside this database's tables: the write-ahead log
//! until its segments are recycled, WAL archives, streaming replicas' WAL, and
//! `pg_dump` files or base backups taken before the purge. Those belong to the
//! database administrator, who must expire them (docs/POSTGRES.md says how).

use std::collections::{HashMap, HashSet};

use cairn_common::RecordState;
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId, UserId};
use cairn_common::op::Op;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::{PgStore, seq_to_sql};
use crate::store::audit::{Link, entry_time_and_hash};
use crate::store::invitations::InvitationRecord;
use crate::store::purge::{refuse_admin, throttle_key};
use crate::store::users::{ADMIN_LOGIN, normalize_email};
use crate::store::{PurgeOutcome, PurgeTarget, RetentionCutoffs, StoreError, SweepOutcome};
use cairn_common::api::consent::ConsentEntry;

/// Every table a purge or sweep may leave dead rows in.
const TABLES: &[&str] = &[
    "users",
    "sessions",
    "spaces",
    "members",
    "space_seqs",
    "ops",
    "records",
    "purged_records",
    "throttle",
    "logins",
    "audit",
    "audit_subjects",
    "consents",
    "consent_current",
    "invitations",
    "mail",
    "notifications",
];

/// How long a purge waits for transactions older than it to end before it
/// rewrites the tables.
pub(super) const OLD_TRANSACTIONS_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// What rewriting the tables left.
struct Rewritten {
    /// Rows the tables hold.
    kept: u64,
    /// Transactions older than the rewrite still open when it ran.
    older_open: u64,
}

/// The advisory lock that lets one purge or sweep run at a time ("cairn_pu").
const PURGE_LOCK: i64 = 0x6361_6972_6e5f_7075;

/// What a purge removes or changes.
#[derive(Default)]
struct Plan {
    users: Vec<Uuid>,
    emails: Vec<String>,
    /// Spaces removed entirely, and personal spaces emptied but kept.
    drop_spaces: Vec<Uuid>,
    wipe_spaces: Vec<Uuid>,
    pseudonyms: HashMap<Uuid, Uuid>,
    new_owners: Vec<(SpaceId, UserId)>,
    everyone: bool,
}

impl PgStore {
    /// Purges `target` (see `store/purge.rs` for what goes), then rewrites the
    /// affected tables without the old rows. A purge of everything gives the store
    /// a new epoch.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUser`] / [`StoreError::NotFound`] for an unknown target,
    /// [`StoreError::Conflict`] for the standard admin account, or a database error
    /// (nothing is purged then).
    pub async fn purge(&self, target: &PurgeTarget) -> Result<PurgeOutcome, StoreError> {
        let mut outcome = PurgeOutcome::default();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PURGE_LOCK])
            .await?;
        let plan = plan(&tx, target, &mut outcome).await?;
        let mut removed = 0u64;
        // Personal spaces emptied: their records leave tombstones, so ops a client
        // still holds are acknowledged and dropped, never stored again.
        if !plan.wipe_spaces.is_empty() {
            tx.execute(
                "INSERT INTO purged_records (space_id, record_id)
                 SELECT space_id, record_id FROM records WHERE space_id = ANY($1)
                 ON CONFLICT DO NOTHING",
                &[&plan.wipe_spaces],
            )
            .await?;
            for table in ["ops", "records"] {
                removed += tx
                    .execute(
                        &format!("DELETE FROM {table} WHERE space_id = ANY($1)"),
                        &[&plan.wipe_spaces],
                    )
                    .await?;
            }
        }
        for (table, column) in [
            ("ops", "space_id"),
            ("records", "space_id"),
            ("purged_records", "space_id"),
            ("space_seqs", "space_id"),
            ("members", "space_id"),
            ("spaces", "id"),
        ] {
            removed += tx
                .execute(
                    &format!("DELETE FROM {table} WHERE {column} = ANY($1)"),
                    &[&plan.drop_spaces],
                )
                .await?;
        }
        // A purged person's ops in shared spaces that stay: authored by a pseudonym.
        for (user, pseudonym) in &plan.pseudonyms {
            let rows = tx
                .query(
                    "SELECT op_id, op FROM ops WHERE author = $1 FOR UPDATE",
                    &[user],
                )
                .await?;
            for row in rows {
                let mut op: Op = codec::decode(row.get::<_, &[u8]>(1))?;
                op.author = UserId(*pseudonym);
                tx.execute(
                    "UPDATE ops SET author = $2, op = $3 WHERE op_id = $1",
                    &[&row.get::<_, Uuid>(0), pseudonym, &codec::encode(&op)?],
                )
                .await?;
                outcome.pseudonymized_ops += 1;
            }
        }
        for (space, heir) in &plan.new_owners {
            tx.execute(
                "UPDATE members SET role = $3 WHERE space_id = $1 AND user_id = $2",
                &[
                    &space.0,
                    &heir.0,
                    &super::role_code(cairn_common::model::Role::Owner),
                ],
            )
            .await?;
        }
        let throttle_keys: Vec<String> = plan
            .emails
            .iter()
            .map(|e| String::from_utf8_lossy(&throttle_key(e)).into_owned())
            .collect();
        if plan.everyone {
            for table in ["sessions", "logins", "throttle", "mail"] {
                removed += tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
            }
        }
        removed += tx
            .execute(
                "DELETE FROM throttle WHERE key = ANY($1)",
                &[&throttle_keys],
            )
            .await?;
        removed += tx
            .execute("DELETE FROM logins WHERE user_id = ANY($1)", &[&plan.users])
            .await?;
        // The user's mail, and any mail to the address (e-mails are lowercase).
        removed += tx
            .execute(
                "DELETE FROM mail WHERE user_id = ANY($1) OR lower(recipient) = ANY($2)",
                &[&plan.users, &plan.emails],
            )
            .await?;
        removed += tx
            .execute(
                "DELETE FROM audit_subjects WHERE email = ANY($1)",
                &[&plan.emails],
            )
            .await?;
        removed += purge_consent_and_invitations(&tx, &plan).await?;
        // Sessions and memberships go with the account (ON DELETE CASCADE).
        removed += tx
            .execute("DELETE FROM users WHERE id = ANY($1)", &[&plan.users])
            .await?;
        tx.commit().await?;
        outcome.removed_entries = removed;
        if matches!(target, PurgeTarget::All) {
            self.renew_epoch().await?;
        }
        let rewritten = self.rewrite_tables().await?;
        outcome.kept_entries = rewritten.kept;
        outcome.older_transactions_open = rewritten.older_open;
        Ok(outcome)
    }

    /// Removes what retention says is too old, then rewrites the tables it touched.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn sweep_retention(
        &self,
        cutoffs: RetentionCutoffs,
    ) -> Result<SweepOutcome, StoreError> {
        let mut outcome = SweepOutcome::default();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PURGE_LOCK])
            .await?;
        if let Some(cut) = cutoffs.logins_before_ms {
            outcome.login_records = tx
                .execute("DELETE FROM logins WHERE at_ms < $1", &[&seq_to_sql(cut)?])
                .await?;
        }
        if let Some(cut) = cutoffs.audit_before_ms {
            outcome.audit_entries = sweep_audit(&tx, cut).await?;
        }
        if let Some(cut) = cutoffs.trash_before_ms {
            outcome.trash_records = sweep_trash(&tx, cut).await?;
        }
        if let Some(cut) = cutoffs.mail_before_ms {
            outcome.mails = tx
                .execute(
                    "DELETE FROM mail WHERE state <> 0 AND finished_ms < $1",
                    &[&seq_to_sql(cut)?],
                )
                .await?;
        }
        tx.commit().await?;
        if outcome.login_records + outcome.audit_entries + outcome.trash_records + outcome.mails > 0
        {
            self.rewrite_tables().await?;
            outcome.rewritten = true;
        }
        Ok(outcome)
    }

    /// Rewrites every table without its dead rows (`VACUUM FULL`) and writes that
    /// out (`CHECKPOINT`, when the database role may); how many rows remain.
    async fn rewrite_tables(&self) -> Result<Rewritten, StoreError> {
        let client = self.pool.get().await?;
        // `VACUUM FULL` keeps the old versions of rows that a transaction older than
        // the purge may still see (an open transaction of another server, an
        // autovacuum's analyze): wait until every such transaction has ended. Only
        // this database's count: a transaction in another one cannot see these rows.
        let horizon: i64 = client.query_one("SELECT txid_current()", &[]).await?.get(0);
        let waited = std::time::Instant::now();
        let mut older_open = 0;
        loop {
            let older: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE pid <> pg_backend_pid() AND datname = current_database()
                       AND greatest(age(backend_xmin), age(backend_xid))
                           > age((($1::bigint) % 4294967296)::text::xid)",
                    &[&horizon],
                )
                .await?
                .get(0);
            if older == 0 {
                break;
            }
            if waited.elapsed() > self.purge_wait {
                tracing::warn!(
                    "purge: {older} transactions older than the purge are still open after \
                     {} s; the tables are rewritten now, but old row versions those \
                     transactions may see stay until a later VACUUM FULL (run `VACUUM FULL` \
                     once they have ended)",
                    self.purge_wait.as_secs()
                );
                older_open = u64::try_from(older).unwrap_or(0);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        client
            .batch_execute(&format!("VACUUM FULL {}", TABLES.join(", ")))
            .await?;
        if let Err(e) = client.batch_execute("CHECKPOINT").await {
            // Needs superuser or pg_checkpoint: the next automatic checkpoint writes
            // the rewritten files out instead.
            tracing::warn!("purge: no CHECKPOINT ({e}); the next automatic one follows");
        }
        let mut kept = 0u64;
        for table in TABLES {
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await?
                .get(0);
            kept += u64::try_from(n).unwrap_or(0);
        }
        Ok(Rewritten { kept, older_open })
    }
}

/// Consent records of purged people stay as evidence under their pseudonym, with
/// the e-mail and the address blanked (all go with everyone); their current
/// consent and their choice of notifications go; invitations to or by them, or to
/// a removed space, go. How many
/// rows went.
async fn purge_consent_and_invitations(
    tx: &impl GenericClient,
    plan: &Plan,
) -> Result<u64, StoreError> {
    let mut removed = 0;
    if plan.everyone {
        for table in [
            "consents",
            "consent_current",
            "invitations",
            "notifications",
        ] {
            removed += tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
        }
        return Ok(removed);
    }
    for (user, pseudonym) in &plan.pseudonyms {
        let rows = tx
            .query(
                "SELECT id, entry FROM consents WHERE user_id = $1 FOR UPDATE",
                &[user],
            )
            .await?;
        for row in rows {
            let mut entry: ConsentEntry = codec::decode(row.get::<_, &[u8]>(1))?;
            entry.user = UserId(*pseudonym);
            entry.email.clear();
            entry.address.clear();
            tx.execute(
                "UPDATE consents SET user_id = $2, entry = $3 WHERE id = $1",
                &[&row.get::<_, i64>(0), pseudonym, &codec::encode(&entry)?],
            )
            .await?;
        }
    }
    for table in ["consent_current", "notifications"] {
        removed += tx
            .execute(
                &format!("DELETE FROM {table} WHERE user_id = ANY($1)"),
                &[&plan.users],
            )
            .await?;
    }
    let mut gone = Vec::new();
    for row in tx.query("SELECT id, record FROM invitations", &[]).await? {
        let record: InvitationRecord = codec::decode(row.get::<_, &[u8]>(1))?;
        if plan.emails.contains(&record.email)
            || plan.users.contains(&record.invited_by.0)
            || record
                .space
                .is_some_and(|s| plan.drop_spaces.contains(&s.0))
        {
            gone.push(row.get::<_, Uuid>(0));
        }
    }
    removed += tx
        .execute("DELETE FROM invitations WHERE id = ANY($1)", &[&gone])
        .await?;
    Ok(removed)
}

/// What a purge of `target` removes, read inside its transaction.
async fn plan(
    tx: &impl GenericClient,
    target: &PurgeTarget,
    outcome: &mut PurgeOutcome,
) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    match target {
        PurgeTarget::User(email) => {
            let email = normalize_email(email);
            refuse_admin(&email)?;
            let user: Uuid = tx
                .query_opt(
                    "SELECT id FROM users WHERE email = $1 FOR UPDATE",
                    &[&email],
                )
                .await?
                .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?
                .get(0);
            plan_user(tx, &mut plan, user, &email, outcome).await?;
            let pseudonym = UserId::new();
            plan.pseudonyms.insert(user, pseudonym.0);
            outcome.pseudonym = Some(pseudonym);
        }
        PurgeTarget::Space(id) => {
            let row = tx
                .query_opt(
                    "SELECT space FROM spaces WHERE id = $1 FOR UPDATE",
                    &[&id.0],
                )
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("there is no space {id}")))?;
            let space: cairn_common::model::Space = codec::decode(row.get::<_, &[u8]>(0))?;
            if space.personal {
                plan.wipe_spaces.push(id.0);
                outcome.spaces_emptied.push(*id);
            } else {
                plan.drop_spaces.push(id.0);
                outcome.spaces_removed.push(*id);
            }
        }
        PurgeTarget::All => {
            plan.everyone = true;
            for row in tx
                .query("SELECT id, email FROM users ORDER BY email", &[])
                .await?
            {
                let email: String = row.get(1);
                if email != ADMIN_LOGIN {
                    plan.users.push(row.get(0));
                    plan.emails.push(email.clone());
                    outcome.users.push(email);
                }
            }
            let admin_space = match tx
                .query_opt("SELECT record FROM users WHERE email = $1", &[&ADMIN_LOGIN])
                .await?
            {
                Some(row) => Some(
                    codec::decode::<crate::store::UserRecord>(row.get::<_, &[u8]>(0))?
                        .personal_space,
                ),
                None => None,
            };
            for row in tx.query("SELECT id FROM spaces ORDER BY id", &[]).await? {
                let space = SpaceId(row.get(0));
                if Some(space) == admin_space {
                    plan.wipe_spaces.push(space.0);
                    outcome.spaces_emptied.push(space);
                } else {
                    plan.drop_spaces.push(space.0);
                    outcome.spaces_removed.push(space);
                }
            }
        }
    }
    Ok(plan)
}

/// Adds one user to the plan: account, personal space, spaces only they were in,
/// and an heir for each shared space they were the only owner of.
async fn plan_user(
    tx: &impl GenericClient,
    plan: &mut Plan,
    user: Uuid,
    email: &str,
    outcome: &mut PurgeOutcome,
) -> Result<(), StoreError> {
    plan.users.push(user);
    plan.emails.push(email.to_owned());
    outcome.users.push(email.to_owned());
    let memberships = tx
        .query(
            "SELECT m.space_id, m.role, s.space FROM members m JOIN spaces s ON s.id = m.space_id
             WHERE m.user_id = $1 ORDER BY m.space_id FOR UPDATE OF s",
            &[&user],
        )
        .await?;
    for row in memberships {
        let id = SpaceId(row.get(0));
        let role: i16 = row.get(1);
        let space: cairn_common::model::Space = codec::decode(row.get::<_, &[u8]>(2))?;
        // The others, by e-mail: the heir is the first of the highest role.
        let others = tx
            .query(
                "SELECT m.user_id, m.role, u.email FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.space_id = $1 AND m.user_id <> $2 ORDER BY u.email",
                &[&id.0, &user],
            )
            .await?;
        if space.personal || others.is_empty() {
            plan.drop_spaces.push(id.0);
            outcome.spaces_removed.push(id);
        } else if role == 0 && others.iter().all(|m| m.get::<_, i16>(1) != 0) {
            // Role codes rank owner (0) before editor (1) before viewer (2).
            if let Some(heir) = others.iter().min_by_key(|m| m.get::<_, i16>(1)) {
                plan.new_owners.push((id, UserId(heir.get(0))));
                outcome.new_owners.push((id, heir.get(2)));
            }
        }
    }
    Ok(())
}

/// Drops the audit entries older than `cut` from the start of the chain and keeps
/// the last dropped one's seq and hash as the checkpoint the chain verifies from.
async fn sweep_audit(tx: &impl GenericClient, cut: u64) -> Result<u64, StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::audit::AUDIT_LOCK],
    )
    .await?;
    let mut upto: Option<Link> = None;
    for row in tx
        .query("SELECT seq, entry FROM audit ORDER BY seq", &[])
        .await?
    {
        let (at_ms, hash) = entry_time_and_hash(row.get::<_, &[u8]>(1))?;
        if at_ms >= cut {
            break;
        }
        let seq = super::seq_from_sql(row.get(0))?;
        upto = Some(Link { seq, hash });
    }
    let Some(upto) = upto else {
        return Ok(0);
    };
    let removed = tx
        .execute(
            "DELETE FROM audit WHERE seq <= $1",
            &[&seq_to_sql(upto.seq)?],
        )
        .await?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&super::audit::CHECKPOINT, &codec::encode(&upto)?],
    )
    .await?;
    Ok(removed)
}

/// Removes records in the trash whose last change is older than `cut`, leaving
/// tombstones; one space at a time, so memory holds one space's records.
async fn sweep_trash(tx: &impl GenericClient, cut: u64) -> Result<u64, StoreError> {
    let spaces: Vec<Uuid> = tx
        .query("SELECT space_id FROM space_seqs ORDER BY space_id", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut removed = 0u64;
    for space in spaces {
        let mut records: HashMap<RecordId, RecordState> = HashMap::new();
        for row in tx
            .query(
                "SELECT op FROM ops WHERE space_id = $1 ORDER BY seq",
                &[&space],
            )
            .await?
        {
            let op: Op = codec::decode(row.get::<_, &[u8]>(0))?;
            records
                .entry(op.record)
                .or_insert_with(|| RecordState::empty(&op))
                .apply(&op);
        }
        let gone: Vec<Uuid> = records
            .values()
            .filter(|s| s.is_deleted() && s.updated.wall_ms < cut)
            .map(|s| s.id.0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if gone.is_empty() {
            continue;
        }
        tx.execute(
            "INSERT INTO purged_records (space_id, record_id)
             SELECT $1, r FROM unnest($2::uuid[]) AS r ON CONFLICT DO NOTHING",
            &[&space, &gone],
        )
        .await?;
        tx.execute(
            "DELETE FROM ops WHERE space_id = $1 AND record_id = ANY($2)",
            &[&space, &gone],
        )
        .await?;
        tx.execute(
            "DELETE FROM records WHERE space_id = $1 AND record_id = ANY($2)",
            &[&space, &gone],
        )
        .await?;
        removed += u64::try_from(gone.len()).unwrap_or(u64::MAX);
    }
    Ok(removed)
}

#[cfg(test)]
#[path = "purge_tests.rs"]
mod tests;
