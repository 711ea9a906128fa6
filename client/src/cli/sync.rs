//! `cairn sync [--json]`: pushes the outbox, pulls every space, prints a summary; exits
//! non-zero with the reason on failure. Safe from cron while the TUI is open: the TUI
//! holds the replica, so the request goes to it over `tui.sock` and its answer is
//! printed the same way.

use std::io::{IsTerminal, Write};

use crate::paths::Paths;
use crate::replica::{Replica, ReplicaError};
use crate::socket::{self, Reply};
use cairn_common::progress::Progress;

use crate::sync::{Failure, Session, SyncError, sync_round_showing};

/// Sync with the server now.
///
/// Pushes the changes made here, pulls everyone else's, and prints what happened.
/// If the TUI is open, it is asked to sync instead (it holds the local data).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn sync
  cairn sync --json
  */15 * * * * cairn sync   (crontab: every 15 minutes)")]
pub struct Args {
    /// Print the summary (or the failure) as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let ask_consent = !args.json && std::io::stdin().is_terminal();
    let reply = match here(paths, ask_consent, args.json) {
        Ok(reply) => reply,
        Err(Here::Locked) => socket::ask_sync(&paths.data_dir)?,
        Err(Here::Failed(e)) => Reply::Failed(Failure::from(&e)),
    };
    render(reply, args.json)
}

enum Here {
    Locked,
    Failed(SyncError),
}

/// Syncs in this process, unless another cairn holds the replica.
fn here(paths: &Paths, ask_consent: bool, json: bool) -> Result<Reply, Here> {
    let session = Session::load(&paths.data_dir)
        .map_err(Here::Failed)?
        .ok_or(Here::Failed(SyncError::NotLoggedIn))?;
    let replica = match Replica::open(&paths.data_dir) {
        Ok(replica) => replica,
        Err(ReplicaError::Locked { .. }) => return Err(Here::Locked),
        Err(e) => return Err(Here::Failed(e.into())),
    };
    let client = session.client().map_err(Here::Failed)?;
    let progress = Progress::new("syncing: changes pulled", None, json);
    let round = match sync_round_showing(&replica, &client, true, &progress) {
        // The server's privacy notice first: asked at a terminal, then the round again.
        Err(SyncError::Consent { message }) if ask_consent => {
            progress.finish();
            match super::consent::accept(&client, false) {
                Ok(_) => sync_round_showing(&replica, &client, true, &progress),
                Err(e) => Err(SyncError::Consent {
                    message: format!("{message} ({e})"),
                }),
            }
        }
        other => other,
    };
    progress.finish();
    Ok(match round {
        Ok(summary) => Reply::Synced(summary),
        Err(e) => Reply::Failed(Failure::from(&e)),
    })
}

/// The output of a round, whoever ran it; a failure is an error (exit code 1), and
/// with `--json` it is also printed as JSON on standard output.
fn render(reply: Reply, json: bool) -> anyhow::Result<String> {
    match reply {
        Reply::Synced(summary) if json => {
            let mut value = serde_json::to_value(&summary)?;
            value["ok"] = serde_json::Value::Bool(true);
            super::json_line(&value)
        }
        Reply::Synced(summary) => Ok(summary.describe()),
        Reply::Failed(failure) => {
            if json {
                let mut value = serde_json::to_value(&failure)?;
                value["ok"] = serde_json::Value::Bool(false);
                let mut stdout = std::io::stdout().lock();
                // The error below still reaches stderr and the exit code if this fails.
                let _ = stdout.write_all(super::json_line(&value)?.as_bytes());
                let _ = stdout.flush();
            }
            Err(anyhow::anyhow!("sync failed: {}", failure.message))
        }
    }
}
