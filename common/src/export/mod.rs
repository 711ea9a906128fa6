//! Cairn's one export format, written by `cairn export` (a device's replica, or
//! what the server holds about the user), `POST /v1/export` and `cairn-server
//! export`, and read back by `cairn import` and `cairn-server import`: open files a
//! person can read with no Cairn at hand.
//!
//! An export is a directory:
//! - `README.txt`: what each file is (fixed text);
//! - `manifest.json`: format, scope, `exported_at` (the only part that differs
//!   between two exports of the same data), the users, spaces, files, and the
//!   content of file records with their SHA-256;
//! - `users/<user-id>/user.json`: an account (never a password hash) and its spaces;
//! - `spaces/<space-id>/space.json`: the space, its members, its records per kind
//!   with typed fields and conflicts;
//! - `spaces/<space-id>/history.json` and `history.csv`: every change (op) in log
//!   order: who, when, what, old and new value; the JSON one is what import reads;
//! - `spaces/<space-id>/<kind>.csv`: each record kind as a table;
//! - `spaces/<space-id>/conversations/<record-id>.md`: each conversation note;
//! - `spaces/<space-id>/files/<sha256>`: the content of the space's file records.
//!
//! [`render`] turns an [`ExportData`] (read by the server from its store, or by
//! the client from its replica) into the text files, purely; the content files are
//! copied by whoever holds the bytes, to the paths the manifest names. [`read`]
//! reads and checks an export for both importers. The JSON files follow
//! `docs/export.schema.json`, which [`schema`] generates from the model. Everything
//! is ordered by ids and seqs, so exporting the same data twice gives the same bytes
//! but `exported_at`.

pub mod csv;
pub mod format;
mod markdown;
pub mod read;
pub mod readme;
pub mod schema;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use crate::api::ExportFile;
use crate::model::{Role, Space, SpaceId, UserId, UserProfile};
use crate::op::{Hlc, Op};

pub use write::{CheckedFile, copy_checked, safe_relative, write};

/// What an export holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every account and space: what `cairn-server import` reads back.
    Server,
    /// What one user may see: the account, its sessions, and every space the user is
    /// a member of, with all its records and changes (the right of access).
    User(UserId),
    /// One space with its members, records and changes.
    Space(SpaceId),
    /// A device's replica (`cairn export --local`): its spaces, records and changes,
    /// sent or not; it knows no accounts or members.
    Device,
}

/// An account as an export shows it: never a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub profile: UserProfile,
    pub disabled: bool,
    pub must_change_password: bool,
    pub server_admin: bool,
    pub created_at_ms: u64,
    pub personal_space: SpaceId,
}

/// A device logged in to the account of a [`Scope::User`] export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub device: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
}

/// One space as the exporter read it.
#[derive(Clone, Debug)]
pub struct SpaceData {
    pub space: Space,
    /// Members with their roles, by e-mail.
    pub members: Vec<(UserProfile, Role)>,
    /// Every op with its place in the log (1, 2, …), in that order.
    pub ops: Vec<(u64, Op)>,
    /// The SHA-256 of the file contents the exporter holds and will copy.
    pub contents: BTreeSet<String>,
}

/// Everything an export writes, read once so that every file agrees.
#[derive(Clone, Debug)]
pub struct ExportData {
    pub scope: Scope,
    /// Accounts written as `users/…/user.json`, by e-mail.
    pub users: Vec<Account>,
    /// Sessions of the user of a [`Scope::User`] export.
    pub sessions: Vec<SessionInfo>,
    /// Spaces, in id order.
    pub spaces: Vec<SpaceData>,
    /// Every account the exporter knows by id, to name the authors of changes.
    pub profiles: BTreeMap<UserId, UserProfile>,
}

/// Every text file of the export of `data`, in path order, the manifest among them
/// (it lists where each held file content goes: [`format::Manifest::contents`]).
///
/// # Errors
/// When a file cannot be encoded (JSON or CSV).
pub fn render(data: &ExportData, exported_at_ms: u64) -> anyhow::Result<Vec<ExportFile>> {
    let mut files = vec![ExportFile {
        path: readme::FILE.to_owned(),
        contents: readme::TEXT.to_owned(),
    }];
    for user in &data.users {
        files.push(json_file(
            format::user_path(user.profile.id),
            &format::UserFile::new(data, user),
        )?);
    }
    for space in &data.spaces {
        let dir = format::space_dir(space.space.id);
        files.push(json_file(
            format!("{dir}/space.json"),
            &format::SpaceFile::new(space),
        )?);
        files.push(json_file(
            format!("{dir}/history.json"),
            &format::HistoryFile::new(data, space),
        )?);
        files.extend(csv::render(data, space, &dir)?);
        files.extend(markdown::render(space, &dir));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = format::Manifest::new(data, exported_at_ms, &files);
    files.push(json_file(format::MANIFEST.to_owned(), &manifest)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn json_file<T: serde::Serialize>(path: String, value: &T) -> anyhow::Result<ExportFile> {
    Ok(ExportFile {
        path,
        contents: serde_json::to_string_pretty(value)? + "\n",
    })
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
