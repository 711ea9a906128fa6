//! The server's settings: defaults in code, then `DIR/cairn-server.toml`, then the
//! environment (`CAIRN_SERVER__SECTION__KEY`), each layer overriding the one before.
//!
//! The environment is passed in as a list of pairs rather than read here, so tests
//! can try every layer without touching the process environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name of the config inside the data dir.
pub const CONFIG_FILE: &str = "cairn-server.toml";
/// Environment variables that start with this override settings.
pub const ENV_PREFIX: &str = "CAIRN_SERVER__";
/// The commented config that `init` writes; it states every default.
pub const EXAMPLE_CONFIG: &str = include_str!("cairn-server.example.toml");

/// Everything the server reads at start. Paths inside are as written; use the
/// `*_path` methods for paths resolved against the data dir.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The data dir this was loaded from; not part of the file.
    #[serde(skip)]
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub tls: TlsSettings,
    pub auth: AuthSettings,
    pub backup: BackupSettings,
    pub stats: StatsSettings,
    pub retention: RetentionSettings,
    pub sync: SyncSettings,
    pub store: StoreSettings,
    pub privacy: crate::privacy::notice::PrivacySettings,
    pub mail: MailSettings,
    pub notifications: crate::notify::NotifySettings,
    pub files: crate::files::FilesSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub handshake_timeout_secs: u64,
    pub header_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub keepalive_interval_secs: u64,
    pub keepalive_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub min_body_bytes_per_sec: u64,
    pub shutdown_grace_secs: u64,
    /// The address people reach the server at, for links in mails
    /// (`https://cairn.example.com`); empty: `https://` and the address it listens on.
    pub public_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first; relative to the data dir.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1); relative to the data dir.
    pub key: PathBuf,
    /// Certificates from an ACME CA instead of the files above (which are then
    /// served only until the first certificate arrives).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme: Option<crate::tls::acme::AcmeSettings>,
}

/// Sessions and login throttling (see [`crate::auth::AuthSettings`], which
/// [`Settings::auth_settings`] makes from this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub session_ttl_days: u32,
    pub login_free_failures: u32,
    pub login_free_failures_per_address: u32,
    pub login_free_failures_per_account: u32,
    pub login_first_delay_secs: u64,
    pub login_max_delay_secs: u64,
    pub login_account_max_delay_secs: u64,
    pub login_forget_after_secs: u64,
}

/// How long each category of records is kept; 0 keeps it forever. A sweeper
/// applies it once a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    pub login_records_days: u32,
    pub audit_days: u32,
    /// Records in the trash this long (since their last change) are purged from
    /// the server.
    pub trash_days: u32,
    /// Sent and failed mails (recipient, kind, times; their text is gone once
    /// sent) stay visible in `mail list` this long.
    pub mail_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            login_records_days: 180,
            audit_days: 730,
            trash_days: 90,
            mail_days: 7,
        }
    }
}

/// Limits a push must keep (see [`crate::api::SyncRules`], which
/// [`Settings::sync_rules`] makes from this).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    pub max_values_per_field: usize,
    pub max_record_kib: usize,
    pub max_clock_ahead_secs: u64,
}

impl Default for SyncSettings {
    fn default() -> Self {
        // Eight people editing one field offline at once is already a lot; four MiB
        // holds a few full-length long texts and stays a quarter of what clients
        // read, leaving room for a record's history of replaced values.
        SyncSettings {
            max_values_per_field: 8,
            max_record_kib: 4096,
            max_clock_ahead_secs: 300,
        }
    }
}

/// Where the server keeps its store: sled in the data dir (one server), or a
/// PostgreSQL database that several servers share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub backend: StoreBackend,
    /// `postgres://user:password@host:5432/database`, with `sslmode` and
    /// `sslrootcert` as libpq names them; required for PostgreSQL. A
    /// secret (it may hold the password): `Debug` hides it, and it can come from
    /// `CAIRN_SERVER__STORE__URL` instead of the file.
    pub url: Secret,
    /// The most connections this server holds to the database.
    pub connections: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            backend: StoreBackend::Sled,
            url: Secret::default(),
            // Enough for the async workers of a small machine plus blocking admin
            // work; a dozen servers stay well under PostgreSQL's default of 100.
            connections: 16,
        }
    }
}

