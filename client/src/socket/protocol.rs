//! The protocol of `tui.sock`, version [`VERSION`]: what goes over the socket, as
//! types, and the limits that keep every message bounded. Pure: no I/O.
//!
//! The caller writes one request line of JSON, `{"version": 1, "request": …}`, where
//! the request is `"sync"` or `{"run": {"args": [...], "cwd": "...", "today":
//! "YYYY-MM-DD"}}`. The TUI answers with frames, one JSON line each:
//! - to `sync`: one `{"sync": <Reply>}`;
//! - to `run`: `{"stdout": "…"}` and `{"stderr": "…"}` pieces of at most [`CHUNK`]
//!   bytes of text each, then `{"exit": <status>}`;
//! - to anything it will not run (another version, too long, unreadable, busy): one
//!   `{"refused": "<what to do>"}`.
//!
//! A request line is at most [`MAX_REQUEST`] bytes, a frame line at most
//! [`MAX_FRAME`], and the caller stops collecting output at [`MAX_OUTPUT`].

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::sync::Reply;

/// Bumped on any change an older cairn at the other end could not read.
pub const VERSION: u32 = 1;
/// Longest request line: the arguments of one command line (Linux allows 2 MiB of
/// them, environment included) with room for JSON escapes.
pub const MAX_REQUEST: usize = 4 << 20;
/// Longest frame line: a [`CHUNK`] of text even if every byte needs a six-byte escape.
pub const MAX_FRAME: usize = 1 << 20;
/// Most text one output frame carries.
pub const CHUNK: usize = 64 << 10;
/// Most output the caller collects from one command (`cairn list --json` of a very
/// large replica stays well under it).
pub const MAX_OUTPUT: usize = 1 << 30;

/// What the caller asks the TUI for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Run a sync round now (`cairn sync`).
    Sync,
    /// Run a command on the TUI's replica.
    Run(Run),
}

/// A command line to run as if `cairn` had run it in the caller's shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The arguments after `cairn`, as typed.
    pub args: Vec<String>,
    /// The caller's working directory: relative paths in `args` start there.
    pub cwd: PathBuf,
    /// The caller's calendar day: relative dates (`+3d`) count from it.
    pub today: NaiveDate,
}

/// The request line as it is written.
#[derive(Serialize, Deserialize)]
struct Envelope {
    version: u32,
    request: Request,
}

/// Just the version, read first so that another version gets a clear answer even if
/// the rest of its request means nothing here.
#[derive(Deserialize)]
struct Version {
    version: u32,
}

/// One line of the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// Frames are written as soon as they are made: boxing the summary would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Frame {
    /// The answer to [`Request::Sync`].
    Sync(Reply),
    /// A piece of the command's standard output.
    Stdout(String),
    /// A piece of the command's standard error.
    Stderr(String),
    /// The command's exit status; the last frame of a run.
    Exit(u8),
    /// The request was not run; the message says what to do.
    Refused(String),
}

/// What a command printed and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: u8,
}

/// The request as one line, newline included.
///
/// # Errors
/// When the request is longer than [`MAX_REQUEST`], or cannot be put into JSON (a
/// working directory that is not UTF-8).
pub fn encode_request(request: &Request) -> Result<String, String> {
    let line = serde_json::to_string(&Envelope {
        version: VERSION,
        request: request.clone(),
    })
    .map_err(|e| format!("the command cannot be sent to the running TUI ({e})"))?;
    if line.len() + 1 > MAX_REQUEST {
        return Err(format!(
            "the command line is longer than the {} MiB the running TUI accepts",
            MAX_REQUEST >> 20
        ));
    }
    Ok(line + "\n")
}

/// Reads a request line.
///
/// # Errors
/// What to tell the caller: another protocol version, or a line that is not a request.
pub fn decode_request(line: &str) -> Result<Request, String> {
    let version = serde_json::from_str::<Version>(line)
        .map_err(|_| "the running TUI cannot read this request; it may be another version of cairn: close it and run the command again".to_owned())?
        .version;
    if version != VERSION {
        return Err(format!(
            "the running TUI speaks version {VERSION} of the socket protocol and this cairn \
             version {version}: they are different versions of cairn; close the TUI and run \
             the command again"
        ));
    }
    serde_json::from_str::<Envelope>(line)
        .map(|e| e.request)
        .map_err(|e| {
            format!(
                "the running TUI cannot read this request ({e}); close it and run the command again"
            )
        })
}

