//! Anonymous usage statistics per UTC day and endpoint: the `telemetry` tree, keyed
//! day (days since 1970, big-endian u32) ++ the endpoint's path template, so that a
//! day's entries sort together and old days go with one range removal. The counting
//! and the policy live in [`crate::stats`]; this is only their storage.
//!
//! Nothing here names a user, a session or a client address: a value is only counts.

use cairn_common::codec;
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

/// Status classes counted: 2xx (1xx never ends a request here), 3xx, 4xx, 5xx.
pub const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// Upper bounds of the latency buckets in microseconds (Prometheus `le`), the
/// +Inf bucket after them. Fixed: stored counts are only meaningful against them.
pub const BUCKET_BOUNDS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Number of latency buckets including +Inf.
pub const BUCKETS: usize = BUCKET_BOUNDS_US.len() + 1;

/// The counts of one endpoint on one day (or a part of it, before merging).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounts {
    /// Requests per status class, in the order of [`CLASSES`].
    pub classes: [u64; 4],
    /// Requests per latency bucket, not cumulative, in the order of
    /// [`BUCKET_BOUNDS_US`] then +Inf.
    pub buckets: [u64; BUCKETS],
    /// Total latency in microseconds.
    pub sum_us: u64,
}

impl DayCounts {
    /// Adds `other` to these counts (saturating: a counter never wraps to small).
    pub fn add(&mut self, other: &DayCounts) {
        for (a, b) in self.classes.iter_mut().zip(other.classes) {
            *a = a.saturating_add(b);
        }
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a = a.saturating_add(b);
        }
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
    }

    /// Whether nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == DayCounts::default()
    }
}

/// One stored entry: the day (days since 1970, UTC), the endpoint, its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryEntry {
    pub day: u32,
    pub endpoint: String,
    pub counts: DayCounts,
}

fn key(day: u32, endpoint: &str) -> Vec<u8> {
    super::key2(&day.to_be_bytes(), endpoint.as_bytes())
}

impl SledStore {
    /// Adds `counts` to the stored counts of `endpoint` on `day`, atomically (a
    /// concurrent add is not lost). Not made durable here: the server's shutdown
    /// flush and the next group commit cover it, and losing the last minute of
    /// statistics in a crash is harmless.
    ///
    /// # Errors
    /// A storage error.
    pub fn add_telemetry(
        &self,
        day: u32,
        endpoint: &str,
        counts: &DayCounts,
    ) -> Result<(), StoreError> {
        let merge = |old: Option<&[u8]>| {
            // A damaged entry starts over: it is only statistics.
            let mut total = old
                .and_then(|b| codec::decode::<DayCounts>(b).ok())
                .unwrap_or_default();
            total.add(counts);
            codec::encode(&total).ok()
        };
        self.db()
            .telemetry
            .update_and_fetch(key(day, endpoint), merge)?;
        Ok(())
    }

    /// Every stored entry, by day then endpoint. Damaged entries are skipped.
    ///
    /// # Errors
    /// A storage error.
    pub fn telemetry(&self) -> Result<Vec<TelemetryEntry>, StoreError> {
        let mut entries = Vec::new();
        for entry in &self.db().telemetry {
            let (key, value) = entry?;
            let Some((day, endpoint)) = key.split_first_chunk::<4>() else {
                continue;
            };
            let (Ok(endpoint), Ok(counts)) = (
                std::str::from_utf8(endpoint),
                codec::decode::<DayCounts>(&value),
            ) else {
                continue;
            };
            entries.push(TelemetryEntry {
                day: u32::from_be_bytes(*day),
                endpoint: endpoint.to_owned(),
                counts,
            });
        }
        Ok(entries)
    }

    /// Removes every entry of a day before `first_kept_day`; returns how many.
    ///
    /// # Errors
    /// A storage error.
    pub fn sweep_telemetry(&self, first_kept_day: u32) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.db().telemetry.range(..first_kept_day.to_be_bytes()) {
            let (key, _) = entry?;
            self.db().telemetry.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::temp_store;
    use super::*;
    use cairn_common::api::{Endpoint, endpoints};

    fn counts(n: u64) -> DayCounts {
        let mut c = DayCounts::default();
        c.classes[0] = n;
        c.buckets[0] = n;
        c.sum_us = n * 100;
        c
    }

    /// Adds merge per day and endpoint; the sweep removes exactly the days before
    /// the first kept one.
    #[test]
    fn add_list_sweep() {
        let (_dir, store) = temp_store();
        store
            .add_telemetry(10, endpoints::Pull::PATH, &counts(2))
            .expect("add");
        store
            .add_telemetry(10, endpoints::Pull::PATH, &counts(3))
            .expect("add");
        store
            .add_telemetry(10, endpoints::Push::PATH, &counts(1))
            .expect("add");
        store.add_telemetry(11, "other", &counts(4)).expect("add");
        let all = store.telemetry().expect("list");
        let summary: Vec<_> = all
            .iter()
            .map(|e| (e.day, e.endpoint.as_str(), e.counts.classes[0]))
            .collect();
        assert_eq!(
            summary,
            [
                (10, endpoints::Pull::PATH, 5),
                (10, endpoints::Push::PATH, 1),
                (11, "other", 4)
            ]
        );
        assert_eq!(all[0].counts.sum_us, 500);
        assert_eq!(store.sweep_telemetry(11).expect("sweep"), 2);
        let left: Vec<_> = store
            .telemetry()
            .expect("list")
            .into_iter()
            .map(|e| e.day)
            .collect();
        assert_eq!(left, [11]);
    }
}
