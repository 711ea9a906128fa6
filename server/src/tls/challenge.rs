//! TLS-ALPN-01 (RFC 8737, and RFC 8738 for IP addresses): the self-signed
//! certificate that proves to an ACME CA that this server answers for a name, and
//! the server name (SNI) the CA asks for it under.

use std::net::IpAddr;

use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The certificate answering the challenge for `identifier` (a DNS name or an IP
/// address) whose key authorization has the SHA-256 `digest`.
///
/// # Errors
/// When rcgen or rustls cannot make it (an identifier that is no name or address).
pub fn certificate(identifier: &str, digest: &[u8]) -> anyhow::Result<CertifiedKey> {
    let mut params = CertificateParams::new(vec![identifier.to_owned()])?;
    params
        .custom_extensions
        .push(CustomExtension::new_acme_identifier(digest));
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // Not `CertifiedKey::from_der`: its check that key and certificate match parses
    // the certificate with webpki, which refuses the critical acmeIdentifier
    // extension; the pair is made together here, so it matches.
    let signing = super::provider().key_provider.load_private_key(private)?;
    Ok(CertifiedKey::new(
        vec![CertificateDer::from(cert.der().to_vec())],
        signing,
    ))
}

/// The SNI a CA sends to validate `identifier`: the name itself, or for an IP
/// address its reverse-DNS name (`1.0.0.127.in-addr.arpa`, RFC 8738).
#[must_use]
pub fn server_name(identifier: &str) -> String {
    match identifier.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        Ok(IpAddr::V6(v6)) => {
            let mut name = String::new();
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name + "ip6.arpa"
        }
        Err(_) => identifier.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names stay names; addresses become their reverse-DNS names.
    #[test]
    fn server_names_of_identifiers() {
        assert_eq!(server_name("Cairn.Example.com"), "cairn.example.com");
        assert_eq!(server_name("127.0.0.1"), "1.0.0.127.in-addr.arpa");
        assert!(server_name("::1").starts_with("1.0.0.0.0.0"));
        assert!(server_name("::1").ends_with(".ip6.arpa"));
    }

    /// The challenge certificate carries the acmeIdentifier extension with the
    /// digest, and names the identifier.
    #[test]
    fn challenge_certificate_carries_the_digest() {
        super::super::install_default_provider();
        let digest = [7u8; 32];
        let key = certificate("cairn.example.com", &digest).expect("certificate");
        let der = key.cert[0].as_ref();
        assert!(
            der.windows(32).any(|w| w == digest),
            "digest in the extension"
        );
        assert!(
            der.windows(17).any(|w| w == b"cairn.example.com"),
            "the name in the certificate"
        );
    }
}
