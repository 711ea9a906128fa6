//! A throwaway PostgreSQL server for tests (feature `testing`): Debian's PostgreSQL
//! (`initdb`, `pg_ctl` from `/usr/lib/postgresql/<version>/bin` or `PATH`) on a
//! temporary directory and a free loopback port, run as the `postgres` user through
//! `runuser` when the tests run as root (PostgreSQL refuses to run as root).
//!
//! One server per test process ([`TestPostgres::shared`]): starting one takes a
//! second or two, a fresh database in it ([`TestPostgres::database`]) a few
//! milliseconds, so each test gets its own database and the server stops when the
//! process ends. If PostgreSQL is not installed the tests fail with the command that
//! installs it; they do not skip.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use anyhow::{Context, bail};

/// How a test connects: `postgres://cairn@127.0.0.1:PORT/DB`.
pub type Url = String;

/// A running PostgreSQL server in a temporary directory.
pub struct TestPostgres {
    port: u16,
    /// The cluster's directory (owned by `postgres` when run as root).
    root: PathBuf,
    bin: PathBuf,
    as_root: bool,
    databases: AtomicU32,
}

static SHARED: OnceLock<Mutex<Weak<TestPostgres>>> = OnceLock::new();

impl TestPostgres {
    /// The server this process shares, started on first use. Hold the `Arc` while
    /// using databases of it; the server stops when the last holder drops it.
    ///
    /// # Errors
    /// PostgreSQL is missing or does not start (the message says how to install it).
    pub fn shared() -> anyhow::Result<Arc<Self>> {
        let slot = SHARED.get_or_init(|| Mutex::new(Weak::new()));
        let mut slot = slot
            .lock()
            .map_err(|_| anyhow::anyhow!("a test panicked while starting PostgreSQL"))?;
        if let Some(running) = slot.upgrade() {
            return Ok(running);
        }
        let started = Arc::new(Self::start()?);
        *slot = Arc::downgrade(&started);
        Ok(started)
    }

    /// Starts a new server of its own.
    ///
    /// # Errors
    /// As [`Self::shared`].
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&[])
    }

    /// Starts a new server of its own that also speaks TLS, with a certificate for
    /// `localhost` (only: not for `127.0.0.1`) from a CA made for it; the CA's PEM file is at
    /// [`Self::ca_file`].
    ///
    /// # Errors
    /// As [`Self::shared`], or the certificates could not be made.
    pub fn start_with_tls() -> anyhow::Result<Self> {
        Self::start_with(&["ssl"])
    }

    /// The PEM file of the CA of a server started [`Self::start_with_tls`].
    #[must_use]
    pub fn ca_file(&self) -> PathBuf {
        self.root.join("ca.pem")
    }

    fn start_with(features: &[&str]) -> anyhow::Result<Self> {
        let bin = find_bin()?;
        let as_root = is_root();
        let root = tempdir_for_postgres(as_root)?;
        let data = root.join("data");
        let sockets = root.join("sockets");
        std::fs::create_dir_all(&sockets)?;
        if as_root {
            chown_postgres(&root)?;
            chown_postgres(&sockets)?;
        }
        let pg = Self {
            port: free_port()?,
            root,
            bin,
            as_root,
            databases: AtomicU32::new(0),
        };
        pg.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "--username=cairn",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )?;
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=on -c synchronous_commit=on \
             -c max_connections=200",
            pg.port,
            path_str(&sockets)?
        );
        if features.contains(&"ssl") {
            options += &pg.make_certificates()?;
        }
        pg.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-o",
                &options,
                "-l",
                path_str(&pg.root.join("server.log"))?,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .with_context(|| format!("the log says: {}", pg.log_tail()))?;
        Ok(pg)
    }

    /// Writes a CA (`ca.pem`) and a server certificate and key signed by it; the
    /// options that make the server use them.
    fn make_certificates(&self) -> anyhow::Result<String> {
        let ca = crate::testing::LoopbackCa::new("cairn test database CA", &["localhost"])?;
        std::fs::write(self.ca_file(), ca.ca_pem)?;
        let (cert, key) = (self.root.join("server.crt"), self.root.join("server.key"));
        std::fs::write(&cert, ca.cert_pem)?;
        std::fs::write(&key, ca.key_pem)?;
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
        }
        if self.as_root {
            chown_postgres(&cert)?;
            chown_postgres(&key)?;
        }
        Ok(format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            path_str(&cert)?,
            path_str(&key)?
        ))
    }

    /// A new, empty database; its URL.
    ///
    /// # Errors
    /// The server refuses (the message includes its log).
    pub fn database(&self) -> anyhow::Result<Url> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("cairn_test_{}_{n}", std::process::id());
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "cairn",
                &name,
            ],
        )
        .with_context(|| format!("the log says: {}", self.log_tail()))?;
        Ok(format!("postgres://cairn@127.0.0.1:{}/{name}", self.port))
    }

    /// The port it listens on (127.0.0.1).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the cluster (for tests that look at its files).
    #[must_use]
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The path of one of PostgreSQL's programs (`pg_dump`, `psql`, …).
    #[must_use]
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        let exe = self.bin.join(program);
        let output = if self.as_root {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .current_dir(&self.root)
                .output()
        } else {
            Command::new(&exe)
                .args(args)
                .current_dir(&self.root)
                .output()
        }
        .with_context(|| format!("running {}", exe.display()))?;
        if !output.status.success() {
            bail!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.root.join("data")) {
            let _ = self.run("pg_ctl", &["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

/// `initdb`'s directory: Debian keeps PostgreSQL's programs out of `PATH`.
fn find_bin() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some(newest) = versions.pop() {
        return Ok(newest);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .context(
            "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or PATH); \
             install it with `apt-get install postgresql` (Debian) and run the tests again",
        )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A directory the `postgres` user can reach: under /tmp, mode 0700, owned by it.
fn tempdir_for_postgres(as_root: bool) -> anyhow::Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix("cairn-pg-")
        .tempdir_in(std::env::temp_dir())?
        .keep();
    if as_root {
        chown_postgres(&dir)?;
    }
    Ok(dir)
}

fn chown_postgres(path: &Path) -> anyhow::Result<()> {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .context("running chown")?;
    if !status.success() {
        bail!(
            "cannot hand {} to the postgres user; is the `postgres` user there \
             (it comes with Debian's postgresql package)?",
            path.display()
        );
    }
    Ok(())
}

/// A loopback port nobody listens on now.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
