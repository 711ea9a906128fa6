//! `cairn import DIR`: merges an export into the local replica.

use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, json_line};

/// Merge an export (from `cairn export` or `cairn-server export`) into this replica.
///
/// The records' full change histories are merged as they are: importing the same
/// export twice changes nothing, records edited here and in the export keep both
/// versions as a conflict, and the imported changes are synced like local ones. The
/// files' content goes into the local cache and is uploaded with the next sync. An
/// export that cannot be read, or whose content does not match its SHA-256, is
/// refused as a whole. The `cairn-export.json` of earlier versions is read too.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  cairn import ~/cairn-export\n  cairn import ~/old/cairn-export.json"
)]
pub struct Args {
    /// The export's directory (or its manifest.json, or an older cairn-export.json)
    file: PathBuf,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let progress = cairn_common::progress::Progress::new("importing", None, args.json);
    let summary = crate::import::import(&ctx.replica, &ctx.path(&args.file), &progress);
    progress.finish();
    let summary = summary?;
    ctx.changed(&summary.commit.records);
    if args.json {
        return json_line(&json!({
            "file": args.file.display().to_string(),
            "records": summary.records,
            "ops": summary.ops,
            "new_ops": summary.commit.new_ops,
            "changed_records": summary.commit.records.len(),
            "contents": summary.contents,
        }));
    }
    Ok(format!(
        "Imported {}: {} records, {} changes ({} new here, {} records changed), {} files' \
         content\n",
        args.file.display(),
        summary.records,
        summary.ops,
        summary.commit.new_ops,
        summary.commit.records.len(),
        summary.contents
    ))
}
