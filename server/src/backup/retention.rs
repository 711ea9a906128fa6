//! Which backups to keep: the newest backup of each of the last `keep_daily` days,
//! `keep_weekly` ISO weeks and `keep_monthly` months that have a backup (local
//! time), like restic's `--keep-daily/--keep-weekly/--keep-monthly`. The newest
//! backup is always kept.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Datelike, TimeZone};

use super::BackupError;
use super::settings::BackupSettings;

/// The ids to keep of `backups` (id, creation time), in any order.
pub fn keep<Tz: TimeZone>(
    backups: &[(String, DateTime<Tz>)],
    settings: &BackupSettings,
) -> BTreeSet<String> {
    let mut newest_first: Vec<&(String, DateTime<Tz>)> = backups.iter().collect();
    newest_first.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut kept = BTreeSet::new();
    if let Some((id, _)) = newest_first.first() {
        kept.insert(id.clone());
    }
    type Bucket<Tz> = fn(&DateTime<Tz>) -> (i32, u32);
    let rules: [(u32, Bucket<Tz>); 3] = [
        (settings.keep_daily, |t| (t.year(), t.ordinal())),
        (settings.keep_weekly, |t| {
            let w = t.iso_week();
            (w.year(), w.week())
        }),
        (settings.keep_monthly, |t| (t.year(), t.month())),
    ];
    for (count, bucket) in rules {
        let mut last = None;
        let mut left = count;
        for (id, at) in &newest_first {
            if left == 0 {
                break;
            }
            let b = bucket(at);
            if last != Some(b) {
                last = Some(b);
                left -= 1;
                kept.insert(id.clone());
            }
        }
    }
    kept
}

/// Removes the backups of `dir` that [`keep`] does not keep (going by their
/// manifests' times in the local time zone); damaged backups (no readable
/// manifest) are left for the admin to look at. Returns the removed ids.
///
/// # Errors
/// If the directory cannot be listed or a backup cannot be removed.
pub fn prune(dir: &Path, settings: &BackupSettings) -> Result<Vec<String>, BackupError> {
    let listed = super::list_dir(dir)?;
    let dated: Vec<(String, DateTime<chrono::Local>)> = listed
        .iter()
        .filter_map(|(id, manifest)| {
            let manifest = manifest.as_ref().ok()?;
            let at = chrono::Local
                .timestamp_millis_opt(i64::try_from(manifest.created_at_ms).ok()?)
                .single()?;
            Some((id.clone(), at))
        })
        .collect();
    let kept = keep(&dated, settings);
    let mut removed = Vec::new();
    for (id, _) in dated {
        if kept.contains(&id) {
            continue;
        }
        // Renamed first, so that a removal cut short never leaves a half backup
        // under a backup's name; the next backup clears `.`-names.
        let doomed = dir.join(format!("{}{id}", super::DELETING_PREFIX));
        std::fs::rename(dir.join(&id), &doomed)
            .map_err(BackupError::io("remove the old backup", dir.join(&id)))?;
        std::fs::remove_dir_all(&doomed).map_err(BackupError::io("remove", &doomed))?;
        removed.push(id);
    }
    if !removed.is_empty() {
        super::create::sync_dir(dir).map_err(BackupError::io("sync", dir))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
        let tz = FixedOffset::east_opt(3600).expect("offset");
        tz.from_local_datetime(
            &NaiveDate::from_ymd_opt(y, m, d)
                .expect("date")
                .and_hms_opt(h, 0, 0)
                .expect("time"),
        )
        .single()
        .expect("unambiguous")
    }

    /// A year of daily backups (plus an extra one on the last day) keeps exactly
    /// the newest of the last 7 days, 4 weeks and 6 months.
    #[test]
    fn keeps_daily_weekly_monthly() {
        let mut backups = Vec::new();
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        for day in 0..365 {
            let date = start + chrono::Days::new(day);
            let t = at(date.year(), date.month(), date.day(), 2);
            backups.push((t.format("%Y%m%d").to_string(), t));
        }
        // A `backup now` on the last day, later than the scheduled one.
        backups.push(("20251231-extra".into(), at(2025, 12, 31, 15)));
        let kept = keep(&backups, &BackupSettings::default());
        let expected: BTreeSet<String> = [
            // Days: the extra one stands for Dec 31, then the 6 days before.
            "20251231-extra",
            "20251230",
            "20251229",
            "20251228",
            "20251227",
            "20251226",
            "20251225",
            // ISO weeks: 2026-W01 (Dec 29-31) is the extra; then the Sundays
            // ending weeks 52, 51, 50.
            "20251221",
            "20251214",
            // Months: Dec is the extra, then the last day of Nov .. Jul.
            "20251130",
            "20251031",
            "20250930",
            "20250831",
            "20250731",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(kept, expected);
    }

    /// Gaps do not count: the last 7 days *with* a backup are kept, and nothing is
    /// kept twice; with everything at zero the newest still stays.
    #[test]
    fn gaps_and_minimum() {
        let backups = vec![
            ("a".to_string(), at(2025, 3, 1, 2)),
            ("b".to_string(), at(2025, 3, 10, 2)),
            ("c".to_string(), at(2025, 3, 10, 9)),
        ];
        let daily_only = BackupSettings {
            keep_daily: 7,
            keep_weekly: 0,
            keep_monthly: 0,
            ..BackupSettings::default()
        };
        let kept = keep(&backups, &daily_only);
        assert_eq!(kept, ["a", "c"].map(String::from).into_iter().collect());
        let none = BackupSettings {
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            ..BackupSettings::default()
        };
        assert_eq!(
            keep(&backups, &none),
            ["c".to_string()].into_iter().collect()
        );
    }
}
