//! Putting an export's files on disk, and copying file content into and out of an
//! export with its SHA-256 checked on the way.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::api::ExportFile;
use crate::progress::Report;

/// Writes `files` into `dir`, creating it if missing. `dir` must not exist yet or
/// be empty, so that no earlier export is mixed in, unless `force` (then files of
/// the same names are overwritten, and the manifest still lists exactly this
/// export's files). Each file written is one more done for `progress`.
///
/// # Errors
/// A non-empty `dir` without `force`, a path leaving `dir`, or an I/O error naming
/// the path.
pub fn write(
    dir: &Path,
    files: &[ExportFile],
    force: bool,
    progress: &dyn Report,
) -> anyhow::Result<()> {
    if !force
        && dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty; export into a new or empty directory, or pass --force to \
             write over an earlier export there",
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
        progress.add(1);
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
        bail!("the export names a file outside its directory: {path:?}");
    }
    Ok(p)
}

/// Copies the bytes of `input` (named `from` in messages) to `to`, checking that
/// they have the SHA-256 `sha256` ([`CheckedFile`]). Returns the size.
///
/// # Errors
/// An I/O error naming the path, or content whose SHA-256 differs (damaged, or not
/// the file the records name).
pub fn copy_checked(
    mut input: impl Read,
    from: &Path,
    to: &Path,
    sha256: &str,
) -> anyhow::Result<u64> {
    let mut out = CheckedFile::create(to)?;
    std::io::copy(&mut input, &mut out)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    out.finish(sha256, from)
}

/// A file being written whose SHA-256 is checked before it takes its name: written
/// beside its path (the directory created if missing), hashed on the way, and
/// renamed into place by [`CheckedFile::finish`] only when whole and right, so a
/// failed or wrong copy leaves nothing.
pub struct CheckedFile {
    to: std::path::PathBuf,
    temp: tempfile::NamedTempFile,
    hasher: Sha256,
    size: u64,
}

impl CheckedFile {
    /// Starts writing what will be `to`.
    ///
    /// # Errors
    /// The directory cannot be made or written.
    pub fn create(to: &Path) -> anyhow::Result<Self> {
        let dir = to
            .parent()
            .with_context(|| format!("{} has no directory", to.display()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let temp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(Self {
            to: to.to_owned(),
            temp,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Checks the bytes written against `sha256` and puts the file in place,
    /// durably; `from` names their source in the error. Returns the size.
    ///
    /// # Errors
    /// Bytes with another SHA-256 (nothing is kept), or an I/O error.
    pub fn finish(self, sha256: &str, from: &Path) -> anyhow::Result<u64> {
        let found = hex::encode(self.hasher.finalize());
        if found != sha256 {
            bail!(
                "{} does not have the SHA-256 the export lists ({sha256}, found {found}): it \
                 is damaged or was replaced; nothing was copied",
                from.display()
            );
        }
        let to = &self.to;
        self.temp
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot write {}", to.display()))?;
        self.temp
            .persist(to)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", to.display()))?;
        // The rename is durable once the directory is synced.
        if let Some(dir) = to.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot sync {}", dir.display()))?;
        }
        Ok(self.size)
    }
}

impl Write for CheckedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.temp.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second export into the same directory is refused without force and
    /// nothing is changed; with force it overwrites.
    #[test]
    fn refuses_a_non_empty_directory_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("new/sub");
        let file = |text: &str| ExportFile {
            path: "a/b.txt".to_owned(),
            contents: text.to_owned(),
        };
        write(&out, &[file("first")], false, &crate::progress::Quiet).expect("first export");
        let err =
            write(&out, &[file("second")], false, &crate::progress::Quiet).expect_err("not empty");
        assert!(err.to_string().contains("--force"), "{err}");
        let read = || std::fs::read_to_string(out.join("a/b.txt")).expect("read");
        assert_eq!(read(), "first");
        write(&out, &[file("second")], true, &crate::progress::Quiet).expect("forced");
        assert_eq!(read(), "second");
        let outside = ExportFile {
            path: "../x".to_owned(),
            contents: String::new(),
        };
        assert!(write(&out, &[outside], true, &crate::progress::Quiet).is_err());
    }

    /// Content is copied only when its hash is the listed one.
    #[test]
    fn copies_only_content_with_the_listed_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from = dir.path().join("in");
        std::fs::write(&from, b"photo bytes").expect("write");
        let right = crate::api::files::sha256_hex(b"photo bytes");
        let to = dir.path().join("out/files").join(&right);
        let open = || std::fs::File::open(&from).expect("open");
        assert_eq!(
            copy_checked(open(), &from, &to, &right).expect("copies"),
            11
        );
        assert_eq!(std::fs::read(&to).expect("read"), b"photo bytes");
        let wrong = crate::api::files::sha256_hex(b"other");
        let to = dir.path().join("out/files").join(&wrong);
        let err = copy_checked(open(), &from, &to, &wrong).expect_err("wrong hash");
        assert!(err.to_string().contains("damaged"), "{err}");
        assert!(!to.exists());
    }
}
