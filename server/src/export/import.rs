//! `cairn-server import DIR`: a whole-server export back into an empty server,
//! exactly: the same ids, accounts, spaces, members and ops (with the same seqs), so
//! that exporting again gives the same files.
//!
//! Password hashes are not exported, so imported accounts have none: every account
//! keeps its state (disabled, must-change, admin) but nobody can log in to it until
//! an admin runs `cairn-server user reset-password EMAIL`, which prints a one-time
//! password that the user must change at the first login.
//!
//! Every file is read and checked before anything is written.

use std::path::Path;

use anyhow::{Context, bail};
use cairn_common::api::MAX_PUSH_OPS;
use cairn_common::model::{RecordKind, Role, Space, UserId, UserProfile};
use cairn_common::op::{Change, Op};
use serde::de::DeserializeOwned;

use super::files::{
    FORMAT, FORMAT_VERSION, HistoryFile, MANIFEST, Manifest, ScopeJson, SpaceFile, UserFile,
};
use super::safe_relative;
use crate::auth::password::IMPORTED_PASSWORD_HASH;
use crate::store::users::ADMIN_LOGIN;
use crate::store::{ImportTarget, RecordLimits, Store, UserRecord};

/// What an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// The imported accounts' e-mails, in the export's order.
    pub accounts: Vec<String>,
    pub spaces: usize,
    pub ops: usize,
}

struct SpaceImport {
    space: Space,
    members: Vec<(UserId, Role)>,
    ops: Vec<Op>,
}

fn read_json<T: DeserializeOwned>(dir: &Path, path: &str) -> anyhow::Result<T> {
    let full = dir.join(safe_relative(path)?);
    let text = std::fs::read_to_string(&full)
        .with_context(|| format!("cannot read {} of the export", full.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a file of a Cairn export (or was edited); see docs/export.schema.json",
            full.display()
        )
    })
}

fn role(text: &str, file: &str) -> anyhow::Result<Role> {
    Role::parse(text).with_context(|| format!("{file}: unknown role {text:?}"))
}

/// Reads one space's files and rebuilds its ops, checking that seqs run 1, 2, …
fn read_space(dir: &Path, space_dir: &str) -> anyhow::Result<SpaceImport> {
    let file = format!("{space_dir}/space.json");
    let space: SpaceFile = read_json(dir, &file)?;
    let members = space
        .members
        .iter()
        .map(|m| Ok((m.user, role(&m.role, &file)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let file = format!("{space_dir}/history.json");
    let history: HistoryFile = read_json(dir, &file)?;
    if history.space != space.id {
        bail!(
            "{file} belongs to space {}, not {}",
            history.space,
            space.id
        );
    }
    let mut ops = Vec::with_capacity(history.ops.len());
    for (n, entry) in history.ops.into_iter().enumerate() {
        let at = |what: &str| format!("{file}: change {} (seq {}): {what}", n + 1, entry.seq);
        if entry.seq != n as u64 + 1 {
            bail!(at("the seqs must run 1, 2, 3, … without gaps"));
        }
        let change = match entry.change.as_str() {
            "create" => Change::Create {
                kind: RecordKind::parse(&entry.kind)
                    .with_context(|| at(&format!("unknown kind {:?}", entry.kind)))?,
            },
            "delete" => Change::Delete,
            "restore" => Change::Restore,
            "set" => Change::Set {
                field: entry
                    .field
                    .clone()
                    .with_context(|| at("a set without field"))?,
                value: entry
                    .new
                    .clone()
                    .with_context(|| at("a set without new value"))?,
                replaces: entry.old.iter().flatten().map(|o| o.op).collect(),
            },
            other => bail!(at(&format!("unknown change {other:?}"))),
        };
        ops.push(Op {
            id: entry.op,
            space: space.id,
            record: entry.record,
            at: entry.clock,
            author: entry.author,
            change,
        });
    }
    Ok(SpaceImport {
        space: Space {
            id: space.id,
            name: space.name,
            personal: space.personal,
        },
        members,
        ops,
    })
}

/// Imports the export in `dir` into `store`, which must be empty (or hold only the
/// `admin` account `init` made, which the export's accounts then replace).
///
/// # Errors
/// A store that is not empty, an export that is not a whole-server export or does
/// not read, or a storage error. Nothing is written unless every file read well.
pub async fn import(store: &Store, dir: &Path) -> anyhow::Result<ImportReport> {
    let manifest: Manifest = read_json(dir, MANIFEST)?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        bail!(
            "{} is format {:?} version {}; this cairn-server imports {FORMAT} version \
             {FORMAT_VERSION}",
            dir.join(MANIFEST).display(),
            manifest.format,
            manifest.format_version
        );
    }
    if manifest.scope != ScopeJson::Server {
        bail!(
            "this export holds one user or one space only; import needs a whole-server \
             export (`cairn-server export --out DIR` without --user or --space)"
        );
    }
    let mut users = Vec::with_capacity(manifest.users.len());
    for entry in &manifest.users {
        let user: UserFile = read_json(dir, &entry.file)?;
        users.push(UserRecord {
            profile: UserProfile {
                id: user.id,
                email: user.email,
                first_name: user.first_name,
                last_name: user.last_name,
            },
            password_hash: IMPORTED_PASSWORD_HASH.to_owned(),
            disabled: user.disabled,
            must_change_password: user.must_change_password,
            server_admin: user.server_admin,
            created_at_ms: user.created_at_ms,
            personal_space: user.personal_space,
        });
    }
    let spaces = manifest
        .spaces
        .iter()
        .map(|entry| read_space(dir, &entry.dir))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let target = store.import_target().await?;
    if let ImportTarget::FreshAdmin(fresh) = target
        && users.iter().any(|u| u.profile.email == ADMIN_LOGIN)
    {
        store.remove_fresh_account(fresh).await?;
    }
    for user in &users {
        store.import_account(user).await?;
    }
    let mut ops = 0;
    for data in &spaces {
        store.import_space(&data.space, &data.members).await?;
        for chunk in data.ops.chunks(MAX_PUSH_OPS) {
            let outcome = store.append_ops(chunk, &RecordLimits::NONE).await?;
            if let Some(refusal) = outcome.refused.first() {
                bail!(
                    "space {}: the export holds a change the server refuses ({}); the server \
                     is now partly imported: delete its data dir, init it again and import a \
                     corrected export",
                    data.space.id,
                    refusal.message
                );
            }
            if outcome.stored as usize != chunk.len() {
                bail!(
                    "space {}: the export holds a change twice; the server is now partly \
                     imported: delete its data dir, init it again and import a fresh export",
                    data.space.id
                );
            }
            ops += chunk.len();
        }
    }
    store.flush().await?;
    // A new history: clients of the store before must start over.
    store.renew_epoch().await?;
    Ok(ImportReport {
        accounts: users.into_iter().map(|u| u.profile.email).collect(),
        spaces: spaces.len(),
        ops,
    })
}
