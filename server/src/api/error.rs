//! The one error type of the endpoints: a status and an [`ErrorResponse`] whose
//! message tells the person what to do next.

use cairn_common::api::{CONTENT_TYPE, ErrorResponse, codes};
use cairn_common::codec;
use warp::http::{StatusCode, header};
use warp::reply::Response;

use crate::auth::AuthError;
use crate::store::StoreError;

/// A refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttled logins).
    pub retry_after: Option<u64>,
}

impl warp::reject::Reject for ApiError {}

/// What a client is told about a failure inside the server; the details go to the log.
const INTERNAL_MESSAGE: &str = "the server failed to handle this request; try again later, and tell the server admin if \
     it keeps happening";

impl ApiError {
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
    }

    #[must_use]
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }

    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    #[must_use]
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE, message)
    }

    /// A failure inside the server: logged in full, told in general terms.
    #[must_use]
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!("request failed: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            INTERNAL_MESSAGE,
        )
    }

    /// The status and codec-encoded [`ErrorResponse`] body.
    #[must_use]
    pub fn into_response(self) -> Response {
        let body = ErrorResponse {
            code: self.code.to_owned(),
            message: self.message,
        };
        let mut response = encoded(self.status, &body);
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

/// A response with a codec-encoded body.
pub(crate) fn encoded<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match codec::encode(value) {
        Ok(bytes) => {
            let mut response = Response::new(bytes.into());
            *response.status_mut() = status;
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(CONTENT_TYPE),
            );
            response
        }
        Err(e) => {
            tracing::error!("could not encode a response: {e}");
            let mut response = Response::new(INTERNAL_MESSAGE.into());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => Self::not_found(m),
            StoreError::Forbidden(m) => Self::forbidden(m),
            StoreError::Conflict(_) | StoreError::DuplicateEmail(_) => {
                Self::new(StatusCode::CONFLICT, codes::CONFLICT, e.to_string())
            }
            StoreError::NoSuchUser(_) => Self::not_found(e.to_string()),
            StoreError::InvalidInput(_)
            | StoreError::InvalidEmail(_)
            | StoreError::ReservedName => Self::bad_request(e.to_string()),
            StoreError::Locked { .. }
            | StoreError::Io { .. }
            | StoreError::Storage(_)
            | StoreError::Damaged(_)
            | StoreError::Internal(_)
            | StoreError::Database(_)
            | StoreError::Pool(_)
            | StoreError::NotOnPostgres(_) => Self::internal(&e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::Unauthorized => {
                Self::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message)
            }
            AuthError::LoginFailed => {
                Self::new(StatusCode::UNAUTHORIZED, codes::LOGIN_FAILED, message)
            }
            AuthError::Throttled { wait } => Self {
                retry_after: Some(crate::auth::wait_secs(wait)),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, codes::THROTTLED, message)
            },
            AuthError::PasswordChangeRequired => Self::new(
                StatusCode::FORBIDDEN,
                codes::PASSWORD_CHANGE_REQUIRED,
                message,
            ),
            AuthError::ConsentRequired { .. } => {
                Self::new(StatusCode::FORBIDDEN, codes::CONSENT_REQUIRED, message)
            }
            AuthError::WrongPassword => Self::forbidden(message),
            AuthError::BadNewPassword(_) => Self::bad_request(message),
            AuthError::Store(e) => e.into(),
        }
    }
}
