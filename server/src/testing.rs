//! Test helpers shared by this crate's tests and the end-to-end tests in `tests/`
//! (feature `testing`): [`TestServer`], a whole server on 127.0.0.1 port 0 in a
//! temporary data dir (its store sled there, or a PostgreSQL database), and [`Conn`], a TLS client that trusts one certificate and
//! speaks HTTP/1.1 or h2.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::admin::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::serve::Instance;
use crate::settings::Settings;
use crate::tls::TlsHandle;

/// Every file under `dir` (recursively) whose bytes contain `needle`: what a
/// purge test expects to find none of.
#[must_use]
pub fn files_containing(dir: &Path, needle: impl AsRef<[u8]>) -> Vec<PathBuf> {
    let needle = needle.as_ref();
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

/// A running server in a fresh data dir (made by `init`), on its own thread and
/// runtime so that it works from sync and async tests alike. Dropping it shuts the
/// server down gracefully and deletes the dir.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The certificate's DER bytes, for clients to trust.
    pub cert_der: Vec<u8>,
    pub fingerprint: String,
    /// The standard account's initial password.
    pub admin_password: String,
    tls: TlsHandle,
    store: crate::store::Store,
    backups: crate::backup::Backups,
    data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    /// The temporary dir holding the data dir; `None` once `stop` handed it out.
    dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Inits a temporary data dir and starts serving it.
    ///
    /// # Errors
    /// If any step of init or start fails.
    pub fn start() -> anyhow::Result<TestServer> {
        Self::start_with(|_| {})
    }

    /// As [`TestServer::start`], with a chance to change the settings first.
    ///
    /// # Errors
    /// If any step of init or start fails.
    pub fn start_with(adjust: impl FnOnce(&mut Settings)) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("data");
        let report = crate::init::init(&data_dir, &[])?;
        Self::serve_dir(
            dir,
            data_dir,
            report.fingerprint,
            report.admin_password,
            adjust,
        )
    }

    /// Inits a temporary data dir whose store is the PostgreSQL database at `url`
    /// (e.g. a [`TestPostgres`](crate::test_postgres::TestPostgres) database) and
    /// starts serving it. The first server on a database makes its standard
    /// account; a later one joins it, and its `admin_password` is empty.
    ///
    /// # Errors
    /// If any step of init or start fails, e.g. the database cannot be reached.
    pub fn start_on_postgres(
        url: &str,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("data");
        let store = crate::init::InitStore::Postgres {
            url: url.to_owned(),
            write_url: true,
        };
        let report = crate::init::init_with(&data_dir, &[], &store)?;
        Self::serve_dir(
            dir,
            data_dir,
            report.fingerprint,
            report.admin_password,
            adjust,
        )
    }

    /// Serves a data dir that exists already (e.g. one a test restored a backup
    /// into), held in `dir`. Its admin password is unknown: `admin_password` is empty.
    ///
    /// # Errors
    /// If the data dir cannot be opened or served.
    pub fn start_existing(dir: tempfile::TempDir, data_dir: PathBuf) -> anyhow::Result<TestServer> {
        let settings = Settings::load(&data_dir, std::iter::empty())?;
        let fingerprint =
            crate::tls::TlsHandle::load(&settings.cert_path(), &settings.key_path())?.fingerprint();
        Self::serve_dir(dir, data_dir, fingerprint, String::new(), |_| {})
    }

    fn serve_dir(
        dir: tempfile::TempDir,
        data_dir: PathBuf,
        fingerprint: String,
        admin_password: String,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<TestServer> {
        let mut settings = Settings::load(&data_dir, std::iter::empty())?;
        settings.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        adjust(&mut settings);
        let cert_der = CertificateDer::pem_file_iter(settings.cert_path())?
            .next()
            .context("no certificate in the new data dir")??
            .to_vec();
        let listener = std::net::TcpListener::bind(settings.server.listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (opened, is_opened) = std::sync::mpsc::channel();
        let (ready, is_ready) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("test-server-{addr}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                // Opened on the server's runtime: a PostgreSQL pool's connections
                // run on the runtime that made them.
                runtime.block_on(async move {
                    let instance = Instance::connect(settings).await?;
                    let _ = opened.send((
                        instance.tls().clone(),
                        instance.store().clone(),
                        instance.backups().clone(),
                    ));
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let ready = move || {
                        let _ = ready.send(());
                    };
                    instance
                        .serve_and_notify(listener, ready, async {
                            let _ = stopped.await;
                        })
                        .await
                })
            })?;
        let opened = is_opened.recv();
        let (Ok((tls, store, backups)), Ok(())) = (opened, is_ready.recv()) else {
            // The thread ended before serving: its result says why.
            return match thread.join() {
                Ok(Err(e)) => Err(e.context("the test server did not start")),
                Ok(Ok(())) => Err(anyhow::anyhow!("the test server stopped at once")),
                Err(_) => Err(anyhow::anyhow!("the test server thread panicked")),
            };
        };
        Ok(TestServer {
            addr,
            cert_der,
            fingerprint,
            admin_password,
            tls,
            store,
            backups,
            data_dir,
            stop: Some(stop),
            thread: Some(thread),
            dir: Some(dir),
        })
    }

    /// The running server's store (tests look inside or simulate faults).
    pub fn store(&self) -> &crate::store::Store {
        &self.store
    }

    /// The running server's backups (tests look at their health or simulate faults).
    pub fn backups(&self) -> &crate::backup::Backups {
        &self.backups
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's TLS handle ([`TlsHandle::reload`] is what SIGHUP calls).
    pub fn tls(&self) -> &TlsHandle {
        &self.tls
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Opens a connection that trusts this server's certificate.
    ///
    /// # Errors
    /// As [`Conn::connect`].
    pub async fn connect(&self, http: Http) -> anyhow::Result<Conn> {
        Conn::connect(self.addr, &self.cert_der, http).await
    }

    /// Runs an admin command as `cairn-server user ...` would (through the control
    /// socket, since the server holds the data dir). Blocking.
    ///
    /// # Errors
    /// If the control socket cannot be reached.
    pub fn admin(&self, request: AdminRequest) -> anyhow::Result<AdminResponse> {
        crate::admin::client::send(&DataDir::new(&self.data_dir), request)
    }

    /// Shuts the server down gracefully. The data dir stays (for a look at what
    /// the server left) until the returned guard is dropped.
    ///
    /// # Errors
    /// What `serve` returned, or a panic of the server thread.
    pub fn stop(mut self) -> anyhow::Result<tempfile::TempDir> {
        self.shutdown()?;
        self.dir
            .take()
            .context("the test server's dir was already handed out")
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| anyhow::anyhow!("the test server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            // Drop cannot return it; a test that cares calls `stop()`.
            eprintln!("test server: {e:#}");
        }
    }
}

/// Which HTTP version a test connection speaks (chosen by ALPN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http {
    One,
    Two,
}

impl Http {
    fn alpn(self) -> Vec<u8> {
        match self {
            Http::One => b"http/1.1".to_vec(),
            Http::Two => b"h2".to_vec(),
        }
    }
}

/// A rustls client config that trusts exactly `cert_der` and offers `http`'s ALPN.
///
/// # Errors
/// If the certificate cannot be a root (not a certificate).
pub fn client_config(cert_der: &[u8], http: Http) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cert_der.to_vec()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![http.alpn()];
    Ok(Arc::new(config))
}

