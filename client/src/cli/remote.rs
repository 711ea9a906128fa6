//! Commands while the TUI runs. The TUI holds the replica, so a command that needs it
//! is sent to the TUI over `tui.sock` ([`forward`]), run there on the TUI's replica by
//! [`Served`] through the same code as here ([`execute`]), and its output and exit
//! status come back to be printed as if it had run here. The records it changed
//! reach the TUI's screen at once.
//!
//! Commands that do not open the replica (`logout`, `passwd`, `spaces`, `account`)
//! run as usual; `sync` asks the TUI to sync (`sync.rs`); `login` and the TUI itself
//! cannot run under a running TUI and say so.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use cairn_common::RecordId;
use clap::Parser;

use super::{Cli, Command, Ctx, dispatch, error_text, print};
use crate::paths::Paths;
use crate::replica::Replica;
use crate::socket::{self, Output, Reply, Run};
use crate::sync::SyncHandle;

/// How long `cairn sync` over the socket waits for the TUI's round.
const SYNC_WAIT: Duration = Duration::from_secs(600);

/// A command the running TUI ran ended with this exit status; what it printed is
/// printed already (`main` exits with the status and prints nothing more).
#[derive(Debug, thiserror::Error)]
#[error("the command ended with exit status {0}")]
pub struct Exit(pub u8);

/// Sends this process's command line to the TUI that holds the replica and prints its
/// answer: stdout, then stderr, then [`Exit`] if the command failed.
///
/// The arguments are read again from the environment (what clap parsed), so that the
/// TUI parses exactly what was typed.
pub(super) fn forward(paths: &Paths) -> anyhow::Result<String> {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string().map_err(|arg| {
                anyhow::anyhow!(
                    "the argument {arg:?} is not valid UTF-8, so it cannot be passed to the \
                     running TUI; close the TUI and run the command again"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cwd = std::env::current_dir()
        .context("cannot read the current directory; cd to an existing one and try again")?;
    let run = Run {
        args,
        cwd,
        today: chrono::Local::now().date_naive(),
    };
    let output = socket::ask_run(&paths.data_dir, run)?;
    print(&output.stdout)?;
    if !output.stderr.is_empty() {
        let mut stderr = std::io::stderr().lock();
        // The exit status below still tells what happened if stderr is gone.
        let _ = stderr.write_all(output.stderr.as_bytes());
        let _ = stderr.flush();
    }
    if output.status != 0 {
        return Err(Exit(output.status).into());
    }
    Ok(String::new())
}

/// Runs a command line sent by another shell on `replica` (the running TUI's), as
/// `cairn` would have run it there: the same parsing, the same code, the caller's
/// working directory and day. Returns what it printed and the records it changed.
#[must_use]
pub fn execute(paths: &Paths, replica: &Replica, run: Run) -> (Output, Vec<RecordId>) {
    let argv = std::iter::once("cairn".to_owned()).chain(run.args);
    let command = match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Some(Command::Local(command)),
        }) => command,
        Ok(Cli { command }) => return (refused(command.as_ref()), Vec::new()),
        // `--help` and usage errors, worded and with the exit status clap gives them.
        Err(e) => {
            let text = e.render().to_string();
            let status = u8::try_from(e.exit_code()).unwrap_or(2);
            let output = if e.use_stderr() {
                Output {
                    stderr: text,
                    status,
                    ..Output::default()
                }
            } else {
                Output {
                    stdout: text,
                    status,
                    ..Output::default()
                }
            };
            return (output, Vec::new());
        }
    };
    let ctx = Ctx::new(replica.clone(), run.today, run.cwd);
    let output = match dispatch(paths, &ctx, command) {
        Ok(stdout) => Output {
            stdout,
            ..Output::default()
        },
        Err(e) => failed(&error_text(&e)),
    };
    (output, ctx.changed.take())
}

/// The answer to a command that cannot run inside the TUI.
fn refused(command: Option<&Command>) -> Output {
    let name = match command {
        None => {
            return failed(
                "the TUI is already open on this data; use that one, or close it and run \
                 `cairn` again",
            );
        }
        Some(Command::Login(_)) => "login",
        Some(Command::Sync(_)) => "sync",
        Some(_) => "this command",
    };
    failed(&format!(
        "`cairn {name}` cannot run inside the open TUI; close the TUI and run it again"
    ))
}

