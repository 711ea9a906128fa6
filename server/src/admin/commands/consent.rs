//! `cairn-server consent list`: the evidence of consent to the privacy notice —
//! every acceptance and withdrawal, for all accounts or one — for the admin to
//! hand over when asked to prove it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use cairn_common::api::consent::{ConsentAction, ConsentEntry};

use crate::admin::protocol::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::store::{Store, StoreError};

/// Consent to the privacy notice: who accepted which version when, and who
/// withdrew.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "\
Examples:
  cairn-server consent list --data-dir /srv/cairn
  cairn-server consent list --user ana@example.com --json --data-dir /srv/cairn")]
pub enum ConsentCommand {
    /// Every acceptance and withdrawal, oldest first
    List {
        /// Only this account's
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// One JSON array, for scripts
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl ConsentCommand {
    /// Runs the command through `send` (see [`crate::admin::send`]) and prints the
    /// records.
    ///
    /// # Errors
    /// An unknown account, or the command could not run.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let ConsentCommand::List {
            user,
            json,
            data_dir,
        } = self;
        match send(&DataDir::new(data_dir), AdminRequest::ConsentList { user })? {
            AdminResponse::Consents(entries) if json => {
                serde_json::to_writer_pretty(&mut *out, &json_of(&entries))?;
                writeln!(out)?;
            }
            AdminResponse::Consents(entries) => {
                if entries.is_empty() {
                    writeln!(out, "no consent records")?;
                }
                for e in &entries {
                    let who = if e.email.is_empty() {
                        format!("{} (purged)", e.user)
                    } else {
                        e.email.clone()
                    };
                    writeln!(
                        out,
                        "{}  {:<9}  version {:<12}  {who}  from {}",
                        when(e.at_ms),
                        action(e.action),
                        e.version,
                        if e.address.is_empty() {
                            "-"
                        } else {
                            &e.address
                        }
                    )?;
                }
            }
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
        Ok(())
    }
}

fn action(action: ConsentAction) -> &'static str {
    match action {
        ConsentAction::Accepted => "accepted",
        ConsentAction::Withdrawn => "withdrawn",
    }
}

fn when(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn json_of(entries: &[ConsentEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "user": e.user.to_string(),
                    "email": e.email,
                    "version": e.version,
                    "action": action(e.action),
                    "at_ms": e.at_ms,
                    "address": e.address,
                })
            })
            .collect(),
    )
}

/// [`AdminRequest::ConsentList`].
///
/// # Errors
/// [`StoreError::NoSuchUser`] for an unknown e-mail, or a storage error.
pub async fn list(store: &Store, user: Option<String>) -> Result<AdminResponse, StoreError> {
    let entries = match user {
        None => store.consents(None).await?,
        Some(email) => {
            let email = crate::store::users::normalize_email(&email);
            let record = store
                .user_by_email(&email)
                .await?
                .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?;
            store.consents(Some(&[record.profile.id])).await?
        }
    };
    Ok(AdminResponse::Consents(entries))
}
