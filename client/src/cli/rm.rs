//! `cairn rm <id>`: moves a record to the trash.

use super::{Ctx, describe, json_line, reread};
use crate::present::record_json;

/// Move a record to the trash.
///
/// Nothing is lost: `cairn list <kind> --trash` shows it and `cairn restore <id>`
/// brings it back.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cairn rm 3f9a1c2e")]
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
    if !was_deleted {
        ctx.commit(&[ctx.replica.delete_op(&state)])?;
    }
    let after = reread(ctx, &state)?;
    if args.json {
        return json_line(&record_json(&after));
    }
    let kind = after.kind.map_or("record", |k| k.key());
    Ok(if was_deleted {
        format!("{} was already in the trash\n", describe(&after))
    } else {
        format!(
            "Moved {} to the trash; `cairn restore {}` brings it back, `cairn list {kind} --trash` lists the trash\n",
            describe(&after),
            after.id.short()
        )
    })
}
