//! Privacy operations around the store: `cairn-server purge` (the store rewritten
//! without the data, and kept backups cleared of it), the daily retention sweeper,
//! and the `purge` / `audit` command lines.
//!
//! # Layout
//! - `purge`: the purge command: store, backups, audit entry.
//! - [`retention`]: cut-offs from `[retention]` and the daily sweeper task.
//! - [`cli`]: clap arguments and output of `cairn-server purge` and `audit`.

pub mod cli;
mod purge;
pub mod retention;

pub use purge::{purge, purge_backups};
