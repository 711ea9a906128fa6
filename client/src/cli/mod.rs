//! The headless command line: `cairn <command>` for scripts and quick edits, one file
//! per subcommand. With no command, `cairn` starts the TUI.
//!
//! Each command returns the text it prints; [`run`] writes it to stdout, and errors go
//! to stderr with exit code 1 (clap exits with 2 on usage errors before that).
//!
//! While the TUI runs it holds the replica: commands on the replica are then sent to
//! it over `tui.sock` and run there, through the same code (`remote.rs`).

mod account;
mod add;
mod backup;
mod completions;
mod consent;
mod consent_records;
mod done;
mod export;
mod fields;
mod files;
mod history;
mod import;
mod join;
mod list;
mod login;
mod logout;
mod notifications;
mod passwd;
mod password;
mod people;
mod remote;
mod restore;
mod rm;
mod set;
mod show;
mod spaces;
mod sync;
mod table;
mod undelivered;

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_common::model::RecordKind;
use cairn_common::{Op, RecordId, RecordState};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

pub use remote::{Exit, Served, execute};

use crate::paths::Paths;
use crate::replica::{CommitSummary, Replica, ReplicaError};

const EXAMPLES: &str = "\
Examples:
  cairn                                     start the terminal UI
  cairn add goal \"Grow the team\" --field due=2026-12-31
  cairn add task \"Weekly report\" --field recurrence=\"every week\"
  cairn list tasks
  cairn show 3f9a1c2e
  cairn set 3f9a1c2e status=at-risk progress=40
  cairn done 3f9a1c2e
  cairn history 3f9a1c2e
  cairn export --out ~/cairn-export
  cairn login https://cairn.example.com --email ana@example.com
  cairn sync
  cairn undelivered                         changes kept out of sync, and why

Data lives in $XDG_DATA_HOME/cairn, or in $CAIRN_HOME/data when CAIRN_HOME is set.";

/// Cairn: goals, commitments, standard tasks, activities, conversation notes and
/// potentials, kept offline-first in a local replica.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Local(LocalCommand),
    Login(login::Args),
    Join(join::Args),
    Logout(logout::Args),
    Passwd(passwd::Args),
    Sync(sync::Args),
    Spaces(spaces::Args),
    Account(account::Args),
    Completions(completions::Args),
    Man(completions::ManArgs),
}

/// The subcommands that work on the local replica only.
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    Add(add::Args),
    List(list::Args),
    Show(show::Args),
    Set(set::Args),
    Done(done::Args),
    Rm(rm::Args),
    Restore(restore::Args),
    Export(export::Args),
    Import(import::Args),
    History(history::Args),
    Undelivered(undelivered::Args),
    People(people::Args),
    Files(files::Args),
    Backup(backup::Args),
}

/// Runs what the command line asked for: the TUI without a command, else the command
/// against the local replica, printing its output to stdout.
///
/// # Errors
/// Anything that went wrong, with a message that says what to do; nothing was saved
/// by a command that fails.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // These two describe the command line itself: no data dir, not even a home
    // directory, is needed (packaging runs them in a bare build environment).
    let command = match cli.command {
        Some(Command::Completions(args)) => return print(&completions::script(&args)?),
        Some(Command::Man(args)) => return print(&completions::man(&args)?),
        command => command,
    };
    let paths = Paths::from_env()?;
    let Some(command) = command else {
        return crate::tui::run(&paths);
    };
    // The server commands open the replica themselves, if at all (`sync` asks a
    // running TUI when it cannot).
    let output = match command {
        Command::Local(command) => local(&paths, command),
        Command::Login(args) => login::run(&paths, &args),
        Command::Join(args) => join::run(&paths, &args),
        Command::Logout(args) => logout::run(&paths, &args),
        Command::Passwd(args) => passwd::run(&paths, &args),
        Command::Sync(args) => sync::run(&paths, &args),
        Command::Spaces(args) => spaces::run(&paths, &args),
        Command::Account(args) => account::run(&paths, &args),
        // Answered above, before the data dir is looked for.
        Command::Completions(args) => completions::script(&args),
        Command::Man(args) => completions::man(&args),
    }?;
    print(&output)
}

/// Runs a command on the local replica, or through the running TUI that holds it.
fn local(paths: &Paths, command: LocalCommand) -> anyhow::Result<String> {
    if let LocalCommand::Backup(args) = &command
        && args.is_restore()
    {
        return backup::restore(paths, args);
    }
    let replica = match Replica::open(&paths.data_dir) {
        Ok(replica) => replica,
        Err(ReplicaError::Locked { .. }) => return remote::forward(paths),
        Err(e) => return Err(e.into()),
    };
    let ctx = Ctx::new(replica, chrono::Local::now().date_naive(), PathBuf::new());
    let output = dispatch(paths, &ctx, command)?;
    daily_backup(paths, &ctx);
    Ok(output)
}

