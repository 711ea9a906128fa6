//! `cairn-server purge`: the arguments, and what it runs: the store's purge
//! ([`Store::purge`]), then the kept backups, then one audit entry that names no
//! one; and what it prints.
//!
//! Backups: a backup taken before the purge may hold the purged data. Every kept
//! backup is deleted (the output lists them) and the admin is told to take a new
//! one; rewriting them record by record without the purged data is not done yet.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::bail;
use cairn_common::progress::{Report, Unit};

use crate::admin::protocol::{AdminRequest, AdminResponse, BackupsPurged};
use crate::backup::{Backups, format};
use crate::datadir::DataDir;
use crate::store::{AuditEvent, AuditKind, PurgeTarget, Store, StoreError};

/// Delete a user, a space or everything completely: from the store (rewritten so
/// that no byte of it stays on disk) and from the kept backups.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["user", "space", "all"])))]
pub struct PurgeArgs {
    /// The account to purge, by e-mail: its personal space, sessions and login
    /// records go; its changes in shared spaces stay under a pseudonym.
    #[arg(long, value_name = "EMAIL")]
    user: Option<String>,
    /// The space to purge, by id (a personal space is emptied and kept).
    #[arg(long, value_name = "ID")]
    space: Option<String>,
    /// Every account but the standard `admin`, and every space.
    #[arg(long)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
}

impl PurgeArgs {
    fn target(&self) -> anyhow::Result<(PurgeTarget, String)> {
        Ok(match (&self.user, &self.space) {
            (Some(email), _) => (PurgeTarget::User(email.clone()), email.trim().to_owned()),
            (None, Some(id)) => {
                let parsed = id.trim().parse::<uuid::Uuid>().map_err(|_| {
                    anyhow::anyhow!(
                        "--space {id:?} is not a space id; give the full id (a UUID, as \
                         `cairn spaces list --json` shows it)"
                    )
                })?;
                (
                    PurgeTarget::Space(cairn_common::model::SpaceId(parsed)),
                    id.trim().to_owned(),
                )
            }
            (None, None) => (PurgeTarget::All, "everything".to_owned()),
        })
    }

    /// Asks for confirmation (unless `--yes`), purges through `send` (see
    /// [`crate::admin::send`]), and prints what was done.
    ///
    /// # Errors
    /// No confirmation, or the purge failed; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        stdin: &mut impl BufRead,
        interactive: bool,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let (target, name) = self.target()?;
        if !self.yes {
            if !interactive {
                bail!("purge deletes data for good; run it on a terminal to confirm, or add --yes");
            }
            write!(
                out,
                "This deletes {name} from {} and its backups for good; type `{name}` to confirm: ",
                self.data_dir.display()
            )?;
            out.flush()?;
            let mut line = String::new();
            stdin.read_line(&mut line)?;
            if line.trim() != name {
                bail!("not confirmed; nothing was deleted");
            }
        }
        let response = send(&DataDir::new(self.data_dir), AdminRequest::Purge { target })?;
        match response {
            AdminResponse::Purged { outcome, backups } => {
                for email in &outcome.users {
                    writeln!(out, "purged account {email}")?;
                }
                for space in &outcome.spaces_removed {
                    writeln!(out, "removed space {space}")?;
                }
                for space in &outcome.spaces_emptied {
                    writeln!(out, "emptied personal space {space} (kept for its account)")?;
                }
                for (space, email) in &outcome.new_owners {
                    writeln!(out, "{email} is now owner of space {space}")?;
                }
                if let Some(pseudonym) = outcome.pseudonym {
                    writeln!(
                        out,
                        "{} changes in shared spaces kept under the pseudonym {pseudonym}",
                        outcome.pseudonymized_ops
                    )?;
                }
                writeln!(
                    out,
                    "store rewritten: {} entries removed, {} kept; the old files are deleted",
                    outcome.removed_entries, outcome.kept_entries
                )?;
                if outcome.older_transactions_open > 0 {
                    writeln!(
                        out,
                        "warning: {} database transactions older than the purge were still \
                         open after a minute; old row versions they might see stay in the \
                         table files until they end and the tables are rewritten: run \
                         `VACUUM FULL` on the database then (docs/POSTGRES.md, \"Purge\")",
                        outcome.older_transactions_open
                    )?;
                }
                if backups.deleted.is_empty() && backups.rewritten.is_empty() {
                    writeln!(out, "no kept backups")?;
                }
                for name in &backups.rewritten {
                    writeln!(out, "backup {name} rewritten without the purged data")?;
                }
                for name in &backups.deleted {
                    writeln!(out, "backup {name} deleted (it held the purged data)")?;
                }
                if !backups.deleted.is_empty() {
                    writeln!(
                        out,
                        "take a new backup now: cairn-server backup now --data-dir DIR"
                    )?;
                }
                Ok(())
            }
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
    }
}

