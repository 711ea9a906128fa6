//! The JSON files of an export, as types: built from a [`Snapshot`] when exporting,
//! read back by [`super::import`]. `docs/export.schema.json` describes them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::api::ExportFile;
use crate::api::files::is_sha256;
use crate::merge::materialize;
use crate::model::{RecordId, RecordKind, SpaceId, UserId, Value, shown_keys};
use crate::op::{Change, Hlc, OpId};
use serde::{Deserialize, Serialize};

use super::{Account, ExportData, Scope, SpaceData, time_ms, time_of};

/// Written in `format`, so that other JSON is recognised as not an export.
pub const FORMAT: &str = "cairn-export";
/// Bumped on any change an older import could not read. Version 1 was the
/// server's alone (`cairn-server-export`); version 2 is one format for client and
/// server, with file content.
pub const FORMAT_VERSION: u32 = 2;
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// `users/<id>/user.json`.
#[must_use]
pub fn user_path(id: UserId) -> String {
    format!("users/{id}/user.json")
}

/// `spaces/<id>`.
#[must_use]
pub fn space_dir(id: SpaceId) -> String {
    format!("spaces/{id}")
}

/// `spaces/<id>/files/<sha256>`: where the content of a space's file records goes.
#[must_use]
pub fn content_path(space: SpaceId, sha256: &str) -> String {
    format!("spaces/{space}/files/{sha256}")
}

/// `manifest.json`: what the export is and holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// When the export was made: the one value that differs between two exports
    /// of the same data.
    pub exported_at: String,
    pub scope: ScopeJson,
    pub users: Vec<UserEntry>,
    pub spaces: Vec<SpaceEntry>,
    /// Every other text file of the export, in path order.
    pub files: Vec<String>,
    /// The content of every file record (the trash included), by space and SHA-256.
    pub contents: Vec<ContentEntry>,
}

/// The content of one or more file records of a space (the same bytes are kept
/// once per space).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentEntry {
    pub space: SpaceId,
    pub sha256: String,
    pub size: u64,
    /// Where the bytes are in the export; `null` when the exporter did not hold
    /// them (a device that never downloaded the file: fetch it with `cairn files
    /// get`, or export from the server).
    pub file: Option<String>,
    /// The file records with this content, in id order.
    pub records: Vec<RecordId>,
    /// Their names, as the records give them.
    pub names: Vec<String>,
}

/// The scope of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ScopeJson {
    Server,
    User { user: UserId },
    Space { space: SpaceId },
    Device,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub id: UserId,
    pub email: String,
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceEntry {
    pub id: SpaceId,
    pub name: String,
    pub personal: bool,
    pub dir: String,
}

impl Manifest {
    /// The manifest of `files` (which it lists, itself excepted).
    #[must_use]
    pub fn new(snapshot: &ExportData, exported_at_ms: u64, files: &[ExportFile]) -> Self {
        Self {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            exported_at: time_ms(exported_at_ms),
            scope: match snapshot.scope {
                Scope::Server => ScopeJson::Server,
                Scope::User(user) => ScopeJson::User { user },
                Scope::Space(space) => ScopeJson::Space { space },
                Scope::Device => ScopeJson::Device,
            },
            users: snapshot
                .users
                .iter()
                .map(|u| UserEntry {
                    id: u.profile.id,
                    email: u.profile.email.clone(),
                    file: user_path(u.profile.id),
                })
                .collect(),
            spaces: snapshot
                .spaces
                .iter()
                .map(|d| SpaceEntry {
                    id: d.space.id,
                    name: d.space.name.clone(),
                    personal: d.space.personal,
                    dir: space_dir(d.space.id),
                })
                .collect(),
            files: files.iter().map(|f| f.path.clone()).collect(),
            contents: snapshot.spaces.iter().flat_map(contents_of).collect(),
        }
    }
}

