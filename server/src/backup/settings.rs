//! The `[backup]` section of the config.

use std::path::PathBuf;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// When and where the server backs itself up, and which backups it keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSettings {
    /// Scheduled backups on or off (`cairn-server backup now` works either way).
    pub enabled: bool,
    /// Local time of the daily backup, `HH:MM` on a 24-hour clock.
    pub daily_at: String,
    /// Where backups go; relative to the data dir.
    pub dir: PathBuf,
    /// Newest backup of each of this many last days with a backup.
    pub keep_daily: u32,
    /// Newest backup of each of this many last ISO weeks with a backup.
    pub keep_weekly: u32,
    /// Newest backup of each of this many last months with a backup.
    pub keep_monthly: u32,
    /// After a failed backup, try again this many minutes later.
    pub retry_minutes: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            enabled: true,
            daily_at: "02:00".into(),
            dir: PathBuf::from("backups"),
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 6,
            retry_minutes: 60,
        }
    }
}

impl BackupSettings {
    /// The time of day of `daily_at`, if it is a valid `HH:MM`.
    pub fn time_of_day(&self) -> Option<NaiveTime> {
        NaiveTime::parse_from_str(self.daily_at.trim(), "%H:%M").ok()
    }

    /// What is out of range, for the settings' validation.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.time_of_day().is_none() {
            problems.push(format!(
                "backup.daily_at must be a time of day like \"02:00\" (HH:MM, 24-hour clock), \
                 not {:?}",
                self.daily_at
            ));
        }
        if self.keep_daily + self.keep_weekly + self.keep_monthly == 0 {
            problems.push(
                "backup.keep_daily, keep_weekly and keep_monthly must keep at least one backup"
                    .into(),
            );
        }
        if self.retry_minutes == 0 {
            problems.push("backup.retry_minutes must be at least 1".into());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are valid; a bad time and keeping nothing are named.
    #[test]
    fn validation() {
        assert!(BackupSettings::default().problems().is_empty());
        assert_eq!(
            BackupSettings::default().time_of_day(),
            NaiveTime::from_hms_opt(2, 0, 0)
        );
        let bad = BackupSettings {
            daily_at: "25:00".into(),
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            ..BackupSettings::default()
        };
        let problems = bad.problems().join("; ");
        assert!(problems.contains("backup.daily_at") && problems.contains("keep_daily"));
    }
}
