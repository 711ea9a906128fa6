//! The SMTP side: a lettre transport built from `[mail]` (rustls with ring; the
//! system's roots, or the CA of `ca_file` alone), the message a queued mail
//! becomes, and a failure summed up in a few words for `/healthz`.
//!
//! A message is plain UTF-8 text with the `From` of the settings, one `To`, a
//! `Date`, and a `Message-ID` made from the mail's id, so an attempt that is
//! repeated (a lease ran out mid-send) carries the same id and recipients'
//! systems can drop the copy. `Auto-Submitted: auto-generated` keeps
//! out-of-office replies away.

use std::path::Path;
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransport, PoolConfig};
use lettre::{AsyncTransport, Tokio1Executor};

use super::settings::{MailSecurity, MailSettings};
use crate::store::{MailId, OutgoingMail};

/// Each step of talking to the SMTP server (connect, a command, the data) may
/// take this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// One whole attempt may take this long; well under the claim's lease.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an attempt failed: the whole message for the log and `mail list`, and a
/// few words without addresses or server replies for `/healthz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendFailure {
    pub message: String,
    pub summary: String,
}

/// The connection to the SMTP server of `[mail]` (a small pool of them).
#[derive(Clone)]
pub struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

impl Transport {
    /// The transport of `settings`, trusting the CA in `ca_file` (resolved against
    /// the data dir) or else the system's roots.
    ///
    /// # Errors
    /// A sender that is no address, or a CA file that cannot be read or holds no
    /// certificate; each message says what to fix.
    pub fn new(settings: &MailSettings, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        let from = settings.from_mailbox().ok_or_else(|| {
            anyhow::anyhow!(
                "mail.from must be an address like cairn@example.com, not {:?}",
                settings.from
            )
        })?;
        let host = settings.host().to_owned();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(settings.port())
            .timeout(Some(STEP_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(2));
        builder = match settings.security {
            MailSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(&host, ca_file)?)),
            MailSecurity::Starttls => builder.tls(Tls::Required(tls_parameters(&host, ca_file)?)),
            MailSecurity::None => builder.tls(Tls::None),
        };
        if !settings.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.user.clone(),
                settings.password.expose().to_owned(),
            ));
        }
        Ok(Self {
            smtp: builder.build(),
            from,
        })
    }

    /// Sends one mail.
    ///
    /// # Errors
    /// A [`SendFailure`] saying why, in full and in short.
    pub async fn send(&self, id: MailId, mail: &OutgoingMail) -> Result<(), SendFailure> {
        let message = message(&self.from, id, mail).map_err(|e| SendFailure {
            message: format!("the mail cannot be written: {e}"),
            summary: "a mail could not be written".into(),
        })?;
        match tokio::time::timeout(SEND_TIMEOUT, self.smtp.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(SendFailure {
                message: with_causes(&e),
                summary: summary(&e),
            }),
            Err(_) => Err(SendFailure {
                message: format!(
                    "the SMTP server did not take the mail within {} s",
                    SEND_TIMEOUT.as_secs()
                ),
                summary: "the SMTP server did not answer in time".into(),
            }),
        }
    }
}

fn tls_parameters(host: &str, ca_file: Option<&Path>) -> anyhow::Result<TlsParameters> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read mail.ca_file {}: {e}; give the PEM file of the CA that issued \
                 the SMTP server's certificate, or leave ca_file empty for the system's roots",
                path.display()
            )
        })?;
        let certificate = Certificate::from_pem(&pem)
            .ok()
            .filter(|_| pem_has_certificate(&pem))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "mail.ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----); \
                     give the CA's certificate in PEM form",
                    path.display()
                )
            })?;
        // The private CA alone: a certificate from anyone else is refused.
        builder = builder
            .certificate_store(CertificateStore::None)
            .add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map_err(|e| anyhow::anyhow!("cannot set up TLS for the SMTP server: {e}"))
}

