//! Filters every endpoint shares: the exact path, the protocol version, the session,
//! the body (content type, size limit, decode), and turning a handler's result into
//! a response.

use std::future::Future;
use std::net::IpAddr;

use bytes::{Buf, BufMut};
use cairn_common::api::{
    CONTENT_TYPE, Endpoint, MAX_BODY_BYTES, Method, PROTOCOL_HEADER, PROTOCOL_VERSION, codes,
};
use cairn_common::codec;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{ApiError, AppState};
use crate::auth::{Caller, Gate, authenticate};
use crate::serve::BodyTimedOut;

fn reject(e: ApiError) -> Rejection {
    warp::reject::custom(e)
}

/// Matches exactly the path of `E` (e.g. `/v1/spaces/create`), then its method.
pub fn route<E: Endpoint + 'static>() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path::full()
        .and_then(move |full: warp::path::FullPath| async move {
            if full.as_str() == E::PATH {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
        .and(method(E::METHOD))
}

/// Matches `path` (e.g. `/healthz`) as `warp::path!` does: segment by segment, a
/// trailing slash allowed. For the plain-text endpoints, which always matched so.
pub fn path(path: &'static str) -> BoxedFilter<()> {
    path.split('/')
        .filter(|segment| !segment.is_empty())
        .fold(warp::any().boxed(), |filter, segment| {
            filter.and(warp::path(segment)).boxed()
        })
        .and(warp::path::end())
        .boxed()
}

fn method(method: Method) -> BoxedFilter<()> {
    match method {
        Method::Get => warp::get().boxed(),
        Method::Post => warp::post().boxed(),
    }
}

/// Refuses requests without this build's protocol version: 426 with what to upgrade.
pub fn protocol() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>(PROTOCOL_HEADER)
        .and_then(|sent: Option<String>| async move {
            let version = sent.as_deref().and_then(|v| v.trim().parse::<u16>().ok());
            match version {
                Some(PROTOCOL_VERSION) => Ok(()),
                Some(v) if v > PROTOCOL_VERSION => Err(reject(upgrade(format!(
                    "this server speaks Cairn protocol {PROTOCOL_VERSION} and your cairn speaks \
                     {v}; ask the server admin to upgrade cairn-server (it runs {})",
                    env!("CARGO_PKG_VERSION")
                )))),
                _ => Err(reject(upgrade(format!(
                    "this server speaks Cairn protocol {PROTOCOL_VERSION}; please upgrade cairn \
                     to version {} or newer",
                    env!("CARGO_PKG_VERSION")
                )))),
            }
        })
        .untuple_one()
}

fn upgrade(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UPGRADE_REQUIRED,
        codes::UPGRADE_REQUIRED,
        message,
    )
}

/// The caller's session, checked against the must-change-password gate.
pub fn caller(
    state: AppState,
    gate: Gate,
) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization").and_then(move |auth: Option<String>| {
        let state = state.clone();
        async move {
            authenticate(
                &state.store,
                auth.as_deref(),
                state.clock.now_ms(),
                gate,
                &state.privacy.notice.version,
            )
            .await
            .map_err(|e| reject(e.into()))
        }
    })
}

/// The request body decoded as `T`: the one content type, at most
/// [`MAX_BODY_BYTES`] (declared up front: hyper holds the body to its
/// `Content-Length`), and a clean 400 for anything that does not decode or does
/// not arrive whole (408 when it came too slowly).
pub fn body<T: DeserializeOwned + Send + 'static>()
-> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-type")
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(|kind: Option<String>, length: Option<u64>| async move {
            let essence = kind
                .as_deref()
                .and_then(|k| k.split(';').next())
                .map(str::trim);
            if !essence.is_some_and(|e| e.eq_ignore_ascii_case(CONTENT_TYPE)) {
                return Err(reject(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    codes::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "requests must be sent as {CONTENT_TYPE}; use the cairn client to talk \
                         to this server"
                    ),
                )));
            }
            match length {
                None => Err(reject(ApiError::new(
                    StatusCode::LENGTH_REQUIRED,
                    codes::BAD_REQUEST,
                    "the request has no Content-Length; send the body with its length",
                ))),
                Some(n) if n > MAX_BODY_BYTES => Err(reject(too_large())),
                Some(_) => Ok(()),
            }
        })
        .untuple_one()
        .and(warp::body::stream())
        .and_then(|stream| async move {
            let bytes = read_body(stream).await.map_err(reject)?;
            codec::decode::<T>(&bytes).map_err(|e| {
                reject(ApiError::bad_request(format!(
                    "the request could not be read: {e}"
                )))
            })
        })
}

