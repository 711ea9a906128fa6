//! Merge rules: the state of a record is a pure function of the *set* of its ops.
//!
//! Every field is a multi-value register. A `Set` names the values it replaces (the
//! ones its author saw); any value that no op replaces is current. One current value
//! is a clean field; several mean people edited offline at the same time, and all of
//! them are kept until someone writes a `Set` that replaces them all. Nothing anyone
//! typed is ever silently dropped.
//!
//! Every step below is commutative and idempotent (sets, minimums, maximums), so any
//! replica that has seen the same ops, in any order and with any repeats, holds the
//! same state, byte for byte.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{RecordId, RecordKind, SpaceId, UserId, Value};
use crate::op::{Change, Hlc, Op, OpId};

/// One value of a field and the op that wrote it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldValue {
    pub op: OpId,
    pub at: Hlc,
    pub author: UserId,
    pub value: Value,
}

/// A multi-value register.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Register {
    /// Current values, oldest first by `(at, op)`.
    values: Vec<FieldValue>,
    /// Every op some `Set` replaced; such an op's value never becomes current, even if
    /// it arrives after the op that replaced it.
    replaced: BTreeSet<OpId>,
}

impl Register {
    fn apply(&mut self, value: FieldValue, replaces: &[OpId]) {
        self.replaced.extend(replaces.iter().copied());
        let replaced = &self.replaced;
        self.values.retain(|v| !replaced.contains(&v.op));
        if self.replaced.contains(&value.op) || self.values.iter().any(|v| v.op == value.op) {
            return;
        }
        let key = (value.at, value.op);
        let at = self.values.partition_point(|v| (v.at, v.op) < key);
        self.values.insert(at, value);
    }

    /// The current values, oldest first.
    #[must_use]
    pub fn values(&self) -> &[FieldValue] {
        &self.values
    }

    /// The newest current value: what a scalar field shows while in conflict.
    #[must_use]
    pub fn newest(&self) -> Option<&FieldValue> {
        self.values.last()
    }

    /// Ops a new `Set` must name to replace everything current (resolving any conflict).
    #[must_use]
    pub fn heads(&self) -> Vec<OpId> {
        self.values.iter().map(|v| v.op).collect()
    }

    /// Whether more than one value is current.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        self.values.len() > 1
    }
}

/// The materialized state of one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    pub id: RecordId,
    /// The space the record lives in for its whole life: that of the first op folded
    /// in. Ops naming the record in another space are never merged into it.
    pub space: SpaceId,
    /// From the `Create` op; `None` while only later ops have arrived.
    pub kind: Option<RecordKind>,
    /// Clock and author of the `Create` op.
    pub created: Option<(Hlc, UserId)>,
    /// Id of that `Create`: breaks a tie between two creates with equal clocks.
    create_op: Option<OpId>,
    pub fields: BTreeMap<String, Register>,
    /// The newest `Delete` or `Restore`: `true` means in the trash.
    trash: Option<(Hlc, OpId, bool)>,
    /// The newest clock of any op: when the record last changed.
    pub updated: Hlc,
}

impl RecordState {
    /// The state of a record no op has touched yet.
    #[must_use]
    pub fn empty(op: &Op) -> Self {
        Self {
            id: op.record,
            space: op.space,
            kind: None,
            created: None,
            create_op: None,
            fields: BTreeMap::new(),
            trash: None,
            updated: op.at,
        }
    }

    /// Folds one op into the state. Applying ops in any order, any number of times,
    /// gives the same result. Ops of another record, or of this record in another
    /// space, are ignored: the server never accepts those, and a replica sets them
    /// aside before they get here.
    pub fn apply(&mut self, op: &Op) {
        if op.record != self.id || op.space != self.space {
            return;
        }
        self.updated = self.updated.max(op.at);
        match &op.change {
            Change::Create { kind } => {
                // The earliest create wins, should there ever be two (replicas refuse a
                // second one, but a hostile peer could send it).
                let earlier = match (self.created, self.create_op) {
                    (Some((at, _)), Some(id)) => (op.at, op.id) < (at, id),
                    _ => true,
                };
                if earlier {
                    self.kind = Some(*kind);
                    self.created = Some((op.at, op.author));
                    self.create_op = Some(op.id);
                }
            }
            Change::Set {
                field,
                value,
                replaces,
            } => {
                let entry = FieldValue {
                    op: op.id,
                    at: op.at,
                    author: op.author,
                    value: value.clone(),
                };
                self.fields
                    .entry(field.clone())
                    .or_default()
                    .apply(entry, replaces);
            }
            Change::Delete | Change::Restore => {
                let deleted = matches!(op.change, Change::Delete);
                let newer = self
                    .trash
                    .is_none_or(|(at, id, _)| (op.at, op.id) > (at, id));
                if newer {
                    self.trash = Some((op.at, op.id, deleted));
                }
            }
        }
    }

