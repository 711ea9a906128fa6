//! `cairn-server tls renew`: order a certificate from the ACME CA of `[tls.acme]`
//! now, in the running server, and serve it to new connections at once.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::protocol::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::tls::acme::AcmeHandle;

/// What a stopped data dir answers to `tls renew`.
pub const NOT_RUNNING: &str = "the server is not running: start it; with [tls.acme] it \
     orders a certificate at start when it has none, and renews it before it expires";

/// The server's TLS certificate.
#[derive(Debug, clap::Args)]
pub struct TlsArgs {
    #[command(subcommand)]
    pub command: TlsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TlsCommand {
    /// Order a new certificate from the ACME CA now (the running server renews by
    /// itself well before expiry; this is for a changed domain or a revoked
    /// certificate). Open connections keep working; new ones get the new one.
    #[command(after_help = "Example:\n  cairn-server tls renew --data-dir /var/lib/cairn-server")]
    Renew {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl TlsArgs {
    /// Runs the command through `send` (see [`crate::admin::send`]).
    ///
    /// # Errors
    /// If it could not run or the order failed; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let TlsCommand::Renew { data_dir } = self.command;
        match send(&DataDir::new(data_dir), AdminRequest::RenewCertificate)? {
            AdminResponse::CertificateRenewed { fingerprint } => {
                writeln!(
                    out,
                    "new certificate from the CA; new connections get {fingerprint}"
                )?;
                Ok(())
            }
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
    }
}

/// [`AdminRequest::RenewCertificate`] in the running server.
pub async fn renew(acme: Option<&AcmeHandle>) -> AdminResponse {
    let Some(acme) = acme else {
        return AdminResponse::failed(
            "this server gets no certificate by ACME: set [tls.acme] in cairn-server.toml \
             (docs in cairn-server.example.toml) and restart it",
        );
    };
    match acme.renew_now().await {
        Ok(fingerprint) => AdminResponse::CertificateRenewed { fingerprint },
        Err(e) => AdminResponse::failed(format!(
            "the CA gave no certificate: {e}; the server still serves the one it had"
        )),
    }
}
