//! Cairn's terminal client: a complete local tool for leadership work, with a full
//! replica that works offline.
//!
//! # Layout
//! - [`tui`]: the terminal UI (`cairn` with no arguments).
//! - [`cli`]: the headless subcommands for scripts.
//! - [`export`], [`import`]: everything in the one export format client and server
//!   share (`cairn_common::export`), and back, losslessly.
//! - [`backup`]: local backups of the replica: daily, verified, kept 7 days and 4 weeks.
//! - [`files`]: files in spaces: the content cache, uploads before the ops that
//!   name them, downloads on first open.
//! - [`replica`]: the local sled store: ops, materialized records, outbox, cursors.
//! - [`sync`]: the HTTPS client, the session file and the sync engine.
//! - [`socket`]: `tui.sock`, through which `cairn` commands reach a running TUI.
//! - [`paths`]: where data and config live (`CAIRN_HOME`, else XDG).
//! - [`change_log`]: a record's history as who, when, field, old → new.
//! - [`present`]: list columns, cell text, overdue rules and JSON of records.
#![forbid(unsafe_code)]

pub mod backup;
pub mod change_log;
pub mod cli;
pub mod export;
pub mod files;
pub mod import;
pub mod paths;
pub mod people;
pub mod present;
pub mod replica;
pub mod socket;
pub mod sync;
pub mod tui;