/// The store's backend (`[store] backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    Sled,
    Postgres,
}

/// Anonymous usage statistics (see [`crate::stats::StatsSettings`], which
/// [`Settings::stats_settings`] makes from this).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatsSettings {
    pub retention_days: u32,
    pub persist_interval_secs: u64,
    pub metrics_from_loopback: bool,
}

impl Default for StatsSettings {
    fn default() -> Self {
        StatsSettings {
            retention_days: crate::stats::MAX_RETENTION_DAYS,
            persist_interval_secs: 60,
            metrics_from_loopback: true,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::new(),
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            auth: AuthSettings::default(),
            backup: BackupSettings::default(),
            stats: StatsSettings::default(),
            retention: RetentionSettings::default(),
            sync: SyncSettings::default(),
            store: StoreSettings::default(),
            privacy: crate::privacy::notice::PrivacySettings::default(),
            mail: MailSettings::default(),
            notifications: crate::notify::NotifySettings::default(),
            files: crate::files::FilesSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            max_connections: 1024,
            // One host gets at most a sixteenth of the slots, yet an office behind
            // one NAT address still fits dozens of clients (each holds one or two
            // connections, and idle ones close after a minute).
            max_connections_per_address: 64,
            handshake_timeout_secs: 10,
            // A client sends its request right after the handshake; ten seconds
            // is far beyond any real network's round trips.
            header_timeout_secs: 10,
            // Clients sync every minute by default; a connection quiet for that
            // long is cheaper to open again than to hold.
            idle_timeout_secs: 60,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
            // A pause of 20 s rides out a mobile network's stall; 2 KiB/s is below
            // any link a sync client uses, so only a deliberate trickle is ended.
            body_timeout_secs: 20,
            min_body_bytes_per_sec: 2048,
            shutdown_grace_secs: 30,
            public_url: String::new(),
        }
    }
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert: PathBuf::from("tls/cert.pem"),
            key: PathBuf::from("tls/key.pem"),
            acme: None,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_ttl_days: 30,
            login_free_failures: 5,
            login_free_failures_per_address: 5,
            // Ten addresses' worth of free failures: one person's typos on a few
            // devices never get there, a spread-out guesser soon does.
            login_free_failures_per_account: 50,
            login_first_delay_secs: 1,
            login_max_delay_secs: 900,
            // The account's owner waits this too, from anywhere: a minute slows a
            // guesser down to 1440 tries a day while never keeping the owner out
            // for long.
            login_account_max_delay_secs: 60,
            login_forget_after_secs: 86_400,
        }
    }
}

