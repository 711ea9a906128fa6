//! `cairn restore <id>`: brings a record back from the trash.

use super::{Ctx, describe, json_line, reread};
use crate::present::record_json;

/// Bring a record back from the trash.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  cairn list goals --trash\n  cairn restore 3f9a1c2e")]
pub struct Args {
    /// The record's id, or a unique start or end of it
    id: String,
    /// Print the record as JSON afterwards
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let state = super::find(ctx, &args.id)?;
    let was_deleted = state.is_deleted();
    if was_deleted {
        ctx.commit(&[ctx.replica.restore_op(&state)])?;
    }
    let after = reread(ctx, &state)?;
    if args.json {
        return json_line(&record_json(&after));
    }
    Ok(if was_deleted {
        format!("Restored {}\n", describe(&after))
    } else {
        format!(
            "{} is not in the trash; nothing to restore\n",
            describe(&after)
        )
    })
}
