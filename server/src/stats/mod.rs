//! Anonymous usage statistics: per endpoint and UTC day, requests per status class
//! and a latency histogram with fixed buckets. Nothing else is kept: no user, no
//! session or token, and no client address at all (not even truncated).
//!
//! [`Stats`] counts in memory on the request path with relaxed atomics (no lock, no
//! allocation, no clock read beyond the latency's); [`persist`] moves the counts
//! into the store under the day they are persisted on, periodically and at
//! shutdown, and sweeps days older than the retention (at most 30 days).
//! [`prometheus`] renders what the store holds for `GET /metrics`.
//!
//! Endpoints are counted under their paths ([`ENDPOINTS`], from
//! `cairn_common::api::endpoints`); every other path counts as [`OTHER`], so that no
//! request can add a label.

pub mod persist;
pub mod prometheus;
#[cfg(test)]
mod tests_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use warp::http::StatusCode;

use crate::store::{BUCKET_BOUNDS_US, BUCKETS, DayCounts};

/// The path of every endpoint the API serves, each a label: the paths of
/// [`cairn_common::api::endpoints`], where every route takes its path from.
pub const ENDPOINTS: &[&str] = cairn_common::api::endpoints::PATHS;

/// The label of every path that is not one of [`ENDPOINTS`].
pub const OTHER: &str = "other";

/// The most days statistics are kept: the licence promises deletion after 30.
pub const MAX_RETENTION_DAYS: u32 = 30;

/// How statistics are kept and who may read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsSettings {
    /// Days kept, today included (1 to [`MAX_RETENTION_DAYS`]).
    pub retention_days: u32,
    /// How often the in-memory counts go to the store (and old days are swept).
    pub persist_interval: Duration,
    /// Whether `/metrics` answers a loopback peer without a token. Turn off when a
    /// proxy on the same host forwards outside requests.
    pub metrics_from_loopback: bool,
}

impl Default for StatsSettings {
    fn default() -> Self {
        StatsSettings {
            retention_days: MAX_RETENTION_DAYS,
            persist_interval: Duration::from_secs(60),
            metrics_from_loopback: true,
        }
    }
}

/// The label of a request path: itself if it is one of [`ENDPOINTS`], else [`OTHER`].
#[must_use]
pub fn label(path: &str) -> &'static str {
    index(path).map_or(OTHER, |i| ENDPOINTS[i])
}

fn index(path: &str) -> Option<usize> {
    ENDPOINTS.iter().position(|e| *e == path)
}

/// The bucket of a latency: the first whose bound it does not exceed, else +Inf.
fn bucket(latency_us: u64) -> usize {
    BUCKET_BOUNDS_US
        .iter()
        .position(|bound| latency_us <= *bound)
        .unwrap_or(BUCKETS - 1)
}

fn class(status: StatusCode) -> usize {
    match status.as_u16() {
        ..300 => 0,
        300..400 => 1,
        400..500 => 2,
        _ => 3,
    }
}

/// One endpoint's counts not yet persisted.
#[derive(Default)]
struct Counters {
    classes: [AtomicU64; 4],
    buckets: [AtomicU64; BUCKETS],
    sum_us: AtomicU64,
}

impl Counters {
    fn record(&self, status: StatusCode, latency_us: u64) {
        // Relaxed: each counter is independent; persisting may see one request's
        // class before its bucket, and takes the bucket at the next round.
        self.classes[class(status)].fetch_add(1, Ordering::Relaxed);
        self.buckets[bucket(latency_us)].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(latency_us, Ordering::Relaxed);
    }

    /// Takes the counts, leaving zeros.
    fn take(&self) -> DayCounts {
        let take = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        DayCounts {
            classes: std::array::from_fn(|i| take(&self.classes[i])),
            buckets: std::array::from_fn(|i| take(&self.buckets[i])),
            sum_us: take(&self.sum_us),
        }
    }

