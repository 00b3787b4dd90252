//! Where the graph may be missing edges: spans and messages that were not
//! collected (sampled away, dropped, or outside what was read).
//!
//! A span whose parent was not collected had a cause the graph cannot see
//! (the parent started first) and an effect it cannot see either (the
//! parent ended after it, for a synchronous child). A receive without its
//! send, and a span linking to a span that was not collected, had an
//! unseen cause; a send without its receive, an unseen effect. Through such
//! gaps two events the graph calls concurrent may in fact be ordered: `a`
//! reaches a gap's unseen effect, the uncollected part of the system
//! carries it on, and it comes back in through an unseen cause of `b`.
//! [`Gaps::possible_path`] says whether that could be, and through which
//! gaps; `causet why` then answers "unknown" and the write detector
//! reports `possible_concurrent_write` instead of `concurrent_write`.
//!
//! The time bound that rules a gap path out: the unseen events lie after
//! the gap's exit and before its entry, so the entry must not precede the
//! exit by more than twice the maximum clock offset.

use super::{EventId, Graph, Sym, span_hex, trace_hex};

/// What was not collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A span named by a parent id or a link.
    Span {
        /// Its trace.
        trace: u128,
        /// Its id.
        span: u64,
    },
    /// The other side of a message (`causet.msg.id`).
    Message(Sym),
}

impl Missing {
    /// `TRACE:SPAN` or `message ID`.
    pub fn describe(&self, g: &Graph) -> String {
        match *self {
            Missing::Span { trace, span } => format!("{}:{}", trace_hex(trace), span_hex(span)),
            Missing::Message(id) => format!("message {}", g.symbols.resolve(id)),
        }
    }
}

/// An event next to something not collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The collected event.
    pub event: EventId,
    /// What is missing next to it.
    pub missing: Missing,
}

/// The graph's gaps, by side.
#[derive(Debug, Clone, Default)]
pub struct Gaps {
    /// Events with an unseen cause (the missing part happened before them).
    pub into: Vec<Gap>,
    /// Events with an unseen effect (the missing part happened after them).
    pub out_of: Vec<Gap>,
}

impl Gaps {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.into.is_empty() && self.out_of.is_empty()
    }

    /// Heap bytes.
    pub fn heap_bytes(&self) -> usize {
        (self.into.capacity() + self.out_of.capacity()) * std::mem::size_of::<Gap>()
    }

    /// The gaps a path from `a` to `b` could run through when the graph
    /// has none: an exit `a` reaches and an entry that reaches `b`, the
    /// entry not earlier than the exit by more than `2 * max_offset_ns`.
    /// `None` when no such path can exist.
    pub fn possible_path(
        &self,
        g: &Graph,
        a: EventId,
        b: EventId,
        max_offset_ns: i64,
    ) -> Option<(Gap, Gap)> {
        if self.is_empty() {
            return None;
        }
        let reaches = |x: EventId, y: EventId| x == y || g.happens_before(x, y);
        let exits: Vec<&Gap> = self.out_of.iter().filter(|x| reaches(a, x.event)).collect();
        if exits.is_empty() {
            return None;
        }
        let earliest = exits.iter().min_by_key(|x| g.time_of(x.event))?;
        let exit_time = g.time_of(earliest.event);
        self.into
            .iter()
            .find(|y| {
                g.time_of(y.event) >= exit_time.saturating_sub(2 * max_offset_ns)
                    && reaches(y.event, b)
            })
            .map(|y| (**earliest, *y))
    }
}
