//! `cairn show <id> [--json]`: one record with every field.

use std::fmt::Write as _;

use cairn_common::RecordState;
use cairn_common::model::{FieldType, PROGRESS, Value, fields_of};

use super::{Ctx, json_line};
use crate::present::{progress_line, record_json, short_text, timestamp};

/// Show one record: every field with its label, long texts in full, and every
/// version of a field in conflict.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn show 3f9a1c2e
  cairn show 3f9a1c2e --json")]
pub struct Args {
    /// The record's id, or a unique start or end of it (lists show the last 8 digits)
    id: String,
    /// Print the record as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let state = super::find(ctx, &args.id)?;
    if args.json {
        return json_line(&record_json(&state));
    }
    render(ctx, &state)
}

/// The record as labelled lines.
fn render(ctx: &Ctx, state: &RecordState) -> anyhow::Result<String> {
    let Some(kind) = state.kind else {
        return Ok(format!("{} (incomplete record)\n", state.id));
    };
    let specs = fields_of(kind);
    let width = specs
        .iter()
        .map(|s| s.label.chars().count())
        .chain([7])
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    let trash = if state.is_deleted() {
        "  (in the trash; `cairn restore` brings it back)"
    } else {
        ""
    };
    writeln!(out, "{} {}{trash}", kind.key(), state.id)?;
    if let Some((at, _)) = state.created {
        writeln!(out, "{:width$}{}", "Created:", timestamp(at))?;
    }
    writeln!(out, "{:width$}{}", "Updated:", timestamp(state.updated))?;
    let mut long = Vec::new();
    for spec in specs {
        if matches!(spec.ty, FieldType::LongText) {
            long.push(spec);
            continue;
        }
        let text = if state.progress().is_some() && spec.key == PROGRESS {
            progress_line(state)
        } else {
            state
                .get(spec.key)
                .map(|v| full_text(ctx, spec.key, v))
                .unwrap_or_default()
        };
        let label = format!("{}:", spec.label);
        writeln!(out, "{}", format!("{label:width$}{text}").trim_end())?;
    }
    for spec in long {
        let text = state.text(spec.key);
        if !text.is_empty() {
            writeln!(out, "\n{}:\n{}", spec.label, indent(text))?;
        }
    }
    for field in state.conflicts() {
        let label = specs
            .iter()
            .find(|s| s.key == field)
            .map_or(field, |s| s.label);
        let values = state.register(field).map(|r| r.values()).unwrap_or(&[]);
        writeln!(
            out,
            "\nConflict in {label}: {} versions (set {field}=… to keep one):",
            values.len()
        )?;
        for (n, v) in values.iter().enumerate() {
            writeln!(
                out,
                "  version {} by {} at {}:\n{}",
                n + 1,
                v.author.short(),
                timestamp(v.at),
                indent(&full_text(ctx, field, &v.value))
            )?;
        }
    }
    Ok(out)
}

/// A value in full: long text whole, references with the title they point to.
fn full_text(ctx: &Ctx, field: &str, value: &Value) -> String {
    let titled = |id: &cairn_common::RecordId| match ctx.replica.record(id).ok().flatten() {
        Some(target) => format!("{} ({})", id.short(), target.title()),
        None => format!("{} (not here)", id.short()),
    };
    match value {
        Value::Ref(id) => titled(id),
        Value::Refs(ids) => ids.iter().map(titled).collect::<Vec<_>>().join(", "),
        Value::Text(text) => text.clone(),
        Value::People(people) => people
            .iter()
            .map(|p| match p.id {
                Some(id) => match ctx.replica.record(&id).ok().flatten() {
                    Some(person) => format!("{} ({})", person.title(), id.short()),
                    None => format!("{} ({}, not here)", p.name, id.short()),
                },
                None => p.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => short_text(field, other),
    }
}

/// Indents every line by four spaces, so long texts stand apart from labels.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
