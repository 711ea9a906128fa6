//! The real `cairn-server` binary in a temp dir on 127.0.0.1 port 0, and a small
//! protocol client over TLS for requests the `cairn` client would never send.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use cairn_common::api::files::{FileRef, Framer};
use cairn_common::api::{
    self, Endpoint, ErrorResponse, LoginRequest, LoginResponse, PasswordChange, PullRequest,
    PullResponse, PushRequest, PushResponse, endpoints,
};
use cairn_common::codec;
use cairn_common::op::Op;
use cairn_server::testing::{Conn, Http};
use http_body_util::Full;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::binary;

/// A `cairn-server serve` process over a data dir made by `cairn-server init`.
pub struct ServerProcess {
    pub dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    pub fingerprint: String,
    pub admin_password: String,
    pub cert_der: Vec<u8>,
    child: Option<Child>,
    /// What the server wrote to stderr (its log), line by line.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Inits a fresh data dir and starts serving it.
    ///
    /// # Errors
    /// If init or start fails; the message has the server's output.
    pub fn start() -> anyhow::Result<Self> {
        let server = Self::start_with_init(&[])?;
        if server.admin_password.is_empty() {
            bail!("init made no admin account");
        }
        Ok(server)
    }

    /// Inits a fresh data dir with `init_args` added (e.g. `--store-url URL`) and
    /// starts serving it. `admin_password` is empty if init made no account (it
    /// joined a database that had some).
    ///
    /// # Errors
    /// If init or start fails; the message has the server's output.
    pub fn start_with_init(init_args: &[&str]) -> anyhow::Result<Self> {
        Self::start_configured(init_args, |_| Ok(()))
    }

