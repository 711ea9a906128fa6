//! When the server backs itself up: daily at a local time, and after a failure
//! again `retry_minutes` later. [`Scheduler::poll`] decides and runs, given the
//! time; [`spawn`] calls it every tick from a task, so that the wall clock is
//! looked at often (a suspended machine or a changed clock is noticed within a tick).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Local, LocalResult, NaiveDate, NaiveTime, TimeZone};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::create::Created;
use super::{BackupError, Backups};
use crate::clock::Clock;
use crate::store::Store;

/// How often the scheduler looks at the clock in a running server.
pub const TICK: Duration = Duration::from_secs(30);

/// The run on `date` at local time `at`. On a day when the clocks skip `at`, the
/// first minute after the skip; when `at` happens twice, the first time.
fn run_on<Tz: TimeZone>(tz: &Tz, date: NaiveDate, at: NaiveTime) -> Option<DateTime<Tz>> {
    let local = date.and_time(at);
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(first, _) => Some(first),
        LocalResult::None => (1..=24 * 60).find_map(|m| {
            tz.from_local_datetime(&(local + chrono::Duration::minutes(m)))
                .earliest()
        }),
    }
}

/// The first run at local time `at` after `now`.
pub fn next_run<Tz: TimeZone>(now: &DateTime<Tz>, at: NaiveTime) -> DateTime<Tz> {
    let tz = now.timezone();
    let mut date = now.date_naive();
    for _ in 0..4 {
        if let Some(t) = run_on(&tz, date, at)
            && t > *now
        {
            return t;
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    // Only at the end of chrono's calendar: try again in a day.
    now.clone() + chrono::Duration::days(1)
}

fn local(ms: u64) -> DateTime<Local> {
    Local
        .timestamp_millis_opt(i64::try_from(ms).unwrap_or(i64::MAX))
        .earliest()
        .unwrap_or_else(Local::now)
}

fn next_run_ms(now_ms: u64, at: NaiveTime) -> u64 {
    u64::try_from(next_run(&local(now_ms), at).timestamp_millis()).unwrap_or(u64::MAX)
}

/// Decides when to back up, and does.
pub struct Scheduler {
    store: Store,
    backups: Backups,
    /// Where the backups go, for the log.
    dir: PathBuf,
    at: NaiveTime,
    retry_ms: u64,
    next_ms: u64,
}

impl Scheduler {
    /// A scheduler of `backups` whose first run is the next `daily_at` after `now_ms`.
    ///
    /// # Errors
    /// [`BackupError::Refused`] if the backups have no settings (their data dir's
    /// config could not be loaded).
    pub fn new(store: Store, backups: Backups, now_ms: u64) -> Result<Self, BackupError> {
        let (dir, settings) = backups.config()?;
        let at = settings.time_of_day().unwrap_or(NaiveTime::MIN);
        let retry_ms = u64::from(settings.retry_minutes) * 60_000;
        let dir = dir.to_owned();
        Ok(Scheduler {
            next_ms: next_run_ms(now_ms, at),
            store,
            backups,
            dir,
            at,
            retry_ms,
        })
    }

    /// When the next scheduled backup runs (ms), retries aside.
    #[must_use]
    pub fn next_ms(&self) -> u64 {
        self.next_ms
    }

    /// Runs a backup if one is due at `now_ms` (scheduled, or a retry of a failed
    /// one) and returns its outcome. Blocking.
    pub fn poll(&mut self, now_ms: u64) -> Option<Result<Created, BackupError>> {
        let retry_due = self
            .backups
            .health()
            .failing
            .is_some_and(|f| now_ms >= f.at_ms.saturating_add(self.retry_ms));
        if now_ms < self.next_ms && !retry_due {
            return None;
        }
        let outcome = crate::store::wait(super::run_backup(
            &self.store,
            &self.backups,
            now_ms,
            &cairn_common::progress::Quiet,
        ));
        self.next_ms = next_run_ms(now_ms, self.at);
        Some(outcome)
    }
}

/// The running scheduler task.
pub struct ScheduleHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ScheduleHandle {
    /// Stops the scheduler, waiting for a backup in progress to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!("the backup scheduler failed: {e}");
        }
    }
}