    /// Puts counts back (a failed persist must not lose them).
    fn put_back(&self, counts: &DayCounts) {
        let add = |c: &AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
        for (c, n) in self.classes.iter().zip(counts.classes) {
            add(c, n);
        }
        for (c, n) in self.buckets.iter().zip(counts.buckets) {
            add(c, n);
        }
        add(&self.sum_us, counts.sum_us);
    }
}

/// The server's usage counters since they were last persisted. Cheap to clone:
/// clones share the counters.
#[derive(Clone)]
pub struct Stats {
    inner: Arc<Inner>,
}

struct Inner {
    settings: StatsSettings,
    /// One per [`ENDPOINTS`] entry, then one for [`OTHER`].
    endpoints: Vec<Counters>,
}

impl Stats {
    #[must_use]
    pub fn new(settings: StatsSettings) -> Self {
        Stats {
            inner: Arc::new(Inner {
                settings,
                endpoints: (0..=ENDPOINTS.len()).map(|_| Counters::default()).collect(),
            }),
        }
    }

    #[must_use]
    pub fn settings(&self) -> &StatsSettings {
        &self.inner.settings
    }

    /// Counts one answered request to `path`.
    pub fn record(&self, path: &str, status: StatusCode, latency: Duration) {
        let i = index(path).unwrap_or(ENDPOINTS.len());
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.inner.endpoints[i].record(status, latency_us);
    }

    /// Takes every endpoint's counts (those with any), leaving zeros.
    fn take(&self) -> Vec<(&'static str, DayCounts)> {
        let labels = ENDPOINTS.iter().copied().chain([OTHER]);
        labels
            .zip(&self.inner.endpoints)
            .map(|(label, counters)| (label, counters.take()))
            .filter(|(_, counts)| !counts.is_empty())
            .collect()
    }

    fn put_back(&self, label: &str, counts: &DayCounts) {
        let i = index(label).unwrap_or(ENDPOINTS.len());
        self.inner.endpoints[i].put_back(counts);
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new(StatsSettings::default())
    }
}

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_common::api::{Endpoint, endpoints};

    /// Known paths are their own label; anything else, however long or odd, is `other`.
    #[test]
    fn labels_are_bounded() {
        assert_eq!(label(endpoints::Push::PATH), endpoints::Push::PATH);
        for path in [
            "/v1/push/",
            "/v1/PUSH",
            "/",
            "",
            "/v1/push?x=1",
            "/x/../v1/push",
        ] {
            assert_eq!(label(path), OTHER, "{path}");
        }
    }

    /// A latency falls in the first bucket whose bound it does not exceed; status
    /// codes fall in their class.
    #[test]
    fn buckets_and_classes() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(500), 0);
        assert_eq!(bucket(501), 1);
        assert_eq!(bucket(10_000_000), BUCKETS - 2);
        assert_eq!(bucket(10_000_001), BUCKETS - 1);
        let classes: Vec<usize> = [200, 204, 301, 404, 426, 500, 503]
            .into_iter()
            .map(|s| class(StatusCode::from_u16(s).expect("status")))
            .collect();
        assert_eq!(classes, [0, 0, 1, 2, 2, 3, 3]);
    }

    /// Taking leaves zeros; putting back restores what was taken.
    #[test]
    fn take_and_put_back() {
        let stats = Stats::default();
        stats.record(
            endpoints::Pull::PATH,
            StatusCode::OK,
            Duration::from_micros(700),
        );
        stats.record("/nope", StatusCode::NOT_FOUND, Duration::from_millis(2));
        let taken = stats.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].0, endpoints::Pull::PATH);
        assert_eq!(taken[0].1.buckets[1], 1);
        assert_eq!(taken[1].0, OTHER);
        assert_eq!(taken[1].1.classes[2], 1);
        assert!(stats.take().is_empty());
        stats.put_back(taken[1].0, &taken[1].1);
        assert_eq!(stats.take(), vec![taken[1].clone()]);
    }
}
