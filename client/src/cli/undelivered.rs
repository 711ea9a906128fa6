//! `cairn undelivered`: the changes kept out of sync. Local changes the server will
//! never take (the space was taken from you, a record broke a rule) and changes from
//! the server this device would not merge (see `replica/set_aside.rs`). Listed,
//! exported whole to a file, or forgotten once dealt with.

use std::path::PathBuf;

use anyhow::Context;
use cairn_common::op::Change;
use serde_json::json;

use super::{Ctx, json_line, table};
use crate::present::timestamp;
use crate::replica::{SetAside, SetAsideKind};

/// List, export or forget the changes kept out of sync.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn undelivered                   what was set aside, and why
  cairn undelivered --json
  cairn undelivered export ~/kept.json   every change whole, to re-enter or keep
  cairn undelivered discard --all      forget them once dealt with")]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Print the list as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Write every set-aside change, whole (ids, clocks, values), as JSON to FILE
    Export {
        /// Where to write (refuses to overwrite an existing file)
        file: PathBuf,
    },
    /// Forget set-aside changes; export them first if you may need them
    Discard {
        /// Forget both kinds
        #[arg(long, conflicts_with_all = ["undelivered", "quarantined"])]
        all: bool,
        /// Forget your changes the server would not take
        #[arg(long)]
        undelivered: bool,
        /// Forget changes from the server this device would not merge
        #[arg(long)]
        quarantined: bool,
    },
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    match &args.action {
        None => list(&ctx.replica.set_aside()?, args.json),
        Some(Action::Export { file }) => export(&ctx.replica.set_aside()?, &ctx.path(file), file),
        Some(Action::Discard {
            all,
            undelivered,
            quarantined,
        }) => {
            let kind = match (all, undelivered, quarantined) {
                (true, _, _) | (false, true, true) => None,
                (false, true, false) => Some(SetAsideKind::Undelivered),
                (false, false, true) => Some(SetAsideKind::Quarantined),
                (false, false, false) => anyhow::bail!(
                    "say what to forget: --all, --undelivered or --quarantined (export them first \
                     with `cairn undelivered export FILE` if you may need them)"
                ),
            };
            let n = ctx.replica.discard_set_aside(kind)?;
            Ok(format!("Forgot {n} set-aside change(s).\n"))
        }
    }
}

fn kind_name(kind: SetAsideKind) -> &'static str {
    match kind {
        SetAsideKind::Undelivered => "undelivered",
        SetAsideKind::Quarantined => "quarantined",
    }
}

/// What a change did, in a few words: `set notes = "…"`, `create goal`.
fn change_text(change: &Change) -> String {
    match change {
        Change::Create { kind } => format!("create {}", kind.key()),
        Change::Set { field, value, .. } => {
            let text = value.to_text();
            let short: String = text.chars().take(40).collect();
            let ellipsis = if short.len() < text.len() { "…" } else { "" };
            format!("set {field} = {short:?}{ellipsis}")
        }
        Change::Delete => "delete".into(),
        Change::Restore => "restore".into(),
    }
}

fn list(entries: &[SetAside], json: bool) -> anyhow::Result<String> {
    if json {
        let items: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "kind": kind_name(e.kind),
                    "reason": e.reason,
                    "space": e.space_name,
                    "record": e.op.record.to_string(),
                    "record_title": e.record_title,
                    "change": change_text(&e.op.change),
                    "op": e.op.id.to_string(),
                    "at": timestamp(e.op.at),
                })
            })
            .collect();
        return json_line(&json!(items));
    }
    if entries.is_empty() {
        return Ok("Nothing was set aside: every change went where it belongs.\n".into());
    }
    let header = ["kind", "space", "record", "change", "why"].map(String::from);
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                kind_name(e.kind).into(),
                e.space_name.clone(),
                format!("{} {}", e.op.record.short(), e.record_title),
                change_text(&e.op.change),
                e.reason.clone(),
            ]
        })
        .collect();
    Ok(table::render(&header, &rows)
        + "\n`cairn undelivered export FILE` writes them whole; `cairn undelivered discard --all` forgets them.\n")
}

/// Writes the entries to `path` (`file` as the user typed it, for messages).
fn export(
    entries: &[SetAside],
    path: &std::path::Path,
    file: &std::path::Path,
) -> anyhow::Result<String> {
    let text = serde_json::to_string_pretty(entries)? + "\n";
    let mut out = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {}; give a path to a new file (an existing one is never \
                 overwritten)",
                file.display()
            )
        })?;
    std::io::Write::write_all(&mut out, text.as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(format!(
        "Wrote {} set-aside change(s) to {}.\n",
        entries.len(),
        file.display()
    ))
}
