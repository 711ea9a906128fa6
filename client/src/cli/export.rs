//! `cairn export --format json|markdown|csv --out DIR`: everything, to open formats.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, json_line};
use crate::export::{self, Format, Snapshot};

/// Export everything (the trash and conflicts included) to open formats.
///
/// json: one lossless `cairn-export.json` with every record and its full change
/// history; `cairn import` reads it back. markdown: one file per conversation under
/// `conversations/`, one file per other kind. csv: one file per kind, a header of
/// field keys, values in the form `cairn set` reads.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn export --format json --out ~/cairn-backup
  cairn export --format markdown --out ./notes
  cairn export --format csv --out ./sheets --force")]
pub struct Args {
    /// json (lossless, importable), markdown or csv
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    format: FormatArg,
    /// Directory to write to (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite the files of an earlier export in DIR
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Json,
    #[value(alias = "md")]
    Markdown,
    Csv,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Csv => Format::Csv,
    };
    let snapshot = Snapshot::read(&ctx.replica, format == Format::Json)?;
    let files = export::render(format, &snapshot)?;
    export::write(&args.out, &files, args.force)?;
    if args.json {
        return json_line(&json!({
            "format": format.key(),
            "dir": args.out.display().to_string(),
            "records": snapshot.records.len(),
            "files": files.iter().map(|f| json!({
                "path": f.path.display().to_string(),
                "records": f.records,
            })).collect::<Vec<_>>(),
        }));
    }
    let mut out = format!(
        "Exported {} records as {} to {}:\n",
        snapshot.records.len(),
        format.key(),
        args.out.display()
    );
    for file in &files {
        let s = if file.records == 1 { "" } else { "s" };
        writeln!(
            out,
            "  {}  ({} record{s})",
            file.path.display(),
            file.records
        )?;
    }
    Ok(out)
}
