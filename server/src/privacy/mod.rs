//! Privacy operations around the store: the privacy notice and consent to it, and
//! the daily retention sweeper. (Purging a
//! user, a space or everything is the admin command `cairn-server purge`, see
//! [`crate::admin::commands::purge`]; the audit log is the store's.)
//!
//! # Layout
//! - [`notice`]: `[privacy]`, the notice every user accepts.
//! - [`consent`]: accepting it, withdrawing, and the records.
//! - [`retention`]: cut-offs from `[retention]` and the daily sweeper task.

pub mod consent;
pub mod notice;
pub mod retention;