    /// Whether the record is in the trash.
    #[must_use]
    pub fn is_deleted(&self) -> bool {
        self.trash.is_some_and(|(_, _, deleted)| deleted)
    }

    /// The register of a field, if anyone ever wrote it.
    #[must_use]
    pub fn register(&self, field: &str) -> Option<&Register> {
        self.fields.get(field)
    }

    /// The field's value to show: the newest current one; `None` if unset or cleared.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.register(field)
            .and_then(Register::newest)
            .map(|v| &v.value)
            .filter(|v| !matches!(v, Value::Empty))
    }

    /// A goal's progress 0–100 by the one rule ([`model::goal_progress`]): the mean
    /// of its key results if it has any, else the figure entered; `None` for other kinds.
    ///
    /// [`model::goal_progress`]: crate::model::goal_progress
    #[must_use]
    pub fn progress(&self) -> Option<u8> {
        (self.kind == Some(RecordKind::Goal)).then(|| {
            crate::model::goal_progress(
                self.get(crate::model::KEY_RESULTS),
                self.get(crate::model::PROGRESS),
            )
        })
    }

    /// A value as views and exports show it under `key` (one of
    /// [`model::shown_keys`]): what [`Self::get`] returns, except that a goal's
    /// `progress` is its progress by the one rule ([`Self::progress`]) and its
    /// `progress_entered` the figure stored in its progress field.
    ///
    /// [`model::shown_keys`]: crate::model::shown_keys
    #[must_use]
    pub fn shown(&self, key: &str) -> Option<Cow<'_, Value>> {
        use crate::model::{PROGRESS, PROGRESS_ENTERED};
        match self.progress() {
            Some(progress) if key == PROGRESS => Some(Cow::Owned(Value::Int(i64::from(progress)))),
            Some(_) if key == PROGRESS_ENTERED => self.get(PROGRESS).map(Cow::Borrowed),
            _ => self.get(key).map(Cow::Borrowed),
        }
    }

    /// The text of a text field, or `""`.
    #[must_use]
    pub fn text(&self, field: &str) -> &str {
        self.get(field).and_then(Value::as_text).unwrap_or("")
    }

    /// The record's name: its kind's title field.
    #[must_use]
    pub fn title(&self) -> &str {
        let Some(kind) = self.kind else { return "" };
        match self.get(kind.title_field()) {
            Some(Value::Text(text)) => text,
            // A potential is named by its person.
            Some(Value::People(people)) => people.first().map_or("", |p| p.name.as_str()),
            _ => "",
        }
    }

    /// Ops a new `Set` of `field` replaces: everything current.
    #[must_use]
    pub fn heads(&self, field: &str) -> Vec<OpId> {
        self.register(field)
            .map(Register::heads)
            .unwrap_or_default()
    }

    /// The fields in conflict, in key order.
    #[must_use]
    pub fn conflicts(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(_, r)| r.is_conflict())
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Whether the record's `Create` has arrived (records without one stay hidden).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.kind.is_some()
    }
}

