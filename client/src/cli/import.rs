//! `cairn import FILE`: merges a JSON export into the local replica.

use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, json_line};

/// Merge a JSON export (from `cairn export --format json`) into this replica.
///
/// The records' full change histories are merged as they are: importing the same
/// file twice changes nothing, records edited here and in the export keep both
/// versions as a conflict, and the imported changes are synced like local ones. A file
/// that cannot be read is refused as a whole.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cairn import ~/cairn-backup/cairn-export.json")]
pub struct Args {
    /// The cairn-export.json to read
    file: PathBuf,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    let summary = crate::import::import(&ctx.replica, &ctx.path(&args.file))?;
    ctx.changed(&summary.commit.records);
    if args.json {
        return json_line(&json!({
            "file": args.file.display().to_string(),
            "records": summary.records,
            "ops": summary.ops,
            "new_ops": summary.commit.new_ops,
            "changed_records": summary.commit.records.len(),
        }));
    }
    Ok(format!(
        "Imported {}: {} records, {} changes ({} new here, {} records changed)\n",
        args.file.display(),
        summary.records,
        summary.ops,
        summary.commit.new_ops,
        summary.commit.records.len()
    ))
}
