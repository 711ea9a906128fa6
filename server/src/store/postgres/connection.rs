//! How the server reaches its database, from the `[store] url`.
//!
//! The URL takes libpq's names for TLS, which this module reads itself (the driver
//! knows no `sslrootcert` and no `verify-full`):
//!
//! - `sslmode=require`, `verify-ca` or `verify-full`: TLS by rustls (ring), and in
//!   every one of them the database's certificate chain *and* name are verified —
//!   stricter than libpq's `require`, on purpose: an unverified connection is
//!   readable by whoever sits in the middle.
//! - `sslrootcert=/path/ca.pem`: the CA that issued the database's certificate
//!   (a private CA, as most databases have); without it, the system's roots.
//! - no `sslmode`: TLS as above for a database on another host; none for one on
//!   this machine (`localhost`, a loopback address, or a Unix socket).
//! - `sslmode=disable`: no TLS, also to another host (a private link); the server
//!   says so in its log at every start.
//! - `sslmode=prefer` is refused: it falls back to plain text without a word.

use std::path::PathBuf;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig};
use percent_encoding::percent_decode_str;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::{Host, SslMode};

use crate::store::StoreError;

/// The database's connection settings and how to protect them.
pub struct Target {
    config: tokio_postgres::Config,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Target {
    /// Reads `url` (`postgres://user:password@host:5432/database?sslmode=…`).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] saying what to write instead: a URL that does
    /// not parse, `sslmode=prefer` or an unknown mode, or a CA file that cannot be
    /// read.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let (rest, mode, root_cert) = take_tls_params(url)?;
        let config: tokio_postgres::Config = rest.parse().map_err(|e| {
            StoreError::InvalidInput(format!(
                "`[store] url` is not a PostgreSQL URL ({e}); write it as \
                 postgres://user:password@host:5432/database"
            ))
        })?;
        let tls = match mode.as_deref() {
            None if is_local(&config) => false,
            None | Some("require" | "verify-ca" | "verify-full") => true,
            Some("disable") => {
                if !is_local(&config) {
                    tracing::warn!(
                        "the database is on another host and `sslmode=disable` turns TLS \
                         off: its traffic, personnel data included, is readable on the way"
                    );
                }
                false
            }
            Some("prefer" | "allow") => {
                return Err(StoreError::InvalidInput(
                    "`sslmode=prefer` (or `allow`) in the database url would fall back to \
                     plain text unnoticed; write `sslmode=verify-full` (with \
                     `sslrootcert=/path/ca.pem` for a private CA), or `sslmode=disable` \
                     for a database on a private link"
                        .into(),
                ));
            }
            Some(other) => {
                return Err(StoreError::InvalidInput(format!(
                    "`sslmode={other}` in the database url is unknown; write \
                     `sslmode=verify-full` (or `require`, `verify-ca`, which verify as \
                     much here) or `sslmode=disable`"
                )));
            }
        };
        if !tls && root_cert.is_some() {
            return Err(StoreError::InvalidInput(
                "the database url gives `sslrootcert` but no TLS: add `sslmode=verify-full`".into(),
            ));
        }
        let tls = if tls {
            Some(Arc::new(client_config(root_cert)?))
        } else {
            None
        };
        let mut config = config;
        config.ssl_mode(if tls.is_some() {
            SslMode::Require
        } else {
            SslMode::Disable
        });
        Ok(Self { config, tls })
    }

    /// Whether connections use TLS.
    #[must_use]
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The pool's connection manager.
    #[must_use]
    pub fn manager(self, manager_config: ManagerConfig) -> Manager {
        match self.tls {
            Some(tls) => Manager::from_config(
                self.config,
                tokio_postgres_rustls::MakeRustlsConnect::new((*tls).clone()),
                manager_config,
            ),
            None => Manager::from_config(self.config, tokio_postgres::NoTls, manager_config),
        }
    }
}

/// Splits `sslmode` and `sslrootcert` off the URL's query; the rest goes to the
/// driver as it was.
fn take_tls_params(url: &str) -> Result<(String, Option<String>, Option<PathBuf>), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), None, None));
    };
    let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || {
            percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| {
                    StoreError::InvalidInput(format!(
                        "`{key}` in the database url is not UTF-8 once decoded"
                    ))
                })
        };
        match key {
            "sslmode" => mode = Some(decoded()?),
            "sslrootcert" => root_cert = Some(PathBuf::from(decoded()?)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode, root_cert))
}

/// Whether every host of `config` is this machine: a Unix socket, `localhost` or a
/// loopback address. (No host at all means the default Unix socket.)
fn is_local(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    })
}