/// The state of every record touched by `ops`: the reference definition that the
/// incremental [`RecordState::apply`] must agree with.
#[must_use]
pub fn materialize<'a>(ops: impl IntoIterator<Item = &'a Op>) -> BTreeMap<RecordId, RecordState> {
    let mut states: BTreeMap<RecordId, RecordState> = BTreeMap::new();
    for op in ops {
        states
            .entry(op.record)
            .or_insert_with(|| RecordState::empty(op))
            .apply(op);
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::NodeId;

    fn op(record: RecordId, wall_ms: u64, node: u64, change: Change) -> Op {
        Op {
            id: OpId::new(),
            space: SpaceId::from_bytes([1; 16]),
            record,
            at: Hlc {
                wall_ms,
                counter: 0,
                node: NodeId(node),
            },
            author: UserId::from_bytes([node as u8; 16]),
            change,
        }
    }

    fn set(
        record: RecordId,
        wall_ms: u64,
        node: u64,
        field: &str,
        text: &str,
        replaces: Vec<OpId>,
    ) -> Op {
        op(
            record,
            wall_ms,
            node,
            Change::Set {
                field: field.into(),
                value: Value::Text(text.into()),
                replaces,
            },
        )
    }

    /// A goal shows the mean of its key results as its progress, not the figure
    /// entered; other fields show as stored, and other kinds have no progress.
    #[test]
    fn goal_shows_progress_by_the_one_rule() {
        let id = RecordId::new();
        let kr = |current| crate::model::KeyResult {
            name: "kr".into(),
            current,
            target: 10.0,
            unit: String::new(),
        };
        let value = |wall_ms, field: &str, value| {
            op(
                id,
                wall_ms,
                1,
                Change::Set {
                    field: field.into(),
                    value,
                    replaces: vec![],
                },
            )
        };
        let create = op(
            id,
            1,
            1,
            Change::Create {
                kind: RecordKind::Goal,
            },
        );
        let entered = value(2, "progress", Value::Int(10));
        let key_results = value(3, "key_results", Value::KeyResults(vec![kr(4.0), kr(8.0)]));
        let title = set(id, 4, 1, "title", "Grow", vec![]);
        let states = materialize([&create, &entered, &key_results, &title]);
        let goal = &states[&id];
        assert_eq!(goal.progress(), Some(60));
        assert_eq!(goal.shown("progress").as_deref(), Some(&Value::Int(60)));
        assert_eq!(
            goal.shown("progress_entered").as_deref(),
            Some(&Value::Int(10))
        );
        assert_eq!(
            goal.shown("title").as_deref(),
            Some(&Value::Text("Grow".into()))
        );
        let states = materialize([&create, &entered]);
        assert_eq!(
            states[&id].shown("progress").as_deref(),
            Some(&Value::Int(10))
        );
        let note = RecordId::new();
        let states = materialize([&op(
            note,
            1,
            1,
            Change::Create {
                kind: RecordKind::Note,
            },
        )]);
        assert_eq!(states[&note].progress(), None);
        assert_eq!(states[&note].shown("progress"), None);
    }

    /// Two concurrent edits of one field both survive; a later edit replacing both resolves it.
    #[test]
    fn concurrent_edits_conflict_then_resolve() {
        let id = RecordId::new();
        let create = op(
            id,
            1,
            1,
            Change::Create {
                kind: RecordKind::Note,
            },
        );
        let base = set(id, 2, 1, "notes", "base", vec![]);
        let a = set(id, 3, 1, "notes", "from A", vec![base.id]);
        let b = set(id, 4, 2, "notes", "from B", vec![base.id]);
        let states = materialize([&create, &base, &a, &b]);
        let state = &states[&id];
        let texts: Vec<_> = state
            .register("notes")
            .expect("notes")
            .values()
            .iter()
            .map(|v| v.value.to_text())
            .collect();
        assert_eq!(texts, ["from A", "from B"]);
        assert_eq!(state.conflicts(), ["notes"]);
        let fix = set(id, 5, 1, "notes", "merged", state.heads("notes"));
        let mut resolved = state.clone();
        resolved.apply(&fix);
        assert!(resolved.conflicts().is_empty());
        assert_eq!(resolved.text("notes"), "merged");
    }

    /// A value that arrives after the op that replaced it never becomes current.
    #[test]
    fn late_replaced_value_stays_replaced() {
        let id = RecordId::new();
        let old = set(id, 2, 1, "title", "old", vec![]);
        let new = set(id, 3, 1, "title", "new", vec![old.id]);
        let states = materialize([&new, &old, &new]);
        assert_eq!(states[&id].text("title"), "new");
        assert!(states[&id].conflicts().is_empty());
    }

    /// Delete and restore: the newest wins, and edits are kept across the trash.
    #[test]
    fn trash_keeps_edits() {
        let id = RecordId::new();
        let create = op(
            id,
            1,
            1,
            Change::Create {
                kind: RecordKind::Goal,
            },
        );
        let title = set(id, 2, 1, "title", "Ship", vec![]);
        let delete = op(id, 3, 1, Change::Delete);
        let restore = op(id, 4, 2, Change::Restore);
        let deleted = materialize([&create, &title, &delete]);
        assert!(deleted[&id].is_deleted());
        let back = materialize([&restore, &delete, &title, &create]);
        assert!(!back[&id].is_deleted());
        assert_eq!(back[&id].title(), "Ship");
    }
}
