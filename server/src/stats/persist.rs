//! Moving the in-memory counts into the store, and deleting old days: [`persist`]
//! and [`sweep`] do one round; [`Persister`] runs them on a schedule while the
//! server serves, and once more at shutdown.
//!
//! Counts go to the UTC day on which they are persisted. The schedule wakes at
//! every UTC midnight as well as every interval, so only the requests of the last
//! moment before midnight can land on the next day.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Stats;
use crate::clock::Clock;
use crate::store::{Store, StoreError, block_on};

/// Milliseconds in a day.
pub const DAY_MS: u64 = 24 * 3600 * 1000;

/// The UTC day (days since 1970) of a time in ms since 1970.
#[must_use]
pub fn day_of(ms: u64) -> u32 {
    u32::try_from(ms / DAY_MS).unwrap_or(u32::MAX)
}

/// Adds the counts taken from `stats` to the store under the day of `now_ms`.
/// Returns how many endpoints had counts.
///
/// # Errors
/// A storage error; the counts not stored are put back into `stats`.
pub async fn persist(stats: &Stats, store: &Store, now_ms: u64) -> Result<usize, StoreError> {
    let day = day_of(now_ms);
    let taken = stats.take();
    let mut result = Ok(taken.len());
    for (label, counts) in &taken {
        if result.is_ok() {
            if let Err(e) = store.add_telemetry(day, label, counts).await {
                result = Err(e);
                stats.put_back(label, counts);
            }
        } else {
            stats.put_back(label, counts);
        }
    }
    result
}

/// Deletes the stored days older than `retention_days` (today counts as one) at
/// `now_ms`. Returns how many entries went.
///
/// # Errors
/// A storage error.
pub async fn sweep(store: &Store, now_ms: u64, retention_days: u32) -> Result<usize, StoreError> {
    let keep = retention_days.clamp(1, super::MAX_RETENTION_DAYS);
    let first_kept = day_of(now_ms).saturating_sub(keep - 1);
    store.sweep_telemetry(first_kept).await
}

/// One scheduled round: persist, then sweep. Failures are logged; the next round
/// tries again.
async fn round(stats: &Stats, store: &Store, clock: &Clock) {
    let now = clock.now_ms();
    if let Err(e) = persist(stats, store, now).await {
        tracing::warn!("could not store the usage statistics (kept in memory, retrying): {e}");
    }
    match sweep(store, now, stats.settings().retention_days).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!("deleted {n} usage statistics entries past their retention"),
        Err(e) => tracing::warn!("could not delete old usage statistics (retrying): {e}"),
    }
}

/// The wait until the next round: the interval, or less to wake at UTC midnight.
fn next_wait(interval: Duration, now_ms: u64) -> Duration {
    let to_midnight = Duration::from_millis(DAY_MS - now_ms % DAY_MS);
    interval.min(to_midnight).max(Duration::from_millis(1))
}

