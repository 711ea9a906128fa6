//! File content down over the [`Client`]: a stream into writers, resumable from
//! an offset (see [`cairn_common::api::files`]). Each writer (the cache, which
//! hashes; a copy asked for) runs on a thread of its own while the runtime's
//! thread receives and decrypts, so they all overlap: a copy into fresh
//! page-cache pages, slow on some VMs, does not hold up the cache's writes. Memory
//! stays a few frames of the response per writer whatever the size. Uploads are
//! in `upload.rs`.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use cairn_common::api::endpoints::FILE_DOWNLOAD;
use cairn_common::api::files::FileRef;
use http_body_util::{BodyExt, Either, Full, Limited};

use super::SyncError;
use super::client::{Client, classify_transport, decode_answer};

/// A transfer that moves no byte for this long is given up (it resumes later).
pub(super) const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Pieces of a download received ahead of the writing thread.
const WRITE_AHEAD: usize = 16;

/// Where a download's bytes go: each on a thread of its own.
pub type DownloadOut<'a> = &'a mut (dyn Write + Send);

impl Client {
    /// Streams the content of `file` from byte `from` into every writer of
    /// `outs`; how many bytes came. A broken-off download keeps what was written,
    /// to go on from there.
    ///
    /// # Errors
    /// As [`Client::call`] (a missing file or a non-member: 404), a stall, or a
    /// write error of one of `outs` (which stops the others too).
    pub fn download(
        &self,
        file: &FileRef,
        from: u64,
        outs: &mut [DownloadOut<'_>],
    ) -> Result<u64, SyncError> {
        let mut request = self.request(
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
            .body(Either::Left(Full::new(Bytes::new())))
            .map_err(|e| SyncError::Config(format!("cannot build the request: {e}")))?;
        let write_error =
            |e: std::io::Error| SyncError::Config(format!("cannot write the downloaded file: {e}"));
        std::thread::scope(|scope| {
            let mut queues = Vec::with_capacity(outs.len());
            let mut writing = Vec::with_capacity(outs.len());
            for out in outs.iter_mut() {
                let (pieces, mut to_write) = tokio::sync::mpsc::channel::<Bytes>(WRITE_AHEAD);
                queues.push(pieces);
                writing.push(scope.spawn(move || -> std::io::Result<u64> {
                    let mut written = 0;
                    while let Some(piece) = to_write.blocking_recv() {
                        out.write_all(&piece)?;
                        written += piece.len() as u64;
                    }
                    Ok(written)
                }));
            }
            let received = self.receive(request, &queues);
            drop(queues);
            let mut written = 0;
            for thread in writing {
                let count = thread.join().map_err(|_| {
                    SyncError::Config("the download's writing thread failed".into())
                })?;
                // A write error stops the receiving too: it is the reason to tell.
                written = count.map_err(write_error)?;
            }
            received.map(|()| written)
        })
    }

    /// Sends the download `request` and hands the content to each of `queues`,
    /// until it ends or one closes (its writer failed).
    fn receive(
        &self,
        request: hyper::Request<super::client::RequestBody>,
        queues: &[tokio::sync::mpsc::Sender<Bytes>],
    ) -> Result<(), SyncError> {
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
                return decode_answer::<()>(status, &body);
            }
            let mut body = response.into_body();
            loop {
                let frame = tokio::time::timeout(STALL_TIMEOUT, body.frame())
                    .await
                    .map_err(|_| offline(&server, "the download stalled"))?;
                let Some(frame) = frame else { break };
                let frame =
                    frame.map_err(|e| offline(&server, &format!("the download broke off: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    for queue in queues {
                        // A clone shares the bytes: each writer reads the same piece.
                        if queue.send(data.clone()).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

pub(super) fn offline(server: &str, reason: &str) -> SyncError {
    SyncError::Offline {
        server: server.to_owned(),
        reason: reason.to_owned(),
    }
}