/// Today's local backup, if one is due (see [`crate::backup::daily`]); a failure
/// is said on stderr and does not fail the command, whose work is saved.
fn daily_backup(paths: &Paths, ctx: &Ctx) {
    let made = crate::backup::BackupSettings::load(&paths.config_file, &paths.data_dir)
        .and_then(|settings| crate::backup::daily(&ctx.replica, &settings));
    if let Err(e) = made {
        eprintln!(
            "cairn: warning: the daily backup failed: {}; `cairn backup now` tries again",
            error_text(&e)
        );
    }
}

/// Runs a command with `ctx`: here, or in the TUI for another shell.
fn dispatch(paths: &Paths, ctx: &Ctx, command: LocalCommand) -> anyhow::Result<String> {
    match command {
        LocalCommand::Add(args) => add::run(ctx, args),
        LocalCommand::List(args) => list::run(ctx, &args),
        LocalCommand::Show(args) => show::run(ctx, &args),
        LocalCommand::Set(args) => set::run(ctx, args),
        LocalCommand::Done(args) => done::run(ctx, &args),
        LocalCommand::Rm(args) => rm::run(ctx, &args),
        LocalCommand::Restore(args) => restore::run(ctx, &args),
        LocalCommand::Export(args) => export::run(paths, ctx, &args),
        LocalCommand::Import(args) => import::run(ctx, &args),
        LocalCommand::History(args) => history::run(ctx, &args),
        LocalCommand::Undelivered(args) => undelivered::run(ctx, &args),
        LocalCommand::People(args) => people::run(ctx, &args),
        LocalCommand::Files(args) => files::run(paths, ctx, &args),
        LocalCommand::Backup(args) => backup::run(paths, ctx, &args),
    }
}

/// Writes a command's output to stdout.
fn print(output: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A reader that stopped early (`cairn list goals | head`) is not an error:
        // the command's work is already saved.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// The error and its causes on one line, as `cairn: error: …` prints it, skipping a
/// cause whose text the line already holds (errors that wrap another often print it
/// in their own message).
#[must_use]
pub fn error_text(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// What every command works with.
struct Ctx {
    replica: Replica,
    /// The local calendar day: relative dates and due dates count from it.
    today: NaiveDate,
    /// Where relative paths on the command line start: empty (this process's working
    /// directory), or the caller's when the TUI runs a command for another shell.
    cwd: PathBuf,
    /// The records this command changed, for a running TUI to show at once. Every
    /// write goes through [`Ctx::commit`] (or [`Ctx::changed`]) so none is missed.
    changed: RefCell<Vec<RecordId>>,
}

impl Ctx {
    fn new(replica: Replica, today: NaiveDate, cwd: PathBuf) -> Self {
        Self {
            replica,
            today,
            cwd,
            changed: RefCell::new(Vec::new()),
        }
    }

    /// Commits `ops` and notes the records they changed.
    fn commit(&self, ops: &[Op]) -> Result<CommitSummary, ReplicaError> {
        let summary = self.replica.commit(ops)?;
        self.changed(&summary.records);
        Ok(summary)
    }

    /// Notes records changed by a write that did not go through [`Ctx::commit`].
    fn changed(&self, records: &[RecordId]) {
        self.changed.borrow_mut().extend_from_slice(records);
    }

    /// A path from the command line, relative to the caller's working directory.
    fn path(&self, path: &Path) -> PathBuf {
        self.cwd.join(path)
    }
}

/// Reads a kind on the command line (clap calls this, so a bad kind is a usage error).
fn parse_kind(text: &str) -> Result<RecordKind, String> {
    RecordKind::parse(text).ok_or_else(|| format!("unknown kind; use one of {}", kind_list()))
}

/// The kinds as typed on the command line.
fn kind_list() -> String {
    RecordKind::ALL
        .iter()
        .map(|k| k.key())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The record an id (full or short) on the command line names.
fn find(ctx: &Ctx, id: &str) -> anyhow::Result<RecordState> {
    let state = ctx.replica.resolve(id)?;
    if state.kind.is_none() {
        anyhow::bail!(
            "record {id} is not complete yet (its creation has not arrived); sync and try again"
        );
    }
    Ok(state)
}

/// The state of a record just committed.
fn reread(ctx: &Ctx, state: &RecordState) -> anyhow::Result<RecordState> {
    ctx.replica
        .record(&state.id)?
        .with_context(|| format!("record {} vanished after saving", state.id))
}

/// Pretty JSON and a final newline.
fn json_line(value: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// `goal 3f9a1c2e "Grow the team"`: how a record is named in messages.
fn describe(state: &RecordState) -> String {
    let kind = state.kind.map_or("record", RecordKind::key);
    format!("{kind} {} \"{}\"", state.id.short(), state.title())
}
