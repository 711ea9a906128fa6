//! The headless command line: `cairn <command>` for scripts and quick edits, one file
//! per subcommand. With no command, `cairn` starts the TUI.
//!
//! Each command returns the text it prints; [`run`] writes it to stdout, and errors go
//! to stderr with exit code 1 (clap exits with 2 on usage errors before that).

mod account;
mod add;
mod done;
mod export;
mod fields;
mod history;
mod import;
mod list;
mod login;
mod logout;
mod passwd;
mod password;
mod restore;
mod rm;
mod set;
mod show;
mod spaces;
mod sync;
mod table;
mod undelivered;

use std::io::Write;

use anyhow::Context;
use cairn_common::RecordState;
use cairn_common::model::RecordKind;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::paths::Paths;
use crate::replica::Replica;

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
  cairn export --format markdown --out ~/cairn-export
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
    Logout(logout::Args),
    Passwd(passwd::Args),
    Sync(sync::Args),
    Spaces(spaces::Args),
    Account(account::Args),
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
}

/// Runs what the command line asked for: the TUI without a command, else the command
/// against the local replica, printing its output to stdout.
///
/// # Errors
/// Anything that went wrong, with a message that says what to do; nothing was saved
/// by a command that fails.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let paths = Paths::from_env()?;
    let Some(command) = cli.command else {
        return crate::tui::run(&paths);
    };
    // The server commands open the replica themselves, if at all (`sync` asks a
    // running TUI when it cannot).
    let output = match command {
        Command::Local(command) => local(&paths, command),
        Command::Login(args) => login::run(&paths, &args),
        Command::Logout(args) => logout::run(&paths, &args),
        Command::Passwd(args) => passwd::run(&paths, &args),
        Command::Sync(args) => sync::run(&paths, &args),
        Command::Spaces(args) => spaces::run(&paths, &args),
        Command::Account(args) => account::run(&paths, &args),
    }?;
    print(&output)
}

/// Runs a command on the local replica.
fn local(paths: &Paths, command: LocalCommand) -> anyhow::Result<String> {
    let replica = Replica::open(&paths.data_dir)?;
    let ctx = Ctx {
        replica,
        today: chrono::Local::now().date_naive(),
    };
    match command {
        LocalCommand::Add(args) => add::run(&ctx, args),
        LocalCommand::List(args) => list::run(&ctx, &args),
        LocalCommand::Show(args) => show::run(&ctx, &args),
        LocalCommand::Set(args) => set::run(&ctx, args),
        LocalCommand::Done(args) => done::run(&ctx, &args),
        LocalCommand::Rm(args) => rm::run(&ctx, &args),
        LocalCommand::Restore(args) => restore::run(&ctx, &args),
        LocalCommand::Export(args) => export::run(paths, &ctx, &args),
        LocalCommand::Import(args) => import::run(&ctx, &args),
        LocalCommand::History(args) => history::run(&ctx, &args),
        LocalCommand::Undelivered(args) => undelivered::run(&ctx, &args),
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

/// What every command works with.
struct Ctx {
    replica: Replica,
    /// The local calendar day: relative dates and due dates count from it.
    today: NaiveDate,
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
