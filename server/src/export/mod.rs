//! `cairn-server export` and `import`, and `POST /v1/export`: the server's side of
//! the one export format ([`cairn_common::export`]): reading what a scope covers
//! from the store and the file store, copying file content out, and putting an
//! export back into an empty server ([`import`]).

pub mod import;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use cairn_common::api::ExportFile;
use cairn_common::export::{
    Account, ExportData, Scope, SessionInfo, SpaceData, copy_checked, format, safe_relative,
};
use cairn_common::model::SpaceId;
use cairn_common::progress::{Report, Unit};

use crate::files::blobs::Blobs;
use crate::store::{SessionRecord, Store, StoreError, UserRecord};

/// An account as exported: everything but the password hash.
fn account(user: &UserRecord) -> Account {
    Account {
        profile: user.profile.clone(),
        disabled: user.disabled,
        must_change_password: user.must_change_password,
        server_admin: user.server_admin,
        created_at_ms: user.created_at_ms,
        personal_space: user.personal_space,
    }
}

fn session(s: &SessionRecord) -> SessionInfo {
    SessionInfo {
        device: s.device.clone(),
        created_at_ms: s.created_at_ms,
        expires_at_ms: s.expires_at_ms,
    }
}

/// Reads what `scope` covers from `store`; `files`, if the server keeps file
/// content, says which content each space holds. The spaces read are the step
/// "exporting: spaces" of `progress`.
///
/// # Errors
/// [`StoreError::NotFound`] for an unknown user or space, or a storage error.
pub async fn read(
    store: &Store,
    files: Option<&Blobs>,
    scope: Scope,
    progress: &dyn Report,
) -> Result<ExportData, StoreError> {
    let mut profiles = BTreeMap::new();
    let mut records = Vec::new();
    for listed in store.list_users().await? {
        if let Some(record) = store.user(listed.profile.id).await? {
            profiles.insert(record.profile.id, record.profile.clone());
            records.push(record);
        }
    }
    let (users, space_ids, sessions) = match scope {
        Scope::Device => {
            return Err(StoreError::InvalidInput(
                "a device's export is made by the client (`cairn export --local`)".into(),
            ));
        }
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
    progress.step(
        "exporting: spaces",
        Some(space_ids.len() as u64),
        Unit::Items,
    );
    for id in space_ids {
        progress.add(1);
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
        let contents: BTreeSet<String> = match files {
            Some(blobs) => blobs
                .list(id)
                .map_err(|source| StoreError::Io {
                    dir: blobs.root().to_owned(),
                    source,
                })?
                .into_iter()
                .collect(),
            None => BTreeSet::new(),
        };
        spaces.push(SpaceData {
            space,
            members,
            ops: store.ops_with_seqs(id).await?,
            contents,
        });
    }
    Ok(ExportData {
        scope,
        users: users.iter().map(account).collect(),
        sessions: sessions.iter().map(session).collect(),
        spaces,
        profiles,
    })
}

/// Copies into `dir` the content the manifest among `files` lists as held, from
/// `blobs`, each checked against its SHA-256, as the step "exporting: file
/// contents" of `progress`. Returns how many were copied.
///
/// # Errors
/// A manifest that does not read, content missing from the store meanwhile, or an
/// I/O error naming the path.
pub fn copy_contents(
    blobs: &Blobs,
    files: &[ExportFile],
    dir: &Path,
    progress: &dyn Report,
) -> anyhow::Result<usize> {
    let manifest = files
        .iter()
        .find(|f| f.path == format::MANIFEST)
        .context("the export has no manifest")?;
    let manifest: format::Manifest = serde_json::from_str(&manifest.contents)?;
    let mut copied = 0;
    let held = manifest
        .contents
        .iter()
        .filter(|e| e.file.is_some())
        .count();
    if held == 0 {
        return Ok(0);
    }
    progress.step("exporting: file contents", Some(held as u64), Unit::Items);
    for entry in &manifest.contents {
        let Some(path) = &entry.file else { continue };
        let (source, _) = blobs.open(entry.space, &entry.sha256).map_err(|e| {
            anyhow::anyhow!(
                "the content {} of space {} cannot be read ({e}); it may have been deleted \
                 while exporting: export again",
                entry.sha256,
                entry.space
            )
        })?;
        let from = blobs.root().join(entry.space.to_string());
        copy_checked(
            source,
            &from,
            &dir.join(safe_relative(path)?),
            &entry.sha256,
        )?;
        copied += 1;
        progress.add(1);
    }
    Ok(copied)
}