    /// As [`ServerProcess::start_with_init`], with `configure` run on the new
    /// data dir before the server starts (e.g. to write a section of its config
    /// with [`set_config_section`]).
    ///
    /// # Errors
    /// If init, `configure` or the start fails.
    pub fn start_configured(
        init_args: &[&str],
        configure: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("server");
        let output = Command::new(binary("cairn-server")?)
            .args(["init", "--data-dir"])
            .arg(&data_dir)
            .args(init_args)
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "init failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let line_end = |prefix: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .map(|s| s.trim().to_owned())
                .with_context(|| format!("no {prefix:?} line in init's output:\n{stdout}"))
        };
        let admin_password = line_end("initial admin password:").unwrap_or_default();
        let fingerprint = line_end("certificate fingerprint (SHA-256):")?;
        let cert_der = CertificateDer::from_pem_file(data_dir.join("tls/cert.pem"))
            .context("reading the server's certificate")?
            .to_vec();
        configure(&data_dir)?;
        let mut server = Self {
            dir,
            data_dir,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            fingerprint,
            admin_password,
            cert_der,
            child: None,
            log: std::sync::Arc::default(),
        };
        server.serve()?;
        Ok(server)
    }

    /// Starts (or restarts) `serve` on a new port 0 and waits until it listens.
    ///
    /// # Errors
    /// If the process does not report its address in time.
    pub fn serve(&mut self) -> anyhow::Result<()> {
        self.serve_on("127.0.0.1:0")
    }

    /// Restarts `serve` on the port it had, so that clients logged in to its URL
    /// reach it again (after a stop, e.g. for a restore).
    ///
    /// # Errors
    /// If the port is taken meanwhile or the process does not start in time.
    pub fn serve_again(&mut self) -> anyhow::Result<()> {
        self.serve_on(&self.addr.to_string())
    }

    fn serve_on(&mut self, listen: &str) -> anyhow::Result<()> {
        let mut child = Command::new(binary("cairn-server")?)
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(&self.data_dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut log) = log.lock() {
                    log.push(line.clone());
                }
                if let Some(rest) = line.split("serving https://").nth(1) {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .context("cairn-server did not report its address")?;
        self.addr = addr
            .parse()
            .with_context(|| format!("bad address {addr:?}"))?;
        self.child = Some(child);
        Ok(())
    }

    /// The server's log so far (all its runs).
    #[must_use]
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Kills the server with SIGKILL: no shutdown, no flush.
    ///
    /// # Errors
    /// If the process cannot be killed.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Sends `signal` (e.g. `HUP`, `TERM`) to the server with the `kill` command.
    ///
    /// # Errors
    /// If the server is not running or `kill` fails.
    pub fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self
            .child
            .as_ref()
            .context("the server is not running")?
            .id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()?;
        if !status.success() {
            bail!("kill -{signal} {pid} failed");
        }
        Ok(())
    }

    /// Waits up to `timeout` for the server process to exit; whether it exited 0.
    ///
    /// # Errors
    /// If it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        let start = Instant::now();
        loop {
            let child = self.child.as_mut().context("the server is not running")?;
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok(status.success());
            }
            if start.elapsed() > timeout {
                bail!("the server did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The running server's process id.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The data dir.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `https://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Runs `cairn-server ARGS --data-dir DIR` (an admin command), with `stdin` fed.
    ///
    /// # Errors
    /// If the command cannot run or fails.
    pub fn admin(&self, args: &[&str], stdin: &str) -> anyhow::Result<String> {
        use std::io::Write;
        let mut child = Command::new(binary("cairn-server")?)
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(stdin.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "cairn-server {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Creates a user with a known password (changed once, so no gate applies).
    ///
    /// # Errors
    /// If the admin command or the password change fails.
    pub async fn user(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let initial = format!("{password}-initial");
        self.admin(
            &["user", "add", email, "--password-stdin"],
            &format!("{initial}\n"),
        )?;
        let mut api = self.api().await?;
        let login = api.login(email, &initial).await?;
        let (status, body) = api
            .call(
                endpoints::Password::PATH,
                Some(&login.token),
                &PasswordChange {
                    current: initial,
                    new: password.to_owned(),
                },
            )
            .await?;
        if !status.is_success() {
            bail!(
                "password change failed: {status} {:?}",
                codec::decode::<ErrorResponse>(&body)
            );
        }
        api.accept_notice(&login.token).await
    }

    /// A protocol client on a new TLS connection.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn api(&self) -> anyhow::Result<Api> {
        Ok(Api {
            conn: Conn::connect(self.addr, &self.cert_der, Http::One).await?,
        })
    }

    /// A protocol client on a new HTTP/1.1 TLS connection from another loopback
    /// address (`127.0.0.2`, …), which the server counts as another client.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn api_from(&self, source: std::net::IpAddr) -> anyhow::Result<Api> {
        Ok(Api {
            conn: Conn::connect_from(source, self.addr, &self.cert_der, Http::One).await?,
        })
    }

    /// Starts `upload` on a connection of its own (HTTP/1.1), sends its part,
    /// waits until the server has begun it, then says nothing more: the
    /// connection is returned, held open.
    ///
    /// # Errors
    /// If the connection or a write fails, or the server does not begin the
    /// upload within 20 s.
    pub async fn upload_started(
        &self,
        upload: &HandUpload<'_>,
    ) -> anyhow::Result<impl tokio::io::AsyncWrite + Unpin + Send + use<>> {
        use tokio::io::AsyncWriteExt;
        let mut stream =
            cairn_server::testing::tls_connect(None, self.addr, &self.cert_der, Http::One).await?;
        let head = format!(
            "POST {} HTTP/1.1\r\nhost: localhost\r\n{}: {}\r\nauthorization: Bearer {}\r\n\
             content-length: {}\r\n\r\n",
            upload_path(upload.file, upload.offset).trim_start_matches("https://localhost"),
            api::PROTOCOL_HEADER,
            api::PROTOCOL_VERSION,
            upload.token,
            upload.announced,
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(upload.part).await?;
        stream.flush().await?;
        self.upload_begun(upload.file).await?;
        Ok(stream)
    }

    /// Waits until the server holds a partial of `file`, which it makes once an
    /// upload has claimed the file. Probes sent before that would find the file
    /// free. (Meant for a file's first upload: a partial from before counts too.)
    async fn upload_begun(&self, file: &FileRef) -> anyhow::Result<()> {
        let partial = self
            .data_dir
            .join("files")
            .join(file.space.to_string())
            .join(".partial")
            .join(&file.sha256);
        let waiting = Instant::now();
        while !partial.exists() {
            anyhow::ensure!(
                waiting.elapsed() < Duration::from_secs(20),
                "the server did not begin the upload"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// [`Self::upload_started`], then the connection closes a second later: an
    /// upload broken off mid-stream, as when a device's network goes.
    ///
    /// # Errors
    /// If the connection or a write fails.
    pub async fn upload_broken_off(&self, upload: &HandUpload<'_>) -> anyhow::Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut stream = self.upload_started(upload).await?;
        // Time to read what was sent before the connection goes.
        tokio::time::sleep(Duration::from_secs(1)).await;
        stream.shutdown().await?;
        Ok(())
    }

    /// A protocol client on a new TLS connection speaking h2.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn api_h2(&self) -> anyhow::Result<Api> {
        Ok(Api {
            conn: Conn::connect(self.addr, &self.cert_der, Http::Two).await?,
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// Raw protocol requests over one TLS connection.
pub struct Api {
    conn: Conn,
}

impl Api {
    /// A protocol client on a new HTTP/1.1 TLS connection to `addr`, trusting `cert_der`.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn connect(addr: SocketAddr, cert_der: &[u8]) -> anyhow::Result<Self> {
        Ok(Self {
            conn: Conn::connect(addr, cert_der, Http::One).await?,
        })
    }

    /// POSTs a codec-encoded body and returns the status and raw response body.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn call<T: serde::Serialize>(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &T,
    ) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        self.raw(path, token, codec::encode(body)?).await
    }

    /// POSTs raw bytes as a body with the protocol headers.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn raw(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        let mut request = hyper::Request::post(format!("https://localhost{path}"))
            .header("content-type", api::CONTENT_TYPE)
            .header("content-length", body.len())
            .header(api::PROTOCOL_HEADER, api::PROTOCOL_VERSION.to_string());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.conn
            .send(request.body(Full::new(Bytes::from(body)))?)
            .await
    }

    /// Uploads `body` (frames, see [`framed`]) as the bytes of `file` from
    /// `offset`.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn upload(
        &mut self,
        token: &str,
        file: &FileRef,
        offset: u64,
        body: Vec<u8>,
    ) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        let request = hyper::Request::post(upload_path(file, offset))
            .header(api::PROTOCOL_HEADER, api::PROTOCOL_VERSION.to_string())
            .header("authorization", format!("Bearer {token}"))
            .header("content-length", body.len())
            .body(Full::new(Bytes::from(body)))?;
        self.conn.send(request).await
    }

    /// Logs in and returns the session.
    ///
    /// # Errors
    /// If the login is refused.
    pub async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<LoginResponse> {
        let request = LoginRequest {
            email: email.into(),
            password: password.into(),
            device: "e2e".into(),
        };
        let (status, body) = self.call(endpoints::Login::PATH, None, &request).await?;
        if !status.is_success() {
            bail!(
                "login failed: {status} {:?}",
                codec::decode::<ErrorResponse>(&body)
            );
        }
        Ok(codec::decode(&body)?)
    }

    /// Accepts the server's current privacy notice for the session `token` (as
    /// `cairn account consent` does).
    ///
    /// # Errors
    /// If the notice cannot be read or the acceptance is refused.
    pub async fn accept_notice(&mut self, token: &str) -> anyhow::Result<()> {
        let (status, body) = self
            .call(
                endpoints::PrivacyNotice::PATH,
                None,
                &cairn_common::api::Empty,
            )
            .await?;
        if !status.is_success() {
            bail!("cannot read the privacy notice: {status}");
        }
        let notice: cairn_common::api::consent::Notice = codec::decode(&body)?;
        let (status, body) = self
            .call(
                endpoints::ConsentAccept::PATH,
                Some(token),
                &cairn_common::api::consent::AcceptNotice {
                    version: notice.version,
                },
            )
            .await?;
        if !status.is_success() {
            bail!(
                "accepting the privacy notice failed: {status} {:?}",
                codec::decode::<ErrorResponse>(&body)
            );
        }
        Ok(())
    }

    /// Pushes `ops` and decodes the answer.
    ///
    /// # Errors
    /// If the connection fails or the push is not answered with 200.
    pub async fn push(&mut self, token: &str, ops: Vec<Op>) -> anyhow::Result<PushResponse> {
        let (status, body) = self
            .call(endpoints::Push::PATH, Some(token), &PushRequest { ops })
            .await?;
        if !status.is_success() {
            bail!(
                "push failed: {status} {:?}",
                codec::decode::<ErrorResponse>(&body)
            );
        }
        Ok(codec::decode(&body)?)
    }

    /// Pulls every space from the start in one page.
    ///
    /// # Errors
    /// If the connection fails or the pull is not answered with 200.
    pub async fn pull_all(&mut self, token: &str) -> anyhow::Result<PullResponse> {
        let request = PullRequest {
            epoch: None,
            cursors: vec![],
            max_ops: 0,
        };
        let (status, body) = self
            .call(endpoints::Pull::PATH, Some(token), &request)
            .await?;
        if !status.is_success() {
            bail!(
                "pull failed: {status} {:?}",
                codec::decode::<ErrorResponse>(&body)
            );
        }
        Ok(codec::decode(&body)?)
    }

    /// `GET path` (with its query): the status and body as text.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<(u16, String)> {
        self.conn.get(path).await
    }

    /// `GET /healthz`: its status and body.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn health_body(&mut self) -> anyhow::Result<(u16, String)> {
        self.conn.get(endpoints::HEALTHZ).await
    }

    /// `GET /healthz`.
    ///
    /// # Errors
    /// If the connection fails.
    pub async fn health(&mut self) -> anyhow::Result<u16> {
        Ok(self.conn.get(endpoints::HEALTHZ).await?.0)
    }
}

