//! `cairn backup list|now` (on the local replica, through a running TUI too) and
//! `cairn backup restore ID` (with the replica closed: [`restore`] runs before
//! anything opens it).

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::bail;
use serde_json::json;

use super::{Ctx, json_line};
use crate::backup::{self, BackupSettings, Found, RestorePlan};
use crate::paths::Paths;

/// Local backups of this device's data: made daily while the device is not logged
/// in to a server (whose backups keep its data), checked by reading them back,
/// kept 7 days and 4 weeks (`[backup]` in config.toml: enabled, dir, keep_daily,
/// keep_weekly).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn backup list
  cairn backup now
  cairn backup restore 2026-11-30T090000.000Z")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

impl Args {
    /// Whether this is a restore, which must run before the replica is opened.
    #[must_use]
    pub fn is_restore(&self) -> bool {
        matches!(self.action, Action::Restore { .. })
    }
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// The backups, newest first
    List {
        /// Print them as JSON
        #[arg(long)]
        json: bool,
    },
    /// Make a backup now
    Now {
        /// Print it as JSON
        #[arg(long)]
        json: bool,
    },
    /// Put a backup back in place of this device's data (close the TUI first).
    ///
    /// The backup is checked first; the data now is kept in replica.before-restore
    /// in the data directory until the next restore. Changes made since the backup
    /// that no server has are lost; with a server, the next sync brings back what it
    /// has.
    Restore {
        /// The backup's id, as `cairn backup list` shows it
        id: String,
        /// Do not ask
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(paths: &Paths, ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let settings = BackupSettings::load(&paths.config_file, &paths.data_dir)?;
    match &args.action {
        Action::List { json } => list(&settings, *json),
        Action::Restore { .. } => restore(paths, args),
        Action::Now { json } => {
            let progress = cairn_common::progress::Progress::new("backing up", None, *json);
            let found = backup::create(&ctx.replica, &settings, &progress);
            progress.finish();
            let found = found?;
            if *json {
                return json_line(&info_json(&found));
            }
            Ok(format!(
                "Backed up {} records and {} files as {} in {}; `cairn backup list` shows all\n",
                found.info.records,
                found.info.files,
                found.info.id,
                settings.dir.display()
            ))
        }
    }
}

fn info_json(found: &Found) -> serde_json::Value {
    json!({
        "id": found.info.id,
        "created_at": found.info.created_at.to_rfc3339(),
        "records": found.info.records,
        "files": found.info.files,
        "bytes": found.info.bytes,
        "dir": found.dir.display().to_string(),
    })
}

fn list(settings: &BackupSettings, as_json: bool) -> anyhow::Result<String> {
    let found = backup::list(settings)?;
    if as_json {
        return json_line(&json!(found.iter().map(info_json).collect::<Vec<_>>()));
    }
    if found.is_empty() {
        return Ok(format!(
            "No backups in {} yet; `cairn backup now` makes one\n",
            settings.dir.display()
        ));
    }
    let mut out = format!("Backups in {}, newest first:\n", settings.dir.display());
    for f in &found {
        let local = f.info.created_at.with_timezone(&chrono::Local);
        writeln!(
            out,
            "  {}  {}  {:>6} records  {:>4} files  {:>8} KiB",
            f.info.id,
            local.format("%Y-%m-%d %H:%M"),
            f.info.records,
            f.info.files,
            f.info.bytes / 1024
        )?;
    }
    Ok(out)
}

/// `cairn backup restore ID`, with the replica not open in this process.
///
/// # Errors
/// No such backup, a damaged one, the replica open in another cairn, no
/// confirmation, or an I/O error; the data is as it was then.
pub fn restore(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let Action::Restore { id, yes } = &args.action else {
        bail!("not a restore");
    };
    let settings = BackupSettings::load(&paths.config_file, &paths.data_dir)?;
    let Some(found) = backup::list(&settings)?
        .into_iter()
        .find(|f| &f.info.id == id)
    else {
        bail!(
            "there is no backup {id} in {}; `cairn backup list` shows them",
            settings.dir.display()
        );
    };
    let plan = RestorePlan::new(&paths.data_dir, found)?;
    if !yes {
        confirm(&plan)?;
    }
    let progress = cairn_common::progress::Progress::new("restoring", None, false);
    let restored = backup::restore(&paths.data_dir, &plan, &progress);
    progress.finish();
    restored?;
    Ok(format!(
        "Restored the backup {} ({} records); the data from before is in {} until the next \
         restore\n",
        plan.backup.info.id,
        plan.backup.info.records,
        plan.kept_at.display()
    ))
}

/// Says what the restore replaces and asks for `restore` at a terminal.
fn confirm(plan: &RestorePlan) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("a restore replaces this device's data: run it at a terminal, or pass --yes");
    }
    let when = plan
        .backup
        .info
        .created_at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M");
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "This replaces this device's data ({} records now) with the backup of {when} ({} \
         records).",
        plan.records_now, plan.backup.info.records
    )?;
    if plan.unsent_now > 0 {
        writeln!(
            err,
            "{} changes made here have not reached a server and will be lost.",
            plan.unsent_now
        )?;
    }
    write!(err, "Type restore to go on: ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "restore" {
        bail!("nothing was changed");
    }
    Ok(())
}
