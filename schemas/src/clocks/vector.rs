//! Sparse vector clocks.

use std::fmt;
use std::str::FromStr;

use opentelemetry::KeyValue;

use super::CausalOrder;
use crate::attributes;
use crate::error::{ClockError, Result};

/// The most entries a parsed vector clock may have. Real deployments have
/// hundreds of nodes, not tens of thousands; the limit keeps one hostile
/// attribute from costing the collector unbounded memory and time.
pub const MAX_VC_ENTRIES: usize = 4096;

/// A vector clock: a counter per node, sparse (a missing entry is 0).
///
/// Entries are kept in a vector sorted by node, so that encoding is
/// canonical, comparison is one merge walk, and a clock of a few entries
/// costs a few words (a map's nodes cost hundreds of bytes, and the analyzer
/// holds a clock per event). Zero counters are never stored, so two clocks
/// that mean the same thing are equal as values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VectorClock {
    entries: Vec<(Box<str>, u64)>,
}

impl VectorClock {
    /// The empty clock, before every event.
    pub fn new() -> Self {
        Self::default()
    }

    fn find(&self, node: &str) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by(|(n, _)| (**n).cmp(node))
    }

    /// The counter of `node` (0 when absent).
    pub fn get(&self, node: &str) -> u64 {
        self.find(node).map_or(0, |i| self.entries[i].1)
    }

    /// Sets the counter of `node`; 0 removes the entry.
    pub fn set(&mut self, node: impl Into<String>, counter: u64) {
        let node = node.into();
        match (self.find(&node), counter) {
            (Ok(i), 0) => {
                self.entries.remove(i);
            }
            (Ok(i), c) => self.entries[i].1 = c,
            (Err(_), 0) => {}
            (Err(i), c) => self.entries.insert(i, (node.into_boxed_str(), c)),
        }
    }

    /// Advances `node`'s own entry by one (a local event) and returns its new value.
    /// Saturates at `u64::MAX` rather than wrapping back into the past.
    pub fn increment(&mut self, node: &str) -> u64 {
        match self.find(node) {
            Ok(i) => {
                let counter = &mut self.entries[i].1;
                *counter = counter.saturating_add(1);
                *counter
            }
            Err(i) => {
                self.entries.insert(i, (node.into(), 1));
                1
            }
        }
    }

    /// Pointwise maximum with `other`: the least clock at or after both.
    pub fn merge(&mut self, other: &VectorClock) {
        let mut out = Vec::with_capacity(self.entries.len().max(other.entries.len()));
        let mut left = std::mem::take(&mut self.entries).into_iter().peekable();
        let mut right = other.entries.iter().peekable();
        loop {
            match (left.peek(), right.peek()) {
                (None, None) => break,
                (Some(_), None) => out.extend(left.by_ref()),
                (None, Some(_)) => out.extend(right.by_ref().cloned()),
                (Some((ln, lc)), Some((rn, rc))) => match ln.cmp(rn) {
                    std::cmp::Ordering::Less => out.extend(left.next()),
                    std::cmp::Ordering::Greater => out.extend(right.next().cloned()),
                    std::cmp::Ordering::Equal => {
                        let c = (*lc).max(*rc);
                        let (n, _) = left.next().expect("peeked");
                        right.next();
                        out.push((n, c));
                    }
                },
            }
        }
        self.entries = out;
    }

    /// [`merge`](Self::merge) without modifying `self`.
    pub fn merged(&self, other: &VectorClock) -> VectorClock {
        let mut out = self.clone();
        out.merge(other);
        out
    }

    /// The send rule: a send is an event of `node`, so tick, then return the
    /// timestamp the message carries.
    pub fn on_send(&mut self, node: &str) -> VectorClock {
        self.increment(node);
        self.clone()
    }

    /// The receive rule: merge the message's timestamp, then tick `node`.
    pub fn on_receive(&mut self, node: &str, message: &VectorClock) {
        self.merge(message);
        self.increment(node);
    }

    /// How the event stamped `self` relates to the event stamped `other`.
    pub fn compare(&self, other: &VectorClock) -> CausalOrder {
        let (mut less, mut greater) = (false, false);
        let mut left = self.entries.iter().peekable();
        let mut right = other.entries.iter().peekable();
        loop {
            match (left.peek(), right.peek()) {
                (None, None) => break,
                (Some(_), None) => {
                    greater = true;
                    break;
                }
                (None, Some(_)) => {
                    less = true;
                    break;
                }
                (Some((ln, lc)), Some((rn, rc))) => match ln.cmp(rn) {
                    std::cmp::Ordering::Less => {
                        greater = true;
                        left.next();
                    }
                    std::cmp::Ordering::Greater => {
                        less = true;
                        right.next();
                    }
                    std::cmp::Ordering::Equal => {
                        less |= lc < rc;
                        greater |= lc > rc;
                        left.next();
                        right.next();
                    }
                },
            }
            if less && greater {
                return CausalOrder::Concurrent;
            }
        }
        match (less, greater) {
            (false, false) => CausalOrder::Equal,
            (true, false) => CausalOrder::Before,
            (false, true) => CausalOrder::After,
            (true, true) => CausalOrder::Concurrent,
        }
    }

    /// True when the event stamped `self` happened before the one stamped `other`.
    pub fn happens_before(&self, other: &VectorClock) -> bool {
        self.compare(other) == CausalOrder::Before
    }

    /// Entries in node order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + '_ {
        self.entries.iter().map(|(n, c)| (&**n, *c))
    }

    /// Number of non-zero entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for the empty clock.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Canonical JSON encoding, `{"node-a":3,"node-b":1}`, nodes sorted.
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .entries
            .iter()
            .map(|(n, c)| (n.to_string(), (*c).into()))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Parses the JSON-object form. `attribute` names the source in errors.
    ///
    /// The form every annotated span carries, a flat object of plain node
    /// names and counters, is read by hand; anything else (escapes, other
    /// number forms, errors) goes through serde_json, which gives the same
    /// clock or the error.
    pub fn parse_json(attribute: &str, text: &str) -> Result<Self> {
        match Self::parse_flat(text) {
            Some(clock) => Ok(clock),
            None => Self::parse_json_value(attribute, text),
        }
    }

    /// Reads `{"node": counter, ...}` where node names have no escapes and
    /// counters are unsigned integers without sign, fraction or exponent;
    /// `None` for any other text, valid or not. What it reads is what
    /// serde_json reads from the same text: a repeated node keeps its last
    /// counter, zero counters are not stored.
    pub(crate) fn parse_flat(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let skip_ws = |mut i: usize| {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(i) {
                i += 1;
            }
            i
        };
        let mut entries: Vec<(&str, u64)> = Vec::new();
        let mut i = skip_ws(0);
        if bytes.get(i) != Some(&b'{') {
            return None;
        }
        i = skip_ws(i + 1);
        if bytes.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if bytes.get(i) != Some(&b'"') {
                    return None;
                }
                let start = i + 1;
                let len = bytes[start..]
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
                let end = start + len;
                if bytes[end] != b'"' || len == 0 {
                    return None;
                }
                // Both ends are at ASCII quotes, so on character boundaries.
                let node = text.get(start..end)?;
                i = skip_ws(end + 1);
                if bytes.get(i) != Some(&b':') {
                    return None;
                }
                i = skip_ws(i + 1);
                let digits = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 || (digits > 1 && bytes[i] == b'0') {
                    return None;
                }
                // Past u64 serde_json reads a float, which is an error here.
                let counter: u64 = text[i..i + digits].parse().ok()?;
                entries.push((node, counter));
                if entries.len() > MAX_VC_ENTRIES {
                    return None;
                }
                i = skip_ws(i + digits);
                match bytes.get(i) {
                    Some(b',') => i = skip_ws(i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if skip_ws(i) != bytes.len() {
            return None;
        }
        // Sorted by node with the last of a repeated node first, then the
        // repeats dropped: the last counter sent wins, as in serde_json.
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries.dedup_by(|later, first| later.0 == first.0);
        Some(VectorClock {
            entries: entries
                .into_iter()
                .filter(|&(_, counter)| counter != 0)
                .map(|(node, counter)| (node.into(), counter))
                .collect(),
        })
    }

    /// [`parse_json`](Self::parse_json) through serde_json: any JSON, and
    /// the errors.
    pub(crate) fn parse_json_value(attribute: &str, text: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ClockError::InvalidJson {
                attribute: attribute.to_owned(),
                reason: e.to_string(),
                text: truncate(text),
            })?;
        let serde_json::Value::Object(map) = value else {
            return Err(ClockError::NotAnObject {
                attribute: attribute.to_owned(),
                text: truncate(text),
            });
        };
        Self::try_from_entries(
            attribute,
            map.into_iter().map(|(node, counter)| {
                let parsed = counter.as_u64().ok_or_else(|| counter.to_string());
                (node, parsed)
            }),
        )
    }

    /// Builds a clock from `(node, counter)` pairs checked for the limits;
    /// `Err(text)` marks a counter that was not an unsigned integer.
    pub(crate) fn try_from_entries(
        attribute: &str,
        entries: impl ExactSizeIterator<Item = (String, std::result::Result<u64, String>)>,
    ) -> Result<Self> {
        if entries.len() > MAX_VC_ENTRIES {
            return Err(ClockError::TooManyEntries {
                attribute: attribute.to_owned(),
                count: entries.len(),
                max: MAX_VC_ENTRIES,
            });
        }
        let mut clock = VectorClock::new();
        for (node, counter) in entries {
            if node.is_empty() {
                return Err(ClockError::EmptyNode {
                    attribute: attribute.to_owned(),
                });
            }
            match counter {
                Ok(counter) => clock.set(node, counter),
                Err(text) => {
                    return Err(ClockError::InvalidCounter {
                        attribute: attribute.to_owned(),
                        node,
                        text: truncate(&text),
                    });
                }
            }
        }
        Ok(clock)
    }

    /// The span attribute for this clock at span start, [`attributes::VC`].
    ///
    /// `span.set_attributes(clock.to_attributes())`
    pub fn to_attributes(&self) -> [KeyValue; 1] {
        [KeyValue::new(attributes::VC, self.to_json())]
    }

    /// The span attribute for this clock at span end, [`attributes::END_VC`].
    pub fn to_end_attributes(&self) -> [KeyValue; 1] {
        [KeyValue::new(attributes::END_VC, self.to_json())]
    }
}

/// Keeps error messages short when the offending value is huge.
pub(crate) fn truncate(text: &str) -> String {
    const MAX: usize = 256;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

impl PartialOrd for VectorClock {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match self.compare(other) {
            CausalOrder::Before => Some(std::cmp::Ordering::Less),
            CausalOrder::After => Some(std::cmp::Ordering::Greater),
            CausalOrder::Equal => Some(std::cmp::Ordering::Equal),
            CausalOrder::Concurrent => None,
        }
    }
}

impl fmt::Display for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl FromStr for VectorClock {
    type Err = ClockError;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse_json(attributes::VC, s)
    }
}

impl<S: Into<String>> FromIterator<(S, u64)> for VectorClock {
    fn from_iter<I: IntoIterator<Item = (S, u64)>>(iter: I) -> Self {
        let mut clock = VectorClock::new();
        for (node, counter) in iter {
            clock.set(node, counter);
        }
        clock
    }
}
