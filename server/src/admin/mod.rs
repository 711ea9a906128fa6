//! Admin commands (`cairn-server user ...`, `backup`, `export`, `import`, `purge`,
//! `audit`, `mail`). One [`execute()`] runs an [`AdminRequest`] on the
//! [`Store`](crate::store::Store), its [`Backups`](crate::backup::Backups) and its
//! [`Mailer`](crate::mail::Mailer); the
//! command line reaches it through [`send`], directly (stopped data dir) or through
//! a running server's [`control`] socket. A new command adds a request variant, a
//! file in [`commands`] and an arm of `execute`, and works both ways.
//!
//! # Layout
//! - [`protocol`]: every request and response type, length-prefixed framing.
//! - [`commands`]: one file per subcommand: arguments, what it runs on the store,
//!   what it prints.
//! - `execute`: each request to its subcommand.
//! - [`control`]: the server side of the control socket.
//! - [`client`]: the CLI side: direct or through the socket.

pub mod client;
pub mod commands;
pub mod control;
mod execute;
pub mod protocol;

pub use client::{send, send_reporting};
pub use commands::user::generate_password;
pub use execute::execute;
pub use protocol::{
    AdminAnswer, AdminRequest, AdminResponse, BackupRequest, BackupResponse, BackupRow,
    ExportScope, MailRow, UserRow,
};

#[cfg(test)]
mod tests;
