//! `cairn list <kind> [--json] [--trash]`: the records of one kind as a table.

use cairn_common::model::RecordKind;

use super::{Ctx, json_line, table};
use crate::present::{cell, columns, is_overdue, record_json};

/// List the records of one kind.
///
/// The table shows each record's short id (enough for `show`, `set`, `done`, `rm`)
/// and the kind's main columns; overdue records and fields in conflict are flagged.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn list goals
  cairn list tasks --json | jq '.[] | .fields.next_due'
  cairn list notes --trash")]
pub struct Args {
    /// goal, commitment, task, activity, note or potential (plurals work too)
    #[arg(value_parser = super::parse_kind)]
    kind: RecordKind,
    /// Print a JSON array of the records, every field included
    #[arg(long)]
    json: bool,
    /// List the records in the trash instead
    #[arg(long)]
    trash: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let records = ctx.replica.list(args.kind, args.trash)?;
    if args.json {
        let all: Vec<_> = records.iter().map(record_json).collect();
        return json_line(&serde_json::Value::Array(all));
    }
    let plural = args.kind.title().to_lowercase();
    if records.is_empty() {
        return Ok(if args.trash {
            format!("The trash holds no {plural}.\n")
        } else {
            format!(
                "No {plural} yet; add one with `cairn add {} <title>`.\n",
                args.kind
            )
        });
    }
    let cols = columns(args.kind);
    let mut header = vec!["ID".to_owned()];
    header.extend(cols.iter().map(|c| c.label.to_owned()));
    header.push(String::new());
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|state| {
            let mut row = vec![state.id.short()];
            row.extend(cols.iter().map(|c| cell(state, c.field)));
            let mut flags = Vec::new();
            if !args.trash && is_overdue(state, ctx.today) {
                flags.push("overdue".to_owned());
            }
            if !state.conflicts().is_empty() {
                flags.push(format!("conflict: {}", state.conflicts().join(", ")));
            }
            row.push(flags.join("; "));
            row
        })
        .collect();
    Ok(table::render(&header, &rows))
}
