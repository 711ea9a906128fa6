//! Every refusal becomes a status and a codec-encoded `ErrorResponse`, including
//! unknown paths and warp's own rejections.

use std::convert::Infallible;

use cairn_common::api::codes;
use cairn_common::api::endpoints::HEALTHZ;
use warp::Rejection;
use warp::http::StatusCode;
use warp::reject::{
    InvalidHeader, LengthRequired, MethodNotAllowed, MissingHeader, PayloadTooLarge,
    UnsupportedMediaType,
};
use warp::reply::Response;

use super::ApiError;

/// Maps a rejection to its response.
///
/// # Errors
/// Never: every rejection gets an answer.
pub async fn handle(rejection: Rejection) -> Result<Response, Infallible> {
    Ok(to_error(&rejection).into_response())
}

fn to_error(rejection: &Rejection) -> ApiError {
    if let Some(e) = rejection.find::<ApiError>() {
        return e.clone();
    }
    if rejection.is_not_found() {
        return ApiError::not_found(
            "there is no such endpoint; check the server address, and that cairn and the \
             server are of compatible versions",
        );
    }
    if rejection.find::<MethodNotAllowed>().is_some() {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::BAD_REQUEST,
            format!("this endpoint takes POST requests (only {HEALTHZ} takes GET)"),
        );
    }
    if rejection.find::<PayloadTooLarge>().is_some() {
        return ApiError::too_large("the request is too large; send it in smaller parts");
    }
    if rejection.find::<LengthRequired>().is_some() {
        return ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            codes::BAD_REQUEST,
            "the request has no Content-Length; send the body with its length",
        );
    }
    if rejection.find::<UnsupportedMediaType>().is_some() {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "the request's content type is not supported; use the cairn client",
        );
    }
    if let Some(e) = rejection.find::<InvalidHeader>() {
        return ApiError::bad_request(format!("{e}; use the cairn client"));
    }
    if let Some(e) = rejection.find::<MissingHeader>() {
        return ApiError::bad_request(format!("{e}; use the cairn client"));
    }
    ApiError::internal(&format_args!("unhandled rejection: {rejection:?}"))
}

#[cfg(test)]
mod tests {
    use cairn_common::api::codes;
    use cairn_common::api::{Endpoint, endpoints};
    use warp::http::StatusCode;

    use super::super::testing::{TestApi, error_body};

    /// Unknown paths get 404 and the wrong method 405, each with an ErrorResponse in
    /// the API's content type.
    #[tokio::test]
    async fn unknown_path_and_method() {
        let api = TestApi::new();
        for (request, status, code) in [
            (
                TestApi::request("/v1/nothing", None, b""),
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
            ),
            (
                TestApi::request("/v1/push/", None, b""),
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
            ),
            (
                warp::test::request().path("/"),
                StatusCode::NOT_FOUND,
                codes::NOT_FOUND,
            ),
            (
                warp::test::request()
                    .method("GET")
                    .path(endpoints::Push::PATH),
                StatusCode::METHOD_NOT_ALLOWED,
                codes::BAD_REQUEST,
            ),
        ] {
            let routes = super::super::routes(api.state.clone());
            let response = request.reply(&routes).await;
            assert_eq!(response.status(), status);
            assert_eq!(
                response.headers().get("content-type").map(|v| v.as_bytes()),
                Some(cairn_common::api::CONTENT_TYPE.as_bytes())
            );
            assert_eq!(error_body(response.body()).code, code);
        }
    }
}
