//! Privacy operations around the store: the daily retention sweeper. (Purging a
//! user, a space or everything is the admin command `cairn-server purge`, see
//! [`crate::admin::commands::purge`]; the audit log is the store's.)
//!
//! # Layout
//! - [`retention`]: cut-offs from `[retention]` and the daily sweeper task.

pub mod retention;