/// The content entries of one space, from its file records, in SHA-256 order.
/// Records whose content fields are malformed (forged) name no content.
fn contents_of(data: &SpaceData) -> Vec<ContentEntry> {
    let mut by_hash: BTreeMap<String, ContentEntry> = BTreeMap::new();
    for state in materialize(data.ops.iter().map(|(_, op)| op)).values() {
        if state.kind != Some(RecordKind::File) {
            continue;
        }
        let (Some(Value::Text(sha256)), Some(Value::Int(size))) =
            (state.get("sha256"), state.get("size"))
        else {
            continue;
        };
        let (true, Ok(size)) = (is_sha256(sha256), u64::try_from(*size)) else {
            continue;
        };
        let entry = by_hash
            .entry(sha256.clone())
            .or_insert_with(|| ContentEntry {
                space: data.space.id,
                sha256: sha256.clone(),
                size,
                file: data
                    .contents
                    .contains(sha256)
                    .then(|| content_path(data.space.id, sha256)),
                records: Vec::new(),
                names: Vec::new(),
            });
        entry.records.push(state.id);
        entry.names.push(state.text("name").to_owned());
    }
    by_hash.into_values().collect()
}

/// `users/<id>/user.json`: an account without any credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserFile {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub server_admin: bool,
    pub created_at: String,
    /// The same instant in Unix milliseconds (exact, for import).
    pub created_at_ms: u64,
    pub personal_space: SpaceId,
    /// The spaces the user is a member of, in space-id order.
    pub memberships: Vec<Membership>,
    /// Only in an export of one user: the user's sessions (devices logged in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionJson>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub space: SpaceId,
    pub name: String,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionJson {
    pub device: String,
    pub created_at: String,
    pub expires_at: String,
}

impl UserFile {
    #[must_use]
    pub fn new(snapshot: &ExportData, user: &Account) -> Self {
        let id = user.profile.id;
        let memberships = snapshot
            .spaces
            .iter()
            .filter_map(|d| {
                let (_, role) = d.members.iter().find(|(p, _)| p.id == id)?;
                Some(Membership {
                    space: d.space.id,
                    name: d.space.name.clone(),
                    role: role.to_string(),
                })
            })
            .collect();
        let sessions = matches!(snapshot.scope, Scope::User(_)).then(|| {
            snapshot
                .sessions
                .iter()
                .map(|s| SessionJson {
                    device: s.device.clone(),
                    created_at: time_ms(s.created_at_ms),
                    expires_at: time_ms(s.expires_at_ms),
                })
                .collect()
        });
        Self {
            id,
            email: user.profile.email.clone(),
            first_name: user.profile.first_name.clone(),
            last_name: user.profile.last_name.clone(),
            disabled: user.disabled,
            must_change_password: user.must_change_password,
            server_admin: user.server_admin,
            created_at: time_ms(user.created_at_ms),
            created_at_ms: user.created_at_ms,
            personal_space: user.personal_space,
            memberships,
            sessions,
        }
    }
}

/// `spaces/<id>/space.json`: the space, its members, its records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceFile {
    pub id: SpaceId,
    pub name: String,
    pub personal: bool,
    pub members: Vec<MemberJson>,
    /// Records per kind (`goal`, `commitment`, `task`, `activity`, `note`,
    /// `potential`), each in id order, the trash included.
    pub records: BTreeMap<String, Vec<RecordJson>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberJson {
    pub user: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
}

/// A record's state: what the history's ops add up to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordJson {
    pub id: RecordId,
    pub deleted: bool,
    pub created_at: String,
    pub created_by: Option<UserId>,
    pub updated_at: String,
    /// Every field of the kind: its current value (the newest one while in
    /// conflict), `null` when unset. A goal's `progress` is its progress by the one
    /// rule (the mean of its key results, if any), and `progress_entered` the figure
    /// entered in the field.
    pub fields: BTreeMap<String, Option<Value>>,
    /// Fields with more than one current value: every version.
    pub conflicts: Vec<ConflictJson>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictJson {
    pub field: String,
    pub versions: Vec<VersionJson>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionJson {
    pub op: OpId,
    pub author: UserId,
    pub at: String,
    pub value: Value,
}

impl SpaceFile {
    #[must_use]
    pub fn new(data: &SpaceData) -> Self {
        let mut records: BTreeMap<String, Vec<RecordJson>> = RecordKind::ALL
            .iter()
            .map(|k| (k.key().to_owned(), Vec::new()))
            .collect();
        for state in materialize(data.ops.iter().map(|(_, op)| op)).values() {
            let Some(kind) = state.kind else { continue };
            let fields = shown_keys(kind)
                .into_iter()
                .map(|key| (key.to_owned(), state.shown(key).map(Cow::into_owned)))
                .collect();
            let conflicts = state
                .conflicts()
                .into_iter()
                .map(|field| ConflictJson {
                    field: field.to_owned(),
                    versions: state
                        .register(field)
                        .map(|r| r.values())
                        .unwrap_or_default()
                        .iter()
                        .map(|v| VersionJson {
                            op: v.op,
                            author: v.author,
                            at: time_of(v.at),
                            value: v.value.clone(),
                        })
                        .collect(),
                })
                .collect();
            records
                .entry(kind.key().to_owned())
                .or_default()
                .push(RecordJson {
                    id: state.id,
                    deleted: state.is_deleted(),
                    created_at: state.created.map(|(at, _)| time_of(at)).unwrap_or_default(),
                    created_by: state.created.map(|(_, by)| by),
                    updated_at: time_of(state.updated),
                    fields,
                    conflicts,
                });
        }
        Self {
            id: data.space.id,
            name: data.space.name.clone(),
            personal: data.space.personal,
            members: data
                .members
                .iter()
                .map(|(p, role)| MemberJson {
                    user: p.id,
                    email: p.email.clone(),
                    first_name: p.first_name.clone(),
                    last_name: p.last_name.clone(),
                    role: role.to_string(),
                })
                .collect(),
            records,
        }
    }
}

/// `spaces/<id>/history.json`: every op of the space in seq order. The truth of
/// the export: import rebuilds the records from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    pub space: SpaceId,
    pub ops: Vec<OpJson>,
}