/// Reads a whole body, at most [`MAX_BODY_BYTES`] of it.
async fn read_body<S, B>(stream: S) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut bytes = Vec::new();
    while let Some(part) = stream.next().await {
        let part = part.map_err(|e| body_failed(&e))?;
        if (bytes.len() as u64).saturating_add(part.remaining() as u64) > MAX_BODY_BYTES {
            return Err(too_large());
        }
        bytes.put(part);
    }
    Ok(bytes)
}

/// A body that did not arrive whole: the client hung up mid-body, its network
/// broke, or it came too slowly ([`BodyTimedOut`]). Never the server's fault, so a
/// 4xx (counted as such in the statistics) and a debug line, not a 500 and an error
/// in the log. The client rarely reads the answer, but one that does learns what
/// happened.
pub(super) fn body_failed(e: &warp::Error) -> ApiError {
    let timed_out = std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .any(|e| e.is::<BodyTimedOut>());
    if timed_out {
        tracing::debug!("ending a request whose body came too slowly: {e}");
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            codes::BAD_REQUEST,
            format!("{e}; check the network connection and try again"),
        )
    } else {
        tracing::debug!("a request body did not arrive whole: {e}");
        ApiError::bad_request(
            "the request body did not arrive whole (the connection broke or was closed); \
             try again",
        )
    }
}

fn too_large() -> ApiError {
    ApiError::too_large(format!(
        "the request is larger than {} MiB; send it in smaller parts",
        MAX_BODY_BYTES >> 20
    ))
}

/// A handler's answer as a response: 200 with the encoded value, or the error.
pub fn respond<T: Serialize>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(value) => super::error::encoded(StatusCode::OK, &value),
        Err(e) => e.into_response(),
    }
}

