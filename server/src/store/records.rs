//! What the server knows of each record without materializing it: the space it lives
//! in, its kind, and the current values of its fields by op id and size. That is
//! enough to refuse, at push, an op that would put a record in a second space, change
//! its kind, or make it larger than clients accept, so that one writer's mistake or
//! malice never reaches the readers.
//!
//! Keys in the `oplog` tree:
//! - `r` ++ space ++ record → [`RecordMeta`]
//! - `k` ++ record → space: the one space a record lives in
//! - `v` → the layout version of these indexes ([`LAYOUT`]); a store without it (made
//!   by an older version) has them rebuilt from its ops when it opens.

use std::collections::BTreeMap;

use cairn_common::codec;
use cairn_common::model::{RecordId, RecordKind, SpaceId};
use cairn_common::op::{Change, Op, OpId};
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

pub(super) const RECORDS: u8 = b'r';
pub(super) const HOMES: u8 = b'k';
const VERSION: &[u8] = b"v";
/// Version 2: `r` holds a [`RecordMeta`] (version 1 held the kind alone), `k` exists.
const LAYOUT: u8 = 2;

/// Bounds that protect the readers of a record from its writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLimits {
    /// Most current values of one field (concurrent edits kept as a conflict), and
    /// most values one `Set` may replace.
    pub max_values_per_field: usize,
    /// Most bytes a record's state may take, as estimated by [`RecordMeta::bytes`].
    pub max_record_bytes: usize,
}

impl RecordLimits {
    /// No limits: for rebuilding the index of ops that are already stored.
    pub const NONE: Self = Self {
        max_values_per_field: usize::MAX,
        max_record_bytes: usize::MAX,
    };
}

/// The server's summary of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RecordMeta {
    pub kind: RecordKind,
    /// Per field, the current values: the op that wrote each and its encoded size.
    fields: BTreeMap<String, Vec<(OpId, u32)>>,
    /// How many op ids `Set`s have named as replaced: clients keep each one.
    replaced: u64,
}

/// Bytes a client's record state takes besides its values (ids, clocks, kind).
const RECORD_OVERHEAD: usize = 128;
/// Bytes a client keeps per replaced op id (the id and its share of the set).
const PER_REPLACED: usize = 17;
/// Bytes a client keeps per field besides the name and values.
const PER_FIELD: usize = 16;

impl RecordMeta {
    pub fn new(kind: RecordKind) -> Self {
        Self {
            kind,
            fields: BTreeMap::new(),
            replaced: 0,
        }
    }

    /// An upper bound of the bytes a client's state of this record takes: each value
    /// is counted with the size of the whole op that wrote it.
    pub fn bytes(&self) -> usize {
        let values: usize = self
            .fields
            .iter()
            .map(|(name, values)| {
                name.len() + PER_FIELD + values.iter().map(|(_, n)| *n as usize).sum::<usize>()
            })
            .sum();
        let replaced = usize::try_from(self.replaced).unwrap_or(usize::MAX);
        RECORD_OVERHEAD
            .saturating_add(values)
            .saturating_add(replaced.saturating_mul(PER_REPLACED))
    }

    /// Folds in a `Set` of `field` by op `id` whose encoding is `size` bytes, or says
    /// which limit it breaks. A change that makes the record no larger (and the field
    /// hold no more values) always passes, so a record over a limit can be repaired.
    pub fn apply_set(
        &mut self,
        id: OpId,
        field: &str,
        replaces: &[OpId],
        size: usize,
        limits: &RecordLimits,
    ) -> Result<(), String> {
        if replaces.len() > limits.max_values_per_field {
            return Err(format!(
                "it replaces {} values of {field:?}; a field holds at most {}",
                replaces.len(),
                limits.max_values_per_field
            ));
        }
        let before_bytes = self.bytes();
        let values = self.fields.entry(field.to_owned()).or_default();
        let before_values = values.len();
        values.retain(|(op, _)| !replaces.contains(op));
        if !values.iter().any(|(op, _)| *op == id) {
            values.push((id, u32::try_from(size).unwrap_or(u32::MAX)));
        }
        let now_values = values.len();
        self.replaced = self.replaced.saturating_add(replaces.len() as u64);
        if now_values > before_values && now_values > limits.max_values_per_field {
            return Err(format!(
                "{field:?} would hold {now_values} values edited at the same time (at most {}); \
                 resolve the conflict of this field first, then change it",
                limits.max_values_per_field
            ));
        }
        let now_bytes = self.bytes();
        if now_bytes > before_bytes && now_bytes > limits.max_record_bytes {
            return Err(format!(
                "the record would take about {} KiB (at most {} KiB); shorten its long \
                 texts or resolve its conflicts, or attach a file instead",
                now_bytes / 1024,
                limits.max_record_bytes / 1024
            ));
        }
        Ok(())
    }
}

pub(super) fn record_key(space: SpaceId, record: RecordId) -> Vec<u8> {
    let mut key = vec![RECORDS];
    key.extend_from_slice(space.as_bytes());
    key.extend_from_slice(record.as_bytes());
    key
}

pub(super) fn home_key(record: RecordId) -> Vec<u8> {
    let mut key = vec![HOMES];
    key.extend_from_slice(record.as_bytes());
    key
}

