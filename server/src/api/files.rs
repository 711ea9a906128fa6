//! File content: [`endpoints::FilesStatus`] (how much the server holds) and the
//! streamed download ([`FILE_DOWNLOAD`], every member); the upload is in
//! [`super::upload`]. A non-member gets the same 404 as for content that does not
//! exist, so asking tells nothing about other spaces.

use std::collections::HashMap;

use bytes::Bytes;
use cairn_common::api::codes;
use cairn_common::api::endpoints::{self, FILE_DOWNLOAD};
use cairn_common::api::files::{FileRef, FileStatus};
use cairn_common::model::{Role, SpaceId, UserId};
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::extract::{caller, endpoint, path, protocol};
use super::{ApiError, AppState, FileStore};
use crate::auth::{Caller, Gate};
use crate::files::blobs::BlobError;

/// The one answer for content a caller may not see or that is not there.
const NO_SUCH_FILE: &str = "no such file in this space; `cairn sync` and try again, or ask \
     who added it whether it was uploaded";

pub fn status_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::FilesStatus, state, Gate::Enforce, status)
}

pub(super) fn files(state: &AppState) -> Result<std::sync::Arc<FileStore>, ApiError> {
    state.files.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::INTERNAL,
            "this server keeps no files",
        )
    })
}

/// The caller's role in `space`; a non-member gets [`NO_SUCH_FILE`].
pub(super) async fn role(state: &AppState, space: SpaceId, user: UserId) -> Result<Role, ApiError> {
    state
        .store
        .role_of(space, user)
        .await?
        .ok_or_else(|| ApiError::not_found(NO_SUCH_FILE))
}

async fn status(state: AppState, caller: Caller, file: FileRef) -> Result<FileStatus, ApiError> {
    role(&state, file.space, caller.user.profile.id).await?;
    let files = files(&state)?;
    blocking(move || files.blobs.status(file.space, &file.sha256)).await
}

pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(blob_error)
}

pub(super) fn blob_error(e: BlobError) -> ApiError {
    let message = e.to_string();
    match e {
        BlobError::NotFound => ApiError::not_found(NO_SUCH_FILE),
        BlobError::BadHash | BlobError::PastEnd { .. } => ApiError::bad_request(message),
        BlobError::Offset { .. } => {
            ApiError::new(StatusCode::CONFLICT, codes::UPLOAD_OFFSET, message)
        }
        BlobError::Busy => ApiError::new(StatusCode::CONFLICT, codes::UPLOAD_BUSY, message),
        BlobError::TooLarge { .. } | BlobError::SpaceFull { .. } => ApiError::too_large(message),
        BlobError::FrameDamaged | BlobError::FileDamaged => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, codes::DAMAGED, message)
        }
        BlobError::Io(e) => ApiError::internal(&e),
    }
}

/// The query's file, and the offset for an upload.
pub(super) fn file_of(query: &HashMap<String, String>) -> Result<(FileRef, u64), ApiError> {
    let get = |key: &str| {
        query
            .get(key)
            .ok_or_else(|| ApiError::bad_request(format!("the request has no {key}")))
    };
    let number = |key: &str| -> Result<u64, ApiError> {
        get(key)?
            .parse()
            .map_err(|_| ApiError::bad_request(format!("{key} is not a number")))
    };
    let space = get("space")?
        .parse::<uuid::Uuid>()
        .map_err(|_| ApiError::bad_request("space is not a space id"))?;
    let file = FileRef {
        space: SpaceId(space),
        sha256: get("sha256")?.to_ascii_lowercase(),
        size: if query.contains_key("size") {
            number("size")?
        } else {
            0
        },
    };
    let offset = if query.contains_key("offset") {
        number("offset")?
    } else {
        0
    };
    Ok((file, offset))
}

pub fn download_route(state: AppState) -> BoxedFilter<(Response,)> {
    path(FILE_DOWNLOAD)
        .and(warp::get())
        .and(protocol())
        .and(caller(state.clone(), Gate::Enforce))
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("range"))
        .then(
            move |caller: Caller, query: HashMap<String, String>, range: Option<String>| {
                let state = state.clone();
                async move {
                    match download(state, caller, query, range).await {
                        Ok(response) => response,
                        Err(e) => e.into_response(),
                    }
                }
            },
        )
        .boxed()
}

/// `bytes=N-`: where to start.
fn range_start(range: Option<&str>) -> Result<u64, ApiError> {
    let Some(range) = range else { return Ok(0) };
    range
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::bad_request("only ranges of the form bytes=N- are served"))
}

/// Blocks read ahead of the response: memory per download stays this many
/// blocks of `Reader::READ`.
const READ_AHEAD: usize = 4;

async fn download(
    state: AppState,
    caller: Caller,
    query: HashMap<String, String>,
    range: Option<String>,
) -> Result<Response, ApiError> {
    let (file, _) = file_of(&query)?;
    role(&state, file.space, caller.user.profile.id).await?;
    let start = range_start(range.as_deref())?;
    let files = files(&state)?;
    let (mut reader, size) =
        blocking(move || files.blobs.read_from(file.space, &file.sha256, start)).await?;
    if start > size {
        return Err(ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            codes::BAD_REQUEST,
            format!("the file has {size} bytes; ask for a range within them"),
        ));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        loop {
            let block = reader.next_block();
            let last = !matches!(block, Ok(Some(_)));
            if let Some(block) = block.transpose()
                && tx.blocking_send(block).is_err()
            {
                break;
            }
            if last {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = warp::reply::stream(stream).into_response();
    let headers = response.headers_mut();
    let value = |text: String| HeaderValue::from_str(&text).map_err(|e| ApiError::internal(&e));
    headers.insert(header::CONTENT_LENGTH, value((size - start).to_string())?);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if start > 0 {
        headers.insert(
            header::CONTENT_RANGE,
            value(format!("bytes {start}-{}/{size}", size.saturating_sub(1)))?,
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}
