//! `cairn-server audit list|verify`: the arguments, what each runs on the store,
//! and what it prints.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::protocol::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::store::{AuditVerification, Store, StoreError};

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
    /// Runs the command through `send` (see [`crate::admin::send`]) and prints its
    /// outcome.
    ///
    /// # Errors
    /// A broken chain, or the command could not run.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
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

/// [`AdminRequest::AuditList`].
///
/// # Errors
/// A storage error or damaged data.
pub async fn list(store: &Store) -> Result<AdminResponse, StoreError> {
    Ok(AdminResponse::AuditEntries(store.audit_entries().await?))
}

/// [`AdminRequest::AuditVerify`].
///
/// # Errors
/// A storage error or damaged data (a broken chain is an answer, not an error).
pub async fn verify(store: &Store) -> Result<AdminResponse, StoreError> {
    Ok(AdminResponse::AuditVerified(store.audit_verify().await?))
}
