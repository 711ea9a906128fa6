//! `cairn-server export`: the arguments, what it runs on the store, and what it
//! prints. The files themselves are [`crate::export`]'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use cairn_common::model::SpaceId;
use cairn_common::progress::Report;

use crate::admin::protocol::{AdminRequest, AdminResponse, ExportScope};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::export;
use crate::store::{AuditEvent, AuditKind, Store, StoreError};
use cairn_common::export::{Scope, render};
use cairn_common::progress::Unit;

/// Write the server's data as open files: JSON (schema: docs/export.schema.json),
/// CSV per record kind, Markdown per conversation, the change history, the content
/// of files with their SHA-256, and a README.txt saying what each file is. The same
/// format as `cairn export`. Password hashes are never exported.
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

impl ExportArgs {
    /// Runs the export through `send` (see [`crate::admin::send`]) and prints where
    /// it went.
    ///
    /// # Errors
    /// If it could not run or was refused; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let scope = match (self.user, self.space) {
            (Some(email), _) => ExportScope::User(email),
            (None, Some(id)) => ExportScope::Space(id),
            (None, None) => ExportScope::Server,
        };
        let request = AdminRequest::Export {
            out: super::absolute(&self.out)?,
            scope,
        };
        let response = send(&DataDir::new(self.data_dir), request)?;
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
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("the server gave an unexpected answer: {other:?}"),
        }
        Ok(())
    }
}

/// [`AdminRequest::Export`]: writes the export of `scope` into `out`, and logs it
/// in the audit log.
///
/// # Errors
/// What failed, with its causes, saying what to do.
pub async fn execute(
    store: &Store,
    backups: &Backups,
    out: &Path,
    scope: ExportScope,
    progress: &dyn Report,
) -> Result<AdminResponse, String> {
    let event = match &scope {
        ExportScope::Server => AuditEvent::new(AuditKind::Export).detail("whole server"),
        ExportScope::User(email) => AuditEvent::new(AuditKind::Export).subject(email),
        ExportScope::Space(id) => AuditEvent::new(AuditKind::Export).space(*id),
    };
    let response = write(store, backups, out, scope, progress)
        .await
        .map_err(|e| format!("{e:#}"))?;
    store.audit(event).await;
    Ok(response)
}

async fn write(
    store: &Store,
    backups: &Backups,
    out: &Path,
    scope: ExportScope,
    progress: &dyn Report,
) -> anyhow::Result<AdminResponse> {
    let scope = match scope {
        ExportScope::Server => Scope::Server,
        ExportScope::Space(id) => Scope::Space(id),
        ExportScope::User(email) => Scope::User(
            store
                .user_by_email(&email)
                .await?
                .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?
                .profile
                .id,
        ),
    };
    let blobs = backups.files();
    let snapshot = export::read(store, blobs.as_ref(), scope, progress).await?;
    progress.step("exporting: rendering files", None, Unit::Items);
    let files = render(&snapshot, crate::clock::now_ms())?;
    progress.step(
        "exporting: writing files",
        Some(files.len() as u64),
        Unit::Items,
    );
    cairn_common::export::write(out, &files, false, progress)?;
    let contents = match &blobs {
        Some(blobs) => export::copy_contents(blobs, &files, out, progress)?,
        None => 0,
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(AdminResponse::Exported {
        dir: out.to_owned(),
        files: count(files.len() + contents),
        users: count(snapshot.users.len()),
        spaces: count(snapshot.spaces.len()),
    })
}
