//! TLS: rustls (ring) with TLS 1.2 and 1.3 only, ALPN `h2` and `http/1.1`, the
//! certificate and key read from PEM files, and a resolver whose certificate can be
//! swapped while the server runs ([`TlsHandle::reload`], on SIGHUP). With `[tls.acme]`
//! the certificate comes from an ACME CA ([`acme`]): the resolver then also answers
//! TLS-ALPN-01 challenges (ALPN `acme-tls/1`).

pub mod acme;
mod challenge;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// Why a certificate or key could not be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "cannot read the TLS certificate {path}: {reason}\n\
         Check [tls] cert in cairn-server.toml; it must be a PEM file with the \
         certificate chain, leaf first"
    )]
    Cert { path: String, reason: String },
    #[error(
        "cannot read the TLS private key {path}: {reason}\n\
         Check [tls] key in cairn-server.toml; it must be a PEM file with one \
         PKCS#8, PKCS#1 or SEC1 private key"
    )]
    Key { path: String, reason: String },
    #[error(
        "the TLS key {key} does not belong to the certificate {cert} ({reason}); \
         install the key that was issued with the certificate"
    )]
    Mismatch {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Config(String),
}

/// The SHA-256 fingerprint of a DER certificate as lowercase hex without
/// separators (64 characters): what `init` prints and `cairn login --fingerprint`
/// pins. Clients compare it ignoring case and `:` separators.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The crypto provider of every TLS config: ring, the one provider in this workspace.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide default provider, for code that builds configs
/// without naming one. Safe to call more than once.
pub fn install_default_provider() {
    // Err means a provider is already installed: this one or an equal one from an
    // earlier call; either way there is nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads a certificate chain and its key and checks that they belong together.
///
/// # Errors
/// [`TlsError`] naming the file that is missing, unreadable, empty or
/// does not match.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_err = |reason: String| TlsError::Cert {
        path: cert.display().to_string(),
        reason,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| cert_err(pem_reason(e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(pem_reason(e)))?;
    if chain.is_empty() {
        return Err(cert_err("the file holds no CERTIFICATE block".into()));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        path: key.display().to_string(),
        reason: pem_reason(e),
    })?;
    CertifiedKey::from_der(chain, private_key, &provider()).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            reason: e.to_string(),
        },
        rustls::Error::General(_) => TlsError::Key {
            path: key.display().to_string(),
            reason: e.to_string(),
        },
        other => TlsError::Cert {
            path: cert.display().to_string(),
            reason: other.to_string(),
        },
    })
}

fn pem_reason(e: rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => "the file holds no matching PEM block".into(),
        other => format!("not a valid PEM file ({other:?})"),
    }
}

/// The ALPN protocol of TLS-ALPN-01 challenges (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The certificate in use, swapped whole on reload, and the challenge certificates
/// of an ACME order under way, by the name the CA asks for (SNI). A std `RwLock`
/// because the lock is held only to clone an `Arc`, never across an await, and
/// rustls calls `resolve` from synchronous code.
struct Resolver {
    current: RwLock<Arc<CertifiedKey>>,
    challenges: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

impl Resolver {
    fn get(&self) -> Arc<CertifiedKey> {
        // A poisoned lock still holds a complete Arc: a panic cannot leave it half
        // written, so keep serving it.
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        match self.current.write() {
            Ok(mut guard) => *guard = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let challenge = hello
            .alpn()
            .is_some_and(|mut offered| offered.any(|p| p == ACME_TLS_ALPN));
        if !challenge {
            return Some(self.get());
        }
        // Only a CA validating a challenge offers acme-tls/1; it gets the challenge
        // certificate of the name it asks for, or no handshake.
        let challenges = match self.challenges.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let name = hello.server_name()?.to_ascii_lowercase();
        challenges.get(&name).cloned()
    }
}

/// The server's TLS: a rustls config whose certificate can be reloaded from its
/// files. Cheap to clone; clones share the certificate.
#[derive(Clone)]
pub struct TlsHandle {
    resolver: Arc<Resolver>,
    config: Arc<rustls::ServerConfig>,
    /// The certificate and key files a reload reads: `[tls]`'s, or the ACME
    /// certificate's once there is one.
    paths: Arc<Mutex<(PathBuf, PathBuf)>>,
    /// Why the last attempt to renew the certificate failed, while it does.
    renewal_failing: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for TlsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cert, key) = self.paths();
        f.debug_struct("TlsHandle")
            .field("cert", &cert)
            .field("key", &key)
            .finish_non_exhaustive()
    }
}

