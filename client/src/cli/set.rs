//! `cairn set <id> key=value...`: changes fields of a record.

use super::{Ctx, describe, fields, json_line, reread};
use crate::present::record_json;

const EXAMPLES: &str = "\
Examples:
  cairn set 3f9a1c2e status=at-risk progress=40
  cairn set 3f9a1c2e due=+2w owner=\"Ana Lopez\"
  cairn set 3f9a1c2e follow_up=";

/// Change fields of a record.
///
/// Each field set replaces every value it currently has, so setting a field also
/// resolves a conflict on it. An empty value (`due=`) clears a field. Fields that
/// already hold the value are left alone.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES, after_long_help = format!("{EXAMPLES}\n\n{}", fields::help()))]
pub struct Args {
    /// The record's id, or a unique start or end of it
    id: String,
    /// Fields as key=value
    #[arg(value_name = "KEY=VALUE", required = true)]
    pairs: Vec<String>,
    /// Print the changed record as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<String> {
    let state = super::find(ctx, &args.id)?;
    let kind = state
        .kind
        .ok_or_else(|| anyhow::anyhow!("record {} is incomplete", state.id))?;
    let values = fields::parse_pairs(ctx, kind, &args.pairs)?;
    if let Some((key, _)) = values
        .iter()
        .find(|(key, _)| cairn_common::model::is_from_content(kind, key))
    {
        anyhow::bail!(
            "{key} comes from the file's content and cannot be set; add the new content \
             with `cairn files add PATH` instead"
        );
    }
    let ops = ctx.replica.update_ops(&state, values)?;
    ctx.commit(&ops)?;
    let after = reread(ctx, &state)?;
    if args.json {
        return json_line(&record_json(&after));
    }
    let changed: Vec<&str> = ops
        .iter()
        .filter_map(|op| match &op.change {
            cairn_common::Change::Set { field, .. } => Some(field.as_str()),
            _ => None,
        })
        .collect();
    Ok(if changed.is_empty() {
        format!("{}: nothing changed\n", describe(&after))
    } else {
        format!("{}: set {}\n", describe(&after), changed.join(", "))
    })
}
