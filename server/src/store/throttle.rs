//! Failed-login counters, per account and address, per client address, and per
//! account. The policy lives in
//! [`crate::auth::throttle`]; this is only their storage. They are not made durable
//! on purpose: losing the last seconds of counters in a crash is harmless.
//!
//! A reservation (read the counters, decide, count) and a release are each one
//! step that no other reservation interleaves with: on sled under one lock for the
//! process, which owns the data dir alone; on PostgreSQL under row-key locks in the
//! database, which every server shares.

use std::sync::Mutex;

use cairn_common::codec;
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

/// Failed logins of one key since its last success (or since they were forgotten).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleState {
    pub failures: u32,
    pub last_failure_ms: u64,
}

/// What a reservation decided after reading its counters: the positions of the
/// keys to count a failure for, or a refusal (for example how long to wait).
pub type ThrottleDecision<R> = Result<Vec<usize>, R>;

/// One reservation or release at a time in this process (sled only: the data dir
/// has one server).
static THROTTLE_STEP: Mutex<()> = Mutex::new(());

impl SledStore {
    /// Reads the counters of `keys`, lets `decide` choose which of them to count a
    /// failure for (at `now_ms`; counters last failed before `forget_before_ms`
    /// start over) or refuse, and counts them, as one step.
    ///
    /// # Errors
    /// A storage error; then nothing was counted.
    pub fn reserve_throttle<R>(
        &self,
        keys: &[&str],
        now_ms: u64,
        forget_before_ms: u64,
        decide: impl FnOnce(&[ThrottleState]) -> ThrottleDecision<R>,
    ) -> Result<Result<(), R>, StoreError> {
        let _one_at_a_time = THROTTLE_STEP
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let states = keys
            .iter()
            .map(|key| self.throttle_state(key))
            .collect::<Result<Vec<_>, _>>()?;
        match decide(&states) {
            Err(refusal) => Ok(Err(refusal)),
            Ok(count) => {
                for key in count.iter().filter_map(|&i| keys.get(i)) {
                    self.count_throttle_failure(key, now_ms, forget_before_ms)?;
                }
                Ok(Ok(()))
            }
        }
    }

    /// Takes a reservation back, as one step: `clear` starts over, each of
    /// `uncount` loses one failure.
    ///
    /// # Errors
    /// A storage error.
    pub fn release_throttle(&self, clear: &str, uncount: &[&str]) -> Result<(), StoreError> {
        let _one_at_a_time = THROTTLE_STEP
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.set_throttle_state(clear, ThrottleState::default())?;
        for key in uncount {
            self.uncount_throttle_failure(key)?;
        }
        Ok(())
    }

    /// The counters of `key` (zero if none).
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError> {
        match self.db().throttle.get(key.as_bytes())? {
            Some(bytes) => Ok(codec::decode(&bytes)?),
            None => Ok(ThrottleState::default()),
        }
    }

    /// Stores the counters of `key`; zero counters remove it.
    ///
    /// # Errors
    /// A storage error.
    pub fn set_throttle_state(&self, key: &str, state: ThrottleState) -> Result<(), StoreError> {
        if state == ThrottleState::default() {
            self.db().throttle.remove(key.as_bytes())?;
        } else {
            self.db()
                .throttle
                .insert(key.as_bytes(), codec::encode(&state)?)?;
        }
        Ok(())
    }

    /// Counts one more failure of `key` at `now_ms`, atomically (concurrent failures
    /// all count). Counters whose last failure is before `forget_before_ms` start over.
    ///
    /// # Errors
    /// A storage error.
    fn count_throttle_failure(
        &self,
        key: &str,
        now_ms: u64,
        forget_before_ms: u64,
    ) -> Result<ThrottleState, StoreError> {
        let bump = |old: Option<&[u8]>| {
            // A damaged counter starts over: it only ever delays logins.
            let mut state = old
                .and_then(|b| codec::decode::<ThrottleState>(b).ok())
                .filter(|s| s.last_failure_ms >= forget_before_ms)
                .unwrap_or_default();
            state.failures = state.failures.saturating_add(1);
            state.last_failure_ms = state.last_failure_ms.max(now_ms);
            codec::encode(&state).ok()
        };
        let new = self.db().throttle.update_and_fetch(key.as_bytes(), bump)?;
        Ok(new.and_then(|b| codec::decode(&b).ok()).unwrap_or_default())
    }

    /// Takes one failure back from `key` (a reservation whose password was
    /// right), atomically; a counter at zero is removed. The time of the last
    /// failure stays: it may be another attempt's.
    ///
    /// # Errors
    /// A storage error.
    fn uncount_throttle_failure(&self, key: &str) -> Result<(), StoreError> {
        let lower = |old: Option<&[u8]>| {
            // A damaged counter starts over: it only ever delays logins.
            let mut state = old.and_then(|b| codec::decode::<ThrottleState>(b).ok())?;
            state.failures = state.failures.saturating_sub(1);
            if state.failures == 0 {
                None
            } else {
                codec::encode(&state).ok()
            }
        };
        self.db().throttle.update_and_fetch(key.as_bytes(), lower)?;
        Ok(())
    }

    /// Forgets counters whose last failure is before `before_ms`, so addresses and
    /// names that stopped failing do not pile up. Returns how many were removed.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn sweep_throttle(&self, before_ms: u64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in &self.db().throttle {
            let (key, value) = entry?;
            // A damaged entry is forgotten too: it only ever delays logins.
            let old = codec::decode::<ThrottleState>(&value)
                .map_or(true, |s| s.last_failure_ms < before_ms);
            if old {
                self.db().throttle.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::temp_store;
    use super::*;

    /// Counters are stored, cleared by a zero state, and swept when old.
    #[test]
    fn store_clear_sweep() {
        let (_dir, store) = temp_store();
        let s = ThrottleState {
            failures: 3,
            last_failure_ms: 50,
        };
        store.set_throttle_state("a:x", s).expect("set");
        store
            .set_throttle_state(
                "ip:1",
                ThrottleState {
                    failures: 1,
                    last_failure_ms: 500,
                },
            )
            .expect("set");
        assert_eq!(store.throttle_state("a:x").expect("get"), s);
        assert_eq!(store.sweep_throttle(100).expect("sweep"), 1);
        assert_eq!(
            store.throttle_state("a:x").expect("get"),
            ThrottleState::default()
        );
        store
            .set_throttle_state("ip:1", ThrottleState::default())
            .expect("clear");
        assert_eq!(store.sweep_throttle(u64::MAX).expect("sweep"), 0);
        let one = store.count_throttle_failure("a:y", 10, 0).expect("count");
        let two = store.count_throttle_failure("a:y", 20, 0).expect("count");
        assert_eq!(
            (one.failures, two.failures, two.last_failure_ms),
            (1, 2, 20)
        );
        let fresh = store
            .count_throttle_failure("a:y", 30, 25)
            .expect("forgotten");
        assert_eq!(fresh.failures, 1);
        store.count_throttle_failure("a:y", 40, 0).expect("count");
        store.uncount_throttle_failure("a:y").expect("uncount");
        assert_eq!(
            store.throttle_state("a:y").expect("get"),
            ThrottleState {
                failures: 1,
                last_failure_ms: 40
            }
        );
        store.uncount_throttle_failure("a:y").expect("uncount");
        store
            .uncount_throttle_failure("a:none")
            .expect("uncount nothing");
        assert_eq!(
            store.sweep_throttle(u64::MAX).expect("sweep"),
            0,
            "removed at zero"
        );
    }
}
