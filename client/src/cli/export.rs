//! `cairn export --format json|markdown|csv --out DIR`: everything, to open formats.
//! Logged in, it fetches everything the server holds about you (`POST /v1/export`,
//! the right of access); otherwise, or with `--local`, it exports the local replica.

use std::fmt::Write as _;
use std::path::PathBuf;

use cairn_common::api::{ExportPage, ExportRequest, endpoints};
use serde_json::json;

use super::{Ctx, json_line};
use crate::export::{self, File, Format, Snapshot};
use crate::paths::Paths;
use crate::sync::Session;

/// Export everything (the trash and conflicts included) to open formats.
///
/// Logged in to a server: everything the server holds about you (your account and
/// sessions, every space you are a member of with all its records and their change
/// history, your own changes marked `by_you`), as the files of a server export
/// (see its README.txt) in the chosen format: json (with manifest.json, described by
/// docs/export.schema.json), markdown (one file per conversation) or csv (one file
/// per kind and the history). Not logged in, or with --local: the local replica.
///
/// Local json: one lossless `cairn-export.json` with every record and its full
/// change history; `cairn import` reads it back. markdown: one file per
/// conversation under `conversations/`, one file per other kind. csv: one file per
/// kind, a header of field keys, values in the form `cairn set` reads.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn export --format json --out ~/cairn-backup
  cairn export --format markdown --out ./notes
  cairn export --format csv --out ./sheets --force
  cairn export --local --format json --out ~/cairn-local")]
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
    /// Export the local replica even when logged in to a server
    #[arg(long)]
    local: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Json,
    #[value(alias = "md")]
    Markdown,
    Csv,
}

pub fn run(paths: &Paths, ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Csv => Format::Csv,
    };
    if !args.local
        && let Some(session) = Session::load(&paths.data_dir)?
    {
        return from_server(&session, format, &ctx.path(&args.out), args);
    }
    let snapshot = Snapshot::read(&ctx.replica, format == Format::Json)?;
    let files = export::render(format, &snapshot)?;
    export::write(&ctx.path(&args.out), &files, args.force)?;
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
    list_files(&mut out, &files)?;
    Ok(out)
}

fn list_files(out: &mut String, files: &[File]) -> std::fmt::Result {
    for file in files {
        let s = if file.records == 1 { "" } else { "s" };
        writeln!(
            out,
            "  {}  ({} record{s})",
            file.path.display(),
            file.records
        )?;
    }
    Ok(())
}

/// Whether a file of a server export belongs to `format` (README.txt always does).
fn in_format(path: &str, format: Format) -> bool {
    let ext = match format {
        Format::Json => ".json",
        Format::Markdown => ".md",
        Format::Csv => ".csv",
    };
    path == "README.txt" || path.ends_with(ext)
}

/// A path from the server as a relative path inside the export directory.
fn checked_path(path: &str) -> anyhow::Result<PathBuf> {
    let p = PathBuf::from(path);
    let inside = !path.is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    anyhow::ensure!(
        inside,
        "the server sent a file outside the export directory ({path:?}); nothing was written"
    );
    Ok(p)
}

/// Fetches the server's export of the caller, page by page, and writes the files
/// of `format` to `dir` (`args.out` as it is named in messages).
fn from_server(
    session: &Session,
    format: Format,
    dir: &std::path::Path,
    args: &Args,
) -> anyhow::Result<String> {
    let client = session.client()?;
    let mut files = Vec::new();
    let mut from = 0;
    loop {
        let page: ExportPage = client.call::<endpoints::Export>(&ExportRequest { from })?;
        for file in page.files {
            if in_format(&file.path, format) {
                files.push(File {
                    path: checked_path(&file.path)?,
                    contents: file.contents,
                    records: 0,
                });
            }
        }
        match page.next {
            Some(next) if next > from => from = next,
            _ => break,
        }
    }
    export::write(dir, &files, args.force)?;
    if args.json {
        return json_line(&json!({
            "format": format.key(),
            "source": client.server(),
            "dir": args.out.display().to_string(),
            "files": files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
        }));
    }
    let mut out = format!(
        "Exported everything {} holds about you as {} to {} ({} files; README.txt says \
         what each is):\n",
        client.server(),
        format.key(),
        args.out.display(),
        files.len()
    );
    for file in &files {
        writeln!(out, "  {}", file.path.display())?;
    }
    Ok(out)
}
