//! What a push does, decided apart from where the ops are kept: every backend loads
//! what it knows of the pushed records ([`Known`]), this file judges each record's
//! ops of the push together and orders the accepted ones ([`plan`]), and the backend
//! writes the [`Plan`] in one atomic step, giving seqs in the plan's order.
//!
//! The rules: a record lives in one space for its whole life; a `Create` may not
//! change its kind; every other op needs its record's `Create` (stored or in this
//! push); a `Set` must fit the kind's schema and keep the record within the limits;
//! an op id already stored (or used earlier in the push) with other content is
//! refused; ops of a purged record are acknowledged and never stored again. A
//! record with one bad op has none of its ops stored and is named in a
//! [`Refusal`]; the other records' ops are stored.

use std::collections::{HashMap, HashSet};

use cairn_common::api::{Refusal, RefusalReason};
use cairn_common::codec;
use cairn_common::model::{RecordId, SpaceId};
use cairn_common::op::{Change, Op, OpId};

use super::StoreError;
use super::records::{RecordLimits, RecordMeta};

/// What the store holds about the records and op ids of one push.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// The space each record lives in.
    pub homes: HashMap<RecordId, SpaceId>,
    /// The summary of each record (by its home space).
    pub metas: HashMap<RecordId, RecordMeta>,
    /// Records purged from their space.
    pub purged: HashSet<(SpaceId, RecordId)>,
    /// The ops already stored under the push's op ids.
    pub stored: HashMap<OpId, Op>,
}

/// What to write for a push, and what to answer.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// New ops with their encodings, in the order they get their seqs (per space).
    pub appends: Vec<(Op, Vec<u8>)>,
    /// Records new on the server: their home space.
    pub new_homes: Vec<(RecordId, SpaceId)>,
    /// Record summaries that changed.
    pub metas: Vec<(SpaceId, RecordId, RecordMeta)>,
    pub duplicates: u32,
    pub refused: Vec<Refusal>,
}

/// A refusal of every op of `ops` that belongs to `record`.
#[must_use]
pub fn refuse_record(
    ops: &[&Op],
    record: RecordId,
    reason: RefusalReason,
    message: String,
) -> Refusal {
    let space = ops
        .iter()
        .find(|op| op.record == record)
        .map_or_else(SpaceId::new, |op| op.space);
    Refusal {
        space,
        record: Some(record),
        reason,
        message,
        ops: ops
            .iter()
            .filter(|op| op.record == record)
            .map(|op| op.id)
            .collect(),
    }
}

/// The verdict on one record's ops of a push.
enum Verdict<'a> {
    Accept {
        /// New ops with their encodings.
        fresh: Vec<(&'a Op, Vec<u8>)>,
        duplicates: u32,
        /// The record's summary after them, if it changed.
        meta: Option<RecordMeta>,
        /// The record is new on the server.
        new_home: bool,
    },
    Refuse(RefusalReason, String),
}

/// Judges a push against what is stored. The caller has checked authors, clocks,
/// membership and roles.
///
/// # Errors
/// An op that cannot be encoded.
pub(crate) fn plan(ops: &[Op], known: &Known, limits: &RecordLimits) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    let mut order: Vec<RecordId> = Vec::new();
    let mut groups: HashMap<RecordId, Vec<&Op>> = HashMap::new();
    for op in ops {
        groups
            .entry(op.record)
            .or_insert_with(|| {
                order.push(op.record);
                Vec::new()
            })
            .push(op);
    }
    let mut in_push: HashMap<OpId, &Op> = HashMap::new();
    let mut accepted: HashMap<OpId, Vec<u8>> = HashMap::new();
    for record in order {
        let group = &groups[&record];
        match judge(record, group, &mut in_push, known, limits)? {
            Verdict::Refuse(reason, message) => {
                plan.refused
                    .push(refuse_record(group, record, reason, message));
            }
            Verdict::Accept {
                fresh,
                duplicates,
                meta,
                new_home,
            } => {
                plan.duplicates += duplicates;
                let space = group[0].space;
                if new_home {
                    plan.new_homes.push((record, space));
                }
                if let Some(meta) = meta {
                    plan.metas.push((space, record, meta));
                }
                accepted.extend(fresh.into_iter().map(|(op, bytes)| (op.id, bytes)));
            }
        }
    }
    // Seqs in the order of the push, except that a record's ops never come before
    // its `Create`: readers pull in seq order and need the create first.
    let creates_ahead: HashSet<RecordId> = ops
        .iter()
        .filter(|op| matches!(op.change, Change::Create { .. }) && accepted.contains_key(&op.id))
        .map(|op| op.record)
        .collect();
    let mut created: HashSet<RecordId> = HashSet::new();
    let mut deferred: HashMap<RecordId, Vec<&Op>> = HashMap::new();
    for op in ops {
        let is_create = matches!(op.change, Change::Create { .. });
        if !is_create && creates_ahead.contains(&op.record) && !created.contains(&op.record) {
            deferred.entry(op.record).or_default().push(op);
            continue;
        }
        let mut run = vec![op];
        if is_create && accepted.contains_key(&op.id) && created.insert(op.record) {
            run.extend(deferred.remove(&op.record).unwrap_or_default());
        }
        for op in run {
            if let Some(bytes) = accepted.remove(&op.id) {
                plan.appends.push((op.clone(), bytes));
            }
        }
    }
    Ok(plan)
}