/// Why settings could not be loaded; each message names the file or variable and
/// what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "no {CONFIG_FILE} in {dir}; is this the right --data-dir? \
         To set up a new server there, run `cairn-server init --data-dir {dir}`"
    )]
    Missing { dir: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: {message}\nFix the file; the comments `init` wrote in it say what each setting takes"
    )]
    File { path: String, message: String },
    #[error(
        "environment variable {var}: {message}\n\
         Write it as {ENV_PREFIX}SECTION__KEY with a value of the setting's type, \
         e.g. {ENV_PREFIX}SERVER__LISTEN=0.0.0.0:8443, or unset it"
    )]
    Env { var: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    /// Loads `data_dir/cairn-server.toml` over the defaults, then applies the
    /// `CAIRN_SERVER__*` pairs of `env` (pass `std::env::vars()`).
    ///
    /// # Errors
    /// [`SettingsError`] if the file is missing, unreadable or invalid, or an
    /// environment override names no setting or has a value of the wrong type.
    pub fn load(
        data_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let path = data_dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SettingsError::Missing {
                    dir: data_dir.display().to_string(),
                });
            }
            Err(source) => {
                return Err(SettingsError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let mut settings = Settings::from_toml(&text).map_err(|message| SettingsError::File {
            path: path.display().to_string(),
            message,
        })?;
        settings.apply_env(env)?;
        settings.data_dir = data_dir.to_path_buf();
        settings.validate()?;
        Ok(settings)
    }

    /// Parses a config file's text over the defaults (fields it leaves out keep them).
    ///
    /// # Errors
    /// A message with the line, the key and what is wrong.
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `CAIRN_SERVER__SECTION__KEY=value` overrides, one at a time so an
    /// error names the variable that caused it. Other variables are ignored.
    fn apply_env(
        &mut self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), SettingsError> {
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        // Deterministic order, whatever order the environment lists them in.
        overrides.sort();
        for (var, raw) in overrides {
            let env_err = |message: String| SettingsError::Env {
                var: var.clone(),
                message,
            };
            let rest = &var[ENV_PREFIX.len()..];
            let Some((section, key)) = rest.split_once("__") else {
                return Err(env_err("expected SECTION__KEY after the prefix".into()));
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let mut table = toml::Table::try_from(&*self)
                .map_err(|e| SettingsError::Invalid(format!("settings to TOML: {e}")))?;
            let Some(toml::Value::Table(section_table)) = table.get_mut(&section) else {
                return Err(env_err(format!("there is no [{section}] section")));
            };
            let value = match section_table.get(&key) {
                None => return Err(env_err(format!("there is no setting {section}.{key}"))),
                // A string setting takes the raw text as it is: `cert=123` is a path.
                Some(toml::Value::String(_)) => toml::Value::String(raw.clone()),
                Some(_) => parse_scalar(&raw),
            };
            section_table.insert(key, value);
            *self = table
                .try_into()
                .map_err(|e: toml::de::Error| env_err(e.message().trim().to_string()))?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        if self.server.max_connections == 0 {
            problems.push("server.max_connections must be at least 1");
        }
        let server = &self.server;
        for (value, problem) in [
            (
                server.max_connections_per_address as u64,
                "server.max_connections_per_address must be at least 1",
            ),
            (
                server.handshake_timeout_secs,
                "server.handshake_timeout_secs must be at least 1",
            ),
            (
                server.header_timeout_secs,
                "server.header_timeout_secs must be at least 1",
            ),
            (
                server.idle_timeout_secs,
                "server.idle_timeout_secs must be at least 1",
            ),
            (
                server.keepalive_interval_secs,
                "server.keepalive_interval_secs must be at least 1",
            ),
            (
                server.keepalive_timeout_secs,
                "server.keepalive_timeout_secs must be at least 1",
            ),
            (
                server.body_timeout_secs,
                "server.body_timeout_secs must be at least 1",
            ),
            (
                server.min_body_bytes_per_sec,
                "server.min_body_bytes_per_sec must be at least 1",
            ),
        ] {
            if value == 0 {
                problems.push(problem);
            }
        }
        if self.auth.session_ttl_days == 0 {
            problems.push("auth.session_ttl_days must be at least 1");
        }
        if self.auth.login_first_delay_secs > self.auth.login_max_delay_secs {
            problems.push("auth.login_first_delay_secs must not exceed auth.login_max_delay_secs");
        }
        if self.auth.login_first_delay_secs > self.auth.login_account_max_delay_secs {
            problems.push(
                "auth.login_first_delay_secs must not exceed auth.login_account_max_delay_secs",
            );
        }
        let acme_problems = self
            .tls
            .acme
            .as_ref()
            .map(crate::tls::acme::AcmeSettings::problems)
            .unwrap_or_default();
        problems.extend(acme_problems.iter().map(String::as_str));
        let privacy_problems = self.privacy.problems();
        problems.extend(privacy_problems.iter().map(String::as_str));
        let backup_problems = self.backup.problems();
        problems.extend(backup_problems.iter().map(String::as_str));
        if !(1..=crate::stats::MAX_RETENTION_DAYS).contains(&self.stats.retention_days) {
            problems.push("stats.retention_days must be between 1 and 30");
        }
        if self.stats.persist_interval_secs == 0 {
            problems.push("stats.persist_interval_secs must be at least 1");
        }
        if self.sync.max_values_per_field == 0 {
            problems.push("sync.max_values_per_field must be at least 1");
        }
        if !(64..=crate::api::MAX_RECORD_KIB).contains(&self.sync.max_record_kib) {
            problems.push("sync.max_record_kib must be between 64 and 16384");
        }
        if self.sync.max_clock_ahead_secs == 0 {
            problems.push("sync.max_clock_ahead_secs must be at least 1");
        }
        if self.store.backend == StoreBackend::Postgres && self.store.url.expose().is_empty() {
            problems.push(
                "store.url is required with store.backend = \"postgres\": write \
                 url = \"postgres://user:password@host:5432/database\" under [store], or set \
                 CAIRN_SERVER__STORE__URL to keep the password out of the file",
            );
        }
        if self.store.backend == StoreBackend::Sled && !self.store.url.expose().is_empty() {
            problems.push(
                "store.url is set but store.backend is \"sled\"; write backend = \"postgres\" \
                 under [store] to use the database, or remove url",
            );
        }
        if self.store.connections == 0 {
            problems.push("store.connections must be at least 1");
        }
        let mail_problems = self.mail.problems();
        problems.extend(mail_problems.iter().map(String::as_str));
        let digest_time = self.notifications.time().err();
        problems.extend(digest_time.as_deref());
        let files_problems = self.files.problems();
        problems.extend(files_problems.iter().map(String::as_str));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError::Invalid(format!(
                "{} in {}: {}",
                if problems.len() == 1 {
                    "a setting is out of range"
                } else {
                    "settings are out of range"
                },
                self.data_dir.join(CONFIG_FILE).display(),
                problems.join("; ")
            )))
        }
    }

    /// The session and throttling settings the API runs with.
    pub fn auth_settings(&self) -> crate::auth::AuthSettings {
        let secs = std::time::Duration::from_secs;
        crate::auth::AuthSettings {
            session_ttl: secs(u64::from(self.auth.session_ttl_days) * 24 * 3600),
            free_failures: self.auth.login_free_failures,
            free_failures_per_address: self.auth.login_free_failures_per_address,
            free_failures_per_account: self.auth.login_free_failures_per_account,
            first_delay: secs(self.auth.login_first_delay_secs),
            max_delay: secs(self.auth.login_max_delay_secs),
            account_max_delay: secs(self.auth.login_account_max_delay_secs),
            forget_after: secs(self.auth.login_forget_after_secs),
        }
    }

    /// The push limits the API runs with.
    pub fn sync_rules(&self) -> crate::api::SyncRules {
        crate::api::SyncRules {
            limits: crate::store::RecordLimits {
                max_values_per_field: self.sync.max_values_per_field,
                max_record_bytes: self.sync.max_record_kib.saturating_mul(1024),
            },
            max_clock_ahead: std::time::Duration::from_secs(self.sync.max_clock_ahead_secs),
        }
    }

    /// The usage statistics settings the server runs with.
    pub fn stats_settings(&self) -> crate::stats::StatsSettings {
        crate::stats::StatsSettings {
            retention_days: self.stats.retention_days,
            persist_interval: std::time::Duration::from_secs(self.stats.persist_interval_secs),
            metrics_from_loopback: self.stats.metrics_from_loopback,
        }
    }

    /// Opens the configured store: sled in the data dir's `db/`, or the PostgreSQL
    /// database (whose migrations are applied).
    ///
    /// # Errors
    /// The store's error: sled's dir in use or damaged, or a database that cannot
    /// be reached or has a newer schema.
    pub async fn open_store(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        match self.store.backend {
            StoreBackend::Sled => {
                crate::store::Store::open(&crate::datadir::DataDir::new(&self.data_dir).db())
            }
            StoreBackend::Postgres => {
                crate::store::PgStore::connect(self.store.url.expose(), self.store.connections)
                    .await
                    .map(crate::store::Store::Postgres)
            }
        }
    }

    /// The certificate chain's path, resolved against the data dir.
    pub fn cert_path(&self) -> PathBuf {
        self.data_dir.join(&self.tls.cert)
    }

    /// The private key's path, resolved against the data dir.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join(&self.tls.key)
    }

    /// The backups' directory, resolved against the data dir.
    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join(&self.backup.dir)
    }

    /// The SMTP server's CA file resolved against the data dir; `None`: the
    /// system's roots.
    pub fn mail_ca_path(&self) -> Option<PathBuf> {
        (!self.mail.ca_file.as_os_str().is_empty()).then(|| self.data_dir.join(&self.mail.ca_file))
    }
}

