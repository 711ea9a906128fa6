//! File content up: one request per upload, whose body streams the file from an
//! offset as checked frames (see [`cairn_common::api::files`]). A thread reads and
//! hashes the frames while the runtime's thread encrypts and sends the ones before,
//! so the two overlap; a bounded queue between them keeps memory a few frames.

use std::io::{Read, Seek, SeekFrom};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cairn_common::api::endpoints::FILE_UPLOAD;
use cairn_common::api::files::{FRAME_BYTES, FileRef, FileStatus, FrameHeader, Framer, framed_len};
use cairn_common::api::{self};
use http_body_util::Either;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use super::SyncError;
use super::client::{Client, decode_answer};
use super::transfer::{STALL_TIMEOUT, offline};

/// Frames read ahead of the sending side.
const READ_AHEAD: usize = 2;

/// An upload body: the frames the reading thread makes, counted as hyper takes them.
pub struct FramedBody {
    frames: mpsc::Receiver<Bytes>,
    len: u64,
    /// Bytes hyper took so far: a stalled upload stops counting.
    taken: Arc<AtomicU64>,
}

impl Body for FramedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => {
                self.taken.fetch_add(frame.len() as u64, Ordering::Relaxed);
                Poll::Ready(Some(Ok(Frame::data(frame))))
            }
            Poll::Ready(None) if self.taken.load(Ordering::Relaxed) < self.len => {
                // The reading thread stopped early; its error is told apart.
                Poll::Ready(Some(Err(std::io::Error::other(
                    "the file could not be read to its end",
                ))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// Why the reading thread stopped early, if it did.
type ReadError = Arc<Mutex<Option<std::io::Error>>>;

/// The SHA-256 of a file's first `n` × [`FRAME_BYTES`] bytes, for each `n` from 1
/// while that is below its size: what a frame's header names (see
/// [`FrameHeader`]) wherever a frame ends but the last. The cache keeps them from
/// when the file was added, so an upload need not hash it again.
pub type Digests = Vec<[u8; 32]>;

/// How many [`Digests`] a file of `size` bytes has.
#[must_use]
pub fn digest_count(size: u64) -> usize {
    usize::try_from(size.saturating_sub(1) / u64::from(FRAME_BYTES)).unwrap_or(usize::MAX)
}

/// Where the digest of a frame's header comes from.
enum Headers {
    /// The file's digests (and its own SHA-256 for the last frame).
    Known(Digests, [u8; 32]),
    /// Hashing the file as it is read.
    Hashed(Framer),
}

impl Headers {
    /// For `file` from `offset` on: its `digests` if they are whole, else a hash
    /// of the bytes before `offset` read from `content`.
    fn new(
        file: &FileRef,
        digests: Option<Digests>,
        offset: u64,
        content: &mut std::fs::File,
    ) -> std::io::Result<Self> {
        let mut whole = [0u8; 32];
        let known = hex::decode_to_slice(&file.sha256, &mut whole).is_ok();
        match digests {
            Some(digests) if known && digests.len() == digest_count(file.size) => {
                Ok(Self::Known(digests, whole))
            }
            _ => {
                use sha2::Digest as _;
                let mut before = sha2::Sha256::new();
                content.seek(SeekFrom::Start(0))?;
                std::io::copy(&mut content.take(offset), &mut before)?;
                Ok(Self::Hashed(Framer::after(before)))
            }
        }
    }

    /// The header of the frame `content` that ends at byte `end` of a file of
    /// `size` bytes.
    fn header(&mut self, content: &[u8], end: u64, size: u64) -> std::io::Result<FrameHeader> {
        let too_large = || std::io::Error::other("a frame over the limit");
        match self {
            Self::Hashed(framer) => framer.header(content).ok_or_else(too_large),
            Self::Known(digests, whole) => {
                let sha256 = if end == size {
                    *whole
                } else {
                    usize::try_from(end / u64::from(FRAME_BYTES))
                        .ok()
                        .and_then(|n| digests.get(n.checked_sub(1)?))
                        .copied()
                        .ok_or_else(|| std::io::Error::other("a frame between the digests"))?
                };
                let len = u32::try_from(content.len()).map_err(|_| too_large())?;
                Ok(FrameHeader { len, sha256 })
            }
        }
    }
}

/// Starts reading `file` from `offset` out of `content` as frames ending at the
/// multiples of [`FRAME_BYTES`] (where the `digests` are) and at its end.
fn frames_of(
    file: &FileRef,
    mut content: std::fs::File,
    offset: u64,
    digests: Option<Digests>,
) -> std::io::Result<(FramedBody, ReadError)> {
    let (queue, frames) = mpsc::channel(READ_AHEAD);
    let failed = ReadError::default();
    let failure = Arc::clone(&failed);
    let len = framed_len(offset, file.size, FRAME_BYTES);
    let file = file.clone();
    std::thread::Builder::new()
        .name("cairn-upload".into())
        .spawn(move || {
            let read = || -> std::io::Result<()> {
                let mut headers = Headers::new(&file, digests, offset, &mut content)?;
                content.seek(SeekFrom::Start(offset))?;
                let mut at = offset;
                while at < file.size {
                    let frame_end = (at / u64::from(FRAME_BYTES) + 1) * u64::from(FRAME_BYTES);
                    let end = frame_end.min(file.size);
                    let n = usize::try_from(end - at).unwrap_or(0);
                    // Header and content in one buffer: the frame goes out as is.
                    // Read into spare capacity, so the buffer is never zeroed first.
                    let mut frame = Vec::with_capacity(FrameHeader::BYTES + n);
                    frame.resize(FrameHeader::BYTES, 0);
                    (&mut content).take(n as u64).read_to_end(&mut frame)?;
                    if frame.len() < FrameHeader::BYTES + n {
                        return Err(std::io::Error::other(
                            "the copy here is shorter than the file's record says",
                        ));
                    }
                    let header = headers.header(&frame[FrameHeader::BYTES..], end, file.size)?;
                    frame[..FrameHeader::BYTES].copy_from_slice(&header.encode());
                    if queue.blocking_send(Bytes::from(frame)).is_err() {
                        // The request ended (answered early, or broke off).
                        return Ok(());
                    }
                    at = end;
                }
                Ok(())
            };
            if let Err(e) = read() {
                *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            }
        })?;
    let body = FramedBody {
        frames,
        len,
        taken: Arc::default(),
    };
    Ok((body, failed))
}

impl Client {
    /// Sends the content of `file` from byte `offset` on, read from `content` (the
    /// whole file), in one request; the server's status after it. With the file's
    /// `digests` the content is not hashed here (the server checks it all the same).
    ///
    /// # Errors
    /// As [`Client::call`]; an upload that does not start where the server's copy
    /// ends is refused with code `upload_offset`, one while another upload of the
    /// file is under way with `upload_busy`; an upload that makes no progress for a
    /// minute is given up (offline); `content` that cannot be read is a local error.
    pub fn upload(
        &self,
        file: &FileRef,
        offset: u64,
        content: std::fs::File,
        digests: Option<Digests>,
    ) -> Result<FileStatus, SyncError> {
        let local = |e: std::io::Error| SyncError::Config(format!("the local file cache: {e}"));
        if offset > file.size {
            return Err(SyncError::Config(format!(
                "cannot upload from byte {offset} of a file of {} bytes",
                file.size
            )));
        }
        let (body, failed) = frames_of(file, content, offset, digests).map_err(local)?;
        let (len, taken) = (body.len, Arc::clone(&body.taken));
        let request = self
            .request(
                "POST",
                format!(
                    "{}{FILE_UPLOAD}?{}&offset={offset}",
                    self.base,
                    file.query()
                ),
            )
            .header(hyper::header::CONTENT_LENGTH, len)
            .header(hyper::header::ACCEPT, api::CONTENT_TYPE)
            .body(Either::Right(body))
            .map_err(|e| SyncError::Config(format!("cannot build the request: {e}")))?;
        let server = self.base.clone();
        let answer = self.runtime.block_on(async {
            let exchange = self.send_and_collect(request, 1 << 20);
            let mut exchange = std::pin::pin!(exchange);
            // Progress, not the whole request, is timed: a large file on a slow
            // line takes long. Once all is sent, the answer gets the request timeout.
            let mut last = (0, Instant::now());
            loop {
                tokio::select! {
                    answer = &mut exchange => return answer,
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                let now = taken.load(Ordering::Relaxed);
                if now != last.0 {
                    last = (now, Instant::now());
                }
                let limit = if now >= len {
                    self.request_timeout
                } else {
                    STALL_TIMEOUT
                };
                if last.1.elapsed() > limit {
                    return Err(offline(&server, "the upload stalled"));
                }
            }
        });
        if let Some(e) = failed.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Err(local(e));
        }
        let (status, body) = answer?;
        decode_answer(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use http_body_util::BodyExt;

    use cairn_common::api::consent::AcceptNotice;
    use cairn_common::api::files::sha256_hex;
    use cairn_common::api::{Empty, LoginRequest, PasswordChange, codes, endpoints};
    use cairn_common::model::SpaceId;
    use cairn_server::admin::AdminRequest;
    use cairn_server::settings::Secret;
    use cairn_server::testing::TestServer;
    use sha2::Digest as _;

    use super::*;
    use crate::sync::Trust;

    /// A fresh server and a client logged in to it, with its personal space.
    fn logged_in() -> (TestServer, Client, SpaceId) {
        let server = TestServer::start().expect("server");
        server
            .admin(AdminRequest::AddUser {
                email: "ana@example.com".into(),
                first_name: "Ana".into(),
                last_name: "Ode".into(),
                password: Some(Secret("a long enough password".into())),
            })
            .expect("add ana");
        let trust = Trust::from_options(None, Some(&server.fingerprint)).expect("trust");
        let client = Client::new(&server.url(), &trust).expect("client");
        let login = client
            .call::<endpoints::Login>(&LoginRequest {
                email: "ana@example.com".into(),
                password: "a long enough password".into(),
                device: "test".into(),
            })
            .expect("login");
        let client = client.with_token(&login.token);
        if login.must_change_password {
            client
                .call::<endpoints::Password>(&PasswordChange {
                    current: "a long enough password".into(),
                    new: "another long enough password".into(),
                })
                .expect("password");
        }
        let notice = client
            .call::<endpoints::PrivacyNotice>(&Empty)
            .expect("notice");
        client
            .call::<endpoints::ConsentAccept>(&AcceptNotice {
                version: notice.version,
            })
            .expect("consent");
        (server, client, login.personal_space)
    }

    fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::fs::File {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(bytes))
            .expect("write");
        std::fs::File::open(path).expect("open")
    }

    /// The upload of `file` from `offset`, tried again while the server still ends
    /// an upload that broke off.
    fn upload_when_free(
        client: &Client,
        file: &FileRef,
        offset: u64,
        content: impl Fn() -> std::fs::File,
    ) -> Result<FileStatus, SyncError> {
        for _ in 0..50 {
            match client.upload(file, offset, content(), None) {
                Err(SyncError::Refused { code, .. }) if code == codes::UPLOAD_BUSY => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
        client.upload(file, offset, content(), None)
    }

    /// A copy here that ends before the file does is a local error, not the
    /// server's; the server keeps whole frames of what came, and the upload goes
    /// on from its status to a complete file, which downloads as the same bytes.
    /// Starting elsewhere than the server's copy ends is refused with its code.
    #[test]
    fn files_go_up_in_frames_and_resume_from_the_status() {
        let (_server, client, space) = logged_in();
        let dir = tempfile::tempdir().expect("dir");
        let content: Vec<u8> = (0..(3 << 20) + 5u32).map(|n| (n % 251) as u8).collect();
        let file = FileRef {
            space,
            sha256: sha256_hex(&content),
            size: content.len() as u64,
        };
        let short = content[..(2 << 20) + 100].to_vec();
        let failed = client
            .upload(&file, 0, write(dir.path(), "short", &short), None)
            .expect_err("short copy");
        assert!(
            matches!(&failed, SyncError::Config(m) if m.contains("shorter")),
            "{failed:?}"
        );
        // Once the server ended the broken upload, one from elsewhere than its
        // copy's end is refused with where that is.
        let wrong = upload_when_free(&client, &file, file.size, || {
            write(dir.path(), "whole", &content)
        });
        assert!(
            matches!(&wrong, Err(SyncError::Refused { code, .. }) if code == codes::UPLOAD_OFFSET),
            "{wrong:?}"
        );
        let held = client
            .call::<endpoints::FilesStatus>(&file)
            .expect("status");
        assert!(!held.complete);
        assert!(
            held.received <= 2 << 20 && held.received % (1 << 20) == 0,
            "{held:?}"
        );
        let done = upload_when_free(&client, &file, held.received, || {
            write(dir.path(), "whole", &content)
        })
        .expect("the rest");
        assert_eq!(
            done,
            FileStatus {
                received: file.size,
                complete: true
            }
        );
        let mut back = Vec::new();
        client
            .download(&file, 0, &mut [&mut back])
            .expect("download");
        assert_eq!(back, content);

        // Every writer gets the same bytes, from an offset too; one that fails
        // ends the download with its error.
        let (mut one, mut two) = (Vec::new(), Vec::new());
        let from = 3 << 19;
        let came = client
            .download(&file, from, &mut [&mut one, &mut two])
            .expect("two writers");
        assert_eq!(came, file.size - from);
        assert_eq!(
            (&one[..], &two[..]),
            (&content[3 << 19..], &content[3 << 19..])
        );
        let mut full: &mut [u8] = &mut [0u8; 1000];
        let failed = client
            .download(&file, 0, &mut [&mut one, &mut full])
            .expect_err("a writer with no room");
        assert!(
            failed
                .to_string()
                .contains("cannot write the downloaded file"),
            "{failed}"
        );
    }

    /// The body of `file` (`content`) from `offset`, with or without its digests.
    fn body_of(content: &[u8], offset: u64, digests: Option<Digests>) -> (Option<u64>, Bytes) {
        let dir = tempfile::tempdir().expect("dir");
        let file = FileRef {
            space: SpaceId::new(),
            sha256: sha256_hex(content),
            size: content.len() as u64,
        };
        let (mut body, failed) =
            frames_of(&file, write(dir.path(), "f", content), offset, digests).expect("frames");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (len, bytes) = runtime.block_on(async {
            let len = body.size_hint().exact();
            let collected = (&mut body).collect().await.map(|c| c.to_bytes());
            (len, collected)
        });
        assert!(failed.lock().expect("lock").is_none());
        (len, bytes.expect("body"))
    }

    /// An upload's body is the file from the offset in frames that end at the
    /// multiples of [`FRAME_BYTES`] and at its end, each header naming the SHA-256
    /// of the file up to there, exactly as long as it says; the same whether the
    /// digests were kept (then nothing is hashed) or are hashed as it is read.
    #[test]
    fn files_are_read_as_frames() {
        let content: Vec<u8> = (0..(2 << 20) + 7u32).map(|n| (n % 13) as u8).collect();
        let frame = FRAME_BYTES as usize;
        let mut framer = Framer::after(sha2::Sha256::new().chain_update(&content[..5]));
        let mut expected = Vec::new();
        for piece in [
            &content[5..frame],
            &content[frame..2 * frame],
            &content[2 * frame..],
        ] {
            expected.extend_from_slice(&framer.header(piece).expect("frame").encode());
            expected.extend_from_slice(piece);
        }
        let digests: Digests = [frame, 2 * frame]
            .iter()
            .map(|end| sha2::Sha256::digest(&content[..*end]).into())
            .collect();
        assert_eq!(digests.len(), digest_count(content.len() as u64));
        for kept in [None, Some(digests.clone())] {
            let (len, bytes) = body_of(&content, 5, kept);
            assert_eq!(len, Some(bytes.len() as u64));
            assert!(bytes.as_ref() == expected.as_slice());
        }
        // Digests that do not fit the file are not used.
        let (_, bytes) = body_of(&content, 5, Some(digests[..1].to_vec()));
        assert!(bytes.as_ref() == expected.as_slice());
    }
}
