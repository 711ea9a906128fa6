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

use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId};
use cairn_common::op::{Op, OpId};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::push_plan::{self, Known};
use crate::store::records::{RecordLimits, RecordMeta};
use crate::store::{PullPage, PushOutcome, StoreError};

/// How often a push runs again after losing a race on a unique key.
const RACE_RETRIES: usize = 5;

impl PgStore {
    /// The last seq given out in a space (0 for none).
    ///
    /// # Errors
    /// A database error.
    pub async fn last_seq(&self, space: SpaceId) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT last_seq FROM space_seqs WHERE space_id = $1",
                &[&space.0],
            )
            .await?;
        row.map_or(Ok(0), |r| seq_from_sql(r.get(0)))
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
        tx.batch_execute("SET LOCAL synchronous_commit = on")
            .await?;
        let spaces: Vec<Uuid> = ops
            .iter()
            .map(|op| op.space.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        tx.execute(
            "INSERT INTO space_seqs (space_id, last_seq)
             SELECT s, 0 FROM unnest($1::uuid[]) AS s ORDER BY s
             ON CONFLICT (space_id) DO NOTHING",
            &[&spaces],
        )
        .await?;
        let mut last: HashMap<SpaceId, u64> = HashMap::new();
        for row in tx
            .query(
                "SELECT space_id, last_seq FROM space_seqs WHERE space_id = ANY($1)
                 ORDER BY space_id FOR UPDATE",
                &[&spaces],
            )
            .await?
        {
            last.insert(SpaceId(row.get(0)), seq_from_sql(row.get(1))?);
        }
        let known = known_of(&tx, ops).await?;
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
        for (space, record, meta) in &plan.metas {
            let meta = codec::encode(meta)?;
            let written = if new_homes.contains(record) {
                tx.execute(
                    "INSERT INTO records (record_id, space_id, meta) VALUES ($1, $2, $3)
                     ON CONFLICT (record_id) DO NOTHING",
                    &[&record.0, &space.0, &meta],
                )
                .await?
            } else {
                tx.execute(
                    "UPDATE records SET meta = $3 WHERE record_id = $1 AND space_id = $2",
                    &[&record.0, &space.0, &meta],
                )
                .await?
            };
            if written != 1 {
                // Another push created the record meanwhile: judge again.
                return Err(StoreError::Conflict(format!(
                    "record {record} was created by another push at the same time"
                )));
            }
        }
        let mut columns = Columns::default();
        for (op, bytes) in plan.appends {
            let seq = last.entry(op.space).or_insert(0);
            *seq += 1;
            columns.push(&op, *seq, bytes)?;
        }
        tx.execute(
            "INSERT INTO ops (space_id, seq, op_id, record_id, author, op)
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[],
                                  $6::bytea[])",
            &[
                &columns.spaces,
                &columns.seqs,
                &columns.ids,
                &columns.records,
                &columns.authors,
                &columns.ops,
            ],
        )
        .await?;
        for (space, seq) in &last {
            tx.execute(
                "UPDATE space_seqs SET last_seq = $2 WHERE space_id = $1",
                &[&space.0, &seq_to_sql(*seq)?],
            )
            .await?;
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
        let rows = client
            .query(
                "SELECT seq, op FROM ops WHERE space_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&space.0, &after_sql, &limit],
            )
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

/// What the database holds about the records and op ids of a push.
async fn known_of(tx: &tokio_postgres::Transaction<'_>, ops: &[Op]) -> Result<Known, StoreError> {
    let mut known = Known::default();
    let ids: Vec<Uuid> = ops.iter().map(|op| op.id.0).collect();
    let records: Vec<Uuid> = ops
        .iter()
        .map(|op| op.record.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for row in tx
        .query("SELECT op_id, op FROM ops WHERE op_id = ANY($1)", &[&ids])
        .await?
    {
        let op: Op = codec::decode(row.get::<_, &[u8]>(1))?;
        known.stored.insert(OpId(row.get(0)), op);
    }
    for row in tx
        .query(
            "SELECT record_id, space_id, meta FROM records WHERE record_id = ANY($1)",
            &[&records],
        )
        .await?
    {
        let record = RecordId(row.get(0));
        known.homes.insert(record, SpaceId(row.get(1)));
        let meta: RecordMeta = codec::decode(row.get::<_, &[u8]>(2))?;
        known.metas.insert(record, meta);
    }
    for row in tx
        .query(
            "SELECT space_id, record_id FROM purged_records WHERE record_id = ANY($1)",
            &[&records],
        )
        .await?
    {
        known
            .purged
            .insert((SpaceId(row.get(0)), RecordId(row.get(1))));
    }
    Ok(known)
}
