//! Certificates from an ACME CA (Let's Encrypt in production), `[tls.acme]`:
//! an account and the certificate are kept in `DATA/acme/` (owner-only), the
//! certificate is ordered when there is none and renewed well before it expires,
//! proved by TLS-ALPN-01 on the server's own port, and swapped in without a
//! restart. A failed order keeps the certificate in use, is logged, shows in
//! `/healthz`, and is tried again with backoff. `cairn-server tls renew` orders a
//! new one at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{TlsHandle, challenge};
use crate::store::{AuditEvent, AuditKind, Store};

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `[tls.acme]` of cairn-server.toml.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeSettings {
    /// The names (or IP addresses) the certificate is for; people reach the server
    /// at them, and the CA connects to them on port 443 (TLS-ALPN-01).
    pub domains: Vec<String>,
    /// `mailto:` address the CA writes to about the account.
    pub contact: String,
    /// The CA's ACME directory URL.
    #[serde(default = "lets_encrypt")]
    pub directory: String,
    /// A PEM root to trust for the directory's own HTTPS besides the system's (a
    /// private or test CA such as Pebble); relative to the data dir.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Renew when the certificate has fewer days left than this, or a third of
    /// its lifetime, whichever is longer.
    #[serde(default = "thirty")]
    pub renew_before_days: u32,
    /// After a failed order, wait this long before the next try; it doubles up to
    /// six hours.
    #[serde(default = "five_minutes")]
    pub retry_secs: u64,
}

fn lets_encrypt() -> String {
    LETS_ENCRYPT.to_owned()
}
fn thirty() -> u32 {
    30
}
fn five_minutes() -> u64 {
    300
}

impl AcmeSettings {
    /// What is wrong with these settings, each saying what to set.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.domains.is_empty() || self.domains.iter().any(|d| d.trim().is_empty()) {
            problems.push(
                "tls.acme.domains must name the server, e.g. [\"cairn.example.com\"]".to_owned(),
            );
        }
        if !self.contact.starts_with("mailto:") {
            problems.push("tls.acme.contact must be a mailto: address".to_owned());
        }
        if !self.directory.starts_with("https://") {
            problems.push("tls.acme.directory must be an https:// URL".to_owned());
        }
        if self.retry_secs == 0 {
            problems.push("tls.acme.retry_secs must be at least 1".to_owned());
        }
        problems
    }
}

/// Where the account and the certificate are kept.
#[derive(Clone, Debug)]
pub struct AcmeFiles {
    dir: PathBuf,
}

impl AcmeFiles {
    /// `DATA/acme`.
    #[must_use]
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("acme"),
        }
    }

    #[must_use]
    pub fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    #[must_use]
    pub fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    fn account(&self) -> PathBuf {
        self.dir.join("account.json")
    }

    /// Whether a certificate from the CA is here (to serve at start).
    #[must_use]
    pub fn has_certificate(&self) -> bool {
        self.cert().is_file() && self.key().is_file()
    }

    /// Writes `contents` to `path` in this directory, owner-only, durably, by
    /// rename (a crash leaves the old file or the new one).
    fn write(&self, path: &Path, contents: &[u8]) -> anyhow::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        cairn_common::storage::restrict_to_owner(&self.dir)
            .with_context(|| format!("cannot restrict {}", self.dir.display()))?;
        let temp = path.with_extension("new");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .with_context(|| format!("cannot write {}", temp.display()))?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

/// The account as kept: which directory it belongs to, and its credentials.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// A request to order a certificate now; answered with the new certificate's
/// fingerprint or why it failed.
type RenewRequest = oneshot::Sender<Result<String, String>>;

/// The running ACME task.
#[derive(Clone, Debug)]
pub struct AcmeHandle {
    requests: mpsc::Sender<RenewRequest>,
}

impl AcmeHandle {
    /// Orders a new certificate now and waits for it.
    ///
    /// # Errors
    /// Why the order failed (the certificate in use stays).
    pub async fn renew_now(&self) -> Result<String, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(reply)
            .await
            .map_err(|_| "the certificate task has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the certificate task has stopped".to_owned())?
    }
}

/// Starts keeping `tls`'s certificate from the CA of `settings`.
pub fn spawn(
    settings: AcmeSettings,
    data_dir: &Path,
    tls: TlsHandle,
    store: Store,
) -> (AcmeHandle, JoinHandle<()>) {
    let (requests, mut incoming) = mpsc::channel::<RenewRequest>(4);
    let ca_file = settings.ca_file.as_ref().map(|f| data_dir.join(f));
    let manager = Manager {
        files: AcmeFiles::in_data_dir(data_dir),
        ca_file,
        settings,
        tls,
        store,
    };
    let task = tokio::spawn(async move {
        let first_retry = Duration::from_secs(manager.settings.retry_secs);
        let mut retry = first_retry;
        let mut failing = false;
        loop {
            let wait = if failing { retry } else { manager.until_due() };
            let reply = tokio::select! {
                () = tokio::time::sleep(wait) => None,
                request = incoming.recv() => match request {
                    Some(reply) => Some(reply),
                    None => return,
                },
            };
            let outcome = manager.renew().await;
            failing = outcome.is_err();
            if failing {
                retry = if reply.is_some() {
                    first_retry
                } else {
                    (retry * 2).min(Duration::from_secs(6 * 3600))
                };
            } else {
                retry = first_retry;
            }
            if let Some(reply) = reply {
                let _ = reply.send(outcome.map_err(|e| format!("{e:#}")));
            }
        }
    });
    (AcmeHandle { requests }, task)
}

