//! Admin commands (`cairn-server user ...`). One [`execute`] runs an
//! [`AdminRequest`] on the [`Store`](crate::store::Store); the CLI reaches it
//! either directly (stopped data dir, see [`client`]) or through a running
//! server's [`control`] socket. New commands (backup, export, purge) add a request
//! variant and an arm of `execute`, and work both ways.
//!
//! # Layout
//! - [`protocol`]: request and response types, length-prefixed framing.
//! - `execute`: the command implementations, over the store.
//! - [`control`]: the server side of the control socket.
//! - [`client`]: the CLI side: direct or through the socket.
//! - [`cli`]: clap arguments and output of `cairn-server user ...`.

pub mod cli;
pub mod client;
pub mod control;
mod execute;
pub mod export_cli;
pub mod protocol;

pub use execute::{execute, generate_password};
pub use protocol::{AdminRequest, AdminResponse, ExportScope, UserRow};

#[cfg(test)]
mod tests;
