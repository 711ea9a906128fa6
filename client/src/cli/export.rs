//! `cairn export --out DIR`: everything, in the one export format client and server
//! share (see the README.txt it writes). Logged in, it fetches everything the
//! server holds about you (`POST /v1/export`, the right of access) with the files'
//! content; otherwise, or with `--local`, it exports the local replica.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cairn_common::api::{ExportFile, ExportPage, ExportRequest, endpoints};
use cairn_common::export::{render, write};
use cairn_common::progress::{Progress, Report, Unit};
use serde_json::json;

use super::{Ctx, json_line};
use crate::export::{self, Contents};
use crate::paths::Paths;
use crate::sync::{Client, Session};

/// Export everything (the trash and conflicts included) to open files.
///
/// The export is a directory a person can read with no Cairn at hand: a README.txt
/// saying what each file is, manifest.json, every space's records as JSON
/// (space.json), its full change history (history.json and history.csv), a CSV per
/// record kind, a Markdown file per conversation, and the content of its files,
/// listed in manifest.json with their SHA-256. The JSON files are described by
/// docs/export.schema.json. `cairn-server export` writes the same format, and
/// `cairn import DIR` reads either back.
///
/// Logged in to a server: everything the server holds about you (your account and
/// sessions, every space you are a member of with all its records, files and their
/// change history, your own changes marked `by_you`). Not logged in, or with
/// --local: the local replica (changes not yet sent included; files not downloaded
/// to this device are listed without content).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn export --out ~/cairn-export
  cairn export --local --out ~/cairn-local
  cairn import ~/cairn-export")]
pub struct Args {
    /// A new or empty directory to write to (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write over an earlier export in DIR
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
    /// Export the local replica even when logged in to a server
    #[arg(long)]
    local: bool,
}

pub fn run(paths: &Paths, ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let dir = ctx.path(&args.out);
    let session = Session::load(&paths.data_dir)?;
    let progress = Progress::new("exporting: files", None, args.json);
    let (files, client, source) = match &session {
        Some(session) if !args.local => {
            let client = session.client()?;
            let files = fetch(&client, &progress)?;
            let source = client.server().to_owned();
            (files, Some(client), source)
        }
        _ => {
            let data = export::read(&ctx.replica, session.as_ref())?;
            let now = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
            (render(&data, now)?, None, "this device".to_owned())
        }
    };
    let manifest = export::manifest_of(&files)?;
    let report: &dyn Report = &progress;
    report.step(
        "exporting: writing files",
        Some(files.len() as u64),
        Unit::Items,
    );
    write(&dir, &files, args.force, report)?;
    report.step(
        "exporting: file contents",
        Some(manifest.contents.len() as u64),
        Unit::Items,
    );
    let contents =
        export::write_contents(&ctx.replica, client.as_ref(), &manifest, &dir, &progress)?;
    progress.finish();
    let records = records_in(&files);
    if args.json {
        return json_line(&json!({
            "source": source,
            "dir": args.out.display().to_string(),
            "spaces": manifest.spaces.len(),
            "records": records,
            "files": files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
            "contents": {
                "copied": contents.copied,
                "downloaded": contents.downloaded,
                "missing": contents.missing,
            },
        }));
    }
    summary(&args.out, &source, &manifest, records, &files, contents)
}

/// Fetches the server's export of the caller, page by page.
fn fetch(client: &Client, progress: &Progress) -> anyhow::Result<Vec<ExportFile>> {
    let mut files = Vec::new();
    let mut from = 0;
    loop {
        let page: ExportPage = client.call::<endpoints::Export>(&ExportRequest { from })?;
        progress.set_total(u64::from(page.total));
        files.extend(page.files);
        progress.set(files.len() as u64);
        match page.next {
            Some(next) if next > from => from = next,
            _ => break,
        }
    }
    Ok(files)
}

/// Records in the export: those its space.json files list.
fn records_in(files: &[ExportFile]) -> usize {
    files
        .iter()
        .filter(|f| f.path.ends_with("/space.json"))
        .filter_map(|f| {
            serde_json::from_str::<cairn_common::export::format::SpaceFile>(&f.contents).ok()
        })
        .map(|s| s.records.values().map(Vec::len).sum::<usize>())
        .sum()
}

fn summary(
    out: &Path,
    source: &str,
    manifest: &cairn_common::export::format::Manifest,
    records: usize,
    files: &[ExportFile],
    contents: Contents,
) -> anyhow::Result<String> {
    let mut text = format!(
        "Exported {records} records in {} spaces from {source} to {} ({} files; README.txt \
         says what each is)\n",
        manifest.spaces.len(),
        out.display(),
        files.len() + contents.copied + contents.downloaded,
    );
    let held = contents.copied + contents.downloaded;
    if held + contents.missing > 0 {
        writeln!(
            text,
            "  file content: {held} of {} in the export",
            held + contents.missing
        )?;
    }
    if contents.missing > 0 {
        writeln!(
            text,
            "  {} not on this device: fetch them with `cairn files fetch ID...`, or export from \
             the server (without --local)",
            contents.missing
        )?;
    }
    Ok(text)
}