/// A TCP connection to `addr`, from the local address `source` if given (any
/// 127.0.0.x works on loopback, so tests can be several hosts).
///
/// # Errors
/// If the source cannot be bound or the connection fails.
pub async fn tcp_connect(source: Option<IpAddr>, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(addr).await;
    };
    let socket = match source {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// A TLS connection (handshake done, nothing sent) to `addr` as `localhost`,
/// trusting only `cert_der` and offering `http`'s ALPN, from `source` if given.
///
/// # Errors
/// If the connection or the handshake fails.
pub async fn tls_connect(
    source: Option<IpAddr>,
    addr: SocketAddr,
    cert_der: &[u8],
    http: Http,
) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(client_config(cert_der, http)?);
    let tcp = tcp_connect(source, addr).await?;
    Ok(connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?)
}

enum Sender {
    One(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Two(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One open TLS connection to a server, for several requests.
pub struct Conn {
    sender: Sender,
    /// The SHA-256 fingerprint of the certificate the server presented.
    pub server_fingerprint: String,
    /// The ALPN protocol the server chose.
    pub alpn: Option<Vec<u8>>,
}

impl Conn {
    /// Connects to `addr` as `localhost`, trusting only `cert_der`.
    ///
    /// # Errors
    /// If the connection, the TLS handshake or the HTTP handshake fails.
    pub async fn connect(addr: SocketAddr, cert_der: &[u8], http: Http) -> anyhow::Result<Conn> {
        Conn::over(tls_connect(None, addr, cert_der, http).await?, http).await
    }

    /// As [`Conn::connect`], from the loopback address `source` (e.g. 127.0.0.2), so
    /// that one test can act as several hosts.
    ///
    /// # Errors
    /// As [`Conn::connect`].
    pub async fn connect_from(
        source: IpAddr,
        addr: SocketAddr,
        cert_der: &[u8],
        http: Http,
    ) -> anyhow::Result<Conn> {
        Conn::over(tls_connect(Some(source), addr, cert_der, http).await?, http).await
    }

    async fn over(
        tls: tokio_rustls::client::TlsStream<TcpStream>,
        http: Http,
    ) -> anyhow::Result<Conn> {
        let (_, session) = tls.get_ref();
        let server_fingerprint = session
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| crate::tls::fingerprint(c))
            .unwrap_or_default();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let io = TokioIo::new(tls);
        let sender = match http {
            Http::One => {
                let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
                tokio::spawn(conn);
                Sender::One(sender)
            }
            Http::Two => {
                let (sender, conn) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
                tokio::spawn(conn);
                Sender::Two(sender)
            }
        };
        Ok(Conn {
            sender,
            server_fingerprint,
            alpn,
        })
    }

    /// Sends a request and reads the whole response.
    ///
    /// # Errors
    /// If the connection fails or closes before the response is complete.
    pub async fn send(
        &mut self,
        request: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        let response = match &mut self.sender {
            Sender::One(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
            Sender::Two(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
        };
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// `GET path` with a body read as text.
    ///
    /// # Errors
    /// As [`Conn::send`].
    pub async fn get(&mut self, path: &str) -> anyhow::Result<(u16, String)> {
        let request = hyper::Request::get(format!("https://localhost{path}"))
            .body(Full::new(Bytes::new()))?;
        let (status, body) = self.send(request).await?;
        Ok((status.as_u16(), String::from_utf8_lossy(&body).into_owned()))
    }
}

/// A CA of a test's own and a certificate for loopback names signed by it, as
/// PEM: for the real servers the tests start beside Cairn (SMTP, PostgreSQL, an
/// ACME CA), which the code under test must trust by a CA file.
pub struct LoopbackCa {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl LoopbackCa {
    /// A new CA named `name` and a certificate for `names` signed by it.
    ///
    /// # Errors
    /// If rcgen cannot make them.
    pub fn new(name: &str, names: &[&str]) -> anyhow::Result<Self> {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, name);
        let ca_key = rcgen::KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let server = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )?;
        let server_key = rcgen::KeyPair::generate()?;
        let server_cert = server.signed_by(&server_key, &issuer)?;
        Ok(Self {
            ca_pem: ca_cert.pem(),
            cert_pem: server_cert.pem(),
            key_pem: server_key.serialize_pem(),
        })
    }
}
