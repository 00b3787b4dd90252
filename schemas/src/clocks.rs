//! Logical clocks: vector clocks, hybrid logical clocks and Lamport timestamps.
//!
//! These types serve two readers. The analyzer parses the clocks that
//! applications attach to spans and compares them; a Rust service can use the
//! same types to *keep* its clocks, with the send/receive rules built in, and
//! attach them to its spans in one line:
//!
//! ```
//! use causet_schema::clocks::{CausalOrder, VectorClock};
//!
//! let mut a = VectorClock::new();
//! let mut b = VectorClock::new();
//! let message = a.on_send("a");          // a: {"a":1}
//! b.on_receive("b", &message);           // b: {"a":1,"b":1}
//! assert_eq!(message.compare(&b), CausalOrder::Before);
//! // span.set_attributes(b.to_attributes());
//! assert_eq!(b.to_json(), r#"{"a":1,"b":1}"#);
//! ```

mod attributes;
mod hlc;
mod lamport;
mod vector;

#[cfg(test)]
mod tests;

pub use attributes::{ClockKeys, SpanClocks};
pub use hlc::Hlc;
pub use lamport::Lamport;
pub use vector::{MAX_VC_ENTRIES, VectorClock};

/// How two events relate under happens-before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CausalOrder {
    /// The left event happened before the right one.
    Before,
    /// The right event happened before the left one.
    After,
    /// Both clocks are the same.
    Equal,
    /// Neither happened before the other.
    Concurrent,
}

impl CausalOrder {
    /// The name used in SQL results: `before`, `after`, `equal` or `concurrent`.
    pub fn as_str(self) -> &'static str {
        match self {
            CausalOrder::Before => "before",
            CausalOrder::After => "after",
            CausalOrder::Equal => "equal",
            CausalOrder::Concurrent => "concurrent",
        }
    }

    /// The same relation seen from the other side.
    pub fn reverse(self) -> Self {
        match self {
            CausalOrder::Before => CausalOrder::After,
            CausalOrder::After => CausalOrder::Before,
            other => other,
        }
    }
}

impl std::fmt::Display for CausalOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