/// The scheduled persisting and sweeping of a running server.
pub struct Persister {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Persister {
    /// Starts the schedule on the current tokio runtime; the first round (a sweep
    /// of what a stopped server left past its retention) runs at once.
    #[must_use]
    pub fn start(stats: Stats, store: Store, clock: Clock) -> Persister {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                let (s, st, c) = (stats.clone(), store.clone(), clock.clone());
                // sled blocks; a panic there only ends this round.
                let _ = tokio::task::spawn_blocking(move || block_on(round(&s, &st, &c))).await;
                let wait = next_wait(stats.settings().persist_interval, clock.now_ms());
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
            // The last counts, before the store is flushed and closed.
            let _ =
                tokio::task::spawn_blocking(move || block_on(round(&stats, &store, &clock))).await;
        });
        Persister { stop, task }
    }

    /// Stops the schedule after one last round; returns when it is done.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!("the usage statistics task failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::StatsSettings;
    use crate::store::Blocking as _;
    use crate::store::test_support::temp_facade as temp_store;
    use cairn_common::api::{Endpoint, endpoints};
    use warp::http::StatusCode;

    /// 2023-11-14 12:00 UTC.
    const NOON_MS: u64 = 1_699_963_200_000;

    fn days(store: &Store) -> Vec<u32> {
        let mut days: Vec<u32> = store
            .telemetry()
            .wait()
            .expect("list")
            .into_iter()
            .map(|e| e.day)
            .collect();
        days.dedup();
        days
    }

    /// Counts persisted on different days are stored under each; the sweep deletes
    /// a 30-day-old day and keeps a 29-day-old one.
    #[test]
    fn persist_per_day_and_sweep_after_30_days() {
        let (_dir, store) = temp_store();
        let stats = Stats::default();
        let today = day_of(NOON_MS);
        for age in [31u32, 30, 29, 0] {
            stats.record(
                endpoints::Pull::PATH,
                StatusCode::OK,
                Duration::from_millis(1),
            );
            let at = NOON_MS - u64::from(age) * DAY_MS;
            assert_eq!(persist(&stats, &store, at).wait().expect("persist"), 1);
        }
        assert_eq!(
            persist(&stats, &store, NOON_MS)
                .wait()
                .expect("nothing new"),
            0
        );
        assert_eq!(days(&store), [today - 31, today - 30, today - 29, today]);
        assert_eq!(sweep(&store, NOON_MS, 30).wait().expect("sweep"), 2);
        assert_eq!(days(&store), [today - 29, today]);
        // A retention over the promised 30 days is held to 30.
        store
            .add_telemetry(
                today - 30,
                endpoints::Pull::PATH,
                &crate::store::DayCounts::default(),
            )
            .wait()
            .expect("add");
        assert_eq!(sweep(&store, NOON_MS, 365).wait().expect("sweep"), 1);
    }

    /// The running schedule, going by a hand-moved clock, deletes a day once the
    /// clock passes its 30 days, and persists the last counts when stopped.
    #[tokio::test]
    async fn the_schedule_sweeps_by_the_clock() {
        let (_dir, store) = temp_store();
        let clock = Clock::manual(NOON_MS);
        let stats = Stats::new(StatsSettings {
            persist_interval: Duration::from_millis(20),
            ..StatsSettings::default()
        });
        let day = day_of(NOON_MS);
        stats.record(
            endpoints::Push::PATH,
            StatusCode::OK,
            Duration::from_millis(3),
        );
        let persister = Persister::start(stats.clone(), store.clone(), clock.clone());
        wait_for(|| days(&store) == [day]).await;
        clock.advance(Duration::from_millis(29 * DAY_MS));
        // A round that read the clock before it moved is over by now, so the next
        // count goes to the new day.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stats.record(
            endpoints::Push::PATH,
            StatusCode::OK,
            Duration::from_millis(3),
        );
        wait_for(|| days(&store) == [day, day + 29]).await;
        clock.advance(Duration::from_millis(DAY_MS));
        wait_for(|| days(&store) == [day + 29]).await;
        stats.record(
            endpoints::Push::PATH,
            StatusCode::INTERNAL_SERVER_ERROR,
            Duration::ZERO,
        );
        persister.stop().await;
        let last = store.telemetry().await.expect("list");
        assert_eq!(last.len(), 2, "{last:?}");
        assert_eq!(last[1].day, day + 30);
        assert_eq!(last[1].counts.classes[3], 1);
    }

    async fn wait_for(mut check: impl FnMut() -> bool) {
        for _ in 0..500 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("not reached within 5 s");
    }

    /// The schedule wakes at UTC midnight when that comes before the interval.
    #[test]
    fn wakes_at_midnight() {
        let hour = Duration::from_secs(3600);
        assert_eq!(next_wait(hour, NOON_MS), hour);
        let before_midnight = NOON_MS + 12 * 3600 * 1000 - 5_000;
        assert_eq!(
            next_wait(hour, before_midnight),
            Duration::from_millis(5_000)
        );
    }
}