/// Judges the ops of one record (all in the push's order).
fn judge<'a>(
    record: RecordId,
    group: &[&'a Op],
    in_push: &mut HashMap<OpId, &'a Op>,
    known: &Known,
    limits: &RecordLimits,
) -> Result<Verdict<'a>, StoreError> {
    let space = group[0].space;
    let home = known.homes.get(&record).copied();
    if group.iter().any(|op| op.space != space) || home.is_some_and(|h| h != space) {
        return Ok(Verdict::Refuse(
            RefusalReason::Invalid,
            format!(
                "record {record} lives in another space; a record stays in the space it was \
                 created in (copy its text into a new record to move it)"
            ),
        ));
    }
    if known.purged.contains(&(space, record)) {
        // Purged on the server: acknowledged, never stored again.
        return Ok(Verdict::Accept {
            fresh: Vec::new(),
            duplicates: u32::try_from(group.len()).unwrap_or(u32::MAX),
            meta: None,
            new_home: false,
        });
    }
    let stored_meta = known.metas.get(&record).cloned();
    let mut meta = stored_meta.clone();
    let mut fresh = Vec::new();
    let mut duplicates = 0;
    // The create first, wherever the push has it (a client that starts over may
    // send a record's later changes before it).
    let mut group = group.to_vec();
    group.sort_by_key(|op| !matches!(op.change, Change::Create { .. }));
    for op in &group {
        if let Some(first) = in_push.get(&op.id) {
            if *first != *op {
                return Ok(Verdict::Refuse(
                    RefusalReason::Invalid,
                    format!("op {} is used twice with other content", op.id),
                ));
            }
            duplicates += 1;
            continue;
        }
        in_push.insert(op.id, op);
        if let Some(stored) = known.stored.get(&op.id) {
            if stored != *op {
                return Ok(Verdict::Refuse(
                    RefusalReason::Invalid,
                    format!("the server holds another change under op id {}", op.id),
                ));
            }
            duplicates += 1;
            continue;
        }
        let bytes = codec::encode(*op)?;
        match (&op.change, meta.as_mut()) {
            (Change::Create { kind }, None) => meta = Some(RecordMeta::new(*kind)),
            (Change::Create { kind }, Some(existing)) if existing.kind != *kind => {
                return Ok(Verdict::Refuse(
                    RefusalReason::Invalid,
                    format!(
                        "the record is a {}; it cannot become a {kind}",
                        existing.kind
                    ),
                ));
            }
            (Change::Create { .. } | Change::Delete | Change::Restore, Some(_)) => {}
            (_, None) => {
                return Ok(Verdict::Refuse(
                    RefusalReason::UnknownRecord,
                    "the record was never created on the server (its Create is neither \
                     stored nor in this push); it is sent again once its author has synced"
                        .into(),
                ));
            }
            (
                Change::Set {
                    field,
                    replaces,
                    value: _,
                },
                Some(existing),
            ) => {
                if let Err(e) = op.validate(existing.kind) {
                    return Ok(Verdict::Refuse(RefusalReason::Invalid, e.to_string()));
                }
                if let Err(e) = existing.apply_set(op.id, field, replaces, bytes.len(), limits) {
                    return Ok(Verdict::Refuse(
                        RefusalReason::Invalid,
                        format!("a change of {field:?} was refused: {e}"),
                    ));
                }
            }
        }
        fresh.push((*op, bytes));
    }
    let changed = meta != stored_meta;
    Ok(Verdict::Accept {
        fresh,
        duplicates,
        new_home: home.is_none() && meta.is_some(),
        meta: if changed { meta } else { None },
    })
}
