//! Deleting content no file record names any more: its records were emptied from
//! the trash (retention) or purged, or its space is gone. It goes from the store
//! and from the kept backups. Content is uploaded
//! before the record that names it is pushed, so content no record names yet is
//! kept for [`GRACE`] after it was last written or asked for; unfinished uploads
//! are kept for [`PARTIAL_GRACE`].

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use cairn_common::model::{RecordKind, Value};

use super::blobs::Blobs;
use crate::backup::Backups;
use crate::backup::forget::Content;
use crate::store::{Store, StoreError};

/// How long content waits for the record that names it.
pub const GRACE: Duration = Duration::from_secs(24 * 3600);
/// How long an unfinished upload waits to go on.
pub const PARTIAL_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Deletes `content` from the kept backups too (see [`crate::backup::forget`]).
fn forget(backups: &Backups, content: Content<'_>) -> Result<(), StoreError> {
    let Ok((dir, _)) = backups.config() else {
        return Ok(());
    };
    crate::backup::forget::forget(dir, content)
        .map(drop)
        .map_err(|e| {
            StoreError::InvalidInput(format!("deleting file content from the backups: {e}"))
        })
}

/// What a sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub partials: usize,
    pub spaces: usize,
}

/// Deletes content no record names (older than `grace`), unfinished uploads
/// older than [`PARTIAL_GRACE`], and all content of spaces that are gone. Holds
/// the backups' lock while deleting, so no backup copies half of it.
///
/// # Errors
/// A storage error.
pub async fn sweep(
    store: &Store,
    blobs: &Blobs,
    backups: &Backups,
    now: SystemTime,
    grace: Duration,
) -> Result<Swept, StoreError> {
    let io = |source| StoreError::Io {
        dir: blobs.root().to_owned(),
        source,
    };
    let mut swept = Swept::default();
    for space in blobs.spaces().map_err(io)? {
        if store.space(space).await?.is_none() {
            let _lock = backups.lock();
            blobs.remove_space(space).map_err(io)?;
            forget(backups, Content::Space(space))?;
            swept.spaces += 1;
            continue;
        }
        let ops = store.ops_with_seqs(space).await?;
        let named: HashSet<String> = cairn_common::merge::materialize(ops.iter().map(|(_, op)| op))
            .values()
            .filter(|r| r.kind == Some(RecordKind::File))
            .filter_map(|r| match r.get("sha256") {
                Some(Value::Text(sha)) => Some(sha.clone()),
                _ => None,
            })
            .collect();
        let _lock = backups.lock();
        for (sha, touched) in blobs.list_with_times(space).map_err(io)? {
            let idle = now.duration_since(touched).unwrap_or_default();
            if !named.contains(&sha) && idle >= grace && blobs.remove(space, &sha).map_err(io)? {
                forget(backups, Content::File(space, &sha))?;
                swept.files += 1;
            }
        }
        swept.partials += blobs
            .sweep_partials(space, now - PARTIAL_GRACE)
            .map_err(io)?;
    }
    Ok(swept)
}
