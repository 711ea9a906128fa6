//! The time the server goes by: the system clock, or a hand-moved one in tests.
//! Everyone's clock: sessions and throttling, the scheduler, statistics, the store's
//! time stamps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds since 1970 by the system clock.
#[must_use]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Milliseconds since 1970. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock that shows `start` until moved with [`Clock::advance`] or [`Clock::set`].
    #[must_use]
    pub fn manual(start_ms: u64) -> Self {
        Self(Source::Manual(Arc::new(AtomicU64::new(start_ms))))
    }

    /// The current time in ms since 1970.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Source::System => now_ms(),
            Source::Manual(ms) => ms.load(Ordering::Acquire),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: std::time::Duration) {
        if let Source::Manual(ms) = &self.0 {
            let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            ms.fetch_add(by, Ordering::AcqRel);
        }
    }

    /// Sets a manual clock (no effect on the system clock).
    pub fn set(&self, now_ms: u64) {
        if let Source::Manual(ms) = &self.0 {
            ms.store(now_ms, Ordering::Release);
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::system"),
            Source::Manual(ms) => write!(f, "Clock::manual({})", ms.load(Ordering::Acquire)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manual clock moves only when told; clones share it.
    #[test]
    fn manual_clock() {
        let clock = Clock::manual(1_000);
        let other = clock.clone();
        clock.advance(std::time::Duration::from_secs(2));
        assert_eq!(other.now_ms(), 3_000);
        other.set(5);
        assert_eq!(clock.now_ms(), 5);
        assert!(Clock::system().now_ms() > 1_600_000_000_000);
    }
}