/// Starts the scheduler: every `tick` it polls with `clock`'s time.
pub fn spawn(mut scheduler: Scheduler, clock: Clock, tick: Duration) -> ScheduleHandle {
    let (stop, mut stopped) = oneshot::channel();
    tracing::info!(
        "next backup at {} into {}",
        local(scheduler.next_ms).format("%Y-%m-%d %H:%M %Z"),
        scheduler.dir.display()
    );
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                () = tokio::time::sleep(tick) => {}
            }
            let now = clock.now_ms();
            let polled = tokio::task::spawn_blocking(move || {
                scheduler.poll(now);
                scheduler
            })
            .await;
            match polled {
                Ok(back) => scheduler = back,
                Err(e) => {
                    tracing::error!("the backup task failed: {e}; scheduled backups stopped");
                    break;
                }
            }
        }
    });
    ScheduleHandle { stop, task }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDateTime, Offset, Utc};

    /// A time zone with Central European summer time (UTC+1, +2 from the last
    /// Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC), enough
    /// to test the days the clocks change without a time zone database.
    #[derive(Clone, Copy, Debug)]
    struct Cet;

    fn summer(utc: &NaiveDateTime) -> bool {
        let year = chrono::Datelike::year(utc);
        let last_sunday = |month: u32| {
            let mut d =
                NaiveDate::from_ymd_opt(year, month + 1, 1).expect("date") - chrono::Days::new(1);
            while chrono::Datelike::weekday(&d) != chrono::Weekday::Sun {
                d = d - chrono::Days::new(1);
            }
            d.and_hms_opt(1, 0, 0).expect("time")
        };
        *utc >= last_sunday(3) && *utc < last_sunday(10)
    }

    fn offset(hours: i32) -> FixedOffset {
        FixedOffset::east_opt(hours * 3600).expect("offset")
    }

    impl TimeZone for Cet {
        type Offset = FixedOffset;
        fn from_offset(_: &FixedOffset) -> Self {
            Cet
        }
        fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<FixedOffset> {
            self.offset_from_local_datetime(&local.and_hms_opt(12, 0, 0).expect("noon"))
        }
        fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<FixedOffset> {
            let candidates: Vec<FixedOffset> = [1, 2]
                .into_iter()
                .map(offset)
                .filter(|o| {
                    let utc = *local - chrono::Duration::seconds(i64::from(o.local_minus_utc()));
                    self.offset_from_utc_datetime(&utc) == *o
                })
                .collect();
            match candidates.as_slice() {
                [] => LocalResult::None,
                [one] => LocalResult::Single(*one),
                // Summer time (+2) is the earlier instant of the two.
                [a, b] => LocalResult::Ambiguous(*b, *a),
                _ => LocalResult::None,
            }
        }
        fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
            self.offset_from_utc_datetime(&utc.and_hms_opt(12, 0, 0).expect("noon"))
        }
        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
            if summer(utc) { offset(2) } else { offset(1) }
        }
    }

    fn cet(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Cet> {
        Cet.from_local_datetime(
            &NaiveDate::from_ymd_opt(y, m, d)
                .expect("date")
                .and_hms_opt(h, min, 0)
                .expect("time"),
        )
        .earliest()
        .expect("exists")
    }

    fn two() -> NaiveTime {
        NaiveTime::from_hms_opt(2, 0, 0).expect("time")
    }

    /// Before 02:00 the run is today, at or after it tomorrow, in a fixed zone.
    #[test]
    fn next_run_plain_days() {
        let tz = offset(-5);
        let now = tz
            .with_ymd_and_hms(2026, 5, 10, 1, 59, 0)
            .single()
            .expect("t");
        assert_eq!(
            next_run(&now, two()),
            tz.with_ymd_and_hms(2026, 5, 10, 2, 0, 0)
                .single()
                .expect("t")
        );
        let now = tz
            .with_ymd_and_hms(2026, 5, 10, 2, 0, 0)
            .single()
            .expect("t");
        assert_eq!(
            next_run(&now, two()),
            tz.with_ymd_and_hms(2026, 5, 11, 2, 0, 0)
                .single()
                .expect("t")
        );
        let now = tz
            .with_ymd_and_hms(2026, 12, 31, 23, 0, 0)
            .single()
            .expect("t");
        assert_eq!(
            next_run(&now, two()),
            tz.with_ymd_and_hms(2027, 1, 1, 2, 0, 0)
                .single()
                .expect("t")
        );
    }

    /// On the spring day 02:00 does not exist: the run is at 03:00 (the first
    /// minute after the skip), once; on the autumn day 02:00 happens twice: the run
    /// is at the first, and the second does not run again.
    #[test]
    fn next_run_on_clock_change_days() {
        // 2026-03-29: 02:00 -> 03:00 in central Europe.
        let now = cet(2026, 3, 29, 0, 30);
        let run = next_run(&now, two());
        assert_eq!(run.naive_local(), cet(2026, 3, 29, 3, 0).naive_local());
        assert_eq!(
            run.with_timezone(&Utc).to_rfc3339(),
            "2026-03-29T01:00:00+00:00"
        );
        let after = next_run(&run, two());
        assert_eq!(after.naive_local(), cet(2026, 3, 30, 2, 0).naive_local());

        // 2026-10-25: 03:00 -> 02:00, so 02:00-03:00 happens twice.
        let now = cet(2026, 10, 25, 1, 0);
        let run = next_run(&now, two());
        assert_eq!(
            run.with_timezone(&Utc).to_rfc3339(),
            "2026-10-25T00:00:00+00:00"
        );
        let second_two = run + chrono::Duration::hours(1);
        assert_eq!(second_two.naive_local(), run.naive_local(), "02:00 again");
        let after = next_run(&run, two());
        assert_eq!(
            after.with_timezone(&Utc).to_rfc3339(),
            "2026-10-26T01:00:00+00:00"
        );
        assert_eq!(next_run(&second_two, two()), after);
        assert_eq!(after.offset().fix(), offset(1));
    }
}
