//! `cairn files add|list|get|rm`: files in spaces (photos, documents), maybe
//! attached to a record. Adding copies the file into the local cache and makes its
//! record; the next `cairn sync` uploads it, then its record. Getting a file
//! downloads it the first time and keeps it for offline use.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::bail;
use serde_json::json;

use super::{Ctx, json_line, table};
use crate::files::{self, FileInfo};
use crate::paths::Paths;
use crate::present::bytes;
use crate::sync::Session;

/// Files in spaces: add, list, get, fetch, remove.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn files add ./site-plan.pdf --space Team
  cairn files add ./photo.jpg --record 3f9a1c2e
  cairn files list
  cairn files get 7b21c0de --out ~/Downloads/site-plan.pdf
  cairn files fetch 7b21c0de 0c4e11aa
  cairn files rm 7b21c0de")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Add a file: copied into this device's cache; `cairn sync` uploads it
    Add {
        path: PathBuf,
        /// The space it goes to, by name or start of its id (default: the
        /// record's space, else your personal space)
        #[arg(long, value_name = "SPACE")]
        space: Option<String>,
        /// The record it belongs to (its id or a unique start or end of it)
        #[arg(long, value_name = "ID")]
        record: Option<String>,
        /// Print the new file's record as JSON
        #[arg(long)]
        json: bool,
    },
    /// The files here, with their space, size and whether they are on this device
    List {
        /// Only the files attached to this record
        #[arg(long, value_name = "ID")]
        record: Option<String>,
        /// The trash instead
        #[arg(long)]
        trash: bool,
        #[arg(long)]
        json: bool,
    },
    /// Save a file's content: from this device, else downloaded (and kept here)
    Get {
        id: String,
        /// Where to save it (default: its name, in the current directory)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Overwrite PATH if it exists
        #[arg(long)]
        force: bool,
    },
    /// Download files into this device's cache, to open them offline later
    /// (nothing is saved elsewhere)
    Fetch {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Move a file to the trash (`cairn restore ID` brings it back)
    Rm { id: String },
}

fn find_file(ctx: &Ctx, id: &str) -> anyhow::Result<FileInfo> {
    let state = super::find(ctx, id)?;
    FileInfo::of(&state).ok_or_else(|| {
        anyhow::anyhow!("{id} is not a file; `cairn files list` shows the files and their ids")
    })
}

pub fn run(paths: &Paths, ctx: &Ctx, args: &Args) -> anyhow::Result<String> {
    match &args.action {
        Action::Add {
            path,
            space,
            record,
            json,
        } => add(ctx, path, space.as_deref(), record.as_deref(), *json),
        Action::List {
            record,
            trash,
            json,
        } => list(ctx, record.as_deref(), *trash, *json),
        Action::Get { id, out, force } => get(paths, ctx, id, out.as_deref(), *force),
        Action::Fetch { ids } => fetch(paths, ctx, ids),
        Action::Rm { id } => {
            let file = find_file(ctx, id)?;
            let state = super::find(ctx, id)?;
            if !file.deleted {
                ctx.commit(&[ctx.replica.delete_op(&state)])?;
            }
            Ok(format!(
                "Moved {} to the trash; `cairn restore {}` brings it back\n",
                file.name,
                file.id.short()
            ))
        }
    }
}

fn add(
    ctx: &Ctx,
    path: &Path,
    space: Option<&str>,
    record: Option<&str>,
    json: bool,
) -> anyhow::Result<String> {
    let path = ctx.path(path);
    let record = record.map(|id| super::find(ctx, id)).transpose()?;
    let space = match (space, &record) {
        (Some(name), _) => super::add::find_space(ctx, name)?,
        (None, Some(record)) => record.space,
        (None, None) => ctx.replica.identity().personal_space,
    };
    if let Some(record) = &record
        && record.space != space
    {
        bail!(
            "the record {} is in another space; add the file to its space (leave out --space)",
            record.id.short()
        );
    }
    let (id, ops) = files::add(&ctx.replica, &path, space, record.map(|r| r.id), ctx.today)?;
    ctx.commit(&ops)?;
    let state = ctx
        .replica
        .record(&id)?
        .ok_or_else(|| anyhow::anyhow!("file {id} vanished after saving"))?;
    if json {
        return json_line(&crate::present::record_json(&state));
    }
    let info = FileInfo::of(&state).ok_or_else(|| anyhow::anyhow!("file {id} is incomplete"))?;
    Ok(format!(
        "Added {} ({}) as {}; `cairn sync` uploads it\n",
        info.name,
        bytes(info.size),
        id.short()
    ))
}

