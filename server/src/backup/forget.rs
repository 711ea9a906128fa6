//! Deleting a file's content from the kept backups when it is deleted from the
//! store (emptied from the trash, purged): the promise is complete deletion, and
//! a backup is no exception. The backup keeps the records that named the file; a
//! restore of it brings them back without the content, as the store has them now.

use std::fs;
use std::io::Write;
use std::path::Path;

use cairn_common::model::SpaceId;

use super::create::{CONTENT_PREFIX, content_name, sync_dir};
use super::format::MANIFEST_FILE;
use super::{BackupError, list_dir};

/// Which content to forget: one file of a space, or all of a space.
#[derive(Clone, Copy, Debug)]
pub enum Content<'a> {
    File(SpaceId, &'a str),
    Space(SpaceId),
}

impl Content<'_> {
    fn covers(&self, name: &str) -> bool {
        match self {
            Self::File(space, sha) => name == content_name(*space, sha),
            Self::Space(space) => name.starts_with(&format!("{CONTENT_PREFIX}{space}-")),
        }
    }
}

/// Deletes `content` from every kept backup in `dir` and rewrites their manifests
/// without it (written aside, fsynced, renamed); how many files were deleted. A
/// backup whose manifest cannot be read is left for the admin.
///
/// # Errors
/// A file that cannot be deleted or a manifest that cannot be rewritten.
pub fn forget(dir: &Path, content: Content<'_>) -> Result<usize, BackupError> {
    let mut deleted = 0;
    for (id, manifest) in list_dir(dir)? {
        let Ok(mut manifest) = manifest else { continue };
        let before = manifest.files.len();
        let backup = dir.join(&id);
        for file in manifest.files.iter().filter(|f| content.covers(&f.name)) {
            let path = backup.join(&file.name);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(BackupError::io("delete", &path)(e));
                }
                _ => deleted += 1,
            }
        }
        manifest.files.retain(|f| !content.covers(&f.name));
        if manifest.files.len() == before {
            continue;
        }
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| BackupError::io("write", &backup)(std::io::Error::other(e)))?;
        let temp = backup.join(format!(".{MANIFEST_FILE}"));
        let mut out = fs::File::create(&temp).map_err(BackupError::io("write", &temp))?;
        out.write_all(&json)
            .and_then(|()| out.sync_all())
            .map_err(BackupError::io("write", &temp))?;
        let path = backup.join(MANIFEST_FILE);
        fs::rename(&temp, &path).map_err(BackupError::io("replace", &path))?;
        sync_dir(&backup).map_err(BackupError::io("sync", &backup))?;
    }
    Ok(deleted)
}