/// The authenticated endpoint `E` (the unit value names it): path and method,
/// protocol, session (with `gate`), body, then `handler`.
pub fn endpoint<E, F, Fut>(
    _: E,
    state: AppState,
    gate: Gate,
    handler: F,
) -> BoxedFilter<(Response,)>
where
    E: Endpoint + 'static,
    F: Fn(AppState, Caller, E::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<E::Response, ApiError>> + Send,
{
    route::<E>()
        .and(protocol())
        .and(caller(state.clone(), gate))
        .and(body::<E::Request>())
        .then(move |caller: Caller, request: E::Request| {
            let state = state.clone();
            let handler = handler.clone();
            async move { respond(handler(state, caller, request).await) }
        })
        .boxed()
}

/// As [`endpoint`], with the client's address for the handler (consent records
/// keep it truncated).
pub fn endpoint_with_peer<E, F, Fut>(
    _: E,
    state: AppState,
    gate: Gate,
    peer: BoxedFilter<(Option<IpAddr>,)>,
    handler: F,
) -> BoxedFilter<(Response,)>
where
    E: Endpoint + 'static,
    F: Fn(AppState, Caller, Option<IpAddr>, E::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<E::Response, ApiError>> + Send,
{
    route::<E>()
        .and(protocol())
        .and(caller(state.clone(), gate))
        .and(peer)
        .and(body::<E::Request>())
        .then(
            move |caller: Caller, peer: Option<IpAddr>, request: E::Request| {
                let state = state.clone();
                let handler = handler.clone();
                async move { respond(handler(state, caller, peer, request).await) }
            },
        )
        .boxed()
}

/// An endpoint that needs no session (the privacy notice, joining): path and
/// method, protocol, the client's address, body, then `handler`.
pub fn open_endpoint<E, F, Fut>(
    _: E,
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
    handler: F,
) -> BoxedFilter<(Response,)>
where
    E: Endpoint + 'static,
    F: Fn(AppState, Option<IpAddr>, E::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<E::Response, ApiError>> + Send,
{
    route::<E>()
        .and(protocol())
        .and(peer)
        .and(body::<E::Request>())
        .then(move |peer: Option<IpAddr>, request: E::Request| {
            let state = state.clone();
            let handler = handler.clone();
            async move { respond(handler(state, peer, request).await) }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{
        CONTENT_TYPE, Empty, MAX_BODY_BYTES, PROTOCOL_HEADER, SpaceList, codes,
    };
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::codec;
    use warp::http::StatusCode;

    use super::super::testing::{TestApi, error_body};

    async fn working(api: &TestApi, token: &str) {
        let _: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(token), &Empty)
            .await
            .expect("the routes still work");
    }

    /// Garbage, a truncated body, trailing bytes and a foreign header get 400 with an
    /// ErrorResponse, and the next request is served normally.
    #[tokio::test]
    async fn malformed_bodies_are_400() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        let good = codec::encode(&cairn_common::api::PullRequest {
            epoch: None,
            cursors: vec![],
            max_ops: 10,
        })
        .expect("encode");
        let mut trailing = good.clone();
        trailing.push(0);
        let bodies: Vec<Vec<u8>> = vec![
            b"not cairn at all".to_vec(),
            good[..good.len() - 1].to_vec(),
            good[..3].to_vec(),
            trailing,
            Vec::new(),
            b"CAIRN\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff".to_vec(),
        ];
        for body in bodies {
            let (status, bytes) = api
                .send(TestApi::request(endpoints::Pull::PATH, Some(&token), &body))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
            assert_eq!(error_body(&bytes).code, codes::BAD_REQUEST);
            working(&api, &token).await;
        }
    }

    /// A body over the limit gets 413, whether its length is declared up front or
    /// it really is that long.
    #[tokio::test]
    async fn oversized_bodies_are_413() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        let declared = TestApi::request(endpoints::Push::PATH, Some(&token), b"CAIRN")
            .header("content-length", (MAX_BODY_BYTES + 1).to_string());
        let huge = vec![0u8; usize::try_from(MAX_BODY_BYTES).expect("fits") + 1];
        let real = TestApi::request(endpoints::Push::PATH, Some(&token), &huge);
        for request in [declared, real] {
            let (status, bytes) = api.send(request).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
            assert_eq!(error_body(&bytes).code, codes::TOO_LARGE);
        }
        working(&api, &token).await;
    }

    /// Another content type gets 415.
    #[tokio::test]
    async fn wrong_content_type_is_415() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        let body = codec::encode(&Empty).expect("encode");
        let request = TestApi::request(endpoints::Spaces::PATH, Some(&token), &body)
            .header("content-type", "application/json");
        let (status, bytes) = api.send(request).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(error_body(&bytes).code, codes::UNSUPPORTED_MEDIA_TYPE);
        let with_params = TestApi::request(endpoints::Spaces::PATH, Some(&token), &body)
            .header("content-type", format!("{CONTENT_TYPE}; charset=binary"));
        assert_eq!(api.send(with_params).await.0, StatusCode::OK);
    }

    /// A missing, older or newer protocol version gets 426 `upgrade_required` with
    /// what to upgrade, before anything else is looked at (even on login).
    #[tokio::test]
    async fn wrong_protocol_is_426() {
        let api = TestApi::new();
        let body = codec::encode(&Empty).expect("encode");
        for (version, expect) in [
            (Some("0"), "please upgrade cairn"),
            (Some("1"), "please upgrade cairn"),
            (Some("x"), "please upgrade cairn"),
            (None, "please upgrade cairn"),
            (Some("3"), "upgrade cairn-server"),
        ] {
            for path in [endpoints::Login::PATH, endpoints::Spaces::PATH] {
                let mut request = TestApi::request(path, None, &body);
                if let Some(v) = version {
                    request = request.header(PROTOCOL_HEADER, v);
                } else {
                    request = warp::test::request()
                        .method("POST")
                        .path(path)
                        .header("content-type", CONTENT_TYPE)
                        .body(&body);
                }
                let (status, bytes) = api.send(request).await;
                assert_eq!(status, StatusCode::UPGRADE_REQUIRED, "{version:?} {path}");
                let error = error_body(&bytes);
                assert_eq!(error.code, codes::UPGRADE_REQUIRED);
                assert!(error.message.contains(expect), "{}", error.message);
            }
        }
    }
}
