//! Hybrid logical clocks (Kulkarni, Demirbas et al., "Logical Physical Clocks
//! and Consistent Snapshots in Globally Distributed Databases", 2014).

use std::fmt;

use opentelemetry::KeyValue;

use crate::attributes;

/// A hybrid logical clock timestamp `(l, c)`: `wall_ns` is the largest
/// physical time (nanoseconds since the Unix epoch) the node has heard of,
/// `logical` orders events that share it.
///
/// Timestamps are totally ordered (by wall, then logical) and respect
/// happens-before: if e -> f then `hlc(e) < hlc(f)`. Use [`Hlc::tick`] for
/// local and send events and [`Hlc::receive`] for receive events:
///
/// ```
/// use causet_schema::clocks::Hlc;
///
/// let mut a = Hlc::default();
/// let mut b = Hlc::default();
/// let sent = a.tick(1_000);                 // (1000, 0)
/// let got = b.receive(sent, 900);           // b's physical clock is behind
/// assert!(sent < got);
/// assert_eq!(got, Hlc::new(1_000, 1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    /// `l`: the wall-clock part, nanoseconds since the Unix epoch.
    pub wall_ns: i64,
    /// `c`: the logical counter among events with the same `l`.
    pub logical: u32,
}

impl Hlc {
    /// The timestamp `(wall_ns, logical)`.
    pub const fn new(wall_ns: i64, logical: u32) -> Self {
        Hlc { wall_ns, logical }
    }

    /// The send/local-event rule, given the node's physical time `now_ns`:
    /// `l' = max(l, pt)`; `c' = c + 1` if `l` did not move, else 0.
    /// Returns the event's timestamp.
    pub fn tick(&mut self, now_ns: i64) -> Hlc {
        *self = if now_ns > self.wall_ns {
            Hlc::new(now_ns, 0)
        } else {
            self.successor()
        };
        *self
    }

    /// The receive rule for a message stamped `message`, at physical time `now_ns`:
    /// `l' = max(l, l_m, pt)`, and `c'` continues whichever of the local clock and
    /// the message reached `l'` (both: the larger counter), or restarts at 0
    /// when physical time is ahead of both. Returns the event's timestamp.
    pub fn receive(&mut self, message: Hlc, now_ns: i64) -> Hlc {
        let wall = self.wall_ns.max(message.wall_ns).max(now_ns);
        *self = if wall == now_ns && wall > self.wall_ns && wall > message.wall_ns {
            Hlc::new(wall, 0)
        } else {
            // The larger of the two logical timestamps that reached `wall`
            // (both are <= (wall, _)), then one step after it.
            (*self).max(message).max(Hlc::new(wall, 0)).successor()
        };
        *self
    }

    /// The next timestamp after `self`. The counter is 32 bits; should it
    /// ever overflow, the wall part advances by one nanosecond instead so the
    /// clock stays strictly monotonic.
    pub fn successor(self) -> Hlc {
        match self.logical.checked_add(1) {
            Some(logical) => Hlc::new(self.wall_ns, logical),
            None => Hlc::new(self.wall_ns.saturating_add(1), 0),
        }
    }

    /// The span attributes for this timestamp at span start:
    /// [`attributes::HLC_WALL_NS`] and [`attributes::HLC_LOGICAL`].
    ///
    /// `span.set_attributes(hlc.to_attributes())`
    pub fn to_attributes(&self) -> [KeyValue; 2] {
        [
            KeyValue::new(attributes::HLC_WALL_NS, self.wall_ns),
            KeyValue::new(attributes::HLC_LOGICAL, i64::from(self.logical)),
        ]
    }

    /// The span attributes for this timestamp at span end.
    pub fn to_end_attributes(&self) -> [KeyValue; 2] {
        [
            KeyValue::new(attributes::END_HLC_WALL_NS, self.wall_ns),
            KeyValue::new(attributes::END_HLC_LOGICAL, i64::from(self.logical)),
        ]
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.wall_ns, self.logical)
    }
}
