//! `cairn-server import`: the arguments, what it runs on the store, and what it
//! prints. Reading the files is [`crate::export::import`]'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::admin::protocol::{AdminRequest, AdminResponse};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::store::{AuditEvent, AuditKind, Store};

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

impl ImportArgs {
    /// Runs the import through `send` (see [`crate::admin::send`]) and prints what
    /// it brought in.
    ///
    /// # Errors
    /// If it could not run or was refused; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let data_dir = DataDir::new(self.data_dir);
        let request = AdminRequest::Import {
            dir: super::absolute(&self.dir)?,
        };
        let response = send(&data_dir, request)?;
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

/// Prints the answer to an import; a refusal becomes an error.
///
/// # Errors
/// The refusal's message, or a write error.
fn print_response(response: AdminResponse, out: &mut impl Write) -> anyhow::Result<()> {
    match response {
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

/// [`AdminRequest::Import`]: imports the whole-server export in `dir`, and logs it
/// in the audit log.
///
/// # Errors
/// What failed, with its causes, saying what to do.
pub async fn execute(
    store: &Store,
    backups: &Backups,
    dir: &Path,
    progress: &dyn cairn_common::progress::Report,
) -> Result<AdminResponse, String> {
    let report = crate::export::import::import(store, backups.files().as_ref(), dir, progress)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let spaces = u32::try_from(report.spaces).unwrap_or(u32::MAX);
    let ops = report.ops as u64;
    store
        .audit(AuditEvent::new(AuditKind::Import).detail(format!(
            "{} accounts, {spaces} spaces, {ops} ops, {} file contents",
            report.accounts.len(),
            report.contents
        )))
        .await;
    Ok(AdminResponse::Imported {
        accounts: report.accounts,
        spaces,
        ops,
    })
}
