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

use anyhow::bail;
use cairn_common::api::MAX_PUSH_OPS;
use cairn_common::export::format::ScopeJson;
use cairn_common::export::{copy_checked, read};
use cairn_common::model::UserProfile;
use cairn_common::progress::{Report, Unit};

use crate::auth::password::IMPORTED_PASSWORD_HASH;
use crate::files::blobs::Blobs;
use crate::store::users::ADMIN_LOGIN;
use crate::store::{ImportTarget, RecordLimits, Store, UserRecord};

/// What an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// The imported accounts' e-mails, in the export's order.
    pub accounts: Vec<String>,
    pub spaces: usize,
    pub ops: usize,
    /// File contents put into the file store.
    pub contents: usize,
}

/// Imports the export in `dir` into `store`, which must be empty (or hold only the
/// `admin` account `init` made, which the export's accounts then replace), and its
/// file content into `files` (each checked against its SHA-256 first).
///
/// # Errors
/// A store that is not empty, an export that is not a whole-server export or does
/// not read, content that is damaged, or a storage error. Nothing is written unless
/// every file read well.
///
/// Reports the steps "importing: file contents" and "importing: ops" to `progress`.
pub async fn import(
    store: &Store,
    files: Option<&Blobs>,
    dir: &Path,
    progress: &dyn Report,
) -> anyhow::Result<ImportReport> {
    progress.step("importing: reading the export", None, Unit::Items);
    let export = read::read(dir)?;
    if export.manifest.scope != ScopeJson::Server {
        bail!(
            "this export holds one user or one space only; import needs a whole-server \
             export (`cairn-server export --out DIR` without --user or --space)"
        );
    }
    let held = export.held_contents()?;
    if !held.is_empty() && files.is_none() {
        bail!(
            "the export holds file content, and this server keeps no files: set `[files] dir` \
             in cairn-server.toml"
        );
    }
    let mut users = Vec::with_capacity(export.users.len());
    for user in export.users.iter().cloned() {
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
    let spaces = &export.spaces;
    let target = store.import_target().await?;
    if let ImportTarget::FreshAdmin(fresh) = target
        && users.iter().any(|u| u.profile.email == ADMIN_LOGIN)
    {
        store.remove_fresh_account(fresh).await?;
    }
    // Content first, each checked on the way: damaged content stops the import
    // before a record is written (content no record names is swept later).
    if let Some(blobs) = files {
        progress.step(
            "importing: file contents",
            Some(held.len() as u64),
            Unit::Items,
        );
        for (entry, from) in &held {
            let to = blobs
                .root()
                .join(entry.space.to_string())
                .join(&entry.sha256);
            let source = std::fs::File::open(from)
                .map_err(|e| anyhow::anyhow!("cannot read {} ({e})", from.display()))?;
            copy_checked(source, from, &to, &entry.sha256)?;
            progress.add(1);
        }
    }
    for user in &users {
        store.import_account(user).await?;
    }
    let mut ops = 0;
    let total = spaces.iter().map(|s| s.ops.len() as u64).sum();
    progress.step("importing: ops", Some(total), Unit::Items);
    for data in spaces {
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
            progress.add(chunk.len() as u64);
        }
    }
    store.flush().await?;
    // A new history: clients of the store before must start over.
    store.renew_epoch().await?;
    Ok(ImportReport {
        accounts: users.into_iter().map(|u| u.profile.email).collect(),
        spaces: spaces.len(),
        ops,
        contents: held.len(),
    })
}
