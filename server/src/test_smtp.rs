//! A real SMTP server for tests (feature `testing`): aiosmtpd, run by Debian's
//! `/usr/bin/python3` (package `python3-aiosmtpd`; the `python3` first on `PATH`
//! may be another one) with the script `test_smtp/smtpd.py`, on 127.0.0.1 and a
//! free port, delivering into a Maildir the test reads. It speaks plain SMTP,
//! required STARTTLS or implicit TLS with a certificate for `localhost` from a CA
//! made for it ([`TestSmtp::ca_file`]), and may require a login.
//!
//! [`TestSmtp::stop`] and [`TestSmtp::start_again`] take it down and bring it back
//! on the same port, for "the SMTP server is down, then back". If aiosmtpd is
//! missing the tests fail with the command that installs it; they do not skip.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::mail::{MailSecurity, MailSettings};
use crate::secret::Secret;

/// The interpreter aiosmtpd is installed for.
const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = include_str!("test_smtp/smtpd.py");
/// What tells a missing aiosmtpd.
const INSTALL: &str = "aiosmtpd is not installed for /usr/bin/python3; install it with \
     `apt-get install -y python3-aiosmtpd` (Debian; `.ci/run` does) and run the tests again";

/// A running aiosmtpd and its Maildir.
pub struct TestSmtp {
    dir: tempfile::TempDir,
    port: u16,
    security: MailSecurity,
    login: Option<(String, String)>,
    child: Option<(Child, ChildStdin)>,
}

/// A delivered mail, as read from the Maildir.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// The file as delivered (with the harness's four header lines first).
    pub raw: String,
    /// Every header, unfolded, in order.
    pub headers: Vec<(String, String)>,
    /// The body, its transfer encoding undone, line breaks as `\n`.
    pub body: String,
}

impl TestSmtp {
    /// Starts a server speaking `security` (`None`: plain SMTP), requiring
    /// `login` (user, password) if given.
    ///
    /// # Errors
    /// aiosmtpd is missing (the message says how to install it), or the server
    /// does not start.
    pub fn start(security: MailSecurity, login: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let found = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !found.is_ok_and(|s| s.success()) {
            bail!(INSTALL);
        }
        let dir = tempfile::Builder::new().prefix("cairn-smtp-").tempdir()?;
        std::fs::write(dir.path().join("smtpd.py"), SCRIPT)?;
        if security != MailSecurity::None {
            make_certificates(dir.path())?;
        }
        let mut smtp = Self {
            port: free_port()?,
            dir,
            security,
            login: login.map(|(u, p)| (u.to_owned(), p.to_owned())),
            child: None,
        };
        smtp.start_again()?;
        Ok(smtp)
    }

