//! Building local ops from what a person asked for: create a record with fields, set a
//! field (replacing what they saw), delete, restore, mark done.

use cairn_common::model::{
    CommitmentStatus, GoalStatus, ModelError, RecordKind, SpaceId, Value, fields_of, spec_of,
};
use cairn_common::op::{Change, Op};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;

use super::{Replica, ReplicaError};

impl Replica {
    /// Ops that create a record of `kind` in `space` with `fields`. Defaults fill what a
    /// new record of the kind needs (status open, date today); required fields must be
    /// given.
    ///
    /// # Errors
    /// [`ReplicaError::Invalid`] for an unknown field, a bad value or a missing required one.
    pub fn create_ops(
        &self,
        kind: RecordKind,
        space: SpaceId,
        fields: Vec<(String, Value)>,
        today: NaiveDate,
    ) -> Result<(RecordId, Vec<Op>), ReplicaError> {
        let id = RecordId::new();
        let mut all = defaults(kind, today);
        for (field, value) in fields {
            let spec = spec_of(kind, &field)?;
            spec.check(&value)?;
            all.retain(|(f, _)| *f != field);
            all.push((field, value));
        }
        for spec in fields_of(kind).iter().filter(|s| s.required) {
            if !all.iter().any(|(f, v)| f == spec.key && !v.is_empty()) {
                return Err(ModelError::Required { field: spec.label }.into());
            }
        }
        let mut ops = vec![self.stamp(space, id, Change::Create { kind })];
        for (field, value) in all {
            if !value.is_empty() {
                ops.push(self.stamp(
                    space,
                    id,
                    Change::Set {
                        field,
                        value,
                        replaces: Vec::new(),
                    },
                ));
            }
        }
        Ok((id, ops))
    }

    /// An op that sets `field` of `state` to `value`, replacing every current value
    /// (so it also resolves a conflict on that field).
    ///
    /// # Errors
    /// [`ReplicaError::Invalid`] if the field or value does not fit the record's kind.
    pub fn set_op(
        &self,
        state: &RecordState,
        field: &str,
        value: Value,
    ) -> Result<Op, ReplicaError> {
        let kind = state.kind.ok_or(ReplicaError::UnknownRecord(state.id))?;
        let spec = spec_of(kind, field)?;
        spec.check(&value)?;
        let replaces = state.heads(field);
        Ok(self.stamp(
            state.space,
            state.id,
            Change::Set {
                field: spec.key.to_owned(),
                value,
                replaces,
            },
        ))
    }

    /// Sets only the fields whose value differs from what `state` shows.
    ///
    /// # Errors
    /// As [`Self::set_op`].
    pub fn update_ops(
        &self,
        state: &RecordState,
        fields: Vec<(String, Value)>,
    ) -> Result<Vec<Op>, ReplicaError> {
        let mut ops = Vec::new();
        for (field, value) in fields {
            let unchanged = match state.get(&field) {
                Some(current) => {
                    *current == value && !state.register(&field).is_some_and(|r| r.is_conflict())
                }
                None => value.is_empty(),
            };
            if !unchanged {
                ops.push(self.set_op(state, &field, value)?);
            }
        }
        Ok(ops)
    }