struct Manager {
    settings: AcmeSettings,
    files: AcmeFiles,
    ca_file: Option<PathBuf>,
    tls: TlsHandle,
    store: Store,
}

impl Manager {
    /// How long until the certificate in use should be renewed: now if it is not
    /// the CA's (none yet, or another name), else when fewer than
    /// `renew_before_days` or a third of its lifetime are left.
    fn until_due(&self) -> Duration {
        let Some((not_before, not_after)) = self.current_validity() else {
            return Duration::ZERO;
        };
        let lifetime = not_after
            .duration_since(not_before)
            .unwrap_or(Duration::ZERO);
        let margin = (lifetime / 3).max(Duration::from_secs(
            u64::from(self.settings.renew_before_days) * 86_400,
        ));
        let due = not_after.checked_sub(margin).unwrap_or(not_before);
        due.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }

    /// The validity of the certificate in use if it is the CA's for our names.
    fn current_validity(&self) -> Option<(SystemTime, SystemTime)> {
        if !self.files.has_certificate() {
            return None;
        }
        let leaf = self.tls.leaf()?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        let names: Vec<String> = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .map(|n| match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => d.to_ascii_lowercase(),
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            ip_text(ip).unwrap_or_default()
                        }
                        _ => String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let wanted = self
            .settings
            .domains
            .iter()
            .all(|d| names.contains(&d.to_ascii_lowercase()));
        if !wanted {
            return None;
        }
        let at = |t: x509_parser::time::ASN1Time| {
            SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(u64::try_from(t.timestamp()).ok()?))
        };
        Some((
            at(cert.validity().not_before)?,
            at(cert.validity().not_after)?,
        ))
    }

    /// Orders a certificate, installs it, and records how it went (log, audit,
    /// health).
    async fn renew(&self) -> anyhow::Result<String> {
        let outcome = self.order().await;
        self.tls.clear_challenges();
        match &outcome {
            Ok(fingerprint) => {
                tracing::info!("ACME: new certificate from the CA; now serving {fingerprint}");
                self.tls.record_renewal(None);
                self.store
                    .audit(
                        AuditEvent::new(AuditKind::CertificateReload)
                            .detail(format!("ACME: now serving {fingerprint}")),
                    )
                    .await;
            }
            Err(e) => {
                tracing::error!(
                    "ACME: ordering a certificate failed: {e:#}\nstill serving the certificate \
                     in use ({})",
                    self.tls.fingerprint()
                );
                self.tls.record_renewal(Some(summary(e)));
            }
        }
        outcome
    }

    async fn account(&self) -> anyhow::Result<Account> {
        let builder = || match &self.ca_file {
            Some(root) => Account::builder_with_root(root).with_context(|| {
                format!(
                    "cannot use tls.acme.ca_file {} as a root certificate",
                    root.display()
                )
            }),
            None => Ok(Account::builder()?),
        };
        if let Ok(text) = std::fs::read(self.files.account())
            && let Ok(stored) = serde_json::from_slice::<StoredAccount>(&text)
            && stored.directory == self.settings.directory
        {
            return Ok(builder()?.from_credentials(stored.credentials).await?);
        }
        let contact = [self.settings.contact.as_str()];
        let (account, credentials) = builder()?
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.settings.directory.clone(),
                None,
            )
            .await
            .with_context(|| {
                format!(
                    "cannot open an account at the ACME directory {}",
                    self.settings.directory
                )
            })?;
        let stored = StoredAccount {
            directory: self.settings.directory.clone(),
            credentials,
        };
        self.files
            .write(&self.files.account(), &serde_json::to_vec_pretty(&stored)?)?;
        Ok(account)
    }

    /// One order, from account to installed certificate; its fingerprint.
    async fn order(&self) -> anyhow::Result<String> {
        let account = self.account().await?;
        let identifiers: Vec<Identifier> = self
            .settings
            .domains
            .iter()
            .map(|d| match d.parse() {
                Ok(ip) => Identifier::Ip(ip),
                Err(_) => Identifier::Dns(d.clone()),
            })
            .collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .context("the CA refused the order")?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => bail!("an authorization of the order is {other:?}"),
            }
            let mut challenge = authorization
                .challenge(ChallengeType::TlsAlpn01)
                .context("the CA offers no tls-alpn-01 challenge, the one cairn-server answers")?;
            let identifier = challenge.identifier().to_string();
            let digest = challenge.key_authorization().digest();
            let certificate = challenge::certificate(&identifier, digest.as_ref())?;
            self.tls
                .set_challenge(&challenge::server_name(&identifier), certificate);
            challenge.set_ready().await?;
        }
        let retries = RetryPolicy::new().timeout(Duration::from_secs(90));
        let status = order.poll_ready(&retries).await?;
        if status != OrderStatus::Ready {
            let detail = order
                .state()
                .error
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default();
            bail!(
                "the CA did not validate the names {:?} ({status:?}{}): check that they point at \
                 this server and that port 443 reaches it",
                self.settings.domains,
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            );
        }
        let key = order.finalize().await?;
        let chain = order.poll_certificate(&retries).await?;
        self.files.write(&self.files.key(), key.as_bytes())?;
        self.files.write(&self.files.cert(), chain.as_bytes())?;
        self.tls
            .use_files(&self.files.cert(), &self.files.key())
            .context("the CA's certificate does not load")?;
        Ok(self.tls.fingerprint())
    }
}

/// A failure in a few words for `/healthz`: its first line, without paths.
fn summary(e: &anyhow::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(120).collect()
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|o| std::net::Ipv4Addr::from(o).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|o| std::net::Ipv6Addr::from(o).to_string()),
        _ => None,
    }
}