/// A frame as one line, newline included.
#[must_use]
pub fn encode_frame(frame: &Frame) -> String {
    // A frame is strings and numbers only: serialising it cannot fail.
    serde_json::to_string(frame).unwrap_or_else(|_| r#"{"exit":1}"#.to_owned()) + "\n"
}

/// Reads a frame line.
///
/// # Errors
/// When the line is not a frame.
pub fn decode_frame(line: &str) -> Result<Frame, String> {
    serde_json::from_str(line).map_err(|e| format!("unreadable answer ({e})"))
}

/// The frames that carry `output`: stdout, then stderr, in pieces of at most
/// [`CHUNK`] bytes cut at character boundaries, then the exit status.
#[must_use]
pub fn frames(output: &Output) -> Vec<Frame> {
    let mut frames: Vec<Frame> = chunks(&output.stdout)
        .map(|c| Frame::Stdout(c.to_owned()))
        .collect();
    frames.extend(chunks(&output.stderr).map(|c| Frame::Stderr(c.to_owned())));
    frames.push(Frame::Exit(output.status));
    frames
}

/// `text` in pieces of at most [`CHUNK`] bytes, never splitting a character.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// Puts a run's output back together from its frames.
#[derive(Debug, Default)]
pub struct Collector {
    output: Output,
}

impl Collector {
    /// Takes the next frame; the whole output once the exit status arrives.
    ///
    /// # Errors
    /// A refusal (its message), a frame that does not belong to a run, or more output
    /// than [`MAX_OUTPUT`].
    pub fn push(&mut self, frame: Frame) -> Result<Option<Output>, String> {
        let size = self.output.stdout.len() + self.output.stderr.len();
        let (target, text) = match frame {
            Frame::Stdout(text) => (&mut self.output.stdout, text),
            Frame::Stderr(text) => (&mut self.output.stderr, text),
            Frame::Exit(status) => {
                self.output.status = status;
                return Ok(Some(std::mem::take(&mut self.output)));
            }
            Frame::Refused(message) => return Err(message),
            Frame::Sync(_) => return Err("the running TUI answered another request".into()),
        };
        if size + text.len() > MAX_OUTPUT {
            return Err(format!(
                "the command's output is larger than {} MiB; run it with the TUI closed",
                MAX_OUTPUT >> 20
            ));
        }
        target.push_str(&text);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> Run {
        Run {
            args: vec!["add".into(), "goal".into(), "Grow \"the\" team\n".into()],
            cwd: PathBuf::from("/home/ana/work"),
            today: NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        }
    }

    /// A request survives the line it is written as, and the line is one line.
    #[test]
    fn request_round_trip() {
        for request in [Request::Sync, Request::Run(run())] {
            let line = encode_request(&request).expect("encode");
            assert!(line.ends_with('\n'));
            assert_eq!(line.matches('\n').count(), 1, "{line}");
            assert!(line.starts_with(r#"{"version":1,"#), "{line}");
            assert_eq!(decode_request(&line).expect("decode"), request);
        }
    }

    /// Another version is told it is another version; a line that is no request is
    /// told so; neither is mistaken for a request.
    #[test]
    fn other_versions_and_garbage_are_refused() {
        let line = encode_request(&Request::Sync)
            .expect("encode")
            .replace(r#""version":1"#, r#""version":2"#);
        let err = decode_request(&line).expect_err("version 2");
        assert!(err.contains("different versions of cairn"), "{err}");
        for garbage in ["sync", "{}", r#"{"version":1,"request":"format-disk"}"#] {
            let err = decode_request(garbage).expect_err(garbage);
            assert!(err.contains("close it and run the command again"), "{err}");
        }
    }

    /// A command line too long for the TUI is refused before it is sent.
    #[test]
    fn oversized_request_is_refused() {
        let mut long = run();
        long.args.push("x".repeat(MAX_REQUEST));
        let err = encode_request(&Request::Run(long)).expect_err("too long");
        assert!(err.contains("MiB"), "{err}");
    }

    /// Output larger than a chunk, with multi-byte characters on the cut, arrives
    /// whole and in order; every frame line stays under the frame limit even when
    /// every byte needs an escape.
    #[test]
    fn output_round_trip_in_bounded_frames() {
        let output = Output {
            stdout: "é".repeat(CHUNK) + "end",
            stderr: "\u{1}".repeat(CHUNK + 1),
            status: 1,
        };
        let sent = frames(&output);
        assert!(sent.len() >= 5, "{}", sent.len());
        let mut collector = Collector::default();
        let mut whole = None;
        for frame in sent {
            let line = encode_frame(&frame);
            assert!(line.len() <= MAX_FRAME, "{}", line.len());
            assert!(whole.is_none(), "a frame after the exit status");
            whole = collector
                .push(decode_frame(line.trim_end()).expect("frame"))
                .expect("push");
        }
        assert_eq!(whole, Some(output));
        assert_eq!(frames(&Output::default()), vec![Frame::Exit(0)]);
    }

    /// A refusal ends the collection with its message; a sync answer is not output.
    #[test]
    fn refusal_and_stray_frames_end_a_run() {
        let mut collector = Collector::default();
        let err = collector
            .push(Frame::Refused("busy; try again".into()))
            .expect_err("refused");
        assert_eq!(err, "busy; try again");
        let stray = Frame::Sync(Reply::Synced(crate::sync::SyncSummary::default()));
        assert!(Collector::default().push(stray).is_err());
    }
}