/// Replaces section `[name]` of the data dir's `cairn-server.toml` (the one `init`
/// wrote, whose sections each start with their `[name]` line) with `body`, or
/// appends it if there is none.
///
/// # Errors
/// If the config cannot be read or written.
pub fn set_config_section(data_dir: &Path, name: &str, body: &str) -> anyhow::Result<()> {
    let path = data_dir.join("cairn-server.toml");
    let text = std::fs::read_to_string(&path)?;
    let header = format!("[{name}]");
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            skipping = line.trim() == header;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("\n{header}\n{body}\n"));
    std::fs::write(&path, out)?;
    Ok(())
}

/// Runs `cairn-server ARGS` (a data dir of its own, not a [`ServerProcess`]'s)
/// and returns what it printed.
///
/// # Errors
/// If it cannot run or fails; the message has its stderr.
pub fn cairn_server(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(binary("cairn-server")?).args(args).output()?;
    if !output.status.success() {
        bail!(
            "cairn-server {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Waits until `check` is true, polling.
///
/// # Errors
/// After `timeout`.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > timeout {
            bail!("condition not met within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// An upload sent by hand, cut short: the first `part` of a body of frames
/// that announces `announced` bytes.
pub struct HandUpload<'a> {
    pub token: &'a str,
    pub file: &'a FileRef,
    pub offset: u64,
    pub part: &'a [u8],
    pub announced: u64,
}

impl<'a> HandUpload<'a> {
    /// The first `cut` bytes of `body`, the frames of `file` from its start.
    #[must_use]
    pub fn cut(token: &'a str, file: &'a FileRef, body: &'a [u8], cut: usize) -> Self {
        Self {
            token,
            file,
            offset: 0,
            part: &body[..cut.min(body.len())],
            announced: body.len() as u64,
        }
    }
}

fn upload_path(file: &FileRef, offset: u64) -> String {
    format!(
        "https://localhost{}?{}&offset={offset}",
        endpoints::FILE_UPLOAD,
        file.query()
    )
}

/// `content` (a whole file) as an upload body: frames of `frame` bytes, each
/// with its header.
///
/// # Errors
/// Frames over the protocol's limit.
pub fn framed(content: &[u8], frame: usize) -> anyhow::Result<Vec<u8>> {
    let mut framer = Framer::new();
    let mut body = Vec::new();
    for piece in content.chunks(frame) {
        let header = framer.header(piece).context("a frame over the limit")?;
        body.extend_from_slice(&header.encode());
        body.extend_from_slice(piece);
    }
    Ok(body)
}
