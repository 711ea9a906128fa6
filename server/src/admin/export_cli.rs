//! `cairn-server export` and `cairn-server import`: arguments and output.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_common::model::SpaceId;

use super::protocol::{AdminRequest, AdminResponse, ExportScope};
use crate::datadir::DataDir;

/// Write the server's data as open files: JSON (schema: docs/export.schema.json),
/// CSV per record kind, Markdown per conversation, the change history, and a
/// README.txt saying what each file is. Password hashes are never exported.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn-server export --out /srv/exports/2026-11-22 --data-dir /srv/cairn
  cairn-server export --out ./ana --user ana@example.com --data-dir /srv/cairn")]
pub struct ExportArgs {
    /// A new or empty directory to write to. While the server runs, the server
    /// process writes it, so it must be able to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only what this user may see: the account and every space it is a member of.
    #[arg(long, value_name = "EMAIL", conflicts_with = "space")]
    pub user: Option<String>,
    /// Only this space (its id, as in manifest.json of a whole export).
    #[arg(long, value_name = "ID")]
    pub space: Option<SpaceId>,
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// Read a whole-server export into an EMPTY server (a data dir fresh from
/// `cairn-server init`). Accounts come without passwords: each user can log in
/// once an admin ran `cairn-server user reset-password EMAIL`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  cairn-server init --data-dir /srv/cairn-new
  cairn-server import /srv/exports/2026-11-22 --data-dir /srv/cairn-new")]
pub struct ImportArgs {
    /// The export directory (with its manifest.json).
    pub dir: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// `path` made absolute against the current directory (a running server has its own).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}

impl ExportArgs {
    /// Runs the export and prints where it went.
    ///
    /// # Errors
    /// If it could not run or was refused; the message says what to do.
    pub fn run(self, out: &mut impl Write) -> anyhow::Result<()> {
        let scope = match (self.user, self.space) {
            (Some(email), _) => ExportScope::User(email),
            (None, Some(id)) => ExportScope::Space(id),
            (None, None) => ExportScope::Server,
        };
        let request = AdminRequest::Export {
            out: absolute(&self.out)?,
            scope,
        };
        let response = super::client::send(&DataDir::new(self.data_dir), request)?;
        print_response(response, out)
    }
}

impl ImportArgs {
    /// Runs the import and prints what it brought in.
    ///
    /// # Errors
    /// If it could not run or was refused; the message says what to do.
    pub fn run(self, out: &mut impl Write) -> anyhow::Result<()> {
        let data_dir = DataDir::new(self.data_dir);
        let request = AdminRequest::Import {
            dir: absolute(&self.dir)?,
        };
        let response = super::client::send(&data_dir, request)?;
        if let AdminResponse::Imported { accounts, .. } = &response
            && let Some(first) = accounts.first()
        {
            print_response(response.clone(), out)?;
            writeln!(
                out,
                "no account has a password yet: give each user one with\n  \
                 cairn-server user reset-password EMAIL --data-dir {}\n(e.g. {first}); it \
                 prints a one-time password the user must change at the first login",
                data_dir.root().display()
            )?;
            return Ok(());
        }
        print_response(response, out)
    }
}

/// Prints the answer to an export or import; a refusal becomes an error.
///
/// # Errors
/// The refusal's message, or a write error.
pub fn print_response(response: AdminResponse, out: &mut impl Write) -> anyhow::Result<()> {
    match response {
        AdminResponse::Exported {
            dir,
            files,
            users,
            spaces,
        } => writeln!(
            out,
            "exported {users} accounts and {spaces} spaces as {files} files to {}; \
             README.txt there says what each file is",
            dir.display()
        )?,
        AdminResponse::Imported {
            accounts,
            spaces,
            ops,
        } => writeln!(
            out,
            "imported {} accounts, {spaces} spaces and {ops} changes",
            accounts.len()
        )?,
        AdminResponse::Failed { message } => bail!(message),
        other => bail!("the server gave an unexpected answer: {other:?}"),
    }
    Ok(())
}
