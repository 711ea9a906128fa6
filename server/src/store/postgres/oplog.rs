//! Per-space op logs on PostgreSQL: the same plan as on sled ([`push_plan`]),
//! written in one transaction.
//!
//! A push locks the counter rows of its spaces (`space_seqs`, in id order so two
//! pushes never wait on each other in a circle), reads what is stored about its
//! records and op ids, and writes the ops with the next seqs. Holding the counter
//! lock until COMMIT makes each space's seqs gapless and visible in order, whichever
//! server took them. Two pushes that race to create the same record or store the
//! same op id collide on a unique key; the loser runs again and then finds the
//! winner's rows (a duplicate, or a record of another space).

use std::collections::{BTreeSet, HashMap};

use cairn_common::api::SpaceInfo;
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId, UserId};
use cairn_common::op::{Op, OpId};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::shared::EPOCH;
use super::{PgStore, role_of_code, seq_from_sql, seq_to_sql};
use crate::store::push_plan::{self, Known};
use crate::store::records::{RecordLimits, RecordMeta};
use crate::store::spaces::sort_spaces;
use crate::store::{Heads, PullPage, PushOutcome, StoreError};

/// How often a push runs again after losing a race on a unique key.
const RACE_RETRIES: usize = 5;

/// The parameters of a statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A push's statements, prepared once per connection.
const NEW_COUNTERS: &str = "INSERT INTO space_seqs (space_id, last_seq)
     SELECT s, 0 FROM unnest($1::uuid[]) AS s ORDER BY s
     ON CONFLICT (space_id) DO NOTHING";
const LOCK_COUNTERS: &str = "SELECT space_id, last_seq FROM space_seqs WHERE space_id = ANY($1)
     ORDER BY space_id FOR UPDATE";
const STORED_OPS: &str = "SELECT op_id, op FROM ops WHERE op_id = ANY($1)";
const RECORD_METAS: &str =
    "SELECT record_id, space_id, meta FROM records WHERE record_id = ANY($1)";
const PURGED_RECORDS: &str =
    "SELECT space_id, record_id FROM purged_records WHERE record_id = ANY($1)";
const INSERT_RECORDS: &str = "INSERT INTO records (record_id, space_id, meta)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bytea[])
     ON CONFLICT (record_id) DO NOTHING";
const UPDATE_RECORDS: &str = "UPDATE records SET meta = m.meta
     FROM unnest($1::uuid[], $2::uuid[], $3::bytea[]) AS m (record_id, space_id, meta)
     WHERE records.record_id = m.record_id AND records.space_id = m.space_id";
const INSERT_OPS: &str = "INSERT INTO ops (space_id, seq, op_id, record_id, author, op)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[],
                          $6::bytea[])";
const SET_COUNTERS: &str = "UPDATE space_seqs SET last_seq = c.last_seq
     FROM unnest($1::uuid[], $2::bigint[]) AS c (space_id, last_seq)
     WHERE space_seqs.space_id = c.space_id";

