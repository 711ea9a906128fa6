//! `cairn-server init`: a new data dir with a commented config, `db/`, `backups/`,
//! `tls/` (a self-signed certificate for trials) and the standard admin account.
//!
//! Everything is checked before anything is written: a dir that is already set up
//! is refused untouched, and if a step fails what init made is removed again.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Datelike;

use crate::admin::generate_password;
use crate::datadir::DataDir;
use crate::settings::{EXAMPLE_CONFIG, TlsSettings};
use crate::store::{NewUser, PgStore, Store, StoreError, wait};
use crate::tls::fingerprint;

/// The login name of the standard account.
pub const ADMIN_LOGIN: &str = "admin";

/// What init made, for the person running it.
pub struct InitReport {
    pub data_dir: PathBuf,
    pub cert_path: PathBuf,
    /// See [`fingerprint`].
    pub fingerprint: String,
    /// The standard account's initial password; shown once, never stored in clear.
    /// Empty if init joined a database that already had accounts.
    pub admin_password: String,
    /// Whether the store is a PostgreSQL database.
    pub on_postgres: bool,
    /// Whether the database already had accounts (another server's init made
    /// them), so none was made.
    pub joined: bool,
}

/// The store a new data dir is set up with.
#[derive(Clone, Debug)]
pub enum InitStore {
    /// sled in `db/` of the data dir (the default).
    Sled,
    /// A PostgreSQL database. `write_url`: whether the url goes into the config
    /// (else the server reads it from `CAIRN_SERVER__STORE__URL`, so a password
    /// stays out of the file).
    Postgres { url: String, write_url: bool },
}

impl InitReport {
    /// Prints the report. The last two lines end with the fingerprint and the
    /// password, so a script can take them with `sed -n 's/^initial admin password: //p'`.
    ///
    /// # Errors
    /// A write error.
    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let dir = self.data_dir.display();
        if self.on_postgres {
            writeln!(
                out,
                "set up {dir}: cairn-server.toml, backups/, tls/; the store is the PostgreSQL \
                 database of [store]"
            )?;
        } else {
            writeln!(out, "set up {dir}: cairn-server.toml, db/, backups/, tls/")?;
        }
        writeln!(
            out,
            "self-signed certificate for trials: {}",
            self.cert_path.display()
        )?;
        writeln!(
            out,
            "  clients pin it with: cairn login --fingerprint {}",
            self.fingerprint
        )?;
        writeln!(
            out,
            "  for production, put your CA's certificate and key in [tls] of the config"
        )?;
        writeln!(
            out,
            "start the server with: cairn-server serve --data-dir {dir}"
        )?;
        if self.joined {
            writeln!(
                out,
                "the database already has accounts (another server's init made them): no \
                 account was made; log in with those"
            )?;
            return writeln!(
                out,
                "certificate fingerprint (SHA-256): {}",
                self.fingerprint
            );
        }
        writeln!(
            out,
            "log in as `{ADMIN_LOGIN}` and change the password; it is shown only this once"
        )?;
        writeln!(
            out,
            "certificate fingerprint (SHA-256): {}",
            self.fingerprint
        )?;
        writeln!(out, "initial admin password: {}", self.admin_password)
    }
}

/// Sets up a new data dir at `dir` (which may exist, but must not hold a config,
/// `db/`, `backups/` or `tls/`).
///
/// # Errors
/// If the dir is already set up (then nothing is changed), a hostname is invalid,
/// or a file cannot be written (then what init made is removed).
pub fn init(dir: &Path, hostnames: &[String]) -> anyhow::Result<InitReport> {
    init_with(dir, hostnames, &InitStore::Sled)
}

