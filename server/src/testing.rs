//! Test helpers shared by this crate's tests and the end-to-end tests in `tests/`
//! (feature `testing`): a TLS client that trusts one certificate, and raw requests
//! over HTTP/1.1 or h2.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

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
        let connector = tokio_rustls::TlsConnector::from(client_config(cert_der, http)?);
        let tcp = TcpStream::connect(addr).await?;
        let tls = connector
            .connect(ServerName::try_from("localhost")?, tcp)
            .await?;
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