    /// Starts the server (again) on its port and waits until it listens.
    ///
    /// # Errors
    /// If it is running, or does not start within 30 s (the message has its log).
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("the test SMTP server is running already");
        }
        let root = self.dir.path();
        let log = std::fs::File::create(root.join("smtpd.log"))?;
        let security = match self.security {
            MailSecurity::None => "none",
            MailSecurity::Starttls => "starttls",
            MailSecurity::Tls => "tls",
        };
        let mut command = Command::new(PYTHON);
        command
            .arg(root.join("smtpd.py"))
            .args(["--port", &self.port.to_string(), "--security", security])
            .arg("--maildir")
            .arg(self.maildir());
        if self.security != MailSecurity::None {
            command
                .arg("--cert")
                .arg(root.join("server.pem"))
                .arg("--key")
                .arg(root.join("server.key"));
        }
        if let Some((user, password)) = &self.login {
            command.arg("--login").arg(format!("{user}:{password}"));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {PYTHON}"))?;
        let stdin = child.stdin.take().context("the server's stdin")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.trim() == "ready" {
                    let _ = tx.send(true);
                }
            }
            // It exited (it could not listen, say): no need to wait any longer.
            let _ = tx.send(false);
        });
        if rx.recv_timeout(Duration::from_secs(30)) != Ok(true) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the test SMTP server did not start; its log:\n{}",
                self.log()
            );
        }
        self.child = Some((child, stdin));
        Ok(())
    }

    /// Stops the server at once (SIGKILL): its port refuses connections until
    /// [`TestSmtp::start_again`].
    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            drop(stdin);
        }
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file of the CA that issued the server's certificate (for `localhost`
    /// and 127.0.0.1).
    #[must_use]
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    #[must_use]
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// `[mail]` settings that send through this server to `localhost`, from
    /// `cairn@example.com`, trusting its CA, with its login.
    #[must_use]
    pub fn mail_settings(&self) -> MailSettings {
        let (user, password) = self.login.clone().unwrap_or_default();
        MailSettings {
            enabled: true,
            host: "localhost".into(),
            port: self.port,
            security: self.security,
            user,
            password: Secret(password),
            from: "Cairn <cairn@example.com>".into(),
            ca_file: if self.security == MailSecurity::None {
                PathBuf::new()
            } else {
                self.ca_file()
            },
            ..MailSettings::default()
        }
    }

    /// The mails delivered so far, oldest first.
    ///
    /// # Errors
    /// The Maildir cannot be read.
    pub fn delivered(&self) -> anyhow::Result<Vec<Delivered>> {
        let new = self.maildir().join("new");
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&new) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", new.display())),
        };
        names.sort();
        names
            .iter()
            .map(|path| Ok(Delivered::parse(&std::fs::read(path)?)))
            .collect()
    }

    /// Waits until `count` mails were delivered; all of them.
    ///
    /// # Errors
    /// After `timeout`, with the server's log.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> anyhow::Result<Vec<Delivered>> {
        let start = Instant::now();
        loop {
            let delivered = self.delivered()?;
            if delivered.len() >= count {
                return Ok(delivered);
            }
            if start.elapsed() > timeout {
                bail!(
                    "{} of {count} mails delivered within {timeout:?}; the SMTP server's log:\n{}",
                    delivered.len(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("smtpd.log")).unwrap_or_default()
    }
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Delivered {
    fn parse(bytes: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let mut delivered = Self {
            raw: raw.clone(),
            headers,
            body: String::new(),
        };
        let encoding = delivered
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "base64" => decode_base64(body),
            "quoted-printable" => decode_quoted_printable(body),
            _ => body.as_bytes().to_vec(),
        };
        delivered.body = String::from_utf8_lossy(&decoded).replace("\r\n", "\n");
        delivered
    }

    /// The first header `name` (any case), as written.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The subject, its RFC 2047 encoded words decoded.
    #[must_use]
    pub fn subject(&self) -> String {
        decode_words(self.header("Subject").unwrap_or_default())
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .unwrap_or_else(|_| text.as_bytes().to_vec())
}

fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Decodes `=?charset?b|q?text?=` words (UTF-8 assumed), joining adjacent ones.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut last_was_word = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut parts = t.splitn(3, '?');
                let (_charset, kind, text) = (parts.next()?, parts.next()?, parts.next()?);
                let bytes = match kind {
                    "b" | "B" => decode_base64(text),
                    "q" | "Q" => decode_quoted_printable(&text.replace('_', " ")),
                    _ => return None,
                };
                Some(String::from_utf8_lossy(&bytes).into_owned())
            });
        match word {
            Some(text) => {
                if !last_was_word && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text);
                last_was_word = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                last_was_word = false;
            }
        }
    }
    out
}

/// A CA (`ca.pem`) and a certificate for `localhost` and 127.0.0.1 signed by it
/// (`server.pem`, `server.key`).
fn make_certificates(dir: &Path) -> anyhow::Result<()> {
    let ca = crate::testing::LoopbackCa::new("cairn test SMTP CA", &["localhost", "127.0.0.1"])?;
    std::fs::write(dir.join("ca.pem"), ca.ca_pem)?;
    std::fs::write(dir.join("server.pem"), ca.cert_pem)?;
    std::fs::write(dir.join("server.key"), ca.key_pem)?;
    Ok(())
}

/// A loopback port nobody listens on now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoded words, quoted-printable and base64 bodies read back as written.
    #[test]
    fn decoding() {
        assert_eq!(
            decode_words("=?utf-8?b?R3LDvMOfZQ==?= aus =?utf-8?q?K=C3=B6ln?="),
            "Grüße aus Köln"
        );
        assert_eq!(
            String::from_utf8_lossy(&decode_quoted_printable("Gr=C3=BC=\nße =3D ok")),
            "Grüße = ok"
        );
        let mail = Delivered::parse(
            b"Subject: Hi\r\nContent-Transfer-Encoding: base64\r\nX-Long: a\r\n b\r\n\r\nSGFsbG8K\r\n",
        );
        assert_eq!(
            (mail.body.as_str(), mail.header("x-long")),
            ("Hallo\n", Some("a b"))
        );
    }
}
