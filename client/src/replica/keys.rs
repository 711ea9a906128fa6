//! Key layout of the replica's one sled tree. One tree, so that a commit is a single
//! atomic `Batch` (sled batches are atomic per tree).
//!
//! | prefix | key after prefix          | value                          |
//! |--------|---------------------------|--------------------------------|
//! | `o`    | op id                     | the `Op`                       |
//! | `r`    | record id                 | the materialized `RecordState` |
//! | `h`    | record id ++ op id        | empty: a record's ops (history)|
//! | `q`    | outbox sequence (u64 BE)  | op id, waiting to be pushed    |
//! | `s`    | space id                  | the `Space`                    |
//! | `p`    | space id                  | this user's `Role` in it       |
//! | `c`    | space id                  | pull cursor (u64 BE)           |
//! | `x`    | op id                     | a `SetAside` op (kept out of sync) |
//! | `m`    | name                      | replica metadata               |

use cairn_common::{OpId, RecordId, SpaceId};

pub const OP: u8 = b'o';
pub const RECORD: u8 = b'r';
pub const HISTORY: u8 = b'h';
pub const OUTBOX: u8 = b'q';
pub const SPACE: u8 = b's';
pub const META: u8 = b'm';
pub const ROLE: u8 = b'p';
pub const CURSOR: u8 = b'c';
pub const SET_ASIDE: u8 = b'x';

/// Meta name of the outbox counter (u64 BE).
pub const OUTBOX_LEN: &str = "outbox_len";
/// Meta name of the marker set once the identity is a server account's.
pub const ADOPTED: &str = "adopted";
/// Meta name of the server epoch the cursors belong to.
pub const EPOCH: &str = "epoch";
/// Meta name of the marker set while a start-over's full pull has not completed.
pub const RECOVERING: &str = "recovering";

pub fn op(id: &OpId) -> [u8; 17] {
    prefixed(OP, id.0.as_bytes())
}

pub fn record(id: &RecordId) -> [u8; 17] {
    prefixed(RECORD, id.as_bytes())
}

pub fn history(record: &RecordId, op: &OpId) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = HISTORY;
    key[1..17].copy_from_slice(record.as_bytes());
    key[17..].copy_from_slice(op.0.as_bytes());
    key
}

pub fn history_prefix(record: &RecordId) -> [u8; 17] {
    prefixed(HISTORY, record.as_bytes())
}

pub fn outbox(seq: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = OUTBOX;
    key[1..].copy_from_slice(&seq.to_be_bytes());
    key
}

pub fn space(id: &SpaceId) -> [u8; 17] {
    prefixed(SPACE, id.as_bytes())
}

pub fn role(id: &SpaceId) -> [u8; 17] {
    prefixed(ROLE, id.as_bytes())
}

pub fn cursor(id: &SpaceId) -> [u8; 17] {
    prefixed(CURSOR, id.as_bytes())
}

pub fn set_aside(id: &OpId) -> [u8; 17] {
    prefixed(SET_ASIDE, id.0.as_bytes())
}

pub fn meta(name: &str) -> Vec<u8> {
    let mut key = vec![META];
    key.extend_from_slice(name.as_bytes());
    key
}

fn prefixed(prefix: u8, id: &[u8; 16]) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = prefix;
    key[1..].copy_from_slice(id);
    key
}
