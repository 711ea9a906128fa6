//! `cairn-server init`: a new data dir with a commented config, `db/`, `backups/`,
//! `tls/` (a self-signed certificate for trials) and the standard admin account.

use std::io::Write;
use std::path::Path;

use chrono::Datelike;

use crate::tls::fingerprint;

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
