//! Login throttling: after a number of free failures, each further failure of an
//! account or a client address doubles the wait before the next attempt (1 s, 2 s,
//! 4 s, … up to a cap). Counters are kept for unknown accounts exactly as for real
//! ones, so the answers never tell whether an account exists.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::AuthSettings;
use crate::store::{Store, StoreError, ThrottleState};

/// The counters one login attempt touches, with their free failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    pub account: String,
    pub address: Option<String>,
}

impl Keys {
    /// Keys for a (normalized) login name and the client's address. The name is kept
    /// as a SHA-256 (bounded size, and typos of failed logins are not kept in
    /// clear); IPv6 addresses count per /64, the block one client usually holds.
    #[must_use]
    pub fn new(login: &str, peer: Option<IpAddr>) -> Self {
        let address = peer.map(|ip| match ip {
            IpAddr::V4(v4) => format!("ip:{v4}"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("ip:{v4}"),
                None => {
                    let s = v6.segments();
                    format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        });
        Self {
            account: format!("a:{}", hex::encode(Sha256::digest(login.as_bytes()))),
            address,
        }
    }

    fn with_free<'a>(&'a self, settings: &AuthSettings) -> impl Iterator<Item = (&'a str, u32)> {
        std::iter::once((self.account.as_str(), settings.free_failures)).chain(
            self.address
                .as_deref()
                .map(|a| (a, settings.free_failures_per_address)),
        )
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The delay after `failures` failures, if any.
#[must_use]
pub fn delay_after(failures: u32, free: u32, settings: &AuthSettings) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    let factor = 1u32.checked_shl(over).unwrap_or(u32::MAX);
    Some(
        settings
            .first_delay
            .saturating_mul(factor)
            .min(settings.max_delay),
    )
}

fn wait_for(state: ThrottleState, free: u32, settings: &AuthSettings, now: u64) -> Option<u64> {
    if now.saturating_sub(state.last_failure_ms) > ms(settings.forget_after) {
        return None;
    }
    let until =
        state
            .last_failure_ms
            .saturating_add(ms(delay_after(state.failures, free, settings)?));
    (until > now).then(|| until - now)
}

/// How long the attempt must wait, if at all (the longest wait of its keys).
///
/// # Errors
/// A storage error.
pub fn wait(
    store: &Store,
    settings: &AuthSettings,
    keys: &Keys,
    now: u64,
) -> Result<Option<Duration>, StoreError> {
    let mut longest = None;
    for (key, free) in keys.with_free(settings) {
        if let Some(w) = wait_for(store.throttle_state(key)?, free, settings, now) {
            longest = longest.max(Some(w));
        }
    }
    Ok(longest.map(Duration::from_millis))
}

/// Counts a failed attempt against every key.
///
/// # Errors
/// A storage error.
pub fn record_failure(
    store: &Store,
    settings: &AuthSettings,
    keys: &Keys,
    now: u64,
) -> Result<(), StoreError> {
    let forget_before = now.saturating_sub(ms(settings.forget_after));
    for (key, _) in keys.with_free(settings) {
        store.count_throttle_failure(key, now, forget_before)?;
    }
    sweep_now_and_then(store, now, forget_before)
}

/// A successful login clears its account's counter. The address keeps its count:
/// otherwise one valid account would let an address guess others' passwords freely.
///
/// # Errors
/// A storage error.
pub fn record_success(store: &Store, keys: &Keys) -> Result<(), StoreError> {
    store.set_throttle_state(&keys.account, ThrottleState::default())
}

/// Forgets old counters at most once an hour, so the tree does not grow with every
/// name and address that ever failed.
fn sweep_now_and_then(store: &Store, now: u64, forget_before: u64) -> Result<(), StoreError> {
    static LAST_SWEEP_MS: AtomicU64 = AtomicU64::new(0);
    const EVERY_MS: u64 = 3_600_000;
    let last = LAST_SWEEP_MS.load(Ordering::Acquire);
    if now.saturating_sub(last) >= EVERY_MS
        && LAST_SWEEP_MS
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        store.sweep_throttle(forget_before)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    /// Delays start after the free failures, double each time, and stop at the cap.
    #[test]
    fn delays_double_up_to_the_cap() {
        let s = AuthSettings::default();
        assert_eq!(delay_after(4, 5, &s), None);
        assert_eq!(delay_after(5, 5, &s), Some(Duration::from_secs(1)));
        assert_eq!(delay_after(6, 5, &s), Some(Duration::from_secs(2)));
        assert_eq!(delay_after(8, 5, &s), Some(Duration::from_secs(8)));
        assert_eq!(delay_after(100, 5, &s), Some(s.max_delay));
    }

    /// Five failures block the account for a second; the address too; a success
    /// clears the account but not the address; old counters are forgotten.
    #[test]
    fn failures_block_then_clear() {
        let (_dir, store) = temp_store();
        let s = AuthSettings::default();
        let keys = Keys::new("ann@example.com", Some("10.0.0.1".parse().expect("ip")));
        let now = 1_000_000;
        for i in 0..4 {
            record_failure(&store, &s, &keys, now + i).expect("count");
            assert_eq!(wait(&store, &s, &keys, now + i).expect("wait"), None);
        }
        record_failure(&store, &s, &keys, now + 4).expect("count");
        assert_eq!(
            wait(&store, &s, &keys, now + 4).expect("wait"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(wait(&store, &s, &keys, now + 1_004).expect("wait"), None);
        let other = Keys::new("bob@example.com", Some("10.0.0.1".parse().expect("ip")));
        assert!(wait(&store, &s, &other, now + 5).expect("wait").is_some());
        record_success(&store, &keys).expect("success");
        let elsewhere = Keys::new("ann@example.com", Some("10.0.0.2".parse().expect("ip")));
        assert_eq!(wait(&store, &s, &elsewhere, now + 5).expect("wait"), None);
        let day_later = now + ms(s.forget_after) + 10;
        assert_eq!(wait(&store, &s, &other, day_later).expect("wait"), None);
    }

    /// IPv6 clients count per /64; IPv4-mapped addresses count as IPv4.
    #[test]
    fn address_keys() {
        let a = Keys::new("x", Some("2001:db8:1:2:3:4:5:6".parse().expect("ip")));
        let b = Keys::new("x", Some("2001:db8:1:2:ffff::1".parse().expect("ip")));
        assert_eq!(a.address, b.address);
        let mapped = Keys::new("x", Some("::ffff:10.0.0.1".parse().expect("ip")));
        assert_eq!(mapped.address.as_deref(), Some("ip:10.0.0.1"));
        let long = Keys::new(&"x".repeat(100_000), None);
        assert!(long.account.len() < 80 && !a.account.contains('x'));
    }
}
