//! Login records: every login to an existing account, successful or not, with the
//! time, a truncated client address and the device name. Keyed user ++ time
//! (big-endian ms) ++ a random nonce, so a user's records list in time order and
//! retention can cut by time.

use std::net::IpAddr;

use cairn_common::codec;
use cairn_common::model::UserId;
use serde::{Deserialize, Serialize};

use super::{SledStore, StoreError};

/// One login attempt as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRecord {
    pub at_ms: u64,
    pub success: bool,
    /// IPv4 truncated to /24, IPv6 to /48 (`None`: not known).
    pub address: Option<String>,
    pub device: String,
}

/// The client address as kept: IPv4 per /24, IPv6 per /48 (an IPv4-mapped IPv6
/// address counts as IPv4). Enough to tell "my office" from "abroad", not a person.
#[must_use]
pub fn truncate_address(ip: IpAddr) -> String {
    let v4 = |v4: std::net::Ipv4Addr| {
        let [a, b, c, _] = v4.octets();
        format!("{a}.{b}.{c}.0/24")
    };
    match ip {
        IpAddr::V4(addr) => v4(addr),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(addr) => v4(addr),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                format!("{net}/48")
            }
        },
    }
}

fn login_key(user: UserId, at_ms: u64) -> [u8; 28] {
    let mut key = [0u8; 28];
    key[..16].copy_from_slice(user.as_bytes());
    key[16..24].copy_from_slice(&at_ms.to_be_bytes());
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key[24..]);
    key
}

/// The time of a `logins` key (`None` for a damaged key).
pub(crate) fn login_time(key: &[u8]) -> Option<u64> {
    key.get(16..24)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
}

impl SledStore {
    /// Records a login attempt of `user`. Not durable until
    /// [`SledStore::commit_durable`] (the login's own commit covers it).
    ///
    /// # Errors
    /// A storage error.
    pub fn record_login(&self, user: UserId, record: &LoginRecord) -> Result<(), StoreError> {
        self.db()
            .logins
            .insert(login_key(user, record.at_ms), codec::encode(record)?)?;
        self.wrote();
        Ok(())
    }

    /// The user's login records, newest first, at most `limit`.
    ///
    /// # Errors
    /// A storage error or damaged data.
    pub fn logins_of(&self, user: UserId, limit: usize) -> Result<Vec<LoginRecord>, StoreError> {
        let mut out = Vec::new();
        for entry in self.db().logins.scan_prefix(user.as_bytes()).rev() {
            if out.len() >= limit {
                break;
            }
            let (_, value) = entry?;
            out.push(codec::decode(&value)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{temp_store, user};
    use super::*;

    /// Addresses keep their /24 or /48 network only.
    #[test]
    fn addresses_are_truncated() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(truncate_address(ip("192.168.17.42")), "192.168.17.0/24");
        assert_eq!(
            truncate_address(ip("2001:db8:abcd:12:1:2:3:4")),
            "2001:db8:abcd::/48"
        );
        assert_eq!(truncate_address(ip("::ffff:10.1.2.3")), "10.1.2.0/24");
    }

    /// Records list per user, newest first, limited.
    #[test]
    fn per_user_newest_first() {
        let (_dir, store) = temp_store();
        let ann = user(&store, "ann");
        let bob = user(&store, "bob");
        for (who, at, ok) in [(ann.id, 10, true), (bob.id, 20, false), (ann.id, 30, false)] {
            let record = LoginRecord {
                at_ms: at,
                success: ok,
                address: None,
                device: "laptop".into(),
            };
            store.record_login(who, &record).expect("record");
        }
        let anns = store.logins_of(ann.id, 10).expect("list");
        assert_eq!(
            anns.iter()
                .map(|r| (r.at_ms, r.success))
                .collect::<Vec<_>>(),
            [(30, false), (10, true)]
        );
        assert_eq!(store.logins_of(ann.id, 1).expect("list").len(), 1);
        assert_eq!(store.logins_of(bob.id, 10).expect("list").len(), 1);
    }
}
