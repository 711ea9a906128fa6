//! The data dir's layout and its lock: one `cairn-server` process (server or admin
//! command) uses a data dir at a time, because sled lets one process open the store.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::settings::CONFIG_FILE;

/// File whose exclusive lock marks the data dir as in use.
pub const LOCK_FILE: &str = "cairn-server.lock";
/// The running server's admin socket.
pub const CONTROL_SOCKET: &str = "control.sock";

/// Why the data dir cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(
        "{dir} is not a cairn-server data dir (it has no db/); check --data-dir, \
         or run `cairn-server init --data-dir {dir}` to set one up"
    )]
    NotInitialized { dir: String },
    #[error(
        "another cairn-server is using {dir} (its lock file {lock} is held); \
         stop it first, or use a different --data-dir"
    )]
    Locked { dir: String, lock: String },
    #[error("cannot lock {lock}: {source}; check that the data dir is writable by this user")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

/// Paths inside a data dir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    pub fn db(&self) -> PathBuf {
        self.root.join("db")
    }

    pub fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    pub fn tls(&self) -> PathBuf {
        self.root.join("tls")
    }

    pub fn control_socket(&self) -> PathBuf {
        self.root.join(CONTROL_SOCKET)
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// # Errors
    /// [`DataDirError::NotInitialized`] if `init` has not made the store's dir.
    pub fn check_initialized(&self) -> Result<(), DataDirError> {
        if self.db().is_dir() {
            Ok(())
        } else {
            Err(DataDirError::NotInitialized {
                dir: self.root.display().to_string(),
            })
        }
    }

    /// Takes the data dir's lock, or `None` if another process (or another
    /// server in this process) holds it.
    ///
    /// # Errors
    /// [`DataDirError::Io`] if the lock file cannot be opened.
    pub fn try_lock(&self) -> Result<Option<DataDirLock>, DataDirError> {
        let lock = self.lock_file();
        let io = |source| DataDirError::Io {
            lock: lock.display().to_string(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DataDirLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// Takes the data dir's lock.
    ///
    /// # Errors
    /// [`DataDirError::Locked`] naming the dir if another process holds it.
    pub fn lock(&self) -> Result<DataDirLock, DataDirError> {
        self.try_lock()?.ok_or_else(|| DataDirError::Locked {
            dir: self.root.display().to_string(),
            lock: self.lock_file().display().to_string(),
        })
    }
}

/// Holds the data dir's lock until dropped. The lock is an OS file lock, so it
/// also ends when the process dies: a killed server leaves no stale lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While one lock is held a second is refused with the dir's name; after the
    /// first is dropped the dir can be locked again.
    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::new(dir.path());
        let first = data.lock().expect("first lock");
        let err = data.lock().expect_err("second lock refused");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        assert!(data.try_lock().expect("try").is_none());
        drop(first);
        data.lock().expect("lock again after release");
    }

    /// A dir without db/ is reported as not initialized, with the init command.
    #[test]
    fn uninitialized_dir_says_run_init() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = DataDir::new(dir.path())
            .check_initialized()
            .expect_err("empty dir");
        assert!(err.to_string().contains("cairn-server init"), "{err}");
    }
}
