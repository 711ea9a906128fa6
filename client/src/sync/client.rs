//! The HTTPS client: hyper-util's legacy client on hyper-rustls (HTTP/1.1 and h2 by
//! ALPN), HTTPS only, with codec bodies and the protocol header on every request.
//!
//! It owns a small current-thread tokio runtime and offers blocking calls: the sync
//! engine runs on its own thread (the CLI's main thread or the TUI's sync thread), so
//! nothing else needs to be async.

use std::time::Duration;

use bytes::Bytes;
use cairn_common::api::{self, Endpoint, ErrorResponse};
use cairn_common::codec;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::StatusCode;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

use super::SyncError;
use super::transfer::offline;
use super::trust::Trust;

/// How long to wait for a TCP connection and TLS handshake to start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take from sending to the last byte of the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest h2 frame the server may send (file downloads).
const MAX_FRAME_BYTES: u32 = 256 << 10;
/// Largest answer read: a pull page is bounded well below this.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A request's body: a whole one, or an upload's frames streamed as they are read.
pub(super) type RequestBody = Either<Full<Bytes>, super::upload::FramedBody>;

/// A connection to one server, with or without a session token.
pub struct Client {
    pub(super) base: String,
    pub(super) token: Option<String>,
    pub(super) http: HyperClient<HttpsConnector<HttpConnector>, RequestBody>,
    pub(super) runtime: tokio::runtime::Runtime,
    pub(super) request_timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never in logs.
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

/// Checks a server address: `https://host[:port][/prefix]`; plain `http://` is refused.
///
/// # Errors
/// A URL that is not HTTPS or has no host, with what to write instead.
pub fn check_url(url: &str) -> Result<String, SyncError> {
    let trimmed = url.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("http://") {
        return Err(SyncError::Config(format!(
            "{url:?} is plain HTTP; Cairn talks to its server only over HTTPS: write https://{}",
            &trimmed["http://".len()..]
        )));
    }
    let Some(rest) = lower.strip_prefix("https://") else {
        return Err(SyncError::Config(format!(
            "{url:?} is not a server address; write it as https://HOST[:PORT]"
        )));
    };
    if rest.is_empty() || rest.starts_with('/') || rest.starts_with(':') {
        return Err(SyncError::Config(format!(
            "{url:?} has no host; write it as https://HOST[:PORT]"
        )));
    }
    trimmed
        .parse::<hyper::Uri>()
        .map_err(|e| SyncError::Config(format!("{url:?} is not a valid address: {e}")))?;
    Ok(trimmed.to_owned())
}

impl Client {
    /// A client for the server at `url` (checked by [`check_url`]) trusting `trust`.
    ///
    /// # Errors
    /// A bad URL, a trust that cannot be set up, or no runtime.
    pub fn new(url: &str, trust: &Trust) -> Result<Self, SyncError> {
        let base = check_url(url)?;
        let tls = trust.client_config()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Config(format!("cannot start the network runtime: {e}")))?;
        // Client::build spawns nothing, but the executor needs the runtime entered.
        let http = {
            let _guard = runtime.enter();
            HyperClient::builder(TokioExecutor::new())
                // Downloads: frames of 16 KiB (the default) cost a wake-up each.
                .http2_max_frame_size(MAX_FRAME_BYTES)
                .build(connector)
        };
        Ok(Self {
            base,
            token: None,
            http,
            runtime,
            request_timeout: REQUEST_TIMEOUT,
        })
    }

    /// The same client sending `token` as its session.
    #[must_use]
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// A shorter request timeout (tests, quick checks).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The server's address.
    #[must_use]
    pub fn server(&self) -> &str {
        &self.base
    }

    /// Sends `body` to the endpoint `E` (one of [`api::endpoints`]) and decodes its
    /// answer.
    ///
    /// # Errors
    /// [`SyncError`] classified by what happened: offline, untrusted certificate,
    /// 401, the password gate, 426, another refusal, a server error, or an answer
    /// that does not decode.
    pub fn call<E: Endpoint>(&self, body: &E::Request) -> Result<E::Response, SyncError> {
        let bytes = codec::encode(body)
            .map_err(|e| SyncError::Config(format!("cannot encode the request: {e}")))?;
        let request = self
            .request(E::METHOD.as_str(), format!("{}{}", self.base, E::PATH))
            .header(hyper::header::CONTENT_TYPE, api::CONTENT_TYPE)
            .header(hyper::header::ACCEPT, api::CONTENT_TYPE)
            .body(Either::Left(Full::new(Bytes::from(bytes))))
            .map_err(|e| SyncError::Config(format!("cannot build the request: {e}")))?;
        let (status, body) = self.exchange(request, MAX_RESPONSE_BYTES)?;
        decode_answer(status, &body)
    }

    /// A request to `uri` with the protocol header and the session, if any.
    pub(super) fn request(&self, method: &str, uri: String) -> hyper::http::request::Builder {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header(api::PROTOCOL_HEADER, api::PROTOCOL_VERSION.to_string());
        if let Some(token) = &self.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request
    }

    /// Sends `request` and reads its whole answer (at most `limit` bytes), without
    /// a time limit: the callers set one.
    ///
    /// # Errors
    /// The server cannot be reached, or the answer breaks off or is too long.
    pub(super) async fn send_and_collect(
        &self,
        request: hyper::Request<RequestBody>,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), SyncError> {
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| classify_transport(&self.base, &e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| offline(&self.base, &format!("the answer broke off: {e}")))?
            .to_bytes();
        Ok((status, body))
    }

