//! Merge convergence: random op sets delivered to three replicas in random orders,
//! with duplicates, give byte-identical state.

use std::collections::BTreeMap;

use cairn_common::codec;
use cairn_common::merge::{RecordState, materialize};
use cairn_common::model::{GoalStatus, RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use proptest::prelude::*;

const FIELDS: [&str; 4] = ["title", "notes", "status", "progress"];

/// One step of the generated history: which node writes which field of which record,
/// and which of the earlier values of that field it had seen (and so replaces).
#[derive(Clone, Debug)]
enum Step {
    Set {
        node: u8,
        record: u8,
        field: u8,
        seen: Vec<u8>,
        value: u16,
    },
    Delete {
        node: u8,
        record: u8,
    },
    Restore {
        node: u8,
        record: u8,
    },
    /// A second `Create` with the same clock as the first: replicas refuse it, but a
    /// hostile peer could send it, and the merge must still be order-independent.
    Recreate {
        node: u8,
        record: u8,
        kind: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..3u8, 0..3u8, 0..4u8, prop::collection::vec(any::<u8>(), 0..3), any::<u16>())
            .prop_map(|(node, record, field, seen, value)| Step::Set { node, record, field, seen, value }),
        1 => (0..3u8, 0..3u8).prop_map(|(node, record)| Step::Delete { node, record }),
        1 => (0..3u8, 0..3u8).prop_map(|(node, record)| Step::Restore { node, record }),
        1 => (0..3u8, 0..3u8, 0..6u8).prop_map(|(node, record, kind)| Step::Recreate { node, record, kind }),
    ]
}

fn value_for(field: &str, n: u16) -> Value {
    if n.is_multiple_of(7) {
        return Value::Empty;
    }
    match field {
        "status" => Value::GoalStatus(GoalStatus::ALL[usize::from(n) % GoalStatus::ALL.len()]),
        "progress" => Value::Int(i64::from(n % 101)),
        _ => Value::Text(format!("text {n}")),
    }
}

/// Turns steps into ops: three records, each created first; clocks may tie across nodes.
fn build_ops(steps: &[Step]) -> Vec<Op> {
    let space = SpaceId::from_bytes([7; 16]);
    let records: Vec<RecordId> = (0..3u8)
        .map(|i| RecordId::from_bytes([i + 1; 16]))
        .collect();
    let mut ops = Vec::new();
    let mut written: BTreeMap<(u8, u8), Vec<OpId>> = BTreeMap::new();
    let mut id_counter = 0u128;
    let mut next_id = || {
        id_counter += 1;
        OpId(uuid::Uuid::from_u128(id_counter))
    };
    for (i, record) in records.iter().enumerate() {
        ops.push(Op {
            id: next_id(),
            space,
            record: *record,
            at: Hlc {
                wall_ms: 1,
                counter: 0,
                node: NodeId(i as u64),
            },
            author: UserId::from_bytes([0; 16]),
            change: Change::Create {
                kind: RecordKind::Goal,
            },
        });
    }
    for (t, step) in steps.iter().enumerate() {
        let (node, record, change) = match step {
            Step::Set {
                node,
                record,
                field,
                seen,
                value,
            } => {
                let name = FIELDS[usize::from(*field)];
                let earlier = written.entry((*record, *field)).or_default();
                let mut replaces: Vec<OpId> = seen
                    .iter()
                    .filter(|_| !earlier.is_empty())
                    .map(|s| earlier[usize::from(*s) % earlier.len()])
                    .collect();
                replaces.sort();
                replaces.dedup();
                let id = next_id();
                earlier.push(id);
                let change = Change::Set {
                    field: name.into(),
                    value: value_for(name, *value),
                    replaces,
                };
                ops.push(Op {
                    id,
                    space,
                    record: records[usize::from(*record)],
                    // Wall time in steps of two so different nodes often tie.
                    at: Hlc {
                        wall_ms: 2 + (t as u64 / 2),
                        counter: 0,
                        node: NodeId(u64::from(*node)),
                    },
                    author: UserId::from_bytes([*node; 16]),
                    change,
                });
                continue;
            }
            Step::Delete { node, record } => (*node, *record, Change::Delete),
            Step::Restore { node, record } => (*node, *record, Change::Restore),
            Step::Recreate { node, record, kind } => {
                ops.push(Op {
                    id: next_id(),
                    space,
                    record: records[usize::from(*record)],
                    at: Hlc {
                        wall_ms: 1,
                        counter: 0,
                        node: NodeId(u64::from(*record)),
                    },
                    author: UserId::from_bytes([*node; 16]),
                    change: Change::Create {
                        kind: RecordKind::ALL[usize::from(*kind)],
                    },
                });
                continue;
            }
        };
        ops.push(Op {
            id: next_id(),
            space,
            record: records[usize::from(record)],
            at: Hlc {
                wall_ms: 2 + (t as u64 / 2),
                counter: 0,
                node: NodeId(u64::from(node)),
            },
            author: UserId::from_bytes([node; 16]),
            change,
        });
    }
    ops
}

/// Applies ops one by one, as a replica receiving them over time would.
fn replica_state(ops: &[Op], order: &[usize]) -> Vec<u8> {
    let mut states: BTreeMap<RecordId, RecordState> = BTreeMap::new();
    for &i in order {
        let op = &ops[i % ops.len()];
        states
            .entry(op.record)
            .or_insert_with(|| RecordState::empty(op))
            .apply(op);
    }
    codec::encode(&states).expect("state encodes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Three replicas that get the same ops in different orders, with repeats, agree byte for byte,
    /// and agree with the reference `materialize`.
    #[test]
    fn replicas_converge(
        steps in prop::collection::vec(step(), 0..40),
        seeds in prop::collection::vec(any::<u64>(), 3),
        dupes in prop::collection::vec(any::<u16>(), 0..20),
    ) {
        let ops = build_ops(&steps);
        let reference = codec::encode(&materialize(&ops)).expect("encodes");
        for seed in seeds {
            let mut order: Vec<usize> = (0..ops.len()).collect();
            order.extend(dupes.iter().map(|d| usize::from(*d) % ops.len()));
            shuffle(&mut order, seed);
            prop_assert_eq!(&replica_state(&ops, &order), &reference);
        }
    }

    /// No value anyone wrote is lost: every Set that no other op replaced is still current.
    #[test]
    fn unreplaced_values_survive(steps in prop::collection::vec(step(), 0..40)) {
        let ops = build_ops(&steps);
        let states = materialize(&ops);
        let replaced: std::collections::BTreeSet<OpId> = ops.iter().flat_map(|op| match &op.change {
            Change::Set { replaces, .. } => replaces.clone(),
            _ => Vec::new(),
        }).collect();
        for op in &ops {
            if let Change::Set { field, .. } = &op.change {
                let current = states[&op.record].register(field).expect("written field").heads();
                prop_assert_eq!(current.contains(&op.id), !replaced.contains(&op.id));
            }
        }
    }
}

/// A small deterministic Fisher–Yates shuffle (xorshift), so proptest's seed decides the order.
fn shuffle(items: &mut [usize], mut seed: u64) {
    seed |= 1;
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
