//! Operations: every change is an [`Op`], stamped with a hybrid logical clock so that
//! all replicas order concurrent changes the same way.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{ModelError, RecordId, RecordKind, SpaceId, UserId, Value, spec_of};

/// Identifies one op everywhere; pushing the same op twice stores it once.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub Uuid);

impl OpId {
    /// A fresh op id.
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for OpId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpId({})", self.0)
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The replica (device) that stamped a clock; breaks ties between equal times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u64);

/// The largest node id an op may carry: 2^53 - 1, so that a node id in JSON reads
/// the same in every language, and a forged id cannot sit above every real one.
pub const MAX_NODE: u64 = (1 << 53) - 1;

/// The largest clock counter an op may carry. A clock rolls its wall time forward
/// by a millisecond rather than count past it, so honest replicas never reach it;
/// the bound keeps a forged clock from outranking every later change within its
/// millisecond.
pub const MAX_COUNTER: u32 = 1 << 20;

impl NodeId {
    /// A random node id within [`MAX_NODE`].
    #[must_use]
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().as_u64_pair().0 & MAX_NODE)
    }

    /// Whether the id is within [`MAX_NODE`].
    #[must_use]
    pub fn is_valid(self) -> bool {
        self.0 <= MAX_NODE
    }
}

/// A hybrid logical clock: wall time in ms, a counter for events within one ms or
/// when a peer's clock ran ahead, and the node for a total order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: NodeId,
}

impl Hlc {
    /// Whether counter and node are within their bounds ([`MAX_COUNTER`],
    /// [`MAX_NODE`]). Wall time is bounded by whoever receives the op, against its
    /// own clock.
    #[must_use]
    pub fn is_bounded(&self) -> bool {
        self.counter <= MAX_COUNTER && self.node.is_valid()
    }

    /// The wall time as a UTC timestamp (for display; ordering uses the whole clock).
    #[must_use]
    pub fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        i64::try_from(self.wall_ms)
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
    }
}

/// Hands out increasing [`Hlc`]s for one node: never behind the wall clock, never
/// behind any clock it has seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// A clock for `node` that continues after `last` (zero for a new node).
    #[must_use]
    pub fn new(node: NodeId, last: Option<Hlc>) -> Self {
        Self {
            last: last.unwrap_or(Hlc {
                wall_ms: 0,
                counter: 0,
                node,
            }),
        }
    }

    /// The newest clock handed out or seen.
    #[must_use]
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// The next clock for a local event at wall time `now_ms`.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let node = self.last.node;
        self.last = if now_ms > self.last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
                node,
            }
        } else if self.last.counter >= MAX_COUNTER {
            // Past the counter's bound the next millisecond starts: still after
            // everything before, and within the bounds every receiver checks.
            Hlc {
                wall_ms: self.last.wall_ms.saturating_add(1),
                counter: 0,
                node,
            }
        } else {
            Hlc {
                wall_ms: self.last.wall_ms,
                counter: self.last.counter + 1,
                node,
            }
        };
        self.last
    }

    /// Takes note of a clock from another replica so later local events order after
    /// it. A counter past [`MAX_COUNTER`] is taken as the bound.
    pub fn observe(&mut self, seen: Hlc) {
        let counter = seen.counter.min(MAX_COUNTER);
        if (seen.wall_ms, counter) > (self.last.wall_ms, self.last.counter) {
            self.last = Hlc {
                wall_ms: seen.wall_ms,
                counter,
                node: self.last.node,
            };
        }
    }

    /// The same clock continued on another node (a replica whose node id was out of
    /// bounds takes a new one).
    #[must_use]
    pub fn on_node(&self, node: NodeId) -> Self {
        Self {
            last: Hlc { node, ..self.last },
        }
    }

    /// [`Self::tick`] at the current system time.
    pub fn now(&mut self) -> Hlc {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.tick(now_ms)
    }
}

/// What an op does to its record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// The record comes into being with this kind.
    Create { kind: RecordKind },
    /// `field` takes `value`, replacing the values written by the ops in `replaces`
    /// (the values the author saw). Values no op replaces stay: a conflict.
    Set {
        field: String,
        value: Value,
        replaces: Vec<OpId>,
    },
    /// The record goes to the trash.
    Delete,
    /// The record comes back from the trash.
    Restore,
}

/// One change to one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub space: SpaceId,
    pub record: RecordId,
    pub at: Hlc,
    pub author: UserId,
    pub change: Change,
}

impl Op {
    /// Checks that a `Set` names a field of `kind` with a value that fits it.
    /// Ops of other changes always pass.
    ///
    /// # Errors
    /// The [`ModelError`] of the field.
    pub fn validate(&self, kind: RecordKind) -> Result<(), ModelError> {
        match &self.change {
            Change::Set { field, value, .. } => spec_of(kind, field)?.check(value),
            Change::Create { .. } | Change::Delete | Change::Restore => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Local ticks always increase, even when the wall clock stands still or goes back.
    #[test]
    fn ticks_increase() {
        let mut clock = HlcClock::new(NodeId(1), None);
        let a = clock.tick(100);
        let b = clock.tick(100);
        let c = clock.tick(50);
        let d = clock.tick(200);
        assert!(a < b && b < c && c < d);
        assert_eq!(d.wall_ms, 200);
    }

    /// After seeing a clock from the future, local events order after it.
    #[test]
    fn observe_moves_forward() {
        let mut clock = HlcClock::new(NodeId(1), None);
        clock.tick(100);
        let remote = Hlc {
            wall_ms: 5000,
            counter: 7,
            node: NodeId(2),
        };
        clock.observe(remote);
        let next = clock.tick(200);
        assert!(next > remote);
        assert_eq!(next.node, NodeId(1));
    }

    /// A counter never passes its bound: the clock moves to the next millisecond,
    /// and a forged counter seen from a peer is taken as the bound.
    #[test]
    fn counter_stays_bounded() {
        let mut clock = HlcClock::new(NodeId(1), None);
        clock.observe(Hlc {
            wall_ms: 100,
            counter: u32::MAX,
            node: NodeId(u64::MAX),
        });
        assert_eq!(clock.last().counter, MAX_COUNTER);
        let next = clock.tick(50);
        assert_eq!((next.wall_ms, next.counter), (101, 0));
        assert!(next.is_bounded());
        assert!(NodeId::random().is_valid());
        assert!(!NodeId(MAX_NODE + 1).is_valid());
    }
}
