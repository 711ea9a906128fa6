//! Where the client keeps its data and configuration.
//!
//! `CAIRN_HOME` overrides both (tests use it): data in `$CAIRN_HOME/data`, config in
//! `$CAIRN_HOME/config.toml`. Otherwise the XDG base directories:
//! `$XDG_DATA_HOME/cairn/` and `$XDG_CONFIG_HOME/cairn/config.toml`.

use std::path::PathBuf;

/// The data and config locations in effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
}

impl Paths {
    /// Resolves the locations from the environment.
    ///
    /// # Errors
    /// When neither `CAIRN_HOME` nor a home directory is known, with what to set.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Some(home) = std::env::var_os("CAIRN_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::under(PathBuf::from(home)));
        }
        let dirs = directories::ProjectDirs::from("", "", "cairn").ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find your home directory; set CAIRN_HOME to a directory for Cairn's data"
            )
        })?;
        Ok(Self {
            data_dir: dirs.data_dir().to_owned(),
            config_file: dirs.config_dir().join("config.toml"),
        })
    }

    /// Both locations under one directory (what `CAIRN_HOME` means).
    #[must_use]
    pub fn under(home: PathBuf) -> Self {
        Self {
            data_dir: home.join("data"),
            config_file: home.join("config.toml"),
        }
    }
}