impl TlsHandle {
    /// Loads the certificate chain and key from PEM files.
    ///
    /// # Errors
    /// [`TlsError`] if either file is missing or invalid, or they do not match.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<TlsHandle, TlsError> {
        let key = load_certified_key(cert_path, key_path)?;
        let resolver = Arc::new(Resolver {
            current: RwLock::new(Arc::new(key)),
            challenges: RwLock::new(HashMap::new()),
        });
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        // acme-tls/1 last: only a CA validating a challenge offers it, and such a
        // connection is closed after the handshake (see `serve::accept`).
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
        Ok(TlsHandle {
            resolver,
            config: Arc::new(config),
            paths: Arc::new(Mutex::new((
                cert_path.to_path_buf(),
                key_path.to_path_buf(),
            ))),
            renewal_failing: Arc::new(Mutex::new(None)),
        })
    }

    fn paths(&self) -> (PathBuf, PathBuf) {
        relock(&self.paths).clone()
    }

    /// Serves the certificate in `cert` and `key` to new handshakes from now on,
    /// and reads those files on later reloads.
    ///
    /// # Errors
    /// [`TlsError`] if the files are not a good pair; nothing changed then.
    pub fn use_files(&self, cert: &Path, key: &Path) -> Result<(), TlsError> {
        let certified = load_certified_key(cert, key)?;
        *relock(&self.paths) = (cert.to_owned(), key.to_owned());
        self.resolver.set(Arc::new(certified));
        Ok(())
    }

    /// Answers the TLS-ALPN-01 challenge for `server_name` with `key` until
    /// [`TlsHandle::clear_challenges`].
    pub fn set_challenge(&self, server_name: &str, key: CertifiedKey) {
        let mut challenges = match self.resolver.challenges.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        challenges.insert(server_name.to_ascii_lowercase(), Arc::new(key));
    }

    /// Forgets every challenge certificate.
    pub fn clear_challenges(&self) {
        match self.resolver.challenges.write() {
            Ok(mut guard) => guard.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// Records how the last renewal went: `None` when it succeeded.
    pub fn record_renewal(&self, failure: Option<String>) {
        *relock(&self.renewal_failing) = failure;
    }

    /// Why renewing the certificate fails, while it does (for `/healthz`).
    #[must_use]
    pub fn renewal_failing(&self) -> Option<String> {
        relock(&self.renewal_failing).clone()
    }

    /// The leaf certificate in use, DER.
    #[must_use]
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.resolver.get().cert.first().cloned()
    }

    /// Reads the files again and, if they are good, serves the new certificate to
    /// new handshakes; open connections are not touched. If they are bad, the
    /// certificate in use stays.
    ///
    /// # Errors
    /// [`TlsError`] saying what is wrong with the files; nothing changed.
    pub fn reload(&self) -> Result<(), TlsError> {
        let (cert, key) = self.paths();
        let key = load_certified_key(&cert, &key)?;
        self.resolver.set(Arc::new(key));
        Ok(())
    }

    /// The acceptor for incoming connections.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }

    /// The fingerprint (see [`fingerprint`]) of the leaf certificate in use.
    pub fn fingerprint(&self) -> String {
        let key = self.resolver.get();
        key.cert.first().map(|c| fingerprint(c)).unwrap_or_default()
    }
}

/// A lock whose holder panicked still guards complete data here (each is set
/// whole), so it is used as it is.
fn relock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let ck =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generate");
        let cert = dir.join(format!("{name}.cert.pem"));
        let key = dir.join(format!("{name}.key.pem"));
        std::fs::write(&cert, ck.cert.pem()).expect("write cert");
        std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write key");
        (cert, key)
    }

    /// The fingerprint is the lowercase hex SHA-256 of the DER bytes.
    #[test]
    fn fingerprint_is_hex_sha256() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// Missing files, a non-PEM file and a key of another certificate each give
    /// an error naming the file at fault.
    #[test]
    fn load_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert_a, key_a) = write_pair(dir.path(), "a");
        let (_cert_b, key_b) = write_pair(dir.path(), "b");
        let missing = dir.path().join("missing.pem");

        let err = TlsHandle::load(&missing, &key_a).expect_err("missing cert");
        assert!(
            matches!(err, TlsError::Cert { .. }) && err.to_string().contains("missing.pem"),
            "{err}"
        );
        let err = TlsHandle::load(&cert_a, &missing).expect_err("missing key");
        assert!(matches!(err, TlsError::Key { .. }), "{err}");

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello").expect("write junk");
        let err = TlsHandle::load(&junk, &key_a).expect_err("junk cert");
        assert!(err.to_string().contains("junk.pem"), "{err}");
        let err = TlsHandle::load(&cert_a, &junk).expect_err("junk key");
        assert!(matches!(err, TlsError::Key { .. }), "{err}");

        let err = TlsHandle::load(&cert_a, &key_b).expect_err("mismatch");
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
        TlsHandle::load(&cert_a, &key_a).expect("matching pair loads");
    }

    /// A reload with bad files keeps the certificate in use; a good reload swaps it.
    #[test]
    fn reload_keeps_old_certificate_on_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert, key) = write_pair(dir.path(), "a");
        let tls = TlsHandle::load(&cert, &key).expect("load");
        let before = tls.fingerprint();

        std::fs::write(&cert, "broken").expect("break cert");
        tls.reload().expect_err("broken cert refused");
        assert_eq!(tls.fingerprint(), before);

        let (cert_b, key_b) = write_pair(dir.path(), "b");
        std::fs::rename(cert_b, &cert).expect("move cert");
        std::fs::rename(key_b, &key).expect("move key");
        tls.reload().expect("good reload");
        assert_ne!(tls.fingerprint(), before);
    }
}
