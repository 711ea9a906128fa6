//! `[backup]` of `config.toml`: whether the daily backup runs, where backups go,
//! and how many are kept.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The local backups' settings in effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSettings {
    /// Whether a backup is made once a day (while the device is not logged in to
    /// a server, whose own backups keep its data).
    pub enabled: bool,
    /// Where backups go: `backups/` in the data directory unless configured.
    pub dir: PathBuf,
    /// Days for which the newest backup of the day is kept.
    pub keep_daily: u32,
    /// Weeks for which the newest backup of the week is kept.
    pub keep_weekly: u32,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    backup: Section,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default = "yes")]
    enabled: bool,
    dir: Option<PathBuf>,
    #[serde(default = "seven")]
    keep_daily: u32,
    #[serde(default = "four")]
    keep_weekly: u32,
}

impl Default for Section {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            keep_daily: seven(),
            keep_weekly: four(),
        }
    }
}

fn yes() -> bool {
    true
}
fn seven() -> u32 {
    7
}
fn four() -> u32 {
    4
}

impl BackupSettings {
    /// The defaults for the data directory `data_dir`.
    #[must_use]
    pub fn defaults(data_dir: &Path) -> Self {
        Self {
            enabled: true,
            dir: data_dir.join("backups"),
            keep_daily: seven(),
            keep_weekly: four(),
        }
    }

    /// Reads `[backup]` of `config_file` (a missing file means the defaults).
    ///
    /// # Errors
    /// A file that cannot be read or whose `[backup]` is wrong, saying what to write.
    pub fn load(config_file: &Path, data_dir: &Path) -> anyhow::Result<Self> {
        let text = match std::fs::read_to_string(config_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot read the config file {}", config_file.display())
                });
            }
        };
        let parsed: File = toml::from_str(&text).with_context(|| {
            format!(
                "the config file {} has a bad [backup] section; write e.g.\n[backup]\n\
                 enabled = true\ndir = \"/mnt/usb/cairn-backups\"\nkeep_daily = 7\nkeep_weekly = 4",
                config_file.display()
            )
        })?;
        let section = parsed.backup;
        let dir = match section.dir {
            // A relative directory is the config file's neighbour, as people read it.
            Some(dir) if dir.is_relative() => config_file
                .parent()
                .map_or_else(|| dir.clone(), |p| p.join(&dir)),
            Some(dir) => dir,
            None => data_dir.join("backups"),
        };
        Ok(Self {
            enabled: section.enabled,
            dir,
            keep_daily: section.keep_daily,
            keep_weekly: section.keep_weekly,
        })
    }
}