    /// Ops that make `current` show what `target` showed: every field whose shown
    /// value (or conflict) differs is set to the target's value, replacing what is
    /// current now, and the record goes to or comes out of the trash as the target
    /// was. With no target (the record did not exist), it goes to the trash. This
    /// is how undo, redo and "revert to this version" work: new ops on top, never a
    /// rewrite of history, so they sync like any other change.
    ///
    /// # Errors
    /// As [`Self::set_op`].
    pub fn revert_ops(
        &self,
        current: &RecordState,
        target: Option<&RecordState>,
    ) -> Result<Vec<Op>, ReplicaError> {
        let Some(target) = target else {
            return Ok(if current.is_deleted() {
                Vec::new()
            } else {
                vec![self.delete_op(current)]
            });
        };
        let mut fields: Vec<&str> = current.fields.keys().map(String::as_str).collect();
        fields.extend(target.fields.keys().map(String::as_str));
        fields.sort_unstable();
        fields.dedup();
        let mut ops = Vec::new();
        for field in fields {
            let shown = current.get(field);
            let wanted = target.get(field);
            let conflict = current.register(field).is_some_and(|r| r.is_conflict());
            if shown != wanted || conflict {
                let value = wanted.cloned().unwrap_or(Value::Empty);
                ops.push(self.set_op(current, field, value)?);
            }
        }
        match (current.is_deleted(), target.is_deleted()) {
            (false, true) => ops.push(self.delete_op(current)),
            (true, false) => ops.push(self.restore_op(current)),
            _ => {}
        }
        Ok(ops)
    }

    /// The op that moves a record to the trash.
    #[must_use]
    pub fn delete_op(&self, state: &RecordState) -> Op {
        self.stamp(state.space, state.id, Change::Delete)
    }

    /// The op that brings a record back from the trash.
    #[must_use]
    pub fn restore_op(&self, state: &RecordState) -> Op {
        self.stamp(state.space, state.id, Change::Restore)
    }

    /// Ops that mark a record done on `today`: a standard task records the completion
    /// and is scheduled for its next due date; a commitment is kept; a goal achieved.
    ///
    /// # Errors
    /// [`ReplicaError::Invalid`] for kinds that cannot be done (activity, note, potential).
    pub fn done_ops(&self, state: &RecordState, today: NaiveDate) -> Result<Vec<Op>, ReplicaError> {
        let kind = state.kind.ok_or(ReplicaError::UnknownRecord(state.id))?;
        match kind {
            RecordKind::Task => {
                let mut history = match state.get("history") {
                    Some(Value::Dates(dates)) => dates.clone(),
                    _ => Vec::new(),
                };
                history.push(today);
                history.sort_unstable();
                history.dedup();
                let next = match state.get("recurrence") {
                    Some(Value::Recurrence(rule)) => rule.next_after(today),
                    _ => today,
                };
                Ok(vec![
                    self.set_op(state, "history", Value::Dates(history))?,
                    self.set_op(state, "next_due", Value::Date(next))?,
                ])
            }
            RecordKind::Commitment => Ok(vec![self.set_op(
                state,
                "status",
                Value::CommitmentStatus(CommitmentStatus::Kept),
            )?]),
            RecordKind::Goal => Ok(vec![
                self.set_op(state, "status", Value::GoalStatus(GoalStatus::Achieved))?,
                self.set_op(state, "progress", Value::Int(100))?,
            ]),
            RecordKind::Activity
            | RecordKind::Note
            | RecordKind::Potential
            | RecordKind::Person
            | RecordKind::File => Err(ModelError::Invalid {
                field: "done",
                reason: format!(
                    "{} cannot be marked done; only tasks, commitments and goals can",
                    kind.title()
                ),
            }
            .into()),
        }
    }
}

/// What a new record of each kind starts with (forms show these prefilled).
#[must_use]
pub fn defaults(kind: RecordKind, today: NaiveDate) -> Vec<(String, Value)> {
    let pairs: Vec<(&str, Value)> = match kind {
        RecordKind::Goal => vec![
            ("status", Value::GoalStatus(GoalStatus::Open)),
            ("progress", Value::Int(0)),
        ],
        RecordKind::Commitment => vec![("status", Value::CommitmentStatus(CommitmentStatus::Open))],
        RecordKind::Task => vec![("next_due", Value::Date(today))],
        RecordKind::Activity => vec![("date", Value::Date(today))],
        RecordKind::Note => vec![
            ("date", Value::Date(today)),
            (
                "kind",
                Value::NoteKind(cairn_common::model::NoteKind::OneOnOne),
            ),
        ],
        RecordKind::Potential | RecordKind::Person | RecordKind::File => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