impl PgStore {
    /// The last seq given out in a space (0 for none).
    ///
    /// # Errors
    /// A database error.
    pub async fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached("SELECT last_seq FROM space_seqs WHERE space_id = $1")
            .await?;
        let row = client.query_opt(&statement, &[&space.0]).await?;
        row.map_or(Ok(0), |r| seq_from_sql(r.get(0)))
    }

    /// What a poll compares its cursors with, in one query (one snapshot): the
    /// epoch and the user's spaces with their last seqs.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn heads(&self, user: UserId) -> Result<Heads, StoreError> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT s.space, m.role, coalesce(q.last_seq, 0),
                        (SELECT value FROM meta WHERE key = $2)
                 FROM members m JOIN spaces s ON s.id = m.space_id
                 LEFT JOIN space_seqs q ON q.space_id = m.space_id
                 WHERE m.user_id = $1",
            )
            .await?;
        let rows = client.query(&statement, &[&user.0, &EPOCH]).await?;
        drop(client);
        let mut spaces = Vec::with_capacity(rows.len());
        let mut seqs = HashMap::with_capacity(rows.len());
        let mut epoch = None;
        for row in &rows {
            let info = SpaceInfo {
                space: codec::decode(row.get::<_, &[u8]>(0))?,
                role: role_of_code(row.get(1))?,
            };
            seqs.insert(info.space.id, seq_from_sql(row.get(2))?);
            if let Some(bytes) = row.get::<_, Option<&[u8]>>(3) {
                epoch = Some(codec::decode(bytes)?);
            }
            spaces.push(info);
        }
        sort_spaces(&mut spaces);
        let epoch = match epoch {
            Some(epoch) => epoch,
            // No space, or no epoch stored yet (which reading it makes).
            None => self.epoch().await?,
        };
        Ok(Heads {
            epoch,
            spaces: spaces
                .into_iter()
                .map(|info| {
                    let seq = seqs.get(&info.space.id).copied().unwrap_or(0);
                    (info, seq)
                })
                .collect(),
        })
    }

    /// The space a record lives in, if the server has it.
    ///
    /// # Errors
    /// A database error.
    pub async fn home_of(&self, record: RecordId) -> Result<Option<SpaceId>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT space_id FROM records WHERE record_id = $1",
                &[&record.0],
            )
            .await?;
        Ok(row.map(|r| SpaceId(r.get(0))))
    }

    /// Appends the ops that are new (see [`push_plan`] for what is refused), durably:
    /// when this returns the transaction has committed.
    ///
    /// # Errors
    /// A database error; nothing of the push is stored then.
    pub async fn append_ops(
        &self,
        ops: &[Op],
        limits: &RecordLimits,
    ) -> Result<PushOutcome, StoreError> {
        let mut attempt = 0;
        loop {
            match self.try_append(ops, limits).await {
                Err(StoreError::Database(e))
                    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) && attempt < RACE_RETRIES =>
                {
                    attempt += 1;
                }
                Err(StoreError::Conflict(_)) if attempt < RACE_RETRIES => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_append(
        &self,
        ops: &[Op],
        limits: &RecordLimits,
    ) -> Result<PushOutcome, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let spaces: Vec<Uuid> = ops
            .iter()
            .map(|op| op.space.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids: Vec<Uuid> = ops.iter().map(|op| op.id.0).collect();
        let records: Vec<Uuid> = ops
            .iter()
            .map(|op| op.record.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (new_counters, lock, stored, metas, purged) = tokio::try_join!(
            tx.prepare_cached(NEW_COUNTERS),
            tx.prepare_cached(LOCK_COUNTERS),
            tx.prepare_cached(STORED_OPS),
            tx.prepare_cached(RECORD_METAS),
            tx.prepare_cached(PURGED_RECORDS),
        )?;
        // One round trip: sent in this order (`biased`: each statement goes out at
        // its first poll) and run by PostgreSQL in the order sent, so what is read
        // about the push's ops and records is read after the counters are locked,
        // exactly as if each were awaited before the next was sent.
        let (by_spaces, by_ids, by_records): (Params, Params, Params) =
            (&[&spaces], &[&ids], &[&records]);
        let (_, _, locked, stored, metas, purged) = tokio::try_join!(
            biased;
            tx.batch_execute("SET LOCAL synchronous_commit = on"),
            tx.execute(&new_counters, by_spaces),
            tx.query(&lock, by_spaces),
            tx.query(&stored, by_ids),
            tx.query(&metas, by_records),
            tx.query(&purged, by_records),
        )?;
        let mut last: HashMap<SpaceId, u64> = HashMap::new();
        for row in locked {
            last.insert(SpaceId(row.get(0)), seq_from_sql(row.get(1))?);
        }
        let known = known_of(&stored, &metas, &purged)?;
        let plan = push_plan::plan(ops, &known, limits)?;
        let mut outcome = PushOutcome {
            stored: 0,
            duplicates: plan.duplicates,
            refused: plan.refused,
        };
        if plan.appends.is_empty() {
            return Ok(outcome);
        }
        let new_homes: BTreeSet<RecordId> = plan.new_homes.iter().map(|(r, _)| *r).collect();
        let (mut born, mut changed) = (Metas::default(), Metas::default());
        for (space, record, meta) in &plan.metas {
            let metas = if new_homes.contains(record) {
                &mut born
            } else {
                &mut changed
            };
            metas.push(*space, *record, codec::encode(meta)?);
        }
        let mut columns = Columns::default();
        for (op, bytes) in plan.appends {
            let seq = last.entry(op.space).or_insert(0);
            *seq += 1;
            columns.push(&op, *seq, bytes)?;
        }
        let (counter_spaces, counter_seqs): (Vec<Uuid>, Vec<i64>) = last
            .iter()
            .map(|(space, seq)| Ok((space.0, seq_to_sql(*seq)?)))
            .collect::<Result<Vec<_>, StoreError>>()?
            .into_iter()
            .unzip();
        let (insert_records, update_records, insert_ops, set_counters) = tokio::try_join!(
            tx.prepare_cached(INSERT_RECORDS),
            tx.prepare_cached(UPDATE_RECORDS),
            tx.prepare_cached(INSERT_OPS),
            tx.prepare_cached(SET_COUNTERS),
        )?;
        let born_rows: Params = &[&born.records, &born.spaces, &born.metas];
        let changed_rows: Params = &[&changed.records, &changed.spaces, &changed.metas];
        let op_rows: Params = &[
            &columns.spaces,
            &columns.seqs,
            &columns.ids,
            &columns.records,
            &columns.authors,
            &columns.ops,
        ];
        let counters: Params = &[&counter_spaces, &counter_seqs];
        // One round trip for the writes (in this order); COMMIT only once their
        // counts are checked.
        let (inserted, updated, _, _) = tokio::try_join!(
            biased;
            tx.execute(&insert_records, born_rows),
            tx.execute(&update_records, changed_rows),
            tx.execute(&insert_ops, op_rows),
            tx.execute(&set_counters, counters),
        )?;
        if inserted != born.len() || updated != changed.len() {
            // Another push created one of the records meanwhile: judge again.
            return Err(StoreError::Conflict(
                "a record of the push was created by another push at the same time".into(),
            ));
        }
        tx.commit().await?;
        outcome.stored = u32::try_from(columns.ids.len()).unwrap_or(u32::MAX);
        Ok(outcome)
    }

    /// Ops of `space` after seq `after`, in seq order: at most `max_ops`, and no more
    /// than `max_bytes` encoded bytes unless `first_may_exceed` and the page would
    /// otherwise hold nothing (one op larger than a page must still get through).
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn ops_after(
        &self,
        space: SpaceId,
        after: u64,
        max_ops: usize,
        max_bytes: usize,
        first_may_exceed: bool,
    ) -> Result<PullPage, StoreError> {
        let mut page = PullPage {
            cursor: after,
            ..PullPage::default()
        };
        let Ok(after_sql) = i64::try_from(after) else {
            return Ok(page);
        };
        let limit = i64::try_from(max_ops.saturating_add(1)).unwrap_or(i64::MAX);
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached(
                "SELECT seq, op FROM ops WHERE space_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .await?;
        let rows = client
            .query(&statement, &[&space.0, &after_sql, &limit])
            .await?;
        for row in rows {
            let limits = (max_ops, max_bytes, first_may_exceed);
            if !page.take(seq_from_sql(row.get(0))?, row.get(1), limits)? {
                break;
            }
        }
        Ok(page)
    }
}

/// Record summaries of one insert or update, column by column.
#[derive(Default)]
struct Metas {
    records: Vec<Uuid>,
    spaces: Vec<Uuid>,
    metas: Vec<Vec<u8>>,
}

impl Metas {
    fn push(&mut self, space: SpaceId, record: RecordId, meta: Vec<u8>) {
        self.records.push(record.0);
        self.spaces.push(space.0);
        self.metas.push(meta);
    }

    fn len(&self) -> u64 {
        self.records.len() as u64
    }
}

/// The ops of one insert, column by column (`unnest` turns them into rows).
#[derive(Default)]
struct Columns {
    spaces: Vec<Uuid>,
    seqs: Vec<i64>,
    ids: Vec<Uuid>,
    records: Vec<Uuid>,
    authors: Vec<Uuid>,
    ops: Vec<Vec<u8>>,
}

impl Columns {
    fn push(&mut self, op: &Op, seq: u64, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.spaces.push(op.space.0);
        self.seqs.push(seq_to_sql(seq)?);
        self.ids.push(op.id.0);
        self.records.push(op.record.0);
        self.authors.push(op.author.0);
        self.ops.push(bytes);
        Ok(())
    }
}

/// What the database holds about the records and op ids of a push, from the rows of
/// [`STORED_OPS`], [`RECORD_METAS`] and [`PURGED_RECORDS`].
fn known_of(
    stored: &[tokio_postgres::Row],
    metas: &[tokio_postgres::Row],
    purged: &[tokio_postgres::Row],
) -> Result<Known, StoreError> {
    let mut known = Known::default();
    for row in stored {
        let op: Op = codec::decode(row.get::<_, &[u8]>(1))?;
        known.stored.insert(OpId(row.get(0)), op);
    }
    for row in metas {
        let record = RecordId(row.get(0));
        known.homes.insert(record, SpaceId(row.get(1)));
        let meta: RecordMeta = codec::decode(row.get::<_, &[u8]>(2))?;
        known.metas.insert(record, meta);
    }
    for row in purged {
        known
            .purged
            .insert((SpaceId(row.get(0)), RecordId(row.get(1))));
    }
    Ok(known)
}
