//! Which server certificates the client trusts: the system roots, the system roots plus
//! a CA file, or exactly one certificate named by its SHA-256 fingerprint (what
//! `cairn-server init` prints for its self-signed certificate).
//!
//! Everything runs on rustls's ring provider; the pinned-certificate verifier still
//! checks the handshake signatures with that provider's algorithms, so only the holder
//! of the pinned certificate's key gets through.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::SyncError;

/// How the server's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Trust {
    /// The operating system's root certificates.
    System,
    /// The system roots and the certificates in this PEM file.
    CaFile { path: PathBuf },
    /// Exactly the certificate with this SHA-256 fingerprint (64 lowercase hex digits).
    Fingerprint { sha256: String },
}

impl Trust {
    /// The trust the command line asked for: `--ca-file`, `--fingerprint` or neither.
    ///
    /// # Errors
    /// A fingerprint that is not 32 bytes of hex, or both options at once.
    pub fn from_options(
        ca_file: Option<&Path>,
        fingerprint: Option<&str>,
    ) -> Result<Self, SyncError> {
        match (ca_file, fingerprint) {
            (Some(_), Some(_)) => Err(SyncError::Config(
                "give either --ca-file or --fingerprint, not both".into(),
            )),
            (Some(path), None) => Ok(Self::CaFile {
                path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            }),
            (None, Some(text)) => Ok(Self::Fingerprint {
                sha256: normalize_fingerprint(text)?,
            }),
            (None, None) => Ok(Self::System),
        }
    }

    /// The rustls configuration for this trust, on the ring provider.
    ///
    /// # Errors
    /// An unreadable CA file or one without certificates, or no usable system roots.
    pub fn client_config(&self) -> Result<ClientConfig, SyncError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| SyncError::Config(format!("TLS setup failed: {e}")))?;
        let config = match self {
            Self::System => builder
                .with_root_certificates(system_roots()?)
                .with_no_client_auth(),
            Self::CaFile { path } => {
                let mut roots = system_roots().unwrap_or_else(|_| RootCertStore::empty());
                add_ca_file(&mut roots, path)?;
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Self::Fingerprint { sha256 } => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedCertificate::new(
                    sha256, &provider,
                )?))
                .with_no_client_auth(),
        };
        Ok(config)
    }
}

/// The system's roots. Certificates it cannot parse are skipped (a broken one must not
/// stop the others); none at all is an error that names the way out.
fn system_roots() -> Result<RootCertStore, SyncError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (_added, _skipped) = roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        return Err(SyncError::Config(
            "no system root certificates were found; give the server's CA with --ca-file PEM \
             or its certificate fingerprint with --fingerprint SHA256"
                .into(),
        ));
    }
    Ok(roots)
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), SyncError> {
    let bad = |why: String| {
        SyncError::Config(format!(
            "cannot use the CA file {path:?}: {why}; give a PEM file with the server's CA \
             certificate (BEGIN CERTIFICATE)"
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
        count += 1;
    }
    if count == 0 {
        return Err(bad("it holds no certificate".into()));
    }
    Ok(())
}

/// Reads a SHA-256 fingerprint as people copy it: hex, any case, colons or spaces
/// between the bytes, optionally starting with `sha256:`.
///
/// # Errors
/// Anything that is not 32 bytes of hex, with what to give instead.
pub fn normalize_fingerprint(text: &str) -> Result<String, SyncError> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("sha256:")
        .or_else(|| trimmed.strip_prefix("SHA256:"))
        .unwrap_or(trimmed);
    let hex: String = body
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(SyncError::Config(format!(
            "{text:?} is not a SHA-256 fingerprint; give the 64 hex digits (colons allowed) \
             that `cairn-server init` printed"
        )));
    }
    Ok(hex)
}

/// The fingerprint of a DER certificate, as [`normalize_fingerprint`] writes it.
#[must_use]
pub fn fingerprint_of(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Accepts exactly one end-entity certificate, whatever its issuer or names (a
/// self-signed trial certificate), and verifies handshake signatures as usual.
#[derive(Debug)]
pub struct PinnedCertificate {
    sha256: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertificate {
    /// A verifier for the certificate with this fingerprint (any accepted spelling).
    ///
    /// # Errors
    /// A malformed fingerprint.
    pub fn new(fingerprint: &str, provider: &CryptoProvider) -> Result<Self, SyncError> {
        let hex = normalize_fingerprint(fingerprint)?;
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&hex, &mut sha256)
            .map_err(|e| SyncError::Config(format!("bad fingerprint: {e}")))?;
        Ok(Self {
            sha256,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

/// Why a pinned certificate was refused; shown inside the "not trusted" error.
#[derive(Debug)]
struct FingerprintMismatch {
    found: String,
}

impl std::fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its certificate is not the pinned one (the server presented SHA-256 {})",
            self.found
        )
    }
}

impl std::error::Error for FingerprintMismatch {}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if digest == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(FingerprintMismatch {
                    found: hex::encode(digest),
                })),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
