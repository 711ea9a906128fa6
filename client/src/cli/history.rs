//! `cairn history <id> [--json]`: every change of a record from the local replica:
//! when, who, and each field's old and new value.

use std::fmt::Write as _;

use cairn_common::model::spec_of;
use serde_json::json;

use super::{Ctx, json_line, table};
use crate::change_log::{self, What};
use crate::present::{short_text, timestamp};

/// Show a record's change history, oldest first: who changed what, when, from which
/// value to which (as far as this replica has synced).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn history 3f9a1c2e
  cairn history 3f9a1c2e --json")]
pub struct Args {
    /// The record's id, or a unique start or end of it (lists show the last 8 digits)
    id: String,
    /// Print the changes as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let state = super::find(ctx, &args.id)?;
    let entries = change_log::entries(&ctx.replica.history(&state.id)?);
    let me = ctx.replica.identity().user;
    let who = |author: cairn_common::model::UserId| {
        if author == me {
            "you".to_owned()
        } else {
            author.short()
        }
    };
    if args.json {
        let items: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut item = json!({
                    "op": e.op.to_string(),
                    "at": timestamp(e.at),
                    "author": e.author.to_string(),
                });
                match &e.what {
                    What::Created(kind) => {
                        item["change"] = json!("create");
                        item["kind"] = json!(kind.key());
                    }
                    What::Set { field, old, new } => {
                        item["change"] = json!("set");
                        item["field"] = json!(field);
                        item["old"] = json!(old.iter().map(|v| v.to_text()).collect::<Vec<_>>());
                        item["new"] = json!(new.to_text());
                    }
                    What::Deleted => item["change"] = json!("delete"),
                    What::Restored => item["change"] = json!("restore"),
                }
                item
            })
            .collect();
        return json_line(&json!(items));
    }
    let kind = state.kind;
    let header = ["when", "who", "change"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let what = match &e.what {
                What::Created(kind) => format!("created the {}", kind.key()),
                What::Set { field, old, new } => {
                    let label = kind
                        .and_then(|k| spec_of(k, field).ok())
                        .map_or(field.as_str(), |s| s.label);
                    let old = if old.is_empty() {
                        "—".to_owned()
                    } else {
                        old.iter()
                            .map(|v| short_text(field, v))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    };
                    format!("{label}: {old} → {}", short_text(field, new))
                }
                What::Deleted => "moved to the trash".to_owned(),
                What::Restored => "restored".to_owned(),
            };
            let when = timestamp(e.at);
            vec![
                when.get(..19).unwrap_or(&when).replace('T', " "),
                who(e.author),
                what,
            ]
        })
        .collect();
    let mut out = String::new();
    writeln!(out, "{}", super::describe(&state))?;
    Ok(out + &table::render(&header, &rows))
}
