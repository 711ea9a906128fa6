//! `cairn-server purge` and `cairn-server audit list|verify`: arguments and output.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::AdminResponse;
use crate::admin::client::send;
use crate::admin::protocol::AdminRequest;
use crate::datadir::DataDir;
use crate::store::{AuditVerification, PurgeTarget};

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

    /// Asks for confirmation (unless `--yes`), purges, and prints what was done.
    ///
    /// # Errors
    /// No confirmation, or the purge failed; the message says what to do.
    pub fn run(
        self,
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

/// The audit log of administrative events.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Print every entry, oldest first.
    List {
        /// One JSON array, for scripts.
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Check the hash chain: fails naming the first edited or missing entry.
    Verify {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl AuditCommand {
    /// Runs the command and prints its outcome.
    ///
    /// # Errors
    /// A broken chain, or the command could not run.
    pub fn run(self, out: &mut impl Write) -> anyhow::Result<()> {
        let (dir, request, json) = match self {
            AuditCommand::List { json, data_dir } => (data_dir, AdminRequest::AuditList, json),
            AuditCommand::Verify { data_dir } => (data_dir, AdminRequest::AuditVerify, false),
        };
        match send(&DataDir::new(dir), request)? {
            AdminResponse::AuditEntries(entries) if json => {
                serde_json::to_writer_pretty(&mut *out, &entries)?;
                writeln!(out)?;
            }
            AdminResponse::AuditEntries(entries) => {
                for e in entries {
                    let at = i64::try_from(e.at_ms)
                        .ok()
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default();
                    let mut line = format!("{:>6}  {at}  {:<18}  by {}", e.seq, e.kind, e.actor);
                    if let Some(subject) = &e.subject {
                        line += &format!("  for {subject}");
                    }
                    if let Some(space) = &e.space {
                        line += &format!("  space {space}");
                    }
                    if !e.detail.is_empty() {
                        line += &format!("  {}", e.detail);
                    }
                    writeln!(out, "{line}")?;
                }
            }
            AdminResponse::AuditVerified(AuditVerification::Intact {
                entries,
                first_seq,
                last_seq,
                head,
            }) => {
                writeln!(
                    out,
                    "audit log intact: {entries} entries ({first_seq}..={last_seq}); head \
                     SHA-256 {head}\nkeep the head hash elsewhere to check later that the \
                     log was not rewritten as a whole"
                )?;
            }
            AdminResponse::AuditVerified(AuditVerification::Broken { seq, reason }) => {
                bail!(
                    "the audit log is broken at entry {seq}: {reason}; the log was changed \
                     outside cairn-server (restore the data dir from a backup to see the \
                     original)"
                );
            }
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
        Ok(())
    }
}
