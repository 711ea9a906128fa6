//! `cairn-server export` and `import`: the server's data as open files a person can
//! read with no Cairn at hand, and back.
//!
//! An export is a directory:
//! - `README.txt`: what each file is (fixed text);
//! - `manifest.json`: format, scope, `exported_at` (the only part that differs
//!   between two exports of the same data), the users, spaces and files;
//! - `users/<user-id>/user.json`: an account (never a password hash) and its spaces;
//! - `spaces/<space-id>/space.json`: the space, its members, its records per kind
//!   with typed fields and conflicts;
//! - `spaces/<space-id>/history.json` and `history.csv`: every change (op) in seq
//!   order: who, when, what, old and new value; the JSON one is what import reads;
//! - `spaces/<space-id>/<kind>.csv`: each record kind as a table;
//! - `spaces/<space-id>/conversations/<record-id>.md`: each conversation note.
//!
//! The JSON files follow `docs/export.schema.json`, which [`schema`] generates from
//! the model (a test keeps the file equal to it). Everything is ordered by ids and
//! seqs, so exporting the same data twice gives the same bytes but `exported_at`.

mod csv;
pub mod files;
pub mod import;
mod markdown;
mod readme;
pub mod schema;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use cairn_common::api::ExportFile;
use cairn_common::model::{Role, Space, SpaceId, UserId, UserProfile};
use cairn_common::op::{Hlc, Op};
use serde::{Deserialize, Serialize};

use crate::store::{SessionRecord, Store, StoreError, UserRecord};

/// What an export holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every account and space: what import reads back.
    Server,
    /// What one user may see: the account, its sessions, and every space the user is
    /// a member of, with all its records and changes (the right of access).
    User(UserId),
    /// One space with its members, records and changes.
    Space(SpaceId),
}

/// One space as read from the store.
#[derive(Clone, Debug)]
pub struct SpaceData {
    pub space: Space,
    /// Members with their roles, by e-mail.
    pub members: Vec<(UserProfile, Role)>,
    /// Every op with its seq, in seq order.
    pub ops: Vec<(u64, Op)>,
}

/// Everything an export writes, read from the store once.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub scope: Scope,
    /// Accounts written as `users/…/user.json`, by e-mail.
    pub users: Vec<UserRecord>,
    /// Sessions of the user of a [`Scope::User`] export.
    pub sessions: Vec<SessionRecord>,
    /// Spaces, in id order.
    pub spaces: Vec<SpaceData>,
    /// Every account by id, to name the authors of changes.
    pub profiles: BTreeMap<UserId, UserProfile>,
}

impl Snapshot {
    /// Reads what `scope` covers.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user or space, or a storage error.
    pub async fn read(store: &Store, scope: Scope) -> Result<Self, StoreError> {
        let mut profiles = BTreeMap::new();
        let mut records = Vec::new();
        for account in store.list_users().await? {
            if let Some(record) = store.user(account.profile.id).await? {
                profiles.insert(record.profile.id, record.profile.clone());
                records.push(record);
            }
        }
        let (users, space_ids, sessions) = match scope {
            Scope::Server => {
                let spaces = store
                    .all_spaces()
                    .await?
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                (records, spaces, Vec::new())
            }
            Scope::User(id) => {
                let user = records
                    .into_iter()
                    .find(|r| r.profile.id == id)
                    .ok_or_else(|| StoreError::NoSuchUser(id.to_string()))?;
                let mut spaces: Vec<SpaceId> = store
                    .spaces_of(id)
                    .await?
                    .into_iter()
                    .map(|s| s.space.id)
                    .collect();
                spaces.sort();
                let mut sessions: Vec<SessionRecord> = store
                    .sessions_of(id)
                    .await?
                    .into_iter()
                    .map(|(_, s)| s)
                    .collect();
                sessions.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
                (vec![user], spaces, sessions)
            }
            Scope::Space(id) => {
                if store.space(id).await?.is_none() {
                    return Err(StoreError::NotFound(format!(
                        "there is no space {id}; `cairn-server export` without --space lists \
                         every space in its manifest.json"
                    )));
                }
                (Vec::new(), vec![id], Vec::new())
            }
        };
        let mut spaces = Vec::with_capacity(space_ids.len());
        for id in space_ids {
            // A space removed meanwhile is left out.
            let Some(space) = store.space(id).await? else {
                continue;
            };
            let mut members = Vec::new();
            for (user, role) in store.space_roles(id).await? {
                if let Some(profile) = profiles.get(&user) {
                    members.push((profile.clone(), role));
                }
            }
            members.sort_by(|a, b| (&a.0.email, a.0.id).cmp(&(&b.0.email, b.0.id)));
            spaces.push(SpaceData {
                space,
                members,
                ops: store.ops_with_seqs(id).await?,
            });
        }
        Ok(Self {
            scope,
            users,
            sessions,
            spaces,
            profiles,
        })
    }
}

/// Every file of the export of `snapshot`, in path order.
///
/// # Errors
/// When a file cannot be encoded (JSON or CSV).
pub fn render(snapshot: &Snapshot, exported_at_ms: u64) -> anyhow::Result<Vec<ExportFile>> {
    let mut files = vec![ExportFile {
        path: readme::FILE.to_owned(),
        contents: readme::TEXT.to_owned(),
    }];
    for user in &snapshot.users {
        files.push(json_file(
            files::user_path(user.profile.id),
            &files::UserFile::new(snapshot, user),
        )?);
    }
    for data in &snapshot.spaces {
        let dir = files::space_dir(data.space.id);
        files.push(json_file(
            format!("{dir}/space.json"),
            &files::SpaceFile::new(data),
        )?);
        files.push(json_file(
            format!("{dir}/history.json"),
            &files::HistoryFile::new(snapshot, data),
        )?);
        files.extend(csv::render(snapshot, data, &dir)?);
        files.extend(markdown::render(data, &dir));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = files::Manifest::new(snapshot, exported_at_ms, &files);
    files.push(json_file(files::MANIFEST.to_owned(), &manifest)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn json_file<T: Serialize>(path: String, value: &T) -> anyhow::Result<ExportFile> {
    Ok(ExportFile {
        path,
        contents: serde_json::to_string_pretty(value)? + "\n",
    })
}

/// Writes `files` into `dir`, which must not exist yet or be empty, so that no
/// earlier export is mixed in.
///
/// # Errors
/// A non-empty `dir`, or an I/O error naming the path.
pub fn write(dir: &Path, files: &[ExportFile]) -> anyhow::Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "{} is not empty; export into a new or empty directory",
            dir.display()
        );
    }
    for file in files {
        let path = dir.join(safe_relative(&file.path)?);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A file path of an export as a relative path that stays inside the export
/// directory (paths come from a server, or a file on disk, so they are checked).
///
/// # Errors
/// An absolute path or one with `..`.
pub fn safe_relative(path: &str) -> anyhow::Result<&Path> {
    let p = Path::new(path);
    let inside = p
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside || path.is_empty() {
        anyhow::bail!("the export names a file outside its directory: {path:?}");
    }
    Ok(p)
}

/// A clock as an RFC 3339 UTC time with milliseconds.
#[must_use]
pub fn time_of(at: Hlc) -> String {
    time_ms(at.wall_ms)
}

/// Unix milliseconds as an RFC 3339 UTC time.
#[must_use]
pub fn time_ms(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
