//! A record's change history as people read it: who, when, and what changed, with
//! the old value (the values the change replaced, found through its `replaces`) and
//! the new one. Shared by `cairn history` and the TUI's history popup.

use std::collections::HashMap;

use cairn_common::model::{RecordKind, UserId, Value};
use cairn_common::op::{Change, Hlc, Op, OpId};

/// One change of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub op: OpId,
    pub at: Hlc,
    pub author: UserId,
    pub what: What,
}

/// What one change did.
#[derive(Clone, Debug, PartialEq)]
pub enum What {
    Created(RecordKind),
    /// A field set to `new`, replacing `old` (none: the field was unset; several:
    /// the change resolved a conflict between them).
    Set {
        field: String,
        old: Vec<Value>,
        new: Value,
    },
    Deleted,
    Restored,
}

/// The entries of one record's ops, oldest first. Old values come from the ops a
/// `Set` replaces; one this replica does not hold (not synced yet) is left out.
#[must_use]
pub fn entries(ops: &[Op]) -> Vec<Entry> {
    let values: HashMap<OpId, &Value> = ops
        .iter()
        .filter_map(|op| match &op.change {
            Change::Set { value, .. } => Some((op.id, value)),
            _ => None,
        })
        .collect();
    let mut sorted: Vec<&Op> = ops.iter().collect();
    sorted.sort_by_key(|op| (op.at, op.id));
    sorted
        .into_iter()
        .map(|op| Entry {
            op: op.id,
            at: op.at,
            author: op.author,
            what: match &op.change {
                Change::Create { kind } => What::Created(*kind),
                Change::Set {
                    field,
                    value,
                    replaces,
                } => What::Set {
                    field: field.clone(),
                    old: replaces
                        .iter()
                        .filter_map(|id| values.get(id).map(|v| (*v).clone()))
                        .collect(),
                    new: value.clone(),
                },
                Change::Delete => What::Deleted,
                Change::Restore => What::Restored,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_common::model::{RecordId, SpaceId};
    use cairn_common::op::NodeId;

    fn op(wall_ms: u64, change: Change) -> Op {
        Op {
            id: OpId::new(),
            space: SpaceId::from_bytes([1; 16]),
            record: RecordId::from_bytes([2; 16]),
            at: Hlc {
                wall_ms,
                counter: 0,
                node: NodeId(1),
            },
            author: UserId::from_bytes([3; 16]),
            change,
        }
    }

    /// A Set names the values it replaced as old, in time order whatever the input order.
    #[test]
    fn old_values_come_from_replaces() {
        let first = op(
            2,
            Change::Set {
                field: "title".into(),
                value: Value::Text("Draft".into()),
                replaces: vec![],
            },
        );
        let second = op(
            3,
            Change::Set {
                field: "title".into(),
                value: Value::Text("Final".into()),
                replaces: vec![first.id],
            },
        );
        let create = op(
            1,
            Change::Create {
                kind: RecordKind::Goal,
            },
        );
        let got = entries(&[second.clone(), create, first]);
        assert_eq!(got[0].what, What::Created(RecordKind::Goal));
        assert_eq!(
            got[2].what,
            What::Set {
                field: "title".into(),
                old: vec![Value::Text("Draft".into())],
                new: Value::Text("Final".into()),
            }
        );
        assert_eq!(got[2].op, second.id);
        assert!(matches!(&got[1].what, What::Set { old, .. } if old.is_empty()));
    }
}