/// One change: who, when, what, the old and the new value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpJson {
    /// The op's place in the space's log (1, 2, …).
    pub seq: u64,
    pub op: OpId,
    pub record: RecordId,
    /// The record's kind (`goal`, …).
    pub kind: String,
    pub at: String,
    /// The exact clock (`at` is its wall time).
    pub clock: Hlc,
    pub author: UserId,
    /// `null` when the author's account no longer exists.
    pub author_email: Option<String>,
    /// In an export of one user: whether that user made this change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_you: Option<bool>,
    /// `create`, `set`, `delete` (to the trash) or `restore`.
    pub change: String,
    /// For `set`: the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `set`: the new value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// For `set`: the values it replaced (none for a first value; several when it
    /// resolved a conflict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Vec<OldValue>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OldValue {
    /// The op that had written it.
    pub op: OpId,
    /// `null` if that op is not in the log (never the case for ops the server took).
    pub value: Option<Value>,
}

impl HistoryFile {
    #[must_use]
    pub fn new(snapshot: &ExportData, data: &SpaceData) -> Self {
        let written: HashMap<OpId, &Value> = data
            .ops
            .iter()
            .filter_map(|(_, op)| match &op.change {
                Change::Set { value, .. } => Some((op.id, value)),
                _ => None,
            })
            .collect();
        let kinds: HashMap<RecordId, RecordKind> = data
            .ops
            .iter()
            .filter_map(|(_, op)| match op.change {
                Change::Create { kind } => Some((op.record, kind)),
                _ => None,
            })
            .collect();
        let you = match snapshot.scope {
            Scope::User(id) => Some(id),
            _ => None,
        };
        let ops = data
            .ops
            .iter()
            .map(|(seq, op)| {
                let (change, field, new, old) = match &op.change {
                    Change::Create { .. } => ("create", None, None, None),
                    Change::Delete => ("delete", None, None, None),
                    Change::Restore => ("restore", None, None, None),
                    Change::Set {
                        field,
                        value,
                        replaces,
                    } => (
                        "set",
                        Some(field.clone()),
                        Some(value.clone()),
                        Some(
                            replaces
                                .iter()
                                .map(|id| OldValue {
                                    op: *id,
                                    value: written.get(id).map(|v| (*v).clone()),
                                })
                                .collect(),
                        ),
                    ),
                };
                OpJson {
                    seq: *seq,
                    op: op.id,
                    record: op.record,
                    kind: kinds
                        .get(&op.record)
                        .map(|k| k.key().to_owned())
                        .unwrap_or_default(),
                    at: time_of(op.at),
                    clock: op.at,
                    author: op.author,
                    author_email: snapshot.profiles.get(&op.author).map(|p| p.email.clone()),
                    by_you: you.map(|y| y == op.author),
                    change: change.to_owned(),
                    field,
                    new,
                    old,
                }
            })
            .collect();
        Self {
            space: data.space.id,
            ops,
        }
    }
}
