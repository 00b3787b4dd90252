//! Reading clocks out of OTLP span attributes.

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::vector::truncate;
use super::{Hlc, Lamport, VectorClock};
use crate::attributes as keys;
use crate::error::{ClockError, Result};
use crate::otlp::{Attr, Value};

/// The attribute keys of one clock position: span start (or span event) or span end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockKeys {
    /// Lamport key.
    pub lamport: &'static str,
    /// HLC wall key.
    pub hlc_wall_ns: &'static str,
    /// HLC logical key.
    pub hlc_logical: &'static str,
    /// Vector clock key.
    pub vc: &'static str,
}

impl ClockKeys {
    /// Clocks at span start, and on span events.
    pub const START: ClockKeys = ClockKeys {
        lamport: keys::LAMPORT,
        hlc_wall_ns: keys::HLC_WALL_NS,
        hlc_logical: keys::HLC_LOGICAL,
        vc: keys::VC,
    };
    /// Clocks at span end (`causet.end.*`).
    pub const END: ClockKeys = ClockKeys {
        lamport: keys::END_LAMPORT,
        hlc_wall_ns: keys::END_HLC_WALL_NS,
        hlc_logical: keys::END_HLC_LOGICAL,
        vc: keys::END_VC,
    };
}

/// The clocks found at one position of a span, and what could not be parsed.
///
/// A bad attribute leaves its clock `None` and adds an error; the other
/// clocks are still read, and the caller keeps the span.
///
/// ```
/// use causet_schema::clocks::{ClockKeys, Lamport, SpanClocks};
/// use causet_schema::otlp::{Attr, Value};
///
/// let attrs = [
///     Attr { key: "causet.lamport", value: Value::Int(7) },
///     Attr { key: "causet.vc", value: Value::Str("{oops") },
/// ];
/// let clocks = SpanClocks::from_attrs(&attrs, &ClockKeys::START);
/// assert_eq!(clocks.lamport, Some(Lamport(7)));
/// assert!(clocks.vc.is_none());
/// assert_eq!(clocks.errors.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanClocks {
    /// The Lamport timestamp, when present and valid.
    pub lamport: Option<Lamport>,
    /// The HLC timestamp, when present and valid.
    pub hlc: Option<Hlc>,
    /// The vector clock, when present and valid.
    pub vc: Option<VectorClock>,
    /// One error per malformed clock attribute.
    pub errors: Vec<ClockError>,
}

impl SpanClocks {
    /// Reads the clocks named by `keys` from prost's `attributes`.
    pub fn from_attributes(attributes: &[KeyValue], keys: &ClockKeys) -> SpanClocks {
        let attrs: Vec<Attr<'_>> = attributes.iter().map(Attr::from).collect();
        SpanClocks::from_attrs(&attrs, keys)
    }

    /// Reads the clocks named by `keys` from `attributes`.
    pub fn from_attrs(attributes: &[Attr<'_>], keys: &ClockKeys) -> SpanClocks {
        let mut out = SpanClocks::default();
        let (mut wall, mut logical) = (None, None);
        for &Attr { key, value } in attributes {
            let parsed = if key == keys.lamport {
                parse_lamport(key, value).map(|l| out.lamport = Some(l))
            } else if key == keys.vc {
                parse_vc(key, value).map(|vc| out.vc = Some(vc))
            } else if key == keys.hlc_wall_ns {
                parse_int(key, value, "an int (nanoseconds)").map(|w| wall = Some(w))
            } else if key == keys.hlc_logical {
                parse_int(key, value, "a non-negative int below 2^32")
                    .and_then(|l| {
                        u32::try_from(l).map_err(|_| ClockError::OutOfRange {
                            attribute: key.to_owned(),
                            value: l.to_string(),
                            range: "0..=4294967295",
                        })
                    })
                    .map(|l| logical = Some(l))
            } else {
                continue;
            };
            if let Err(e) = parsed {
                out.errors.push(e);
            }
        }
        match (wall, logical) {
            (Some(wall), logical) => out.hlc = Some(Hlc::new(wall, logical.unwrap_or(0))),
            (None, Some(_)) => out.errors.push(ClockError::Incomplete {
                attribute: keys.hlc_logical.to_owned(),
                missing: keys.hlc_wall_ns,
            }),
            (None, None) => {}
        }
        out
    }

    /// True when no clock was found and nothing failed to parse.
    pub fn is_empty(&self) -> bool {
        self.lamport.is_none() && self.hlc.is_none() && self.vc.is_none() && self.errors.is_empty()
    }
}

/// A Lamport timestamp: a non-negative int (or a decimal string of one).
pub fn parse_lamport(attribute: &str, value: Value<'_>) -> Result<Lamport> {
    let n = parse_int(attribute, value, "a non-negative int")?;
    u64::try_from(n)
        .map(Lamport)
        .map_err(|_| ClockError::OutOfRange {
            attribute: attribute.to_owned(),
            value: n.to_string(),
            range: ">= 0",
        })
}

/// A vector clock: a JSON-object string, or a key-value list of int counters.
pub fn parse_vc(attribute: &str, value: Value<'_>) -> Result<VectorClock> {
    match value {
        Value::Str(text) => VectorClock::parse_json(attribute, text),
        Value::KvList(list) => {
            let entries: Vec<_> = list
                .pairs()
                .map(|Attr { key, value }| {
                    let counter = match value {
                        Value::Int(n) => u64::try_from(n).map_err(|_| n.to_string()),
                        Value::Str(s) => s.parse::<u64>().map_err(|_| format!("{s:?}")),
                        other => Err(describe(other)),
                    };
                    (key.to_owned(), counter)
                })
                .collect();
            VectorClock::try_from_entries(attribute, entries.into_iter())
        }
        other => Err(ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected: "a JSON object string or a key-value list",
            found: describe(other),
        }),
    }
}

/// An int attribute. Decimal strings are accepted too: some SDKs and
/// hand-written OTLP JSON send int64 values as strings.
fn parse_int(attribute: &str, value: Value<'_>, expected: &'static str) -> Result<i64> {
    match value {
        Value::Int(n) => Ok(n),
        Value::Str(s) => s.trim().parse::<i64>().map_err(|_| ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected,
            found: format!("string {:?}", truncate(s)),
        }),
        other => Err(ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected,
            found: describe(other),
        }),
    }
}

/// A short description of an attribute value for error messages.
fn describe(value: Value<'_>) -> String {
    match value {
        Value::Empty => "an empty value".to_owned(),
        Value::Str(s) => format!("string {:?}", truncate(s)),
        Value::Bool(b) => format!("bool {b}"),
        Value::Int(n) => format!("int {n}"),
        Value::Double(d) => format!("double {d}"),
        Value::Array(a) => format!("an array of {} values", a.len()),
        Value::KvList(l) => format!("a key-value list of {} entries", l.len()),
        Value::Bytes(b) => format!("{} bytes", b.len()),
        Value::StrIndex(i) => format!("string table index {i}"),
    }
}
