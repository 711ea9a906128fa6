//! Key layout of the replica's one sled tree. One tree, so that a commit is a single
//! atomic `Batch` (sled batches are atomic per tree).
//!
//! | prefix | key after prefix          | value                          |
//! |--------|---------------------------|--------------------------------|
//! | `h`    | record id ++ op id        | the `Op` (a record's history)  |
//! | `r`    | record id                 | the materialized `RecordState` |
//! | `q`    | outbox sequence (u64 BE)  | record id ++ op id, to push    |
//! | `s`    | space id                  | the `Space`                    |
//! | `p`    | space id                  | this user's `Role` in it       |
//! | `c`    | space id                  | pull cursor (u64 BE)           |
//! | `x`    | op id                     | a `SetAside` op (kept out of sync) |
//! | `m`    | name                      | replica metadata               |
//!
//! One entry per op, under its record: a record's history is one prefix scan, and
//! applying an op writes one entry besides its record's state. Replicas written
//! before [`LAYOUT`] kept ops under `o` ++ op id with an empty `h` entry each, and
//! are converted when opened (`layout.rs`).

use cairn_common::{OpId, RecordId, SpaceId};

/// Where layout 1 kept ops by op id alone (read only to convert).
pub const OLD_OP: u8 = b'o';
pub const RECORD: u8 = b'r';
pub const HISTORY: u8 = b'h';
pub const OUTBOX: u8 = b'q';
pub const SPACE: u8 = b's';
pub const META: u8 = b'm';
pub const ROLE: u8 = b'p';
pub const CURSOR: u8 = b'c';
pub const SET_ASIDE: u8 = b'x';

/// Meta name of the layout version (one byte).
pub const LAYOUT_KEY: &str = "layout";
/// The layout this version writes.
pub const LAYOUT: u8 = 2;
/// Meta name of the outbox counter (u64 BE).
pub const OUTBOX_LEN: &str = "outbox_len";
/// Meta name of the marker set once the identity is a server account's.
pub const ADOPTED: &str = "adopted";
/// Meta name of the server epoch the cursors belong to.
pub const EPOCH: &str = "epoch";
/// Meta name of the marker set while a start-over's full pull has not completed.
pub const RECOVERING: &str = "recovering";

/// The key of an op: under its record, so that a record's history is one scan.
pub fn op(record: &RecordId, id: &OpId) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = HISTORY;
    key[1..17].copy_from_slice(record.as_bytes());
    key[17..].copy_from_slice(id.0.as_bytes());
    key
}

/// The value of an outbox entry: where its op is stored.
pub fn outbox_value(record: &RecordId, id: &OpId) -> [u8; 32] {
    let mut value = [0u8; 32];
    value[..16].copy_from_slice(record.as_bytes());
    value[16..].copy_from_slice(id.0.as_bytes());
    value
}

/// Layout 1's key of an op (read only to convert).
pub fn old_op(id: &OpId) -> [u8; 17] {
    prefixed(OLD_OP, id.0.as_bytes())
}

pub fn record(id: &RecordId) -> [u8; 17] {
    prefixed(RECORD, id.as_bytes())
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
