//! Sync with a Cairn server over HTTPS.
//!
//! # Layout
//! - `trust.rs`: which certificates are trusted: system roots, an extra CA file, or
//!   one pinned certificate fingerprint ([`Trust`]).
//! - `client.rs`: the HTTPS client ([`Client`]): codec bodies, the protocol header,
//!   the session token, timeouts, errors classified ([`SyncError`] in `error.rs`).
//! - `upload.rs`: file content up, one streamed body of checked frames.
//! - `transfer.rs`: file content down as a stream.
//! - `session.rs`: the session file in the data directory ([`Session`]).
//! - `engine.rs`: one sync round ([`sync_round`]): push the outbox, pull every space.
//! - `background.rs`: the TUI's sync thread ([`Background`]): on start, on an
//!   interval, on request and for `cairn sync` over `tui.sock` ([`SyncHandle`];
//!   the socket itself is [`crate::socket`]).

mod background;
mod client;
mod engine;
mod error;
mod session;
mod transfer;
mod trust;
mod upload;

pub use background::{Background, Event, Reply, SyncHandle};
pub use client::{Client, check_url};
pub use engine::{SyncSummary, sync_round, sync_round_showing};
pub use error::{Failure, FailureKind, SyncError};
pub use session::{Session, path as session_path};
pub use trust::{PinnedCertificate, Trust, fingerprint_of, normalize_fingerprint};
pub use upload::{Digests, digest_count};

#[cfg(test)]
mod tests;
