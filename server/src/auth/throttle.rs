//! Login throttling, without letting anyone lock an account's owner out.
//!
//! Three counters of failed logins, each with its free failures, after which every
//! further attempt waits a delay that doubles with each failure (1 s, 2 s, 4 s, …
//! up to a cap):
//!
//! - **the account from one address** (`free_failures`, up to `max_delay`): the
//!   rule a guesser meets. It slows only that address for that account, so
//!   failures from address A never delay the owner logging in from address B.
//! - **the address** over all accounts (`free_failures_per_address`, up to
//!   `max_delay`): one address guessing many accounts.
//! - **the account** over all addresses (`free_failures_per_account`, up to the
//!   shorter `account_max_delay`): distributed guessing. Each address adds at most
//!   its `free_failures` to it (while its own counter for the account is under
//!   them), so one address can never drive it to a delay however long it tries;
//!   and its delays stop at a minute by default, so that even many addresses can
//!   only slow the owner down, not keep them out for long.
//!
//! An attempt is counted as a failure of its counters *before* its password is
//! checked (a reservation), under the counters' locks in the store (shared by every
//! server on PostgreSQL), so a burst of parallel attempts gets no more password
//! checks than the same attempts one after another would. A right password takes
//! the reservation back.
//!
//! Counters are kept for unknown accounts exactly as for real ones, so the answers
//! never tell whether an account exists.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::AuthSettings;
use crate::serve::ClientNet;
use crate::store::{Store, StoreError, ThrottleState};

/// The counters one attempt touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The login name from this address (or from an unknown one).
    pub pair: String,
    /// The address, when known.
    pub address: Option<String>,
    /// The login name from anywhere (none for a password change, which has only
    /// its own counter).
    pub account: Option<String>,
}

impl Keys {
    /// Keys for a (normalized) login name and the client's address. The name is kept
    /// as a SHA-256 (bounded size, and typos of failed logins are not kept in
    /// clear); IPv6 addresses count per /64, the block one client usually holds.
    #[must_use]
    pub fn new(login: &str, peer: Option<IpAddr>) -> Self {
        let name = hex::encode(Sha256::digest(login.as_bytes()));
        let net = peer.map(ClientNet::of);
        Self {
            pair: match net {
                Some(net) => format!("p:{name}:{net}"),
                None => format!("p:{name}:unknown"),
            },
            address: net.map(|net| format!("ip:{net}")),
            account: Some(format!("a:{name}")),
        }
    }

    /// Keys for trying an invitation code: its own counter per address, and the
    /// address's counter it shares with logins (guessing codes and guessing
    /// passwords add up).
    #[must_use]
    pub fn join_code(peer: Option<IpAddr>) -> Self {
        let net = peer.map(ClientNet::of);
        Self {
            pair: match net {
                Some(net) => format!("j:{net}"),
                None => "j:unknown".to_owned(),
            },
            address: net.map(|net| format!("ip:{net}")),
            account: None,
        }
    }

    /// Keys for asking for and using password reset codes: a counter of their own
    /// per address, and the address's counter shared with logins.
    #[must_use]
    pub fn password_reset(peer: Option<IpAddr>) -> Self {
        let net = peer.map(ClientNet::of);
        Self {
            pair: match net {
                Some(net) => format!("r:{net}"),
                None => "r:unknown".to_owned(),
            },
            address: net.map(|net| format!("ip:{net}")),
            account: None,
        }
    }

    /// Keys for checking the current password of a logged-in account: a counter of
    /// their own, so that such failures and login failures do not add up.
    #[must_use]
    pub fn password_change(login: &str) -> Self {
        let name = hex::encode(Sha256::digest(login.as_bytes()));
        Self {
            pair: format!("c:{name}"),
            address: None,
            account: None,
        }
    }
}

/// When delays start and how long they get.
#[derive(Clone, Copy, Debug)]
struct Rule {
    free: u32,
    max_delay: Duration,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The delay after `failures` failures of a counter with `free` free failures, if
/// any: `first_delay`, doubled for each further failure, at most `max_delay`.
#[must_use]
pub fn delay_after(
    failures: u32,
    free: u32,
    first_delay: Duration,
    max_delay: Duration,
) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    let factor = 1u32.checked_shl(over).unwrap_or(u32::MAX);
    Some(first_delay.saturating_mul(factor).min(max_delay))
}

/// The failures of `state` that still count at `now` (old ones are forgotten).
fn live(state: ThrottleState, settings: &AuthSettings, now: u64) -> ThrottleState {
    if now.saturating_sub(state.last_failure_ms) > ms(settings.forget_after) {
        ThrottleState::default()
    } else {
        state
    }
}

