//! Reading `key=value` pairs into field values: the schema parses the text, and
//! references to other records may be given by short id (resolved here first).

use anyhow::{Context as _, bail};
use cairn_common::model::{FieldType, RecordKind, Value, spec_of};

use super::Ctx;

/// Splits `key=value` at the first `=`.
///
/// # Errors
/// When there is no `=` or no key, with an example of the form.
pub fn split_pair(text: &str) -> anyhow::Result<(&str, &str)> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((key.trim(), value)),
        _ => bail!("{text:?} is not key=value; write e.g. due=2026-12-31 or status=\"at risk\""),
    }
}

/// Reads `key=value` pairs for a record of `kind`. A field given twice takes the last
/// value (two writes of one field in one batch would conflict with each other).
///
/// # Errors
/// An unknown field (listing the kind's fields), a value the field does not accept
/// (showing the accepted forms), or a reference that names no record of a fitting kind.
pub fn parse_pairs(
    ctx: &Ctx,
    kind: RecordKind,
    pairs: &[String],
) -> anyhow::Result<Vec<(String, Value)>> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for pair in pairs {
        let (key, text) = split_pair(pair)?;
        let value = parse_field(ctx, kind, key, text)?;
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

/// Reads one field's text into its value.
///
/// # Errors
/// As [`parse_pairs`].
pub fn parse_field(ctx: &Ctx, kind: RecordKind, key: &str, text: &str) -> anyhow::Result<Value> {
    let spec = spec_of(kind, key)?;
    let text = match spec.ty {
        FieldType::Ref(kinds) => resolve_refs(ctx, key, text, kinds, true)?,
        FieldType::Refs(kinds) => resolve_refs(ctx, key, text, kinds, false)?,
        FieldType::Person { .. } => resolve_people(ctx, text)?,
        _ => text.to_owned(),
    };
    Ok(spec.parse(&text, ctx.today)?)
}

/// Links each name or short id in a person field to the person record it names:
/// a unique name (case and spaces aside) first, then a short id of a person.
/// A name that is no person's stays a name (`cairn people suggest` offers it).
fn resolve_people(ctx: &Ctx, text: &str) -> anyhow::Result<String> {
    let entries: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return Ok(text.to_owned());
    }
    let people = crate::people::people(&ctx.replica)?;
    let mut out = Vec::new();
    for entry in entries {
        if entry.ends_with('>') {
            out.push(entry.to_owned());
            continue;
        }
        let wanted = crate::people::normalize(entry);
        let named: Vec<_> = people
            .iter()
            .filter(|(_, name)| crate::people::normalize(name) == wanted)
            .collect();
        let linked = match named.as_slice() {
            [(id, name)] => Some((*id, name.clone())),
            [] => ctx
                .replica
                .resolve(entry)
                .ok()
                .filter(|s| s.kind == Some(RecordKind::Person))
                .map(|s| (s.id, s.title().to_owned())),
            several => bail!(
                "{} people are named {entry:?}; give one's short id (`cairn list people`)",
                several.len()
            ),
        };
        out.push(match linked {
            Some((id, name)) => format!("{name} <{id}>"),
            None => entry.to_owned(),
        });
    }
    Ok(out.join(", "))
}

/// Replaces each (short) id in a comma-separated list by the full id of the record it
/// names, checking that record's kind.
fn resolve_refs(
    ctx: &Ctx,
    key: &str,
    text: &str,
    kinds: &[RecordKind],
    single: bool,
) -> anyhow::Result<String> {
    let wanted = kinds
        .iter()
        .map(|k| k.key())
        .collect::<Vec<_>>()
        .join(" or ");
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if single && parts.len() > 1 {
        bail!("{key} takes the id of one {wanted}, not a list");
    }
    let mut ids = Vec::new();
    for part in parts {
        let state = ctx
            .replica
            .resolve(part)
            .with_context(|| format!("{key} must name a {wanted}"))?;
        match state.kind {
            Some(kind) if kinds.contains(&kind) => ids.push(state.id.to_string()),
            Some(kind) => bail!(
                "{key} must name a {wanted}, but {part} is a {kind} (\"{}\"); \
                 `cairn list {}` shows the ids",
                state.title(),
                kinds.first().map_or("<kind>", |k| k.key())
            ),
            None => bail!("{part} is not a complete record yet; sync and try again"),
        }
    }
    Ok(ids.join(", "))
}

/// The fields of every kind with their hints, for `--help` (`*`: required).
#[must_use]
pub fn help() -> String {
    use std::fmt::Write as _;
    let mut out = String::from("Fields (--field key=value; * required):");
    for kind in RecordKind::ALL {
        let _ = write!(out, "\n  {kind}");
        for spec in cairn_common::model::fields_of(kind) {
            let star = if spec.required { "*" } else { "" };
            let _ = write!(
                out,
                "\n    {:<20}{}",
                format!("{}{star}", spec.key),
                spec.hint
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs split at the first `=`, and text without one is refused with an example.
    #[test]
    fn pairs_split_at_first_equals() {
        assert_eq!(split_pair("notes=a=b").expect("pair"), ("notes", "a=b"));
        assert_eq!(split_pair("title=").expect("pair"), ("title", ""));
        let err = split_pair("due").expect_err("no =").to_string();
        assert!(err.contains("key=value"), "{err}");
        assert!(split_pair("=x").is_err());
    }
}