/// As [`init`], with the store of `store`. On PostgreSQL the standard account is
/// made only if the database has no accounts yet; otherwise this server joins the
/// servers already on it.
///
/// # Errors
/// As [`init`], or a database that cannot be reached (then what init made is
/// removed).
pub fn init_with(
    dir: &Path,
    hostnames: &[String],
    store: &InitStore,
) -> anyhow::Result<InitReport> {
    let data_dir = DataDir::new(dir);
    let tls_files = TlsSettings::default();
    let existing: Vec<PathBuf> = [
        data_dir.config(),
        data_dir.db(),
        data_dir.backups(),
        data_dir.tls(),
    ]
    .into_iter()
    .filter(|p| p.symlink_metadata().is_ok())
    .collect();
    if let Some(found) = existing.first() {
        anyhow::bail!(
            "{} is already set up ({} exists); init changed nothing. To start over, stop \
             the server and remove the dir, or give another --data-dir",
            dir.display(),
            found.display()
        );
    }
    let cert = self_signed(hostnames)?;
    let admin_password = generate_password();

    let created_root = !dir.exists();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    // Personnel data: only the owner may look inside, also when the dir existed.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict {} to its owner", dir.display()))?;
    let lock = data_dir.lock()?;

    let cert_path = dir.join(&tls_files.cert);
    let config = config_for(store);
    let mut joined = false;
    let result = (|| -> anyhow::Result<()> {
        write_new_file(&data_dir.config(), config.as_bytes(), 0o600)?;
        for sub in [data_dir.backups(), data_dir.tls()] {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&sub)
                .with_context(|| format!("cannot create {}", sub.display()))?;
        }
        write_new_file(&cert_path, cert.cert_pem.as_bytes(), 0o644)?;
        write_new_file(&dir.join(&tls_files.key), cert.key_pem.as_bytes(), 0o600)?;
        // The built-in notice, to start the licensee's own from ([privacy] says how).
        write_new_file(
            &dir.join(crate::privacy::notice::NOTICE_FILE),
            crate::privacy::notice::BUILT_IN_TEXT.as_bytes(),
            0o644,
        )?;
        let admin = NewUser {
            email: ADMIN_LOGIN.into(),
            first_name: "Admin".into(),
            last_name: String::new(),
            password_hash: crate::auth::password::hash_new(&admin_password)?,
            must_change_password: true,
            server_admin: true,
        };
        match store {
            InitStore::Sled => {
                let store = Store::open(&data_dir.db())?;
                wait(store.create_user(admin))?;
                wait(store.flush())?;
            }
            // One runtime for connecting and using: the pool lives on it.
            InitStore::Postgres { url, .. } => joined = wait(join_or_create(url, admin))?,
        }
        Ok(())
    })();
    if let Err(e) = result {
        // Nothing of these existed before (checked above): removing them undoes init.
        for path in [
            data_dir.config(),
            data_dir.backups(),
            data_dir.tls(),
            data_dir.db(),
        ] {
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
        drop(lock);
        let _ = std::fs::remove_file(data_dir.lock_file());
        if created_root {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(e.context(format!("init of {} failed and was undone", dir.display())));
    }
    Ok(InitReport {
        data_dir: dir.to_path_buf(),
        cert_path,
        fingerprint: cert.fingerprint(),
        admin_password: if joined {
            String::new()
        } else {
            admin_password
        },
        on_postgres: matches!(store, InitStore::Postgres { .. }),
        joined,
    })
}

/// The commented config for `store`: the example, with `[store]` filled in for
/// PostgreSQL.
fn config_for(store: &InitStore) -> String {
    match store {
        InitStore::Sled => EXAMPLE_CONFIG.to_string(),
        InitStore::Postgres { url, write_url } => {
            let url_line = if *write_url {
                format!("\nurl = {}\n", toml::Value::String(url.clone()))
            } else {
                "\nurl = \"\"\n".to_string()
            };
            EXAMPLE_CONFIG
                .replacen("\nbackend = \"sled\"\n", "\nbackend = \"postgres\"\n", 1)
                .replacen("\nurl = \"\"\n", &url_line, 1)
        }
    }
}

/// Connects to the database at `url` (applying its migrations) and makes the
/// standard account unless it has accounts. True if it had (this server joins).
/// Two inits racing on an empty database: the loser finds the admin made.
async fn join_or_create(url: &str, admin: NewUser) -> Result<bool, StoreError> {
    let store = Store::Postgres(PgStore::connect(url, 2).await?);
    if !store.list_users().await?.is_empty() {
        return Ok(true);
    }
    match store.create_user(admin).await {
        Ok(_) => Ok(false),
        Err(StoreError::DuplicateEmail(_)) => Ok(true),
        Err(e) => Err(e),
    }
}

/// A freshly generated self-signed certificate and its key, as PEM.
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate's DER bytes (what [`fingerprint`] hashes).
    pub der: Vec<u8>,
}

impl SelfSigned {
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.der)
    }
}

