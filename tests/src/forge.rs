//! Ops made by hand, as a hostile or broken client would send them: any ids, spaces,
//! authors and clocks.

use cairn_common::api::ErrorResponse;
use cairn_common::codec;
use cairn_common::model::{RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};

/// The system time in ms.
#[must_use]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One op stamped now (node 7), by `author`, of `record` in `space`.
#[must_use]
pub fn op(author: UserId, space: SpaceId, record: RecordId, change: Change) -> Op {
    Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms: now_ms(),
            counter: 0,
            node: NodeId(7),
        },
        author,
        change,
    }
}

/// A `Set` of `field` to a text, replacing nothing.
#[must_use]
pub fn set_text(field: &str, text: &str) -> Change {
    Change::Set {
        field: field.into(),
        value: Value::Text(text.into()),
        replaces: vec![],
    }
}

/// A goal's Create and a title Set, authored by `author` in `space`.
#[must_use]
pub fn goal_ops(author: UserId, space: SpaceId, title: &str) -> Vec<Op> {
    let record = RecordId::new();
    let create = op(
        author,
        space,
        record,
        Change::Create {
            kind: RecordKind::Goal,
        },
    );
    let mut set = op(author, space, record, set_text("title", title));
    set.at.counter = 1;
    vec![create, set]
}

/// The error body of a refused request, or what kept it from decoding.
#[must_use]
pub fn decode_error(body: &[u8]) -> ErrorResponse {
    codec::decode(body).unwrap_or_else(|e| ErrorResponse {
        code: "undecodable".into(),
        message: e.to_string(),
    })
}
