//! `cairn-server renew-epoch`: after the store was restored by other means than
//! `cairn-server backup restore` (a PostgreSQL dump or point-in-time recovery, a
//! file-system snapshot of a sled data dir), give it a new epoch, so that every
//! client learns the server's history went back and sends again what it lost.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::protocol::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::store::{AuditEvent, AuditKind, Store, StoreError};

/// Tell every client the store's history went back, after restoring it with other
/// tools than `cairn-server backup restore` (which does this itself). Clients then
/// send again the changes the restore lost, and drop what they pulled since.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example, after restoring the database from last night's dump:
  pg_restore --clean --if-exists -d postgres://cairn@db/cairn cairn.dump
  cairn-server renew-epoch --data-dir /var/lib/cairn-server")]
pub struct RenewEpochArgs {
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

impl RenewEpochArgs {
    /// Runs the command through `send` (see [`crate::admin::send`]) and prints the
    /// new epoch.
    ///
    /// # Errors
    /// If it could not run; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        match send(&DataDir::new(self.data_dir), AdminRequest::RenewEpoch)? {
            AdminResponse::EpochRenewed { epoch } => {
                writeln!(
                    out,
                    "new epoch {epoch}: at their next sync, clients send again what the \
                     restore lost"
                )?;
                Ok(())
            }
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
    }
}

/// [`AdminRequest::RenewEpoch`]: a new epoch, audited.
///
/// # Errors
/// A storage or database error; the old epoch stays then.
pub async fn execute(store: &Store) -> Result<AdminResponse, StoreError> {
    let epoch = store.renew_epoch().await?;
    store
        .audit(
            AuditEvent::new(AuditKind::Restore)
                .detail(format!("restored by other means: new epoch {epoch}")),
        )
        .await;
    Ok(AdminResponse::EpochRenewed {
        epoch: epoch.to_string(),
    })
}
