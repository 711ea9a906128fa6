//! A real ACME CA for the end-to-end tests: Pebble (Let's Encrypt's test CA,
//! Debian's package `pebble`) on loopback, validating TLS-ALPN-01 challenges on the
//! port of the `cairn-server` under test.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_server::testing::LoopbackCa;

/// Where Debian installs Pebble.
pub const PEBBLE: &str = "/usr/bin/pebble";

/// A free loopback port (bound and released; another process could take it in
/// between, which on a test machine does not happen in practice).
///
/// # Errors
/// If no port can be bound.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A Pebble CA on loopback; killed when dropped.
pub struct TestPebble {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Its ACME directory URL.
    pub directory: String,
    /// The root its API's own HTTPS is signed by (for `[tls.acme] ca_file`).
    pub api_root: PathBuf,
    management: SocketAddr,
    api: SocketAddr,
}

impl TestPebble {
    /// Picks Pebble's ports, so that a server can be configured before Pebble
    /// runs ([`TestPebble::start`]).
    ///
    /// # Errors
    /// If Pebble is not installed, or no port or key can be made.
    pub fn prepare() -> anyhow::Result<Self> {
        if !Path::new(PEBBLE).exists() {
            bail!("{PEBBLE} is missing: install Debian's package `pebble` (.ci/run does)");
        }
        let dir = tempfile::tempdir()?;
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let management = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        // Pebble's API certificate, signed by a root of our own that the server
        // trusts for the directory's HTTPS.
        let ca = LoopbackCa::new("cairn test ACME API CA", &["127.0.0.1", "localhost"])?;
        let api_root = dir.path().join("api-root.pem");
        std::fs::write(&api_root, ca.ca_pem)?;
        std::fs::write(dir.path().join("api-cert.pem"), ca.cert_pem)?;
        std::fs::write(dir.path().join("api-key.pem"), ca.key_pem)?;
        Ok(Self {
            directory: format!("https://{api}/dir"),
            api_root,
            management,
            api,
            dir,
            child: None,
        })
    }

    /// Starts Pebble, validating TLS-ALPN-01 challenges on `tls_port`.
    ///
    /// # Errors
    /// If Pebble does not start or listen in time.
    pub fn start(&mut self, tls_port: u16) -> anyhow::Result<()> {
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": self.api.to_string(),
                "managementListenAddress": self.management.to_string(),
                "certificate": self.dir.path().join("api-cert.pem"),
                "privateKey": self.dir.path().join("api-key.pem"),
                "httpPort": free_port()?,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
            }
        });
        let config_path = self.dir.path().join("pebble-config.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let log = std::fs::File::create(self.dir.path().join("pebble.log"))?;
        let child = Command::new(PEBBLE)
            .arg("-config")
            .arg(&config_path)
            // No random sleeps before validating, and no randomly refused nonces:
            // a test wants the CA's behaviour, not its chaos.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting pebble")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(self.api).is_err()
            || std::net::TcpStream::connect(self.management).is_err()
        {
            if Instant::now() > deadline {
                bail!("pebble did not listen in time:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The root of the certificates Pebble issues, as PEM, written to a file (what
    /// a client trusts with `--ca-file`).
    ///
    /// # Errors
    /// If Pebble does not answer.
    pub fn issuing_root(&self) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("issuing-root.pem");
        let output = Command::new("curl")
            .args(["--silent", "--show-error", "--fail", "--cacert"])
            .arg(&self.api_root)
            .arg(format!("https://{}/roots/0", self.management))
            .arg("--output")
            .arg(&path)
            .output()
            .context("running curl")?;
        if !output.status.success() {
            bail!(
                "cannot fetch Pebble's root: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(path)
    }

    /// Pebble's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// Stops Pebble.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestPebble {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The body of a `[tls.acme]` section for a server at `localhost` ordering from
/// `pebble`, retrying a failed order after a second.
#[must_use]
pub fn acme_section(pebble: &TestPebble) -> String {
    format!(
        "domains = [\"localhost\"]\ncontact = \"mailto:admin@example.com\"\n\
         directory = {:?}\nca_file = {:?}\nretry_secs = 1\n",
        pebble.directory,
        pebble.api_root.display().to_string()
    )
}
