//! `cairn people suggest [--create] [--json]`: the names records use for people
//! (owner, committed by/to, participants, a potential's person) that have no person
//! record yet, most used first; `--create` makes a person of each, so the person
//! screen and the 1:1 preparation find them.

use serde_json::json;

use super::{Ctx, json_line, table};
use crate::people::unknown_names;

/// People: the names in use that have no person record yet.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn people suggest            names used in records with no person record yet
  cairn people suggest --create   make a person of each of them
  cairn people suggest --json")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// List the names records use for people that have no person record
    Suggest {
        /// Create a person record for each name (in your personal space)
        #[arg(long)]
        create: bool,
        /// Print the names as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let Action::Suggest { create, json } = &args.action;
    let names = unknown_names(&ctx.replica)?;
    let mut created = Vec::new();
    if *create {
        let space = ctx.replica.identity().personal_space;
        for unknown in &names {
            let (id, ops) = ctx.replica.create_ops(
                cairn_common::model::RecordKind::Person,
                space,
                vec![(
                    "name".to_owned(),
                    cairn_common::Value::Text(unknown.name.clone()),
                )],
                ctx.today,
            )?;
            ctx.commit(&ops)?;
            created.push((id, unknown.name.clone()));
        }
    }
    // The records that named them now link to them (where this user may write).
    let mut linked = 0;
    for (state, fields) in crate::people::links_to_make(&ctx.replica, &created)? {
        let ops = ctx.replica.update_ops(&state, fields)?;
        if ctx.commit(&ops).is_ok() {
            linked += 1;
        }
    }
    let created: Vec<_> = created.into_iter().map(|(id, _)| id).collect();
    if *json {
        let items: Vec<_> = names
            .iter()
            .map(|u| json!({ "name": u.name, "records": u.records }))
            .collect();
        return json_line(&json!({
            "names": items,
            "created": created.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "linked_records": linked,
        }));
    }
    if names.is_empty() {
        return Ok("Every name used in a record has a person record.\n".into());
    }
    let header = ["name", "records"].map(String::from);
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|u| vec![u.name.clone(), u.records.to_string()])
        .collect();
    let mut out = table::render(&header, &rows);
    if *create {
        out.push_str(&format!(
            "\nCreated {} people; {linked} records now link to them.\n",
            created.len()
        ));
    } else {
        out.push_str("\n`cairn people suggest --create` makes a person of each.\n");
    }
    Ok(out)
}
