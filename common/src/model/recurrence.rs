//! How a standard task repeats, and when it is due next.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A repetition rule for a standard task.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Recurrence {
    /// Every N days (N ≥ 1).
    Days(u16),
    /// Every N weeks (N ≥ 1).
    Weeks(u16),
    /// Every N months (N ≥ 1), on the same day of the month where it exists.
    Months(u16),
    /// On each of these weekdays (Monday = 0 … Sunday = 6), sorted and without repeats.
    Weekdays(Vec<u8>),
}

/// Why a recurrence rule could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: write `every 3 days`, `every 2 weeks`, `every month`, `weekly`, or `mon,wed,fri`")]
pub struct RecurrenceError(String);

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl Recurrence {
    /// The first due date strictly after `done_on`.
    #[must_use]
    pub fn next_after(&self, done_on: NaiveDate) -> NaiveDate {
        let fallback = done_on.succ_opt().unwrap_or(done_on);
        match self {
            Self::Days(n) => done_on
                .checked_add_days(Days::new(u64::from((*n).max(1))))
                .unwrap_or(fallback),
            Self::Weeks(n) => done_on
                .checked_add_days(Days::new(7 * u64::from((*n).max(1))))
                .unwrap_or(fallback),
            Self::Months(n) => done_on
                .checked_add_months(Months::new(u32::from((*n).max(1))))
                .unwrap_or(fallback),
            Self::Weekdays(days) => {
                let mut date = fallback;
                for _ in 0..7 {
                    let index = date.weekday().num_days_from_monday() as u8;
                    if days.is_empty() || days.contains(&index) {
                        return date;
                    }
                    date = date.succ_opt().unwrap_or(date);
                }
                date
            }
        }
    }

    /// Reads `every 3 days`, `2w`, `monthly`, `weekdays`, `mon,thu` and the like.
    ///
    /// # Errors
    /// A [`RecurrenceError`] naming the accepted forms.
    pub fn parse(text: &str) -> Result<Self, RecurrenceError> {
        let lower = text.trim().to_lowercase();
        let err = || RecurrenceError(format!("cannot read {text:?} as a recurrence"));
        match lower.as_str() {
            "" => return Err(RecurrenceError("the recurrence is empty".into())),
            "daily" | "every day" => return Ok(Self::Days(1)),
            "weekly" | "every week" => return Ok(Self::Weeks(1)),
            "monthly" | "every month" => return Ok(Self::Months(1)),
            "weekdays" | "workdays" => return Ok(Self::Weekdays(vec![0, 1, 2, 3, 4])),
            _ => {}
        }
        let rest = lower.strip_prefix("every").unwrap_or(&lower).trim();
        // "3 days", "3d", "2 weeks", "2w", "1 month", "6m"
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            let n: u16 = digits.parse().map_err(|_| err())?;
            if n == 0 {
                return Err(RecurrenceError("the interval must be at least 1".into()));
            }
            let unit = rest[digits.len()..].trim();
            return match unit {
                "d" | "day" | "days" => Ok(Self::Days(n)),
                "w" | "week" | "weeks" => Ok(Self::Weeks(n)),
                "m" | "month" | "months" => Ok(Self::Months(n)),
                _ => Err(err()),
            };
        }
        let mut days = Vec::new();
        for part in rest.split([',', ' ']).filter(|p| !p.is_empty()) {
            let index = WEEKDAY_NAMES
                .iter()
                .position(|name| part.len() >= 3 && name.starts_with(part))
                .ok_or_else(err)?;
            days.push(index as u8);
        }
        if days.is_empty() {
            return Err(err());
        }
        days.sort_unstable();
        days.dedup();
        Ok(Self::Weekdays(days))
    }

    /// Whether the rule is in range (intervals ≥ 1, weekdays 0–6, at least one).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        match self {
            Self::Days(n) | Self::Weeks(n) | Self::Months(n) => *n >= 1,
            Self::Weekdays(days) => {
                !days.is_empty()
                    && days.iter().all(|d| *d < 7)
                    && days.windows(2).all(|w| w[0] < w[1])
            }
        }
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Days(1) => f.write_str("every day"),
            Self::Weeks(1) => f.write_str("every week"),
            Self::Months(1) => f.write_str("every month"),
            Self::Days(n) => write!(f, "every {n} days"),
            Self::Weeks(n) => write!(f, "every {n} weeks"),
            Self::Months(n) => write!(f, "every {n} months"),
            Self::Weekdays(days) => {
                let names: Vec<&str> = days
                    .iter()
                    .filter_map(|d| WEEKDAYS.get(usize::from(*d)).copied())
                    .collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Each written form parses, prints back in a form that parses to the same rule.
    #[test]
    fn parse_and_display_round_trip() {
        for text in [
            "every 3 days",
            "2w",
            "monthly",
            "weekdays",
            "mon, thu",
            "every 6 months",
        ] {
            let rule = Recurrence::parse(text).expect(text);
            assert!(rule.is_valid());
            assert_eq!(Recurrence::parse(&rule.to_string()), Ok(rule));
        }
        assert!(Recurrence::parse("every 0 days").is_err());
        assert!(Recurrence::parse("fortnightly").is_err());
        assert!(Recurrence::parse("monkey").is_err());
        assert_eq!(
            Recurrence::parse("Tuesday, thurs"),
            Ok(Recurrence::Weekdays(vec![1, 3]))
        );
        assert!(Recurrence::parse("").is_err());
    }

    /// The next due date follows the rule, including month ends and weekday sets.
    #[test]
    fn next_due_dates() {
        assert_eq!(
            Recurrence::Days(3).next_after(date(2026, 1, 30)),
            date(2026, 2, 2)
        );
        assert_eq!(
            Recurrence::Weeks(2).next_after(date(2026, 1, 1)),
            date(2026, 1, 15)
        );
        assert_eq!(
            Recurrence::Months(1).next_after(date(2026, 1, 31)),
            date(2026, 2, 28)
        );
        // 2026-11-20 is a Friday: next of mon,wed is Monday 23rd.
        let rule = Recurrence::parse("mon,wed").expect("rule");
        assert_eq!(rule.next_after(date(2026, 11, 20)), date(2026, 11, 23));
        assert_eq!(rule.next_after(date(2026, 11, 23)), date(2026, 11, 25));
    }
}
