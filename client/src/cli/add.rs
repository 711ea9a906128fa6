//! `cairn add <kind> <title> [--field key=value]...`: creates a record.

use anyhow::bail;
use cairn_common::model::{ModelError, RecordKind, fields_of, spec_of};

use super::{Ctx, fields, json_line};
use crate::present::record_json;
use crate::replica::ReplicaError;

const EXAMPLES: &str = "\
Examples:
  cairn add goal \"Grow the team\" --field due=2026-12-31 --field status=on-track
  cairn add commitment \"Send the offer\" --field to=Ana --field due=+3d
  cairn add task \"Weekly report\" --field recurrence=\"every week\"
  cairn add activity \"Hiring fair\" --field duration=1h30m
  cairn add note \"1:1 with Ana\" --field participants=\"Ana, Ben\" --field notes=\"Talked about goals\"
  cairn add potential \"Ana Lopez\" --field performance=high --field potential=medium

Kinds: goal, commitment, task (needs recurrence), activity, note, potential.";

/// Create a record and print its id.
///
/// The title is the record's name (for a potential: the person). Other fields are
/// given as `--field key=value` (`--help` lists them). Dates may be `YYYY-MM-DD`,
/// `today`, `tomorrow`, `+3d`, `-1w` or `+2m`; records are referenced by their
/// (short) id. Empty fields get defaults: status open, date today.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES, after_long_help = format!("{EXAMPLES}\n\n{}", fields::help()))]
pub struct Args {
    /// goal, commitment, task, activity, note or potential (plurals work too)
    #[arg(value_parser = super::parse_kind)]
    kind: RecordKind,
    /// The record's title (a potential's: the person's name)
    title: String,
    /// A field as key=value; repeat for more fields
    #[arg(short, long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// Print the new record as JSON instead of its id
    #[arg(long)]
    json: bool,
    /// The space it goes to, by name or start of its id (default: your personal space)
    #[arg(long, value_name = "SPACE")]
    space: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<String> {
    let kind = args.kind;
    let title_spec = spec_of(kind, kind.title_field())?;
    let mut values = vec![(
        title_spec.key.to_owned(),
        title_spec
            .parse(&args.title, ctx.today)
            .map_err(|e| match e {
                ModelError::Required { .. } => anyhow::anyhow!(
                    "the {} cannot be empty; write it after the kind, e.g. cairn add {kind} \"…\"",
                    title_spec.label.to_lowercase()
                ),
                other => other.into(),
            })?,
    )];
    for (key, value) in fields::parse_pairs(ctx, kind, &args.fields)? {
        values.retain(|(k, _)| *k != key);
        values.push((key, value));
    }
    let space = match &args.space {
        Some(name) => find_space(ctx, name)?,
        None => ctx.replica.identity().personal_space,
    };
    let (id, ops) = match ctx.replica.create_ops(kind, space, values, ctx.today) {
        Ok(draft) => draft,
        Err(ReplicaError::Invalid(ModelError::Required { field })) => {
            bail!(missing_required(kind, field))
        }
        Err(e) => return Err(e.into()),
    };
    ctx.commit(&ops)?;
    if args.json {
        let state = ctx
            .replica
            .record(&id)?
            .ok_or_else(|| anyhow::anyhow!("record {id} vanished after saving"))?;
        json_line(&record_json(&state))
    } else {
        Ok(format!("{id}\n"))
    }
}

/// A space this replica knows and the user may write to, by name or id start.
pub(super) fn find_space(ctx: &Ctx, text: &str) -> anyhow::Result<cairn_common::SpaceId> {
    let wanted = text.trim().to_lowercase();
    let known = ctx.replica.known_spaces()?;
    let by_name: Vec<_> = known
        .iter()
        .filter(|k| k.space.name.to_lowercase() == wanted)
        .collect();
    let found = if by_name.is_empty() && wanted.len() >= 4 {
        known
            .iter()
            .filter(|k| k.space.id.0.simple().to_string().starts_with(&wanted))
            .collect()
    } else {
        by_name
    };
    match found.as_slice() {
        [one] if one.role.can_edit() => Ok(one.space.id),
        [one] => bail!(
            "you can only read the space {:?}; ask its owner to make you an editor",
            one.space.name
        ),
        [] => bail!(
            "no space here is named {text:?}; `cairn spaces list` shows yours (`cairn sync` brings new ones here)"
        ),
        more => bail!(
            "{text:?} matches {} spaces; give more of its id",
            more.len()
        ),
    }
}

/// Says which required field is missing and how to give it on the command line.
fn missing_required(kind: RecordKind, label: &str) -> String {
    match fields_of(kind).iter().find(|s| s.label == label) {
        Some(spec) => {
            let example = spec.hint.split(',').next().unwrap_or("…").trim();
            format!(
                "a {kind} needs {key} ({label}): add --field {key}=\"{example}\" (accepted: {hint})",
                key = spec.key,
                hint = spec.hint,
            )
        }
        None => format!("a {kind} needs {label}: give it with --field"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task without recurrence is told the field and a working example.
    #[test]
    fn missing_recurrence_explains_how() {
        let text = missing_required(RecordKind::Task, "Repeats");
        assert!(
            text.contains("--field recurrence=\"every 2 weeks\""),
            "{text}"
        );
    }
}
