//! On-disk rules both of Cairn's sled stores (the client's replica and the server's
//! store) must follow, kept in one place so a fix reaches both. Standard library only.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;

/// Fsyncs the files of the sled database in `sled_dir` after a `flush()`: sled 0.34's
/// flush only calls `sync_file_range` (sled#1452), so without this an acknowledged
/// write can vanish on power loss. Values over about 128 KiB live in `blobs/`, one
/// file each, which sled never fsyncs: new ones (not in `synced`) are fsynced and
/// remembered, and then the `blobs/` directory itself.
///
/// # Errors
/// The I/O error of a file that could not be synced.
pub fn fsync_sled_files(sled_dir: &Path, synced: &mut HashSet<OsString>) -> io::Result<()> {
    File::open(sled_dir.join("db"))?.sync_all()?;
    let blobs = sled_dir.join("blobs");
    if !blobs.is_dir() {
        return Ok(());
    }
    let mut any_new = false;
    for entry in std::fs::read_dir(&blobs)? {
        let name = entry?.file_name();
        if synced.contains(&name) {
            continue;
        }
        match File::open(blobs.join(&name)).and_then(|f| f.sync_all()) {
            Ok(()) => {}
            // sled may remove an old blob between listing and opening it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        synced.insert(name);
        any_new = true;
    }
    if any_new {
        File::open(&blobs)?.sync_all()?;
    }
    Ok(())
}

/// Personnel data: a data directory is readable by its owner only (0700 on Unix).
///
/// # Errors
/// The I/O error of changing the permissions.
pub fn restrict_to_owner(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blob files are synced once and remembered; a missing data file is an error.
    #[test]
    fn syncs_new_blobs_once_and_needs_the_data_file() {
        let dir = std::env::temp_dir().join(format!("cairn-storage-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("blobs")).expect("dirs");
        let mut synced = HashSet::new();
        assert!(
            fsync_sled_files(&dir, &mut synced).is_err(),
            "no db file yet"
        );
        std::fs::write(dir.join("db"), b"x").expect("db");
        std::fs::write(dir.join("blobs/1"), b"blob").expect("blob");
        fsync_sled_files(&dir, &mut synced).expect("sync");
        assert!(synced.contains(&OsString::from("1")));
        restrict_to_owner(&dir).expect("chmod");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