fn wait_for(state: ThrottleState, rule: Rule, settings: &AuthSettings, now: u64) -> Option<u64> {
    let state = live(state, settings, now);
    let delay = delay_after(
        state.failures,
        rule.free,
        settings.first_delay,
        rule.max_delay,
    )?;
    let until = state.last_failure_ms.saturating_add(ms(delay));
    (until > now).then(|| until - now)
}

/// One attempt counted before its password was checked; [`release`] takes it back
/// when the password was right.
#[derive(Debug)]
#[must_use = "a right password must release its reservation"]
pub struct Reservation {
    /// Whether the attempt counted against the account over all addresses.
    account: bool,
}

/// Whether an attempt with `keys` may check its password now. If so, the attempt
/// is counted as a failure of every counter at once (an account counter only while
/// this address has free failures left for it); otherwise the longest wait is
/// returned and nothing is counted. Reservations are made one at a time for the
/// same counters, through any server of the store, so each sees the ones before it.
///
/// # Errors
/// A storage error.
pub async fn reserve(
    store: &Store,
    settings: &AuthSettings,
    keys: &Keys,
    now: u64,
) -> Result<Result<Reservation, Duration>, StoreError> {
    let pair_rule = Rule {
        free: settings.free_failures,
        max_delay: settings.max_delay,
    };
    let address_rule = Rule {
        free: settings.free_failures_per_address,
        max_delay: settings.max_delay,
    };
    let account_rule = Rule {
        free: settings.free_failures_per_account,
        max_delay: settings.account_max_delay,
    };
    // The pair first, then the address and the account when there are any.
    let mut counters = vec![(keys.pair.as_str(), pair_rule)];
    counters.extend(keys.address.as_deref().map(|a| (a, address_rule)));
    let account_at = keys.account.as_deref().map(|account| {
        counters.push((account, account_rule));
        counters.len() - 1
    });
    let names: Vec<&str> = counters.iter().map(|(key, _)| *key).collect();
    let forget_before = now.saturating_sub(ms(settings.forget_after));
    let mut counts_for_account = false;
    let decide = |states: &[ThrottleState]| {
        let wait = counters
            .iter()
            .zip(states)
            .filter_map(|(&(_, rule), &state)| wait_for(state, rule, settings, now))
            .max();
        if let Some(wait) = wait {
            return Err(Duration::from_millis(wait));
        }
        // The address's share of the account's counter is its free failures for it.
        let pair = states.first().copied().unwrap_or_default();
        counts_for_account =
            account_at.is_some() && live(pair, settings, now).failures < settings.free_failures;
        Ok((0..states.len())
            .filter(|&i| Some(i) != account_at || counts_for_account)
            .collect())
    };
    let decided = store
        .reserve_throttle(&names, now, forget_before, decide)
        .await?;
    if decided.is_ok() {
        sweep_now_and_then(store, now, forget_before).await?;
    }
    Ok(decided.map(|()| Reservation {
        account: counts_for_account,
    }))
}

/// The password was right: the attempt was no failure. The account's counter for
/// this address is cleared (its owner got in from here); the address and the
/// account over all addresses only lose this attempt, since their other failures
/// may be someone else's guesses. Otherwise one valid account would let an address
/// guess others' passwords freely.
///
/// # Errors
/// A storage error.
pub async fn release(
    store: &Store,
    keys: &Keys,
    reservation: Reservation,
) -> Result<(), StoreError> {
    let mut uncount: Vec<&str> = keys.address.iter().map(String::as_str).collect();
    if reservation.account {
        uncount.extend(keys.account.as_deref());
    }
    store.release_throttle(&keys.pair, &uncount).await
}

