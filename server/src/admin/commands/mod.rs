//! One file per admin subcommand: its clap arguments, what it runs on the store
//! (called by [`crate::admin::execute()`], directly or inside the running server), and
//! what it prints. A command line reaches the data dir through the `send` it is
//! given ([`crate::admin::send`]), so no command knows how requests travel.

pub mod audit;
pub mod backup;
pub mod consent;
pub mod export;
pub mod import;
pub mod mail;
pub mod migrate;
pub mod purge;
pub mod renew_epoch;
pub mod tls;
pub mod user;

use std::path::{Path, PathBuf};

use anyhow::Context;

/// `path` made absolute against the current directory (a running server has its own).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