    /// Sends `request` and reads its whole answer (at most `limit` bytes), within
    /// the request timeout.
    ///
    /// # Errors
    /// The server cannot be reached, the answer breaks off or does not come in time.
    fn exchange(
        &self,
        request: hyper::Request<RequestBody>,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), SyncError> {
        let server = self.base.clone();
        self.runtime.block_on(async {
            let exchange = self.send_and_collect(request, limit);
            tokio::time::timeout(self.request_timeout, exchange)
                .await
                .map_err(|_| SyncError::Offline {
                    server: server.clone(),
                    reason: format!(
                        "no answer within {} seconds",
                        self.request_timeout.as_secs()
                    ),
                })?
        })
    }
}

/// Reads an answer: the expected type on 2xx, else the [`ErrorResponse`] mapped to a
/// [`SyncError`]. Bodies that do not decode are errors, never panics.
pub(super) fn decode_answer<Resp: DeserializeOwned>(
    status: StatusCode,
    body: &[u8],
) -> Result<Resp, SyncError> {
    if status.is_success() {
        return codec::decode(body).map_err(|e| SyncError::BadResponse {
            status: status.as_u16(),
            detail: e.to_string(),
        });
    }
    let error: Option<ErrorResponse> = codec::decode(body).ok();
    let (code, message) = match error {
        Some(e) => (e.code, e.message),
        None => (
            String::new(),
            format!(
                "HTTP {status}{}",
                if body.is_empty() {
                    ""
                } else {
                    " with a body that is not Cairn's"
                }
            ),
        ),
    };
    Err(match status.as_u16() {
        426 => SyncError::Upgrade { message },
        401 => SyncError::Unauthorized { message },
        403 if code == api::codes::PASSWORD_CHANGE_REQUIRED => {
            SyncError::PasswordChange { message }
        }
        403 if code == api::codes::CONSENT_REQUIRED => SyncError::Consent { message },
        s if status.is_server_error() => SyncError::Server { status: s, message },
        s if code.is_empty() => SyncError::BadResponse {
            status: s,
            detail: message,
        },
        s => SyncError::Refused {
            status: s,
            code,
            message,
        },
    })
}

/// Maps a transport failure: an untrusted certificate says how to trust it; anything
/// else on the way to the server means offline.
pub(super) fn classify_transport(
    server: &str,
    error: &hyper_util::client::legacy::Error,
) -> SyncError {
    // io::Error's `source` skips the error it wraps, so io errors are opened with
    // `get_ref` (hyper-rustls nests the rustls error two io errors deep).
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(cert) => SyncError::Untrusted {
                    server: server.to_owned(),
                    detail: certificate_detail(cert),
                },
                other => SyncError::Offline {
                    server: server.to_owned(),
                    reason: format!("the TLS handshake failed: {other}"),
                },
            };
        }
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => e.source(),
        };
    }
    let mut reason = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        reason = format!("{reason}: {e}");
        cause = e.source();
    }
    SyncError::Offline {
        server: server.to_owned(),
        reason,
    }
}

fn certificate_detail(error: &rustls::CertificateError) -> String {
    match error {
        rustls::CertificateError::UnknownIssuer => {
            "its certificate is not signed by a CA this machine trusts".into()
        }
        rustls::CertificateError::NotValidForName
        | rustls::CertificateError::NotValidForNameContext { .. } => {
            "its certificate is for another name".into()
        }
        rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
            "its certificate has expired".into()
        }
        rustls::CertificateError::Other(other) => other.to_string(),
        other => format!("its certificate was refused ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain HTTP, other schemes and hostless addresses are refused with the fix.
    #[test]
    fn only_https_urls() {
        let err = check_url("http://cairn.example.com").expect_err("http");
        assert!(
            err.to_string().contains("https://cairn.example.com"),
            "{err}"
        );
        assert!(check_url("cairn.example.com").is_err());
        assert!(check_url("https://").is_err());
        assert_eq!(
            check_url("https://cairn.example.com:8443/").expect("https"),
            "https://cairn.example.com:8443"
        );
    }

    /// Error answers map to their class; bodies that do not decode are errors.
    #[test]
    fn answers_are_classified() {
        let body = |code: &str| {
            codec::encode(&ErrorResponse {
                code: code.into(),
                message: "m".into(),
            })
            .expect("encode")
        };
        let status = |s: u16| StatusCode::from_u16(s).expect("status");
        let err = decode_answer::<api::Empty>(status(426), &body("upgrade_required"));
        assert!(matches!(err, Err(SyncError::Upgrade { .. })));
        assert!(err.expect_err("426").to_string().contains("please upgrade"));
        let gate = decode_answer::<api::Empty>(status(403), &body("password_change_required"))
            .expect_err("gate");
        assert!(gate.to_string().contains("cairn passwd"), "{gate}");
        let auth = decode_answer::<api::Empty>(status(401), &body("unauthorized"));
        assert!(matches!(auth, Err(SyncError::Unauthorized { .. })));
        let forbidden = decode_answer::<api::Empty>(status(403), &body("forbidden"));
        assert!(matches!(
            forbidden,
            Err(SyncError::Refused { status: 403, .. })
        ));
        let server = decode_answer::<api::Empty>(status(500), b"<html>oops</html>");
        assert!(matches!(server, Err(SyncError::Server { status: 500, .. })));
        let garbled = decode_answer::<api::PushResponse>(status(200), b"{\"json\":1}");
        assert!(matches!(
            garbled,
            Err(SyncError::BadResponse { status: 200, .. })
        ));
        let ok: api::PushResponse = decode_answer(
            status(200),
            &codec::encode(&api::PushResponse {
                epoch: api::Epoch::new(),
                stored: 1,
                duplicates: 0,
                refused: Vec::new(),
            })
            .expect("encode"),
        )
        .expect("decodes");
        assert_eq!(ok.stored, 1);
    }
}