/// A failure as `cairn` prints it: one line on stderr, exit status 1.
fn failed(message: &str) -> Output {
    Output {
        stderr: format!("cairn: error: {message}\n"),
        status: 1,
        ..Output::default()
    }
}

/// The TUI's side of `tui.sock`: `cairn sync` gets a round from the sync thread,
/// other commands run on the TUI's replica ([`execute`]) and `changed` is told the
/// records they changed.
pub struct Served {
    paths: Paths,
    replica: Replica,
    sync: SyncHandle,
    changed: Box<dyn Fn(Vec<RecordId>) + Send + Sync>,
}

impl Served {
    #[must_use]
    pub fn new(
        paths: Paths,
        replica: Replica,
        sync: SyncHandle,
        changed: impl Fn(Vec<RecordId>) + Send + Sync + 'static,
    ) -> Self {
        Self {
            paths,
            replica,
            sync,
            changed: Box::new(changed),
        }
    }
}

impl socket::Handler for Served {
    fn sync(&self) -> Reply {
        self.sync.sync(SYNC_WAIT)
    }

    fn run(&self, run: Run) -> Output {
        let (output, changed) = execute(&self.paths, &self.replica, run);
        if !changed.is_empty() {
            (self.changed)(changed);
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn run(args: &[&str], cwd: &std::path::Path) -> Run {
        Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            cwd: cwd.to_owned(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
        }
    }

    /// A command run for another shell prints what it prints here, reports the records
    /// it changed, counts relative dates from the caller's day and writes relative
    /// paths under the caller's directory.
    #[test]
    fn commands_run_as_in_the_callers_shell() {
        let home = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(home.path().to_owned());
        let replica = Replica::open(&paths.data_dir).expect("replica");
        let (output, changed) = execute(
            &paths,
            &replica,
            run(
                &["add", "goal", "From the shell", "-f", "due=+1d"],
                home.path(),
            ),
        );
        assert_eq!(output.status, 0, "{output:?}");
        let id = output.stdout.trim().to_owned();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].to_string(), id);
        let (shown, changed) =
            execute(&paths, &replica, run(&["show", &id, "--json"], home.path()));
        assert!(changed.is_empty(), "show changes nothing");
        let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("json");
        assert_eq!(json["fields"]["due"], "2026-11-23");
        let (exported, _) = execute(
            &paths,
            &replica,
            run(&["export", "--local", "--out", "out"], home.path()),
        );
        assert_eq!(exported.status, 0, "{exported:?}");
        assert!(exported.stdout.contains("to out ("), "{}", exported.stdout);
        assert!(home.path().join("out/manifest.json").exists());
    }

    /// Failures come back as `cairn` prints them (stderr, status 1); usage errors and
    /// help as clap gives them; login, sync and the TUI itself are refused with what
    /// to do.
    #[test]
    fn failures_and_refusals_read_as_on_the_command_line() {
        let home = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(home.path().to_owned());
        let replica = Replica::open(&paths.data_dir).expect("replica");
        let cwd = PathBuf::from("/");
        let (output, _) = execute(&paths, &replica, run(&["show", "ffffffff"], &cwd));
        assert_eq!(output.status, 1);
        assert!(output.stdout.is_empty());
        assert!(
            output.stderr.starts_with("cairn: error: no record matches"),
            "{}",
            output.stderr
        );
        let (output, _) = execute(&paths, &replica, run(&["add", "planet", "x"], &cwd));
        assert_eq!(output.status, 2);
        assert!(output.stderr.contains("unknown kind"), "{}", output.stderr);
        let (output, _) = execute(&paths, &replica, run(&["list", "--help"], &cwd));
        assert_eq!(output.status, 0);
        assert!(
            output.stdout.contains("cairn list goals"),
            "{}",
            output.stdout
        );
        for (args, says) in [
            (
                &["login", "https://x.example", "--email", "a@b.c"][..],
                "cairn login",
            ),
            (&["sync"][..], "cairn sync"),
            (&[][..], "already open"),
        ] {
            let (output, _) = execute(&paths, &replica, run(args, &cwd));
            assert_eq!(output.status, 1, "{args:?}");
            assert!(output.stderr.contains(says), "{args:?}: {}", output.stderr);
        }
    }
}