/// The names every generated certificate covers, before the `--hostname`s.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Makes a self-signed certificate for `localhost`, `127.0.0.1`, `::1` and each of
/// `hostnames` (IP addresses become IP SANs), valid from yesterday for ten years.
///
/// # Errors
/// A message naming a hostname that is not a valid DNS name or IP address.
pub fn self_signed(hostnames: &[String]) -> anyhow::Result<SelfSigned> {
    let mut names: Vec<String> = DEFAULT_NAMES.iter().map(|s| s.to_string()).collect();
    for name in hostnames {
        // rcgen takes any ASCII as a DNS name; a client would never match a bad one.
        if rustls_pki_types::ServerName::try_from(name.as_str()).is_err() {
            anyhow::bail!(
                "--hostname {name:?} is neither a DNS name nor an IP address; give names \
                 like cairn.example.com or addresses like 10.0.0.5"
            );
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut params = rcgen::CertificateParams::new(names)
        .map_err(|e| anyhow::anyhow!("cannot put {hostnames:?} in a certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cairn-server (self-signed)");
    // Yesterday, so a client whose clock is a little behind accepts it.
    let start = chrono::Utc::now() - chrono::Duration::days(1);
    let (year, month, day) = (start.year(), start.month() as u8, start.day() as u8);
    params.not_before = rcgen::date_time_ymd(year, month, day);
    params.not_after = rcgen::date_time_ymd(year + 10, month, day.min(28));
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().to_vec(),
    })
}

/// Writes `contents` to a new file with `mode` (refusing to overwrite one).
///
/// # Errors
/// The I/O error, with the path.
pub fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking as _;

    /// Every file below `dir` with its bytes and permissions.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("read dir") {
                let path = entry.expect("entry").path();
                let meta = std::fs::metadata(&path).expect("meta");
                let mode = meta.permissions().mode() & 0o777;
                if meta.is_dir() {
                    out.push((path.clone(), Vec::new(), mode));
                    stack.push(path);
                } else {
                    out.push((path.clone(), std::fs::read(&path).expect("read"), mode));
                }
            }
        }
        out.sort();
        out
    }

    /// init writes the commented config, the dirs (0700), a certificate whose
    /// fingerprint it prints, a 0600 key, and the admin account whose password it
    /// prints on a line of its own.
    #[test]
    fn init_sets_up_a_data_dir() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("data");
        let report = init(&dir, &["cairn.example.com".into()]).expect("init");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;

        let data = DataDir::new(&dir);
        assert_eq!(
            std::fs::read_to_string(data.config()).expect("config"),
            EXAMPLE_CONFIG
        );
        for sub in [dir.clone(), data.db(), data.backups(), data.tls()] {
            assert_eq!(mode(&sub), 0o700, "{}", sub.display());
        }
        assert_eq!(mode(&dir.join("tls/key.pem")), 0o600);
        let settings = crate::settings::Settings::load(&dir, []).expect("settings");
        let tls = crate::tls::TlsHandle::load(&settings.cert_path(), &settings.key_path())
            .expect("certificate loads");
        assert_eq!(tls.fingerprint(), report.fingerprint);
        assert_eq!(report.fingerprint.len(), 64);

        let mut printed = Vec::new();
        report.print(&mut printed).expect("print");
        let printed = String::from_utf8(printed).expect("utf8");
        let line = |prefix: &str| {
            printed
                .lines()
                .find_map(|l| l.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no line {prefix:?} in {printed}"))
                .to_string()
        };
        assert_eq!(line("initial admin password: "), report.admin_password);
        assert_eq!(
            line("certificate fingerprint (SHA-256): "),
            report.fingerprint
        );

        let store = Store::open(&data.db()).expect("store");
        let users = store.list_users().wait().expect("users");
        assert_eq!(users.len(), 1);
        let admin = &users[0];
        assert_eq!(admin.profile.email, ADMIN_LOGIN);
        assert!(admin.server_admin && admin.must_change_password && !admin.disabled);
        let record = store
            .user_by_email(ADMIN_LOGIN)
            .wait()
            .expect("read")
            .expect("admin");
        assert!(crate::auth::password::verify(
            &record.password_hash,
            &report.admin_password
        ));
    }

    /// A second init on the same dir is refused and changes no byte of it.
    #[test]
    fn second_init_refuses_and_changes_nothing() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("data");
        init(&dir, &[]).expect("first init");
        let before = snapshot(&dir);
        let err = init(&dir, &[]).err().expect("second init refused");
        assert!(err.to_string().contains("already set up"), "{err}");
        assert_eq!(snapshot(&dir), before);
    }

    /// A bad hostname is refused before anything is written.
    #[test]
    fn init_with_bad_hostname_writes_nothing() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("data");
        init(&dir, &["bad name".into()]).err().expect("refused");
        assert!(!dir.exists());
    }

    /// The generated certificate loads into rustls and a client that trusts it
    /// accepts it for the default names and each extra hostname, and no other.
    #[test]
    fn self_signed_covers_names_and_loads() {
        use rustls::client::danger::ServerCertVerifier;
        let cert = self_signed(&["cairn.example.com".into(), "10.1.2.3".into()]).expect("gen");
        let dir = tempfile::tempdir().expect("temp dir");
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        write_new_file(&c, cert.cert_pem.as_bytes(), 0o644).expect("write cert");
        write_new_file(&k, cert.key_pem.as_bytes(), 0o600).expect("write key");
        let tls = crate::tls::TlsHandle::load(&c, &k).expect("loads");
        assert_eq!(tls.fingerprint(), cert.fingerprint());

        let der = rustls_pki_types::CertificateDer::from(cert.der.clone());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der.clone()).expect("root");
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            std::sync::Arc::new(roots),
            crate::tls::provider(),
        )
        .build()
        .expect("verifier");
        let now = rustls_pki_types::UnixTime::now();
        let check = |name: &str| {
            let name = rustls_pki_types::ServerName::try_from(name.to_string()).expect("name");
            verifier
                .verify_server_cert(&der, &[], &name, &[], now)
                .is_ok()
        };
        for name in [
            "localhost",
            "127.0.0.1",
            "::1",
            "cairn.example.com",
            "10.1.2.3",
        ] {
            assert!(check(name), "{name} accepted");
        }
        assert!(!check("other.example.com"), "other name refused");
    }

    /// A hostname that is neither a DNS name nor an IP is refused with its name.
    #[test]
    fn bad_hostname_is_refused() {
        let err = self_signed(&["not a host".into()]).err().expect("refused");
        assert!(err.to_string().contains("not a host"), "{err}");
    }
}