/// Forgets old counters at most once an hour, so the tree does not grow with every
/// name and address that ever failed.
async fn sweep_now_and_then(store: &Store, now: u64, forget_before: u64) -> Result<(), StoreError> {
    static LAST_SWEEP_MS: AtomicU64 = AtomicU64::new(0);
    const EVERY_MS: u64 = 3_600_000;
    let last = LAST_SWEEP_MS.load(Ordering::Acquire);
    if now.saturating_sub(last) >= EVERY_MS
        && LAST_SWEEP_MS
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        store.sweep_throttle(forget_before).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking as _;
    use crate::store::test_support::temp_facade as temp_store;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    /// Reserves an attempt and leaves it counted, as a wrong password does.
    fn fail(store: &Store, s: &AuthSettings, keys: &Keys, now: u64) -> Result<(), Duration> {
        reserve(store, s, keys, now)
            .wait()
            .expect("store")
            .map(drop)
    }

    /// Delays start after the free failures, double each time, and stop at the cap.
    #[test]
    fn delays_double_up_to_the_cap() {
        let s = AuthSettings::default();
        let delay = |failures| delay_after(failures, 5, s.first_delay, s.max_delay);
        assert_eq!(delay(4), None);
        assert_eq!(delay(5), Some(Duration::from_secs(1)));
        assert_eq!(delay(6), Some(Duration::from_secs(2)));
        assert_eq!(delay(8), Some(Duration::from_secs(8)));
        assert_eq!(delay(100), Some(s.max_delay));
    }

    /// Five failures of an account from one address make that address wait for it,
    /// and for other accounts too (the address's own counter); the same account
    /// from another address is not delayed; a success clears the pair but leaves the
    /// address's other failures; old counters are forgotten.
    #[test]
    fn failures_block_then_clear() {
        let (_dir, store) = temp_store();
        let s = AuthSettings::default();
        let keys = Keys::new("ann@example.com", ip("10.0.0.1"));
        let now = 1_000_000;
        for i in 0..5 {
            fail(&store, &s, &keys, now + i).expect("free failure");
        }
        assert_eq!(
            fail(&store, &s, &keys, now + 5),
            Err(Duration::from_millis(999))
        );
        let other = Keys::new("bob@example.com", ip("10.0.0.1"));
        assert!(fail(&store, &s, &other, now + 5).is_err(), "address waits");
        let elsewhere = Keys::new("ann@example.com", ip("10.0.0.2"));
        let reservation = reserve(&store, &s, &elsewhere, now + 5)
            .wait()
            .expect("store")
            .expect("not delayed from another address");
        release(&store, &elsewhere, reservation)
            .wait()
            .expect("success");
        let reservation = reserve(&store, &s, &keys, now + 1_004)
            .wait()
            .expect("store")
            .expect("after the wait");
        release(&store, &keys, reservation).wait().expect("success");
        assert_eq!(
            store.throttle_state(&keys.pair).wait().expect("pair"),
            ThrottleState::default()
        );
        assert_eq!(
            store
                .throttle_state(keys.address.as_deref().expect("address"))
                .wait()
                .expect("address")
                .failures,
            5
        );
        let day_later = now + ms(s.forget_after) + 10_000;
        assert!(fail(&store, &s, &other, day_later).is_ok());
    }

    /// One address adds at most its free failures to the account's counter over
    /// all addresses, however long it goes on; enough addresses together reach it
    /// and then every new address waits, at most `account_max_delay`.
    #[test]
    fn account_counter_needs_many_addresses() {
        let (_dir, store) = temp_store();
        let s = AuthSettings {
            free_failures: 2,
            free_failures_per_account: 6,
            ..AuthSettings::default()
        };
        let mut now = 1_000_000;
        let from = |i: u8| Keys::new("admin", ip(&format!("10.0.0.{i}")));
        for _ in 0..40 {
            now += ms(s.max_delay);
            fail(&store, &s, &from(1), now).expect("after each wait");
        }
        assert_eq!(
            store
                .throttle_state(from(1).account.as_deref().expect("account"))
                .wait()
                .expect("account")
                .failures,
            2
        );
        fail(&store, &s, &from(9), now).expect("another address is not delayed");
        fail(&store, &s, &from(2), now).expect("free failure");
        fail(&store, &s, &from(2), now).expect("free failure");
        fail(&store, &s, &from(3), now).expect("the account's last free failure");
        let wait = fail(&store, &s, &from(4), now).expect_err("a new address waits");
        assert!(wait <= s.account_max_delay, "{wait:?}");
    }

    /// IPv6 clients count per /64; IPv4-mapped addresses count as IPv4; names are
    /// kept hashed.
    #[test]
    fn address_keys() {
        let a = Keys::new("x", ip("2001:db8:1:2:3:4:5:6"));
        let b = Keys::new("x", ip("2001:db8:1:2:ffff::1"));
        assert_eq!(a, b);
        let mapped = Keys::new("x", ip("::ffff:10.0.0.1"));
        assert_eq!(mapped.address.as_deref(), Some("ip:10.0.0.1"));
        let long = Keys::new(&"x".repeat(100_000), None);
        let account = |k: &Keys| k.account.clone().expect("account");
        assert!(account(&long).len() < 80 && !account(&a).contains('x'));
        assert_ne!(Keys::password_change("x").pair, Keys::new("x", None).pair);
    }
}
