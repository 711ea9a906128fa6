//! File content over the [`Client`]: one checked chunk up, or the content down as
//! a stream into a writer, resumable from an offset (see
//! [`cairn_common::api::files`]). Memory stays one chunk (up) or one frame (down),
//! whatever the size.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use cairn_common::api::endpoints::{FILE_DOWNLOAD, FILE_UPLOAD};
use cairn_common::api::files::{CHUNK_SHA256_HEADER, FileRef, FileStatus};
use cairn_common::api::{self};
use http_body_util::{BodyExt, Full, Limited};

use super::SyncError;
use super::client::{Client, classify_transport, decode_answer};

/// A download that delivers no byte for this long is given up (it resumes later).
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    fn file_request(&self, method: &str, uri: String) -> hyper::http::request::Builder {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header(api::PROTOCOL_HEADER, api::PROTOCOL_VERSION.to_string());
        if let Some(token) = &self.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request
    }

    /// Sends `chunk`, the bytes of `file` from `offset` on.
    ///
    /// # Errors
    /// As [`Client::call`]; a chunk that does not start where the server's copy
    /// ends is refused with code `upload_offset`.
    pub fn upload_chunk(
        &self,
        file: &FileRef,
        offset: u64,
        chunk: Bytes,
    ) -> Result<FileStatus, SyncError> {
        let hash = cairn_common::api::files::sha256_hex(&chunk);
        let request = self
            .file_request(
                "POST",
                format!(
                    "{}{FILE_UPLOAD}?{}&offset={offset}",
                    self.base,
                    file.query()
                ),
            )
            .header(CHUNK_SHA256_HEADER, hash)
            .header(hyper::header::CONTENT_LENGTH, chunk.len())
            .header(hyper::header::ACCEPT, api::CONTENT_TYPE)
            .body(Full::new(chunk))
            .map_err(|e| SyncError::Config(format!("cannot build the request: {e}")))?;
        let (status, body) = self.exchange(request, 1 << 20)?;
        decode_answer(status, &body)
    }

    /// Streams the content of `file` from byte `from` into `out`; how many bytes
    /// came. A broken-off download keeps what was written, to go on from there.
    ///
    /// # Errors
    /// As [`Client::call`] (a missing file or a non-member: 404), a stall, or a
    /// write error of `out`.
    pub fn download(
        &self,
        file: &FileRef,
        from: u64,
        out: &mut impl Write,
    ) -> Result<u64, SyncError> {
        let mut request = self.file_request(
            "GET",
            format!(
                "{}{FILE_DOWNLOAD}?space={}&sha256={}",
                self.base, file.space, file.sha256
            ),
        );
        if from > 0 {
            request = request.header(hyper::header::RANGE, format!("bytes={from}-"));
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| SyncError::Config(format!("cannot build the request: {e}")))?;
        let server = self.base.clone();
        self.runtime.block_on(async {
            let response = tokio::time::timeout(self.request_timeout, self.http.request(request))
                .await
                .map_err(|_| offline(&server, "no answer in time"))?
                .map_err(|e| classify_transport(&server, &e))?;
            let status = response.status();
            if !status.is_success() {
                let body = Limited::new(response.into_body(), 1 << 20)
                    .collect()
                    .await
                    .map(http_body_util::Collected::to_bytes)
                    .unwrap_or_default();
                return decode_answer::<()>(status, &body).map(|()| 0);
            }
            let mut body = response.into_body();
            let mut written = 0u64;
            loop {
                let frame = tokio::time::timeout(STALL_TIMEOUT, body.frame())
                    .await
                    .map_err(|_| offline(&server, "the download stalled"))?;
                let Some(frame) = frame else { break };
                let frame =
                    frame.map_err(|e| offline(&server, &format!("the download broke off: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    out.write_all(&data).map_err(|e| {
                        SyncError::Config(format!("cannot write the downloaded file: {e}"))
                    })?;
                    written += data.len() as u64;
                }
            }
            Ok(written)
        })
    }
}

fn offline(server: &str, reason: &str) -> SyncError {
    SyncError::Offline {
        server: server.to_owned(),
        reason: reason.to_owned(),
    }
}
