//! Client addresses as the server counts them: [`ClientNet`] (an IPv4 address, or
//! the /64 an IPv6 client holds) and [`PeerSlots`], the per-address connection cap.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;

/// The unit one client is counted by: an IPv4 address (IPv4-mapped IPv6 counts as
/// IPv4), or an IPv6 /64. A host usually gets a whole /64 and can pick any address
/// in it, so counting single IPv6 addresses would give it 2^64 separate budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientNet {
    V4([u8; 4]),
    V6([u16; 4]),
}

impl ClientNet {
    #[must_use]
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientNet::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientNet::V4(v4.octets()),
                None => {
                    let s = v6.segments();
                    ClientNet::V6([s[0], s[1], s[2], s[3]])
                }
            },
        }
    }
}

impl fmt::Display for ClientNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientNet::V4([a, b, c, d]) => write!(f, "{a}.{b}.{c}.{d}"),
            ClientNet::V6([a, b, c, d]) => write!(f, "{a:x}:{b:x}:{c:x}:{d:x}::/64"),
        }
    }
}

/// How many connections each client address holds, capped per address so that one
/// host cannot take every connection slot of the server.
#[derive(Clone, Debug)]
pub struct PeerSlots {
    cap: usize,
    held: Arc<Mutex<HashMap<ClientNet, usize>>>,
}

/// One connection's place in its address's count; dropping it gives the place back.
#[derive(Debug)]
pub struct PeerSlot {
    net: ClientNet,
    held: Arc<Mutex<HashMap<ClientNet, usize>>>,
}

impl PeerSlots {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        PeerSlots {
            cap: cap.max(1),
            held: Arc::default(),
        }
    }

    /// A slot for a new connection from `ip`, or `None` if its address holds the
    /// cap already.
    #[must_use]
    pub fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let net = ClientNet::of(ip);
        let mut held = self.held.lock();
        let count = held.entry(net).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            net,
            held: Arc::clone(&self.held),
        })
    }

    /// Connections `ip`'s address holds now.
    #[cfg(test)]
    pub fn held(&self, ip: IpAddr) -> usize {
        self.held
            .lock()
            .get(&ClientNet::of(ip))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock();
        if let Some(count) = held.get_mut(&self.net) {
            *count = count.saturating_sub(1);
            // Addresses without connections leave the map, so it stays as small as
            // the number of clients connected now.
            if *count == 0 {
                held.remove(&self.net);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    /// IPv6 addresses of one /64 are one client; IPv4-mapped addresses count as IPv4.
    #[test]
    fn nets() {
        assert_eq!(
            ClientNet::of(ip("2001:db8:1:2:3:4:5:6")),
            ClientNet::of(ip("2001:db8:1:2:ffff::1"))
        );
        assert_ne!(
            ClientNet::of(ip("2001:db8:1:2::1")),
            ClientNet::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientNet::of(ip("::ffff:10.0.0.1")),
            ClientNet::of(ip("10.0.0.1"))
        );
        assert_eq!(ClientNet::of(ip("10.0.0.1")).to_string(), "10.0.0.1");
        assert_eq!(
            ClientNet::of(ip("2001:db8:1:2::9")).to_string(),
            "2001:db8:1:2::/64"
        );
    }

    /// An address gets at most `cap` slots; a dropped slot is free again, and other
    /// addresses are not affected.
    #[test]
    fn cap_per_address() {
        let slots = PeerSlots::new(2);
        let a = ip("10.0.0.1");
        let one = slots.admit(a).expect("first");
        let _two = slots.admit(a).expect("second");
        assert!(slots.admit(a).is_none(), "third is over the cap");
        assert!(slots.admit(ip("10.0.0.2")).is_some(), "another address");
        drop(one);
        assert_eq!(slots.held(a), 1);
        assert!(slots.admit(a).is_some(), "a freed slot is reused");
    }
}
