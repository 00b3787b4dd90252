//! Lamport timestamps (Lamport, "Time, Clocks, and the Ordering of Events in a
//! Distributed System", 1978).

use std::fmt;

use opentelemetry::KeyValue;

use crate::attributes;

/// A Lamport timestamp. If e -> f then `Lamport(e) < Lamport(f)`; the converse
/// does not hold, so two Lamport times alone never prove concurrency.
///
/// ```
/// use causet_schema::clocks::Lamport;
///
/// let mut a = Lamport::default();
/// let mut b = Lamport(4);
/// let m = a.tick();                  // 1
/// assert_eq!(b.receive(m), Lamport(5));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lamport(pub u64);

impl Lamport {
    /// A local or send event: advance by one and return the event's time.
    pub fn tick(&mut self) -> Lamport {
        self.0 = self.0.saturating_add(1);
        *self
    }

    /// A receive event of a message stamped `message`: `max(own, message) + 1`.
    pub fn receive(&mut self, message: Lamport) -> Lamport {
        self.0 = self.0.max(message.0).saturating_add(1);
        *self
    }

    /// The span attribute at span start, [`attributes::LAMPORT`]. OpenTelemetry
    /// integers are signed: values above `i64::MAX` are written as `i64::MAX`.
    pub fn to_attribute(&self) -> KeyValue {
        KeyValue::new(attributes::LAMPORT, self.as_i64())
    }

    /// The span attribute at span end, [`attributes::END_LAMPORT`].
    pub fn to_end_attribute(&self) -> KeyValue {
        KeyValue::new(attributes::END_LAMPORT, self.as_i64())
    }

    fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Lamport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