impl SledStore {
    /// The kind of a record of a space, if its `Create` is stored there.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn record_kind(
        &self,
        space: SpaceId,
        record: RecordId,
    ) -> Result<Option<RecordKind>, StoreError> {
        Ok(self.record_meta(space, record)?.map(|m| m.kind))
    }

    pub(crate) fn record_meta(
        &self,
        space: SpaceId,
        record: RecordId,
    ) -> Result<Option<RecordMeta>, StoreError> {
        match self.db().oplog.get(record_key(space, record))? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The space a record lives in, if any op of it is stored.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn home_of(&self, record: RecordId) -> Result<Option<SpaceId>, StoreError> {
        match self.db().oplog.get(home_key(record))? {
            Some(bytes) => super::id_at(&bytes, 0)
                .map(SpaceId::from_bytes)
                .map(Some)
                .ok_or_else(|| codec::CodecError::Malformed("a damaged record home".into()).into()),
            None => Ok(None),
        }
    }

    /// Rebuilds the record indexes if the store was written by a version before
    /// [`LAYOUT`] (or by a restore, which loads ops alone).
    pub(super) fn migrate_record_index(&self) -> Result<(), StoreError> {
        let current = self.db().oplog.get(VERSION)?;
        if current.as_deref() == Some(&[LAYOUT][..]) {
            return Ok(());
        }
        self.rebuild_record_index()
    }

    /// Rebuilds `r` and `k` from the stored ops, in each space's seq order, without
    /// limits (what is stored stays readable), then marks the layout current.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn rebuild_record_index(&self) -> Result<(), StoreError> {
        let db = self.db();
        let mut batch = sled::Batch::default();
        for prefix in [RECORDS, HOMES] {
            for entry in db.oplog.scan_prefix([prefix]) {
                batch.remove(entry?.0);
            }
        }
        db.oplog.apply_batch(batch)?;
        // The scan goes space by space (`o` ++ space ++ seq), and a record lives in
        // one space: each space's summaries are written when the scan leaves it, so
        // memory holds one space at a time, not the whole store.
        let mut metas: BTreeMap<(SpaceId, RecordId), RecordMeta> = BTreeMap::new();
        let mut current: Option<SpaceId> = None;
        for entry in db.oplog.scan_prefix([super::oplog::OPS]) {
            let (_, value) = entry?;
            let op: Op = codec::decode(&value)?;
            if current != Some(op.space) {
                write_metas(&db.oplog, std::mem::take(&mut metas))?;
                current = Some(op.space);
            }
            let home = home_key(op.record);
            match db.oplog.get(&home)? {
                Some(space) if space.as_ref() != op.space.as_bytes() => {
                    // Stored before the one-space rule: the first space keeps it.
                    continue;
                }
                Some(_) => {}
                None => {
                    db.oplog.insert(home, op.space.as_bytes().to_vec())?;
                }
            }
            fold(&mut metas, &op, value.len(), &RecordLimits::NONE);
        }
        write_metas(&db.oplog, metas)?;
        let mut batch = sled::Batch::default();
        batch.insert(VERSION, &[LAYOUT][..]);
        db.oplog.apply_batch(batch)?;
        drop(db);
        self.wrote();
        Ok(())
    }
}

/// Writes one space's record summaries.
fn write_metas(
    tree: &sled::Tree,
    metas: BTreeMap<(SpaceId, RecordId), RecordMeta>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for ((space, record), meta) in &metas {
        batch.insert(record_key(*space, *record), codec::encode(meta)?);
    }
    tree.apply_batch(batch)?;
    Ok(())
}

/// Folds a stored op into the metas (ops of a record never created are skipped).
pub(super) fn fold(
    metas: &mut BTreeMap<(SpaceId, RecordId), RecordMeta>,
    op: &Op,
    size: usize,
    limits: &RecordLimits,
) {
    let slot = (op.space, op.record);
    match &op.change {
        Change::Create { kind } => {
            metas.entry(slot).or_insert_with(|| RecordMeta::new(*kind));
        }
        Change::Set {
            field, replaces, ..
        } => {
            if let Some(meta) = metas.get_mut(&slot) {
                // Without limits nothing is refused.
                let _ = meta.apply_set(op.id, field, replaces, size, limits);
            }
        }
        Change::Delete | Change::Restore => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RecordLimits {
        RecordLimits {
            max_values_per_field: 2,
            max_record_bytes: 4096,
        }
    }

    /// A field holds at most the limit's values; replacing them is always allowed.
    #[test]
    fn values_per_field_bounded() {
        let mut meta = RecordMeta::new(RecordKind::Note);
        let (a, b, c) = (OpId::new(), OpId::new(), OpId::new());
        meta.apply_set(a, "text", &[], 10, &limits()).expect("one");
        meta.apply_set(b, "text", &[], 10, &limits()).expect("two");
        let err = meta
            .apply_set(c, "text", &[], 10, &limits())
            .expect_err("three");
        assert!(err.contains("resolve the conflict"), "{err}");
        let mut meta = RecordMeta::new(RecordKind::Note);
        meta.apply_set(a, "text", &[], 10, &limits()).expect("one");
        meta.apply_set(b, "text", &[], 10, &limits()).expect("two");
        meta.apply_set(c, "text", &[a, b], 10, &limits())
            .expect("a resolution passes");
        let many: Vec<OpId> = (0..3).map(|_| OpId::new()).collect();
        assert!(
            meta.apply_set(OpId::new(), "text", &many, 10, &limits())
                .is_err()
        );
    }

    /// A record may not grow past its byte limit, but may shrink while over it.
    #[test]
    fn record_bytes_bounded() {
        let mut meta = RecordMeta::new(RecordKind::Note);
        let (a, b) = (OpId::new(), OpId::new());
        meta.apply_set(a, "text", &[], 3000, &limits())
            .expect("fits");
        let err = meta
            .apply_set(b, "text", &[], 3000, &limits())
            .expect_err("too large");
        assert!(err.contains("KiB"), "{err}");
        let mut meta = RecordMeta::new(RecordKind::Note);
        meta.apply_set(a, "text", &[], 5000, &RecordLimits::NONE)
            .expect("no limits");
        meta.apply_set(b, "text", &[a], 100, &limits())
            .expect("shrinking passes");
    }
}
