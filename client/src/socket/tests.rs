//! The socket on a real Unix socket in a temporary directory, with handlers that
//! stand in for the TUI.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::protocol::{Frame, MAX_REQUEST, decode_frame};
use super::*;
use crate::sync::SyncSummary;

/// Answers sync with 3 pushed and a run with its own request, on stderr a warning and
/// exit status 3.
struct Echo;

impl Handler for Echo {
    fn sync(&self) -> Reply {
        Reply::Synced(SyncSummary {
            pushed: 3,
            ..SyncSummary::default()
        })
    }

    fn run(&self, run: Run) -> Output {
        Output {
            stdout: format!("{:?} in {} on {}\n", run.args, run.cwd.display(), run.today),
            stderr: "cairn: warning\n".into(),
            status: 3,
        }
    }
}

fn run_of(args: &[&str]) -> Run {
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        cwd: PathBuf::from("/work/here"),
        today: NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
    }
}

/// The first line the TUI answers to `request` written raw on the socket.
fn raw_answer(dir: &Path, request: Vec<u8>) -> Frame {
    let stream = UnixStream::connect(path(dir)).expect("connect");
    let mut writer = stream.try_clone().expect("clone");
    // The TUI may stop reading a request it refuses, so write on another thread.
    let writing = std::thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .expect("an answer");
    let _ = writing.join();
    decode_frame(line.trim_end()).expect("a frame")
}

/// A sync request and a command reach the handler and their answers reach the caller
/// whole; the socket is 0600, a stale file is replaced and the file goes with the
/// listener, after which callers are told nobody answered.
#[test]
fn sync_and_run_round_trip_and_cleanup() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(path(dir.path()), b"stale").expect("stale file");
    let listener = Listener::start(dir.path(), Arc::new(Echo)).expect("listen");
    let mode = std::fs::metadata(path(dir.path()))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let reply = ask_sync(dir.path()).expect("sync answer");
    assert!(matches!(reply, Reply::Synced(s) if s.pushed == 3));
    let output = ask_run(dir.path(), run_of(&["list", "goal", "--json"])).expect("run answer");
    assert_eq!(
        output,
        Output {
            stdout: "[\"list\", \"goal\", \"--json\"] in /work/here on 2026-11-22\n".into(),
            stderr: "cairn: warning\n".into(),
            status: 3,
        }
    );
    drop(listener);
    assert!(!path(dir.path()).exists());
    let err = ask_sync(dir.path()).expect_err("nobody listens");
    assert!(err.to_string().contains("no TUI answered"), "{err}");
    let err = ask_run(dir.path(), run_of(&["list", "goal"])).expect_err("nobody listens");
    assert!(
        err.to_string().contains("another cairn is already using"),
        "{err}"
    );
}

/// A line that is no request, and a request longer than the limit, are answered with
/// a refusal instead of being run or read on without end.
#[test]
fn garbage_and_oversized_requests_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _listener = Listener::start(dir.path(), Arc::new(Echo)).expect("listen");
    let answer = raw_answer(dir.path(), b"sync\n".to_vec());
    assert!(
        matches!(&answer, Frame::Refused(m) if m.contains("another version of cairn")),
        "{answer:?}"
    );
    let answer = raw_answer(dir.path(), vec![b'x'; MAX_REQUEST + 100]);
    assert!(
        matches!(&answer, Frame::Refused(m) if m.contains("longer than")),
        "{answer:?}"
    );
}

/// Blocks every run until released, counting the runs that are waiting.
struct Gate {
    waiting: AtomicUsize,
    open: Mutex<bool>,
}

impl Handler for Gate {
    fn sync(&self) -> Reply {
        Echo.sync()
    }

    fn run(&self, _run: Run) -> Output {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while !*self.open.lock().expect("lock") {
            std::thread::sleep(Duration::from_millis(5));
        }
        Output::default()
    }
}

/// With as many requests in progress as the TUI serves at once, the next is refused
/// as busy at once; the others finish once their handler does.
#[test]
fn a_busy_tui_refuses_more_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gate = Arc::new(Gate {
        waiting: AtomicUsize::new(0),
        open: Mutex::new(false),
    });
    let _listener = Listener::start(dir.path(), gate.clone()).expect("listen");
    let callers: Vec<_> = (0..MAX_CONNECTIONS)
        .map(|_| {
            let dir = dir.path().to_owned();
            std::thread::spawn(move || ask_run(&dir, run_of(&["list", "goal"])))
        })
        .collect();
    let start = Instant::now();
    while gate.waiting.load(Ordering::SeqCst) < MAX_CONNECTIONS {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "runs never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = ask_run(dir.path(), run_of(&["list", "goal"])).expect_err("busy");
    assert!(err.to_string().contains("busy"), "{err}");
    *gate.open.lock().expect("lock") = true;
    for caller in callers {
        let output = caller.join().expect("caller").expect("answered");
        assert_eq!(output, Output::default());
    }
}

/// A TUI that closes the connection without answering (a cairn from before commands
/// went over the socket does that) is reported as such, not as success.
#[test]
fn a_tui_that_does_not_answer_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = std::os::unix::net::UnixListener::bind(path(dir.path())).expect("bind");
    let server = std::thread::spawn(move || {
        let (stream, _) = old.accept().expect("accept");
        let mut line = String::new();
        let _ = BufReader::new(&stream).read_line(&mut line);
    });
    let err = ask_run(dir.path(), run_of(&["add", "goal", "x"])).expect_err("no answer");
    server.join().expect("server");
    assert!(matches!(err, SocketError::Cut { .. }), "{err}");
    assert!(err.to_string().contains("older cairn"), "{err}");
}