fn list(ctx: &Ctx, record: Option<&str>, trash: bool, as_json: bool) -> anyhow::Result<String> {
    let record = record.map(|id| super::find(ctx, id)).transpose()?;
    let cache = files::FileCache::new(ctx.replica.dir());
    let spaces: std::collections::HashMap<_, _> = ctx
        .replica
        .spaces()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut found: Vec<FileInfo> = files::all(&ctx.replica)?
        .into_iter()
        .filter(|f| f.deleted == trash)
        .filter(|f| record.as_ref().is_none_or(|r| f.record == Some(r.id)))
        .collect();
    found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    if as_json {
        return json_line(&json!(
            found
                .iter()
                .map(|f| json!({
                    "id": f.id.to_string(),
                    "space": f.space.to_string(),
                    "name": f.name,
                    "size": f.size,
                    "sha256": f.sha256,
                    "type": f.content_type,
                    "record": f.record.map(|r| r.to_string()),
                    "on_this_device": cache.has(f.space, &f.sha256),
                }))
                .collect::<Vec<_>>()
        ));
    }
    if found.is_empty() {
        return Ok(if trash {
            "No files in the trash.\n".to_owned()
        } else {
            "No files yet; `cairn files add PATH` adds one.\n".to_owned()
        });
    }
    let header = ["id", "name", "size", "type", "space", "here"]
        .map(String::from)
        .to_vec();
    let rows = found
        .iter()
        .map(|f| {
            vec![
                f.id.short(),
                f.name.clone(),
                bytes(f.size),
                f.content_type.clone(),
                spaces.get(&f.space).cloned().unwrap_or_default(),
                if cache.has(f.space, &f.sha256) {
                    "yes"
                } else {
                    "-"
                }
                .to_owned(),
            ]
        })
        .collect::<Vec<_>>();
    Ok(table::render(&header, &rows))
}

/// The device's session client, if it is logged in.
fn session_client(paths: &Paths) -> anyhow::Result<Option<crate::sync::Client>> {
    Ok(match Session::load(&paths.data_dir)? {
        Some(session) => Some(session.client()?),
        None => None,
    })
}

fn fetch(paths: &Paths, ctx: &Ctx, ids: &[String]) -> anyhow::Result<String> {
    // All found first: a mistyped id fails before anything is downloaded.
    let wanted = ids
        .iter()
        .map(|id| find_file(ctx, id))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cache = files::FileCache::new(ctx.replica.dir());
    let client = if wanted.iter().all(|f| cache.has(f.space, &f.sha256)) {
        None
    } else {
        session_client(paths)?
    };
    let mut report = String::new();
    for file in &wanted {
        let here = cache.has(file.space, &file.sha256);
        files::open(&ctx.replica, client.as_ref(), file)?;
        report.push_str(&if here {
            format!("{} is on this device already\n", file.name)
        } else {
            format!("Fetched {} ({})\n", file.name, bytes(file.size))
        });
    }
    let limit = files::cache_limit(&paths.config_file);
    files::tidy(&ctx.replica, limit)?;
    let let_go: Vec<&str> = wanted
        .iter()
        .filter(|f| !cache.has(f.space, &f.sha256))
        .map(|f| f.name.as_str())
        .collect();
    if !let_go.is_empty() {
        report.push_str(&format!(
            "The cache holds at most {} ([files] cache_mib in config.toml), so these did \
             not stay: {}; raise cache_mib to keep them all\n",
            bytes(limit),
            let_go.join(", ")
        ));
    }
    Ok(report)
}

fn get(
    paths: &Paths,
    ctx: &Ctx,
    id: &str,
    out: Option<&Path>,
    force: bool,
) -> anyhow::Result<String> {
    let file = find_file(ctx, id)?;
    let out = match out {
        Some(out) => ctx.path(out),
        None => ctx.path(Path::new(&files::safe_name(&file.name))),
    };
    if out.exists() && !force {
        bail!(
            "{} exists; choose another --out PATH, or add --force to overwrite it",
            out.display()
        );
    }
    let client = session_client(paths)?;
    // Written beside `out` under another name and renamed when complete: `out`
    // never holds part of the file, and a failed download leaves it as it was.
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let cannot_write =
        |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot write {}: {e}", out.display());
    let copy = tempfile::Builder::new()
        .prefix(".cairn-download-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| cannot_write(&e))?;
    let mut writer = cairn_common::direct_io::DirectWriter::open(copy.path(), 0)
        .map_err(|e| cannot_write(&e))?;
    match files::open_copying(&ctx.replica, client.as_ref(), &file, &mut writer) {
        Ok(_) => {}
        Err(files::FileError::Copy(e)) => return Err(cannot_write(&e)),
        Err(e) => return Err(e.into()),
    }
    std::io::Write::flush(&mut writer).map_err(|e| cannot_write(&e))?;
    drop(writer);
    let saved = if force {
        copy.persist(&out)
    } else {
        copy.persist_noclobber(&out)
    };
    saved.map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
            "{} appeared meanwhile; choose another --out PATH, or add --force to overwrite it",
            out.display()
        ),
        _ => cannot_write(&e.error),
    })?;
    files::tidy(&ctx.replica, files::cache_limit(&paths.config_file))?;
    Ok(format!(
        "Saved {} ({}) to {}\n",
        file.name,
        bytes(file.size),
        out.display()
    ))
}