pub use crate::backup::settings::BackupSettings;
pub use crate::mail::settings::{MailSecurity, MailSettings};

/// Reads an environment value as a TOML scalar (`42`, `true`), else as a string.
fn parse_scalar(raw: &str) -> toml::Value {
    #[derive(Deserialize)]
    struct One {
        v: toml::Value,
    }
    toml::from_str::<One>(&format!("v = {raw}"))
        .map(|one| one.v)
        .unwrap_or_else(|_| toml::Value::String(raw.to_string()))
}

pub use crate::secret::Secret;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn dir_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(CONFIG_FILE), config).expect("write config");
        dir
    }

    /// The embedded example config parses to exactly the defaults in code.
    #[test]
    fn example_config_states_the_defaults() {
        let parsed = Settings::from_toml(EXAMPLE_CONFIG).expect("example parses");
        assert_eq!(parsed, Settings::default());
    }

    /// A file overrides defaults, the environment overrides the file, and settings
    /// neither names keep their defaults.
    #[test]
    fn precedence_defaults_then_file_then_env() {
        let dir = dir_with(
            "[server]\nlisten = \"127.0.0.1:9000\"\nmax_connections = 7\n[auth]\nsession_ttl_days = 3\n",
        );
        let s = Settings::load(
            dir.path(),
            env(&[
                ("CAIRN_SERVER__SERVER__LISTEN", "127.0.0.1:9001"),
                ("CAIRN_SERVER__TLS__CERT", "/etc/cairn/chain.pem"),
                ("UNRELATED", "x"),
            ]),
        )
        .expect("loads");
        assert_eq!(s.server.listen, "127.0.0.1:9001".parse().expect("addr"));
        assert_eq!(s.server.max_connections, 7);
        assert_eq!(s.auth.session_ttl_days, 3);
        assert_eq!(s.server.handshake_timeout_secs, 10);
        assert_eq!(s.tls.key, PathBuf::from("tls/key.pem"));
        assert_eq!(s.cert_path(), PathBuf::from("/etc/cairn/chain.pem"));
        assert_eq!(s.key_path(), dir.path().join("tls/key.pem"));
    }

    /// Numbers from the environment become numbers; a wrong type names the variable.
    #[test]
    fn env_values_are_typed() {
        let dir = dir_with("");
        let s = Settings::load(
            dir.path(),
            env(&[("CAIRN_SERVER__SERVER__MAX_CONNECTIONS", "12")]),
        )
        .expect("loads");
        assert_eq!(s.server.max_connections, 12);
        let err = Settings::load(
            dir.path(),
            env(&[("CAIRN_SERVER__SERVER__MAX_CONNECTIONS", "many")]),
        )
        .expect_err("not a number");
        let msg = err.to_string();
        assert!(
            msg.contains("CAIRN_SERVER__SERVER__MAX_CONNECTIONS"),
            "{msg}"
        );
    }

    /// An environment variable naming no setting is an error, not silently ignored.
    #[test]
    fn unknown_env_setting_is_refused() {
        let dir = dir_with("");
        for var in [
            "CAIRN_SERVER__SERVER__LISTN",
            "CAIRN_SERVER__NOPE__X",
            "CAIRN_SERVER__X",
        ] {
            let err = Settings::load(dir.path(), env(&[(var, "1")])).expect_err(var);
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    /// A typo in the file is an error naming the file and the key.
    #[test]
    fn file_errors_name_file_and_key() {
        let dir = dir_with("[server]\nlisen = \"0.0.0.0:1\"\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("typo")
            .to_string();
        assert!(msg.contains(CONFIG_FILE) && msg.contains("lisen"), "{msg}");
        let dir = dir_with("[server]\nlisten = \"my host\"\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("bad addr")
            .to_string();
        assert!(msg.contains("listen"), "{msg}");
    }

    /// A data dir without a config says to run init.
    #[test]
    fn missing_file_says_run_init() {
        let dir = tempfile::tempdir().expect("temp dir");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("cairn-server init"), "{msg}");
    }

    /// Zero connections or a zero timeout is refused with the setting's name.
    #[test]
    fn out_of_range_values_are_refused() {
        let dir = dir_with("[server]\nmax_connections = 0\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("zero")
            .to_string();
        assert!(msg.contains("server.max_connections"), "{msg}");
    }

    /// Each connection limit set to zero is refused, naming the setting.
    #[test]
    fn zero_connection_limits_are_refused() {
        for key in [
            "max_connections_per_address",
            "handshake_timeout_secs",
            "header_timeout_secs",
            "idle_timeout_secs",
            "keepalive_interval_secs",
            "keepalive_timeout_secs",
            "body_timeout_secs",
            "min_body_bytes_per_sec",
        ] {
            let dir = dir_with(&format!("[server]\n{key} = 0\n"));
            let msg = Settings::load(dir.path(), env(&[]))
                .expect_err(key)
                .to_string();
            assert!(msg.contains(&format!("server.{key}")), "{msg}");
        }
    }

    /// The server's limits are the settings' values.
    #[test]
    fn limits_follow_the_settings() {
        let dir = dir_with(
            "[server]\nmax_connections_per_address = 3\nheader_timeout_secs = 4\n\
             idle_timeout_secs = 5\nbody_timeout_secs = 6\nmin_body_bytes_per_sec = 7\n",
        );
        let s = Settings::load(dir.path(), env(&[])).expect("loads");
        let limits = crate::serve::Limits::from_settings(&s.server);
        assert_eq!(limits.max_connections_per_address, 3);
        assert_eq!(limits.header_timeout, std::time::Duration::from_secs(4));
        assert_eq!(limits.idle_timeout, std::time::Duration::from_secs(5));
        assert_eq!(limits.body.pause, std::time::Duration::from_secs(6));
        assert_eq!(limits.body.min_bytes_per_sec, 7);
    }

    /// The default `[auth]` section gives the API's default auth settings.
    #[test]
    fn auth_defaults_match_the_api() {
        assert_eq!(
            Settings::default().auth_settings(),
            crate::auth::AuthSettings::default()
        );
    }

    /// The default `[stats]` section gives the default statistics settings, and a
    /// retention past the promised 30 days is refused.
    #[test]
    fn stats_defaults_and_range() {
        assert_eq!(
            Settings::default().stats_settings(),
            crate::stats::StatsSettings::default()
        );
        let dir = dir_with("[stats]\nretention_days = 31\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("over 30")
            .to_string();
        assert!(msg.contains("stats.retention_days"), "{msg}");
    }

    /// `[store]`: PostgreSQL needs a url, which may come from the environment (and
    /// `Debug` hides it); a url without the backend, or no connections, is refused.
    #[test]
    fn store_settings() {
        let dir = dir_with("[store]\nbackend = \"postgres\"\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("no url")
            .to_string();
        assert!(
            msg.contains("store.url") && msg.contains("CAIRN_SERVER__STORE__URL"),
            "{msg}"
        );
        let url = "postgres://cairn:s3cret@db:5432/cairn";
        let s = Settings::load(dir.path(), env(&[("CAIRN_SERVER__STORE__URL", url)]))
            .expect("url from the environment");
        assert_eq!(s.store.backend, StoreBackend::Postgres);
        assert_eq!(s.store.url.expose(), url);
        assert_eq!(s.store.connections, 16);
        assert!(!format!("{s:?}").contains("s3cret"));
        let dir = dir_with("[store]\nurl = \"postgres://db/cairn\"\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("url on sled")
            .to_string();
        assert!(msg.contains("backend = \"postgres\""), "{msg}");
        let dir = dir_with(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://db/c\"\nconnections = 0\n",
        );
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("zero")
            .to_string();
        assert!(msg.contains("store.connections"), "{msg}");
        let dir = dir_with("[store]\nbackend = \"mysql\"\n");
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("unknown backend")
            .to_string();
        assert!(msg.contains("backend"), "{msg}");
    }

    /// `[tls.acme]`: Let's Encrypt and a 30-day margin unless told otherwise; names,
    /// a mailto: contact and an https directory are required, each named.
    #[test]
    fn acme_settings() {
        let dir = dir_with(
            "[tls.acme]\ndomains = [\"cairn.example.com\"]\ncontact = \"mailto:it@example.com\"\n",
        );
        let s = Settings::load(dir.path(), env(&[])).expect("loads");
        let acme = s.tls.acme.expect("acme");
        assert_eq!(acme.directory, crate::tls::acme::LETS_ENCRYPT);
        assert_eq!(acme.renew_before_days, 30);
        assert_eq!(acme.retry_secs, 300);
        let dir = dir_with(
            "[tls.acme]\ndomains = []\ncontact = \"it@example.com\"\ndirectory = \"http://ca\"\n",
        );
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("three problems")
            .to_string();
        for part in ["tls.acme.domains", "tls.acme.contact", "tls.acme.directory"] {
            assert!(msg.contains(part), "{part}: {msg}");
        }
    }

    /// `[mail]`: the SMTP password may come from `CAIRN_SERVER__MAIL__PASSWORD`
    /// (and `Debug` hides it); unencrypted mail to another host is refused at load,
    /// naming the setting; a relative CA file is the data dir's.
    #[test]
    fn mail_settings() {
        let on = "[mail]\nenabled = true\nhost = \"smtp.example.com\"\nuser = \"cairn\"\n\
                  from = \"Cairn <cairn@example.com>\"\nca_file = \"tls/smtp-ca.pem\"\n";
        let dir = dir_with(on);
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("no password")
            .to_string();
        assert!(msg.contains("CAIRN_SERVER__MAIL__PASSWORD"), "{msg}");
        let s = Settings::load(
            dir.path(),
            env(&[("CAIRN_SERVER__MAIL__PASSWORD", "smtp-s3cret")]),
        )
        .expect("password from the environment");
        assert_eq!(s.mail.password.expose(), "smtp-s3cret");
        assert!(!format!("{s:?}").contains("smtp-s3cret"));
        assert_eq!(s.mail.port(), 465);
        assert_eq!(s.mail_ca_path(), Some(dir.path().join("tls/smtp-ca.pem")));
        let dir = dir_with(&format!("{on}security = \"none\"\npassword = \"x\"\n"));
        let msg = Settings::load(dir.path(), env(&[]))
            .expect_err("plain text elsewhere")
            .to_string();
        assert!(msg.contains("mail.security = \"none\""), "{msg}");
        assert_eq!(Settings::default().mail_ca_path(), None);
    }

    /// `Debug` of a secret never shows its value.
    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }
}
