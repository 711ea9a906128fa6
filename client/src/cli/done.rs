//! `cairn done <id>`: marks a task, commitment or goal done.

use cairn_common::Value;

use super::{Ctx, describe, json_line, reread};
use crate::present::record_json;

/// Mark a record done today.
///
/// A standard task records today in its history and moves to its next due date; a
/// commitment becomes kept; a goal achieved (100%).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cairn done 3f9a1c2e")]
pub struct Args {
    /// The record's id, or a unique start or end of it
    id: String,
    /// Print the record as JSON afterwards
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let state = super::find(ctx, &args.id)?;
    let ops = ctx.replica.done_ops(&state, ctx.today)?;
    ctx.commit(&ops)?;
    let after = reread(ctx, &state)?;
    if args.json {
        return json_line(&record_json(&after));
    }
    Ok(match after.get("next_due") {
        Some(Value::Date(next)) => format!("Done: {}; next due {next}\n", describe(&after)),
        _ => format!("Done: {}\n", describe(&after)),
    })
}
