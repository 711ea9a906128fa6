//! `POST` [`FILE_UPLOAD`]`?space=…&sha256=…&size=…&offset=…` (editors and owners):
//! a file's content from `offset` on, streamed as frames (see
//! [`cairn_common::api::files`]). The body is cut into frames here, on the async
//! side; a blocking task checks and appends them ([`Upload`]) while the next ones
//! arrive. A damaged frame ends the upload with what came before it kept; so does
//! a body that breaks off. The answer is the file's status after the frames.

use std::collections::HashMap;

use bytes::{Buf, Bytes};
use cairn_common::api::endpoints::FILE_UPLOAD;
use cairn_common::api::files::{FileStatus, FrameHeader, MAX_FRAME_BYTES};
use cairn_common::model::Role;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::{body_failed, caller, path, protocol, respond};
use super::files::{blob_error, blocking, file_of, files, role};
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::files::blobs::BlobError;
use crate::files::upload::{Begun, Upload};

/// Whole frames waiting for the blocking task: enough to keep it busy while the
/// next frame arrives, few enough that memory stays a few frames per upload.
const FRAME_QUEUE: usize = 2;

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    path(FILE_UPLOAD)
        .and(warp::post())
        .and(protocol())
        .and(caller(state.clone(), Gate::Enforce))
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::body::stream())
        .then(
            move |caller: Caller, query: HashMap<String, String>, body| {
                let state = state.clone();
                async move { respond(upload(state, caller, query, body).await) }
            },
        )
        .boxed()
}

async fn upload<B: Buf>(
    state: AppState,
    caller: Caller,
    query: HashMap<String, String>,
    body: impl Stream<Item = Result<B, warp::Error>>,
) -> Result<FileStatus, ApiError> {
    let (file, offset) = file_of(&query)?;
    match role(&state, file.space, caller.user.profile.id).await? {
        Role::Viewer => {
            return Err(ApiError::forbidden(
                "viewers cannot add files to this space; ask an owner to make you an editor",
            ));
        }
        Role::Editor | Role::Owner => {}
    }
    let files = files(&state)?;
    let begin = file.clone();
    let upload = match blocking(move || files.blobs.begin(&begin, offset, files.limits)).await? {
        Begun::Complete(status) => return Ok(status),
        Begun::Writing(upload) => *upload,
    };
    let (frames, queue) = mpsc::channel(FRAME_QUEUE);
    let appending = tokio::task::spawn_blocking(move || append_all(upload, queue));
    let body = body.map(|part| part.map_err(|e| body_failed(&e)));
    let read = read_frames(body, (file.size, offset), frames).await;
    let (status, refused) = appending.await.map_err(|e| ApiError::internal(&e))?;
    // Why the upload stopped: a refused frame, else a body that broke off or was
    // not frames; the status only if neither.
    if let Some(e) = refused {
        return Err(blob_error(e));
    }
    read?;
    status.map_err(blob_error)
}

/// A frame as it came off the wire.
struct Frame {
    header: FrameHeader,
    parts: Vec<Bytes>,
}

/// Appends the frames from `queue` until it ends or one is refused, then finishes
/// the upload (writing what came before a refused frame): the status after it,
/// and the refusal if there was one.
fn append_all(
    mut upload: Upload,
    mut queue: mpsc::Receiver<Frame>,
) -> (Result<FileStatus, BlobError>, Option<BlobError>) {
    let mut refused = None;
    while let Some(frame) = queue.blocking_recv() {
        if let Err(e) = upload.append(&frame.parts, &frame.header.sha256) {
            refused = Some(e);
            break;
        }
    }
    // Stops the reading side at its next frame.
    drop(queue);
    (upload.finish(), refused)
}

/// Cuts `body` into frames and hands them to `frames`, checking each header (its
/// length at most [`MAX_FRAME_BYTES`] and within the file's `size` from `offset`)
/// before reading its bytes. Ends early, and fine, when the appending side
/// stopped: its reason wins.
///
/// # Errors
/// A body that broke off or is not frames.
async fn read_frames<B: Buf>(
    body: impl Stream<Item = Result<B, ApiError>>,
    (size, offset): (u64, u64),
    frames: mpsc::Sender<Frame>,
) -> Result<(), ApiError> {
    let mut at = offset;
    let mut body = std::pin::pin!(body);
    let mut header = [0u8; FrameHeader::BYTES];
    let mut header_filled = 0;
    // The frame being read and how many of its bytes are still to come.
    let mut current: Option<(Frame, usize)> = None;
    while let Some(part) = body.next().await {
        let mut part = part?;
        // Zero-copy for hyper's bodies, whose parts are `Bytes` already.
        let mut part = part.copy_to_bytes(part.remaining());
        while !part.is_empty() {
            let Some((frame, missing)) = current.as_mut() else {
                let n = part.len().min(FrameHeader::BYTES - header_filled);
                header[header_filled..header_filled + n].copy_from_slice(&part[..n]);
                part.advance(n);
                header_filled += n;
                if header_filled == FrameHeader::BYTES {
                    header_filled = 0;
                    let next = FrameHeader::decode(&header);
                    current = Some(start_frame(next, size, &mut at)?);
                }
                continue;
            };
            let n = part.len().min(*missing);
            frame.parts.push(part.split_to(n));
            *missing -= n;
            if *missing == 0
                && let Some((frame, _)) = current.take()
                && frames.send(frame).await.is_err()
            {
                return Ok(());
            }
        }
    }
    if header_filled > 0 || current.is_some() {
        return Err(ApiError::bad_request(
            "the upload ended inside a frame; ask how much the server holds and send the rest",
        ));
    }
    Ok(())
}

