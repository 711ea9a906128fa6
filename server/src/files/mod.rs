//! Files of a space: their content, addressed by space and SHA-256, kept as plain
//! files under the data dir (`files/<space>/<sha256>`), written from streams of
//! checked frames and read as streams, so memory stays flat whatever the size. A
//! file's metadata is a record of kind `file` that syncs with the ops like any
//! other; this module holds only the bytes. See `docs/FILES.md`.
//!
//! # Layout
//! - this file: [`FilesSettings`] (`[files]`);
//! - [`blobs`]: the content on disk: status, reading, usage per space, removal;
//! - [`upload`]: an upload in progress: checked frames appended, the whole-file
//!   check, one upload per file at a time;
//! - writing and reading content past the page cache is shared with the client:
//!   [`cairn_common::direct_io`];
//! - [`gc`]: deleting content no file record names any more.

pub mod blobs;
pub mod gc;
pub mod upload;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[files]` in `cairn-server.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesSettings {
    /// Where the content lives; relative to the data dir. Servers sharing a
    /// PostgreSQL database must point this at the same shared directory.
    pub dir: PathBuf,
    /// The largest file, in MiB.
    pub max_file_mib: u64,
    /// The most content one space may hold, in MiB.
    pub max_space_mib: u64,
}

impl Default for FilesSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("files"),
            max_file_mib: 1024,
            max_space_mib: 10 * 1024,
        }
    }
}

impl FilesSettings {
    /// The content directory, resolved against `data_dir`.
    #[must_use]
    pub fn dir_in(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.dir)
    }

    /// The limits in bytes.
    #[must_use]
    pub fn limits(&self) -> blobs::Limits {
        blobs::Limits {
            max_file: self.max_file_mib.saturating_mul(1 << 20),
            max_space: self.max_space_mib.saturating_mul(1 << 20),
        }
    }

    /// What is wrong with these settings, for the config check.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_file_mib == 0 {
            out.push("files.max_file_mib must be at least 1".to_owned());
        }
        if self.max_space_mib < self.max_file_mib {
            out.push("files.max_space_mib must be at least files.max_file_mib".to_owned());
        }
        out
    }
}
