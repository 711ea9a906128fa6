//! `cairn-server backup ...`: the arguments, what each command runs, and what it
//! prints. `now`, `list` and `verify` work on a running server (control socket)
//! and on a stopped data dir; `restore` needs the server stopped and runs here.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::protocol::{
    AdminRequest, AdminResponse, BackupRequest, BackupResponse, BackupRow,
};
use crate::backup::format::Manifest;
use crate::backup::{BackupError, Backups};
use crate::datadir::DataDir;
use crate::store::Store;

/// Backup commands.
#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Take a backup now, verify it, and apply retention.
    Now {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// List the backups, oldest first.
    List {
        /// One JSON array, for scripts.
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Read a backup back: checksums, and every record decoded.
    Verify {
        id: String,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Replace the data dir's store with a backup; the server must be stopped.
    /// Sessions are not in backups: everyone logs in again afterwards.
    Restore {
        id: String,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The directory holding the backup (default: [backup] dir of the data
        /// dir's config, else DIR/backups). For a restore onto a new machine.
        #[arg(long, value_name = "BACKUPS")]
        from: Option<PathBuf>,
    },
}

impl BackupCommand {
    /// Runs the command (through `send`, see [`crate::admin::send`], but for a
    /// restore) and prints its outcome to `out`.
    ///
    /// # Errors
    /// If the command could not run or was refused; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let (data_dir, request, json) = match self {
            BackupCommand::Now { data_dir } => (data_dir, BackupRequest::Now, false),
            BackupCommand::List { json, data_dir } => (data_dir, BackupRequest::List, json),
            BackupCommand::Verify { id, data_dir } => {
                (data_dir, BackupRequest::Verify { id }, false)
            }
            BackupCommand::Restore { id, data_dir, from } => {
                let progress = cairn_common::progress::Progress::new("restoring", None, false);
                let restored = restore(&DataDir::new(data_dir), from, &id, out, &progress);
                progress.finish();
                return restored;
            }
        };
        let response = send(&DataDir::new(data_dir), AdminRequest::Backup(request))?;
        match response {
            AdminResponse::Backup(BackupResponse::Listed { backups, .. }) if json => {
                serde_json::to_writer_pretty(&mut *out, &backups)?;
                writeln!(out)?;
                Ok(())
            }
            AdminResponse::Backup(response) => print(response, out),
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
    }
}

fn restore(
    data_dir: &DataDir,
    from: Option<PathBuf>,
    id: &str,
    out: &mut impl Write,
    progress: &dyn cairn_common::progress::Report,
) -> anyhow::Result<()> {
    let settings = if data_dir.config().exists() {
        Some(crate::settings::Settings::load(
            data_dir.root(),
            std::env::vars(),
        )?)
    } else {
        None
    };
    if let Some(settings) = &settings
        && settings.store.backend == crate::settings::StoreBackend::Postgres
    {
        bail!(
            "{}; a backup of a sled store can be restored into a new data dir (`init`, \
             then `backup restore`) and moved with `cairn-server migrate`",
            crate::admin::execute::POSTGRES_BACKUPS
        );
    }
    let backups = match (from, settings) {
        (Some(dir), _) => dir,
        (None, Some(settings)) => settings.backup_dir(),
        (None, None) => data_dir.backups(),
    };
    let restored = crate::backup::restore::restore(data_dir, &backups, id, progress)?;
    writeln!(
        out,
        "restored backup {id} into {}: {}",
        restored.db.display(),
        describe(&BackupRow {
            id: id.to_owned(),
            ..row(&restored.manifest)
        })
    )?;
    if restored.replaced {
        writeln!(out, "the store it replaced is removed")?;
    }
    writeln!(
        out,
        "sessions are not in backups: everyone logs in again. Start the server with \
         `cairn-server serve --data-dir {}`",
        data_dir.root().display()
    )?;
    if !data_dir.config().exists() {
        writeln!(
            out,
            "{} has no cairn-server.toml and no certificate yet: copy them (and tls/) from \
             the old data dir before starting the server",
            data_dir.root().display()
        )?;
    }
    Ok(())
}

fn local_time(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

fn describe(row: &BackupRow) -> String {
    format!(
        "taken {}, {} ops in {} spaces, {} users, {} bytes",
        local_time(row.created_at_ms),
        row.ops,
        row.spaces,
        row.users,
        row.bytes
    )
}

/// Prints a backup command's answer.
///
/// # Errors
/// A write error.
fn print(response: BackupResponse, out: &mut impl Write) -> anyhow::Result<()> {
    match response {
        BackupResponse::Created {
            backup,
            dir,
            push_pause_ms,
        } => {
            writeln!(
                out,
                "backup {} written to {dir} and verified: {} (pushes paused {push_pause_ms} ms)",
                backup.id,
                describe(&backup)
            )?;
        }
        BackupResponse::Listed {
            dir,
            backups,
            last_failure,
        } => {
            if backups.is_empty() {
                writeln!(out, "no backups in {dir}")?;
            } else {
                writeln!(
                    out,
                    "{:<20}  {:<19}  {:>10}  {:>7}  {:>7}  {:>12}",
                    "ID", "TAKEN", "OPS", "SPACES", "USERS", "BYTES"
                )?;
            }
            for b in &backups {
                match &b.damaged {
                    Some(reason) => writeln!(out, "{:<20}  DAMAGED: {reason}", b.id)?,
                    None => writeln!(
                        out,
                        "{:<20}  {:<19}  {:>10}  {:>7}  {:>7}  {:>12}",
                        b.id,
                        local_time(b.created_at_ms),
                        b.ops,
                        b.spaces,
                        b.users,
                        b.bytes
                    )?,
                }
            }
            if let Some(reason) = last_failure {
                writeln!(out, "the last backup attempt failed: {reason}")?;
            }
        }
        BackupResponse::Verified { backup } => {
            writeln!(
                out,
                "backup {} is intact: checksums match and every record reads back; {}",
                backup.id,
                describe(&backup)
            )?;
        }
    }
    Ok(())
}

/// A backup's row in `backup list`, from its manifest.
fn row(manifest: &Manifest) -> BackupRow {
    BackupRow {
        id: manifest.id.clone(),
        created_at_ms: manifest.created_at_ms,
        ops: manifest.ops,
        spaces: manifest.spaces.len() as u64,
        users: manifest.users(),
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        damaged: None,
    }
}

/// Runs a backup command on `store` and its `backups`, at `now_ms`.
///
/// # Errors
/// The message of what failed, saying what to do.
pub async fn execute(
    store: &Store,
    backups: &Backups,
    request: BackupRequest,
    now_ms: u64,
    progress: &dyn cairn_common::progress::Report,
) -> Result<AdminResponse, BackupError> {
    let (dir, _) = backups.config()?;
    Ok(AdminResponse::Backup(match request {
        BackupRequest::Now => {
            let created = crate::backup::run_backup(store, backups, now_ms, progress).await?;
            BackupResponse::Created {
                backup: row(&created.manifest),
                dir: dir.display().to_string(),
                push_pause_ms: u64::try_from(created.push_pause.as_millis()).unwrap_or(u64::MAX),
            }
        }
        BackupRequest::List => {
            let listed = crate::backup::list_dir(dir)?
                .into_iter()
                .map(|(id, manifest)| match manifest {
                    Ok(m) => row(&m),
                    Err(e) => BackupRow {
                        id,
                        created_at_ms: 0,
                        ops: 0,
                        spaces: 0,
                        users: 0,
                        bytes: 0,
                        damaged: Some(e.to_string()),
                    },
                })
                .collect();
            BackupResponse::Listed {
                dir: dir.display().to_string(),
                backups: listed,
                last_failure: backups.health().failing.map(|f| f.reason),
            }
        }
        BackupRequest::Verify { id } => {
            let path = crate::backup::backup_path(dir, &id)?;
            let manifest = crate::backup::verify::verify_dir(&path, &id, progress)?;
            BackupResponse::Verified {
                backup: row(&manifest),
            }
        }
    }))
}
