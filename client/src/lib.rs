//! Cairn's terminal client: a complete local tool for leadership work, with a full
//! replica that works offline.
//!
//! # Layout
//! - [`replica`]: the local sled store: ops, materialized records, outbox.
//! - [`paths`]: where data and config live (`CAIRN_HOME`, else XDG).
//! - [`present`]: list columns, cell text, overdue rules and JSON of records.
#![forbid(unsafe_code)]

pub mod paths;
pub mod present;
pub mod replica;