/// Purges `target` from the store and its kept `backups`, and logs the purge in the
/// audit log. Reports the steps "purging: the store" (the embedded store counts
/// the entries it rewrites), "purging: file contents" (spaces) and "purging: backups" to `progress`.
///
/// # Errors
/// The store's refusal or failure; a backup that cannot be deleted is an error
/// too (the store is purged by then, the message names the backup).
// The backups' lock is a std mutex held across the store's awaits: admin commands
// run whole on one blocking thread ([`crate::store::block_on`]), never as a task a
// worker could switch away from, and backups take the same lock on blocking threads.
#[allow(clippy::await_holding_lock)]
pub async fn execute(
    store: &Store,
    backups: &Backups,
    target: &PurgeTarget,
    progress: &dyn Report,
) -> Result<AdminResponse, StoreError> {
    // No backup may be taken (or restored from) halfway through.
    let _backups = backups.lock();
    let (backup_dir, _) = backups.config().map_err(|e| {
        StoreError::InvalidInput(format!(
            "cannot tell where the backups are ({e}); nothing was purged"
        ))
    })?;
    progress.step("purging: the store", None, Unit::Items);
    let outcome = store.purge_reporting(target, progress).await?;
    remove_content(backups, target, &outcome, progress)?;
    let backups = purge_backups(backup_dir, progress)?;
    let what = match target {
        PurgeTarget::User(_) => format!(
            "user (now pseudonym {})",
            outcome.pseudonym.map(|p| p.to_string()).unwrap_or_default()
        ),
        PurgeTarget::Space(id) => format!("space {id}"),
        PurgeTarget::All => "all data".to_owned(),
    };
    store
        .audit(AuditEvent::new(AuditKind::Purge).detail(format!(
            "{what}; {} entries removed; backups deleted: {}",
            outcome.removed_entries,
            backups.deleted.len()
        )))
        .await;
    Ok(AdminResponse::Purged { outcome, backups })
}

/// Deletes the file content of the spaces the purge removed or emptied (all of
/// it for everything).
fn remove_content(
    backups: &Backups,
    target: &PurgeTarget,
    outcome: &crate::store::PurgeOutcome,
    progress: &dyn Report,
) -> Result<(), StoreError> {
    let Some(files) = backups.files() else {
        return Ok(());
    };
    let io = |source| StoreError::Io {
        dir: files.root().to_owned(),
        source,
    };
    let spaces = match target {
        PurgeTarget::All => files.spaces().map_err(io)?,
        _ => outcome
            .spaces_removed
            .iter()
            .chain(&outcome.spaces_emptied)
            .copied()
            .collect(),
    };
    progress.step(
        "purging: file contents",
        Some(spaces.len() as u64),
        Unit::Items,
    );
    for space in spaces {
        files.remove_space(space).map_err(io)?;
        progress.add(1);
    }
    Ok(())
}

/// Deletes every kept backup under `dir` (the directories holding a backup's data
/// file or manifest, finished or half-written); returns their names. Anything else
/// in `dir` is left alone. A missing dir has none.
///
/// # Errors
/// [`StoreError::Io`] naming the backup that could not be deleted.
fn purge_backups(dir: &Path, progress: &dyn Report) -> Result<BackupsPurged, StoreError> {
    let io = |source| StoreError::Io {
        dir: dir.to_owned(),
        source,
    };
    let mut out = BackupsPurged::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(e)),
    };
    let mut kept = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let is_backup = path.is_dir()
            && (path.join(format::DATA_FILE).exists() || path.join(format::MANIFEST_FILE).exists());
        if is_backup {
            kept.push(entry);
        }
    }
    progress.step("purging: backups", Some(kept.len() as u64), Unit::Items);
    for entry in kept {
        let path = entry.path();
        std::fs::remove_dir_all(&path).map_err(|source| StoreError::Io {
            dir: path.clone(),
            source,
        })?;
        out.deleted
            .push(entry.file_name().to_string_lossy().into_owned());
        progress.add(1);
    }
    out.deleted.sort();
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(out)
}