/// A rustls client that trusts the CA in `root_cert`, or else the system's roots.
fn client_config(root_cert: Option<PathBuf>) -> Result<rustls::ClientConfig, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(&path)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| {
                    StoreError::InvalidInput(format!(
                        "cannot read the database's CA from {} (`sslrootcert` in the url): \
                         {e}; give a PEM file with its certificate",
                        path.display()
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::InvalidInput(format!(
                    "{} (`sslrootcert` in the database url) holds no usable certificate; \
                     give a PEM file with the database's CA",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!("a system root certificate could not be read: {error}");
            }
            roots.add_parsable_certificates(found.certs);
        }
    }
    rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Internal(format!("TLS for the database: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::Target;
    use crate::store::StoreError;

    fn refusal(url: &str) -> String {
        match Target::parse(url) {
            Err(StoreError::InvalidInput(message)) => message,
            Err(other) => panic!("{url}: another error {other}"),
            Ok(_) => panic!("{url} was taken"),
        }
    }

    /// TLS by default for a database on another host, none for one on this
    /// machine, and what the url says otherwise; `prefer` and unknown modes are
    /// refused with what to write.
    #[test]
    fn tls_follows_the_host_and_sslmode() {
        let tls = |url: &str| Target::parse(url).expect(url).uses_tls();
        assert!(tls("postgres://cairn@db.example.com/cairn"));
        assert!(tls(
            "postgres://cairn@10.0.0.5:5432/cairn?application_name=x"
        ));
        assert!(!tls("postgres://cairn@localhost/cairn"));
        assert!(!tls("postgres://cairn@127.0.0.1:5433/cairn"));
        assert!(!tls("postgres://cairn@[::1]:5433/cairn"));
        assert!(!tls("postgres://cairn@%2Fvar%2Frun%2Fpostgresql/cairn"));
        assert!(tls("postgres://cairn@127.0.0.1/cairn?sslmode=require"));
        assert!(tls("postgres://cairn@localhost/cairn?sslmode=verify-full"));
        assert!(!tls(
            "postgres://cairn@db.example.com/cairn?sslmode=disable"
        ));
        assert!(
            refusal("postgres://cairn@db.example.com/cairn?sslmode=prefer").contains("verify-full")
        );
        assert!(refusal("postgres://cairn@db/cairn?sslmode=sometimes").contains("unknown"));
        assert!(refusal("postgres://cairn@localhost/cairn?sslrootcert=/x.pem").contains("sslmode"));
        assert!(refusal("mysql://root@db/cairn").contains("not a PostgreSQL URL"));
    }

    /// A CA file that is missing or holds no certificate is named in the refusal.
    #[test]
    fn a_bad_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("missing.pem");
        let url = format!(
            "postgres://cairn@db/cairn?sslmode=verify-full&sslrootcert={}",
            missing.display()
        );
        assert!(refusal(&url).contains("missing.pem"));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").expect("write");
        let url = format!(
            "postgres://cairn@db/cairn?sslmode=verify-full&sslrootcert={}",
            empty.display()
        );
        assert!(refusal(&url).contains("no usable certificate"));
    }
}

#[cfg(test)]
mod on_a_real_database {
    use super::super::PgStore;
    use crate::test_postgres::TestPostgres;

    /// Against a PostgreSQL that speaks TLS with a certificate from its own CA: a
    /// url with `sslmode=verify-full` and that CA connects, and the session is
    /// encrypted (PostgreSQL's `pg_stat_ssl` says so); without the CA the
    /// connection is refused with what to add; a url naming the host by a name the
    /// certificate does not carry is refused too.
    #[tokio::test]
    async fn tls_to_the_database_is_verified() {
        let pg = TestPostgres::start_with_tls().expect("PostgreSQL with TLS");
        // The certificate is for `localhost`, not for the address.
        let plain = pg
            .database()
            .expect("database")
            .replace("127.0.0.1", "localhost");
        let ca = pg.ca_file();
        let url = format!("{plain}?sslmode=verify-full&sslrootcert={}", ca.display());
        let store = PgStore::connect(&url, 2).await.expect("connect over TLS");
        let client = store.pool.get().await.expect("client");
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .expect("pg_stat_ssl");
        assert!(row.get::<_, bool>(0), "the session is encrypted");

        let untrusted = PgStore::connect(&format!("{plain}?sslmode=require"), 1)
            .await
            .expect_err("a certificate from an unknown CA");
        assert!(
            untrusted.to_string().contains("UnknownIssuer"),
            "{untrusted}"
        );
        assert!(untrusted.to_string().contains("sslrootcert"), "{untrusted}");

        let by_address = url.replace("localhost", "127.0.0.1");
        let wrong_name = PgStore::connect(&by_address, 1)
            .await
            .expect_err("a name the certificate does not carry");
        assert!(
            wrong_name.to_string().contains("not valid for name"),
            "{wrong_name}"
        );
    }
}
