//! The TUI's part of `config.toml`: `[keys]`, `[colors]` and `[sync]`. Other sections belong to
//! other parts of the client and are left alone here. A missing file means defaults; an
//! invalid one is refused with the file, what is wrong and what to write instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::keys::{KeyBindings, KeyList};
use super::theme::Theme;

/// Key bindings, colours and the sync interval in effect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub keys: KeyBindings,
    pub theme: Theme,
    pub sync: SyncConfig,
}

/// `[sync]`: how often the TUI syncs in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Seconds between background rounds (at least 5).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
}

fn default_interval() -> u64 {
    60
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            interval_secs: default_interval(),
        }
    }
}

impl SyncConfig {
    /// The interval between rounds.
    #[must_use]
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }
}

/// A config file that cannot be used. The message names the file and says what to write.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read the config file {path:?}: {source}; check its permissions, or move it away to use the defaults"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the config file {path:?} is not valid TOML: {message}\nfix that line, or move the file away to use the defaults"
    )]
    Syntax { path: PathBuf, message: String },
    #[error(
        "the config file {path:?} has a bad [keys] entry: {message}\nwrite e.g.\n[keys]\nquit = \"ctrl-q\"\ndown = [\"j\", \"down\"]"
    )]
    Keys { path: PathBuf, message: String },
    #[error(
        "the config file {path:?} has a bad [sync] section: {message}\nwrite e.g.\n[sync]\ninterval_secs = 60"
    )]
    Sync { path: PathBuf, message: String },
    #[error(
        "the config file {path:?} has a bad [colors] entry: {message}\nwrite e.g.\n[colors]\naccent = \"lightblue\"\noverdue = \"#ff5f5f\""
    )]
    Colors { path: PathBuf, message: String },
}

/// The sections this module reads; any other section is someone else's.
#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, KeyList>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
    #[serde(default)]
    sync: Option<toml::Value>,
}

impl Config {
    /// Reads `path`; a missing file gives the defaults. `no_color` (from `NO_COLOR`)
    /// wins over `[colors]`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, the problem and the fix.
    pub fn load(path: &Path, no_color: bool) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path, no_color),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                keys: KeyBindings::default(),
                theme: Theme::from_config(&BTreeMap::new(), no_color).unwrap_or_default(),
                sync: SyncConfig::default(),
            }),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Reads the text of a config file; `path` is only for messages.
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn parse(text: &str, path: &Path, no_color: bool) -> Result<Self, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        let mut keys = KeyBindings::default();
        keys.apply_overrides(&file.keys)
            .map_err(|message| ConfigError::Keys {
                path: path.to_owned(),
                message,
            })?;
        let theme =
            Theme::from_config(&file.colors, no_color).map_err(|message| ConfigError::Colors {
                path: path.to_owned(),
                message,
            })?;
        let sync_error = |message: String| ConfigError::Sync {
            path: path.to_owned(),
            message,
        };
        let sync = match file.sync {
            None => SyncConfig::default(),
            Some(value) => value
                .try_into::<SyncConfig>()
                .map_err(|e| sync_error(e.to_string().trim().to_owned()))?,
        };
        if sync.interval_secs < 5 {
            return Err(sync_error(format!(
                "interval_secs = {} is too short; use 5 or more",
                sync.interval_secs
            )));
        }
        Ok(Self { keys, theme, sync })
    }

    /// The defaults with no colour (what tests and `NO_COLOR` use).
    #[must_use]
    pub fn no_color() -> Self {
        Self {
            keys: KeyBindings::default(),
            theme: Theme::no_color(),
            sync: SyncConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> PathBuf {
        PathBuf::from("/home/ana/.config/cairn/config.toml")
    }

    /// Overrides in both sections apply; other sections are ignored.
    #[test]
    fn reads_keys_and_colors() {
        let text = "[server]\nurl = \"https://x\"\n[keys]\nquit = \"ctrl-q\"\ndown = [\"j\", \"n\"]\n[colors]\naccent = \"red\"\n";
        let config = Config::parse(text, &path(), false).expect("valid config");
        assert_eq!(config.keys.quit.to_string(), "ctrl-q");
        assert_eq!(config.keys.down.to_string(), "j/n");
        assert_eq!(config.theme.accent.fg, Some(ratatui::style::Color::Red));
    }

    /// Each kind of mistake names the file, the problem and what to write.
    #[test]
    fn errors_say_what_to_write() {
        let syntax = Config::parse("[keys\nquit=", &path(), false)
            .expect_err("bad toml")
            .to_string();
        assert!(
            syntax.contains("config.toml") && syntax.contains("TOML"),
            "{syntax}"
        );
        let keys = Config::parse("[keys]\nqiut = \"q\"\n", &path(), false)
            .expect_err("unknown binding")
            .to_string();
        assert!(
            keys.contains("qiut")
                && keys.contains("quit = \"ctrl-q\"")
                && keys.contains("config.toml"),
            "{keys}"
        );
        let colors = Config::parse("[colors]\nok = \"greenish\"\n", &path(), false)
            .expect_err("bad colour")
            .to_string();
        assert!(
            colors.contains("greenish") && colors.contains("[colors]"),
            "{colors}"
        );
        let shape = Config::parse("keys = 3\n", &path(), false)
            .expect_err("keys not a table")
            .to_string();
        assert!(shape.contains("config.toml"), "{shape}");
    }

    /// `[sync] interval_secs` is read; a bad or too short one is refused with the fix.
    #[test]
    fn reads_sync_interval() {
        let config = Config::parse("[sync]\ninterval_secs = 300\n", &path(), false).expect("valid");
        assert_eq!(config.sync.interval(), Duration::from_secs(300));
        assert_eq!(Config::default().sync.interval_secs, 60);
        let short = Config::parse("[sync]\ninterval_secs = 1\n", &path(), false)
            .expect_err("too short")
            .to_string();
        assert!(
            short.contains("5 or more") && short.contains("[sync]"),
            "{short}"
        );
        let typo = Config::parse("[sync]\nintervall = 3\n", &path(), false)
            .expect_err("unknown key")
            .to_string();
        assert!(typo.contains("interval_secs = 60"), "{typo}");
    }

    /// A missing file gives the defaults; NO_COLOR gives the monochrome theme.
    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::load(&dir.path().join("config.toml"), false).expect("defaults");
        assert_eq!(config, Config::default());
        let plain = Config::load(&dir.path().join("config.toml"), true).expect("defaults");
        assert_eq!(plain.theme, Theme::no_color());
    }
}