fn pem_has_certificate(pem: &[u8]) -> bool {
    use rustls_pki_types::pem::PemObject as _;
    rustls_pki_types::CertificateDer::pem_slice_iter(pem)
        .next()
        .is_some_and(|c| c.is_ok())
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies to these mails.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// The message `mail` becomes: plain UTF-8 text from `from`.
///
/// # Errors
/// An address lettre cannot use (the store checked it when it was queued).
pub fn message(from: &Mailbox, id: MailId, mail: &OutgoingMail) -> anyhow::Result<Message> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| anyhow::anyhow!("the recipient is no address: {e}"))?;
    let domain = from.email.domain().to_owned();
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .date_now()
        .message_id(Some(format!("<{}@{domain}>", id.0.simple())))
        .header(AutoSubmitted)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())?)
}

/// An error and its causes, "error: cause: cause".
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message += &format!(": {text}");
        }
        cause = c.source();
    }
    message
}

/// A few words for `/healthz`: fixed phrases, the reply code and the kind of an
/// I/O error; never the server's reply text, which may name addresses.
fn summary(e: &lettre::transport::smtp::Error) -> String {
    // The first I/O error of the chain, and a TLS error wherever it is (a failed
    // handshake reaches lettre as an I/O error that wraps rustls's).
    let mut io_kind = None;
    let mut tls = None;
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
            tls = tls.or_else(|| {
                io.get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .cloned()
            });
        }
        tls = tls.or_else(|| c.downcast_ref::<rustls::Error>().cloned());
        cause = c.source();
    }
    if let Some(tls) = tls {
        // rustls's words name the problem (an unknown issuer, a name the
        // certificate does not carry), never an address.
        return format!("TLS with the SMTP server failed ({tls})");
    }
    if e.is_tls() {
        return "TLS with the SMTP server failed".into();
    }
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        return "the SMTP server did not answer in time".into();
    }
    if let Some(code) = e.status() {
        let code = code.to_string();
        return if ["530", "534", "535", "538"].contains(&code.as_str()) {
            format!("the SMTP server refused the login (code {code})")
        } else if e.is_transient() {
            format!("the SMTP server deferred the mail (code {code})")
        } else {
            format!("the SMTP server refused the mail (code {code})")
        };
    }
    let text = e.to_string();
    if text.starts_with("Connection error") {
        return match io_kind {
            Some(kind) => format!("cannot connect to the SMTP server ({kind})"),
            None => "cannot connect to the SMTP server".into(),
        };
    }
    if text.starts_with("network error") {
        return "the connection to the SMTP server broke".into();
    }
    if e.is_client() {
        // lettre's own words (no STARTTLS offered, no common login mechanism).
        return format!("the SMTP exchange failed: {text}");
    }
    "sending to the SMTP server failed".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MailKind;

    fn mail(body: &str) -> OutgoingMail {
        OutgoingMail {
            to: "ann@example.com".into(),
            subject: "Grüße aus Cairn".into(),
            body: body.into(),
            kind: MailKind::Other,
            user: None,
        }
    }

    /// The message has the sender, recipient, date, an id from the mail's id,
    /// plain UTF-8 text and the auto-submitted mark.
    #[test]
    fn a_message_has_the_headers() {
        let from: Mailbox = "Cairn <cairn@example.com>".parse().expect("from");
        let id = MailId::new();
        let raw = message(&from, id, &mail("Hallo Ann,\nbitte schau rein."))
            .expect("message")
            .formatted();
        let text = String::from_utf8_lossy(&raw);
        for header in [
            "From: Cairn <cairn@example.com>",
            "To: ann@example.com",
            "Date: ",
            &format!("Message-ID: <{}@example.com>", id.0.simple()),
            "Auto-Submitted: auto-generated",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(text.contains(header), "{header} in {text}");
        }
    }

    /// A CA file that is missing or holds no certificate is refused up front.
    /// (A transport's connection pool lives on the runtime that made it.)
    #[tokio::test]
    async fn a_bad_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let settings = MailSettings {
            enabled: true,
            host: "smtp.example.com".into(),
            from: "cairn@example.com".into(),
            ..MailSettings::default()
        };
        let missing = dir.path().join("ca.pem");
        let err = Transport::new(&settings, Some(&missing)).expect_err("missing");
        assert!(err.to_string().contains("mail.ca_file"), "{err}");
        std::fs::write(&missing, "not a certificate").expect("write");
        let err = Transport::new(&settings, Some(&missing)).expect_err("empty");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        Transport::new(&settings, None).expect("system roots");
    }
}
