//! The backups of one data dir while a process works on it: where they go and how
//! they are kept, how the last attempts went, and the lock that lets one backup (or
//! one rewrite of the kept backups) run at a time. The running server owns one
//! [`Backups`] and hands it to its scheduler, `/healthz` and the admin commands of
//! its control socket; an admin command on a stopped data dir makes its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::BackupError;
use super::settings::BackupSettings;

/// The outcome of the last backups, for `/healthz` and `backup list`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupHealth {
    /// Id and time (ms) of the last backup that was written and verified.
    pub last_success: Option<(String, u64)>,
    /// Time (ms), full reason and a short reason that names no path, of the last
    /// failed attempt, if no backup succeeded after it.
    pub failing: Option<BackupFailure>,
}

/// A failed backup attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFailure {
    pub at_ms: u64,
    /// The whole message, for the log and the admin.
    pub reason: String,
    /// A few words without paths or data, fit for the unauthenticated `/healthz`.
    pub summary: String,
}

/// The backups of one data dir. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct Backups {
    inner: Arc<Inner>,
}

struct Inner {
    /// The backup directory and settings, or why the data dir's config could not
    /// be read: the error waits for a command that needs them, so that commands
    /// that take no backup work with a config that does not load.
    config: Result<(PathBuf, BackupSettings), String>,
    /// One backup (or rewrite of the kept backups) at a time. A std mutex: held by
    /// blocking code only, never across an await.
    running: Mutex<()>,
    health: Mutex<BackupHealth>,
    /// Where file content lives (`[files] dir`): backups copy it, purges delete it.
    files: Option<PathBuf>,
    /// Tests simulate a full disk: a backup's data file fails after this many bytes.
    byte_limit: Mutex<Option<u64>>,
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every guarded value stays whole if a holder panics: `()` and plain records.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Backups {
    /// Backups into `dir`, kept by `settings`: the running server's (its admin
    /// commands use the same as its scheduler), or a test's.
    #[must_use]
    pub fn new(dir: PathBuf, settings: BackupSettings) -> Self {
        Self::with_config(Ok((dir, settings)), None)
    }

    /// The backups of the data dir `root` as its config says (`[backup]`, else
    /// `DIR/backups`), for a command on a stopped data dir.
    #[must_use]
    pub fn of_data_dir(root: &Path) -> Self {
        let settings = crate::settings::Settings::load(root, std::env::vars());
        let files = settings
            .as_ref()
            .map(|s| s.files.dir_in(root))
            .unwrap_or_else(|_| crate::files::FilesSettings::default().dir_in(root));
        let config = settings
            .map(|settings| (settings.backup_dir(), settings.backup))
            .map_err(|e| e.to_string());
        Self::with_config(config, Some(files))
    }

    /// Backups into `dir` that also copy the file content under `files`.
    #[must_use]
    pub fn with_files(dir: PathBuf, settings: BackupSettings, files: PathBuf) -> Self {
        Self::with_config(Ok((dir, settings)), Some(files))
    }

    fn with_config(
        config: Result<(PathBuf, BackupSettings), String>,
        files: Option<PathBuf>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                files,
                config,
                running: Mutex::new(()),
                health: Mutex::new(BackupHealth::default()),
                byte_limit: Mutex::new(None),
            }),
        }
    }

    /// The backup directory and settings.
    ///
    /// # Errors
    /// [`BackupError::Refused`] if the data dir's config could not be loaded.
    pub fn config(&self) -> Result<(&Path, &BackupSettings), BackupError> {
        match &self.inner.config {
            Ok((dir, settings)) => Ok((dir, settings)),
            Err(e) => Err(BackupError::Refused(e.clone())),
        }
    }

    /// Held by a backup until it is in place, and by anything that rewrites the
    /// kept backups (purge), so neither sees the other half-done.
    pub fn lock(&self) -> MutexGuard<'_, ()> {
        relock(&self.inner.running)
    }

    /// The file content store these backups copy, if the server keeps files.
    #[must_use]
    pub fn files(&self) -> Option<crate::files::blobs::Blobs> {
        self.inner
            .files
            .clone()
            .map(crate::files::blobs::Blobs::new)
    }

    /// The outcome of the last backups.
    #[must_use]
    pub fn health(&self) -> BackupHealth {
        relock(&self.inner.health).clone()
    }

    /// Records a backup's outcome: a success clears an earlier failure.
    pub fn record(&self, outcome: Result<(String, u64), BackupFailure>) {
        let mut health = relock(&self.inner.health);
        match outcome {
            Ok(done) => {
                health.last_success = Some(done);
                health.failing = None;
            }
            Err(failure) => health.failing = Some(failure),
        }
    }

    /// The simulated disk size for backups, if a test set one.
    pub(crate) fn byte_limit(&self) -> Option<u64> {
        *relock(&self.inner.byte_limit)
    }

    /// Makes the data file of every following backup fail like a full disk after
    /// `bytes` (`None`: no limit). For tests of failing backups.
    #[cfg(any(test, feature = "testing"))]
    pub fn simulate_disk_full(&self, bytes: Option<u64>) {
        *relock(&self.inner.byte_limit) = bytes;
    }
}

impl std::fmt::Debug for Backups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backups")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
