//! The privacy notice every user accepts (`[privacy]` in the config), and what
//! happens to a user's data when they withdraw consent.
//!
//! The notice is a Markdown file the licensee writes, with a version they name;
//! a new version must be accepted again by everyone, at their next login or sync.
//! Without a file the server uses its built-in notice (version
//! [`BUILT_IN_VERSION`]); `init` writes that text into the data dir to start from.

use std::path::Path;

use cairn_common::api::consent::Notice;
use serde::{Deserialize, Serialize};

/// The built-in notice's text.
pub const BUILT_IN_TEXT: &str = include_str!("default-notice.md");
/// The built-in notice's version.
pub const BUILT_IN_VERSION: &str = "cairn-1";
/// Where `init` writes the notice, in the data dir.
pub const NOTICE_FILE: &str = "privacy-notice.md";
/// The longest notice served (a notice is read, not a book).
const MAX_NOTICE_BYTES: u64 = 256 << 10;

/// What happens to a user's data when they withdraw consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnWithdrawal {
    /// The account is disabled and its sessions end; the data stays, and an
    /// admin can purge it later (`cairn-server purge user`).
    Keep,
    /// The account is purged at once: its personal data goes, its changes in
    /// shared spaces stay under a pseudonym.
    Purge,
}

/// `[privacy]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// The notice's Markdown file (relative to the data dir); empty: the
    /// built-in notice.
    pub notice_file: String,
    /// The notice's version; change it whenever the text changes.
    pub notice_version: String,
    /// What a withdrawal of consent does to the user's data.
    pub on_withdrawal: OnWithdrawal,
    /// How long an invitation's code stays valid.
    pub invitation_days: u32,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            notice_file: String::new(),
            notice_version: String::new(),
            on_withdrawal: OnWithdrawal::Keep,
            invitation_days: 7,
        }
    }
}

impl PrivacySettings {
    /// What is wrong with these settings, for the config check.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.notice_file.is_empty() != self.notice_version.trim().is_empty() {
            problems.push(
                "privacy.notice_file and privacy.notice_version go together: give both (your \
                 notice and its version), or neither (the built-in notice)"
                    .to_owned(),
            );
        }
        if !(1..=90).contains(&self.invitation_days) {
            problems.push("privacy.invitation_days must be between 1 and 90".to_owned());
        }
        problems
    }

    /// The notice these settings name, read from `data_dir`.
    ///
    /// # Errors
    /// A file that is missing, unreadable, empty, too long or not UTF-8; the
    /// message names it and says what to do.
    pub fn notice(&self, data_dir: &Path) -> Result<Notice, String> {
        if self.notice_file.is_empty() {
            return Ok(Notice {
                version: BUILT_IN_VERSION.to_owned(),
                text: BUILT_IN_TEXT.to_owned(),
            });
        }
        let path = data_dir.join(&self.notice_file);
        let fix = "write the privacy notice there, or set [privacy] notice_file";
        let size = std::fs::metadata(&path)
            .map_err(|e| {
                format!(
                    "cannot read the privacy notice {}: {e}; {fix}",
                    path.display()
                )
            })?
            .len();
        if size > MAX_NOTICE_BYTES {
            return Err(format!(
                "the privacy notice {} is {size} bytes, more than {MAX_NOTICE_BYTES}; shorten it",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read the privacy notice {}: {e}; {fix}",
                path.display()
            )
        })?;
        if text.trim().is_empty() {
            return Err(format!(
                "the privacy notice {} is empty; {fix}",
                path.display()
            ));
        }
        Ok(Notice {
            version: self.notice_version.trim().to_owned(),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No file: the built-in notice. A file and its version: that text. A file
    /// without a version, a missing or empty file: refused, naming what to do.
    #[test]
    fn the_notice_comes_from_the_settings() {
        let dir = tempfile::tempdir().expect("dir");
        let built_in = PrivacySettings::default()
            .notice(dir.path())
            .expect("built in");
        assert_eq!(built_in.version, BUILT_IN_VERSION);
        assert!(built_in.text.contains("withdraw"));
        std::fs::write(dir.path().join("notice.md"), "# Ours\n").expect("write");
        let ours = PrivacySettings {
            notice_file: "notice.md".into(),
            notice_version: "2026-12".into(),
            ..PrivacySettings::default()
        };
        assert!(ours.problems().is_empty());
        let notice = ours.notice(dir.path()).expect("ours");
        assert_eq!(
            (notice.version.as_str(), notice.text.as_str()),
            ("2026-12", "# Ours\n")
        );
        let no_version = PrivacySettings {
            notice_version: String::new(),
            ..ours.clone()
        };
        assert_eq!(no_version.problems().len(), 1);
        let missing = PrivacySettings {
            notice_file: "missing.md".into(),
            ..ours.clone()
        };
        assert!(
            missing
                .notice(dir.path())
                .expect_err("missing")
                .contains("missing.md")
        );
        std::fs::write(dir.path().join("empty.md"), "  \n").expect("write");
        let empty = PrivacySettings {
            notice_file: "empty.md".into(),
            ..ours
        };
        assert!(
            empty
                .notice(dir.path())
                .expect_err("empty")
                .contains("empty")
        );
    }
}