/// A frame that `header` announces at byte `at` of a file of `size` bytes, if
/// it may come; `at` moves past it.
fn start_frame(header: FrameHeader, size: u64, at: &mut u64) -> Result<(Frame, usize), ApiError> {
    if header.len == 0 || header.len > MAX_FRAME_BYTES {
        return Err(ApiError::bad_request(format!(
            "an upload frame holds 1 to {MAX_FRAME_BYTES} bytes, not {}",
            header.len
        )));
    }
    let end = at.saturating_add(u64::from(header.len));
    if end > size {
        return Err(blob_error(BlobError::PastEnd { size }));
    }
    *at = end;
    let missing = usize::try_from(header.len).unwrap_or(usize::MAX);
    Ok((
        Frame {
            header,
            parts: Vec::new(),
        },
        missing,
    ))
}

#[cfg(test)]
mod tests {
    use cairn_common::api::files::Framer;
    use warp::http::StatusCode;

    use super::*;

    /// `content` as an upload body of frames of `frame` bytes.
    fn framed(content: &[u8], frame: usize) -> Vec<u8> {
        let mut framer = Framer::new();
        let mut body = Vec::new();
        for piece in content.chunks(frame) {
            body.extend_from_slice(&framer.header(piece).expect("small").encode());
            body.extend_from_slice(piece);
        }
        body
    }

    /// What [`read_frames`] makes of `body` arriving in parts of `part` bytes, for
    /// a file of `size` bytes from `offset`: its result and the frames handed on.
    async fn cut(
        body: &[u8],
        part: usize,
        (size, offset): (u64, u64),
    ) -> (Result<(), ApiError>, Vec<(FrameHeader, Vec<u8>)>) {
        let parts: Vec<Result<Bytes, ApiError>> = body
            .chunks(part)
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        let (frames, mut queue) = mpsc::channel(1024);
        let result = read_frames(futures_util::stream::iter(parts), (size, offset), frames).await;
        let mut out = Vec::new();
        while let Some(frame) = queue.recv().await {
            out.push((frame.header, frame.parts.concat()));
        }
        (result, out)
    }

    /// However the body is split into parts, the frames come out whole, in order,
    /// with their headers.
    #[tokio::test]
    async fn frames_are_cut_from_any_parts() {
        let content: Vec<u8> = (0..1000u32).map(|n| (n % 253) as u8).collect();
        let body = framed(&content, 300);
        for part in [1, 5, 36, 37, 299, 336, 5000] {
            let (result, frames) = cut(&body, part, (1000, 0)).await;
            assert_eq!(result, Ok(()));
            let mut framer = Framer::new();
            let expected: Vec<_> = content
                .chunks(300)
                .map(|c| (framer.header(c).expect("small"), c.to_vec()))
                .collect();
            assert_eq!(frames, expected, "parts of {part}");
        }
    }

    /// Headers that announce no bytes, too many, or bytes past the file's end are
    /// refused before their bytes are read; a body that ends inside a frame is
    /// refused; the frames before are handed on in every case.
    #[tokio::test]
    async fn bad_frames_are_refused() {
        let content = [1u8; 100];
        let good = framed(&content[..10], 10);
        let with =
            |header: FrameHeader, rest: &[u8]| [good.as_slice(), &header.encode(), rest].concat();
        let empty = FrameHeader {
            len: 0,
            sha256: [0; 32],
        };
        let huge = FrameHeader {
            len: MAX_FRAME_BYTES + 1,
            sha256: [0; 32],
        };
        let past = FrameHeader {
            len: 95,
            sha256: [0; 32],
        };
        for (body, status) in [
            (with(empty, b""), StatusCode::BAD_REQUEST),
            (with(huge, b""), StatusCode::BAD_REQUEST),
            (with(past, &content[..95]), StatusCode::BAD_REQUEST),
            (with(past, &content[..20]), StatusCode::BAD_REQUEST),
            ([good.as_slice(), &[0, 0]].concat(), StatusCode::BAD_REQUEST),
        ] {
            let (result, frames) = cut(&body, 7, (100, 0)).await;
            assert_eq!(result.map_err(|e| e.status), Err(status));
            assert_eq!(frames.len(), 1);
        }
        // From an offset, the file's end comes sooner.
        let (result, _) = cut(&framed(&content[..95], 95), 7, (100, 10)).await;
        assert!(result.is_err());
        let (result, frames) = cut(&framed(&content[..90], 95), 7, (100, 10)).await;
        assert_eq!((result, frames.len()), (Ok(()), 1));
    }
}
