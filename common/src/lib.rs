//! Cairn's shared vocabulary: what a record is, how a change is written down, how
//! changes merge, and how any of it is put into bytes.
//!
//! # Layout
//! - [`model`]: ids, the six record kinds, their typed fields and values, spaces and roles.
//! - [`op`]: an [`Op`] is one change, stamped with a hybrid logical clock ([`Hlc`]).
//! - [`merge`]: the state of a record as a pure function of the set of its ops.
//! - [`api`]: wire types shared by client and server, [`api::PROTOCOL_VERSION`], and
//!   [`api::endpoints`]: each endpoint's method, path, request and response, once.
//! - [`codec`]: the only place that knows the byte format (bincode 2, size-limited).
//! - [`export`]: the one export format of client and server, written and read back.
//! - [`storage`]: on-disk rules both sled stores share (real fsync, owner-only dirs).
//! - [`direct_io`]: file content written and read past the page cache (uploads and
//!   downloads on both sides).
//! - [`progress`]: the progress bar both command lines show on long work.
//! - [`cli_docs`]: shell completions and man pages of both command lines.
//!
//! This crate holds wire and domain types, the export format, and the few on-disk
//! rules both stores must share; helpers that one side needs live there.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli_docs;
pub mod codec;
pub mod direct_io;
pub mod export;
pub mod merge;
pub mod model;
pub mod op;
pub mod progress;
pub mod storage;

pub use merge::{FieldValue, RecordState};
pub use model::{RecordId, RecordKind, SpaceId, UserId, Value};
pub use op::{Change, Hlc, HlcClock, NodeId, Op, OpId};
