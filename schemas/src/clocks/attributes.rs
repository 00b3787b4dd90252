//! Reading clocks out of OTLP span attributes.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

use super::vector::truncate;
use super::{Hlc, Lamport, VectorClock};
use crate::attributes as keys;
use crate::error::{ClockError, Result};

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
/// use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
///
/// let attrs = vec![
///     KeyValue { key: "causet.lamport".into(), value: Some(AnyValue { value: Some(Value::IntValue(7)) }), ..Default::default() },
///     KeyValue { key: "causet.vc".into(), value: Some(AnyValue { value: Some(Value::StringValue("{oops".into())) }), ..Default::default() },
/// ];
/// let clocks = SpanClocks::from_attributes(&attrs, &ClockKeys::START);
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
    /// Reads the clocks named by `keys` from `attributes`.
    pub fn from_attributes(attributes: &[KeyValue], keys: &ClockKeys) -> SpanClocks {
        let mut out = SpanClocks::default();
        let (mut wall, mut logical) = (None, None);
        for kv in attributes {
            let Some(value) = kv.value.as_ref() else {
                continue;
            };
            let key = kv.key.as_str();
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
pub fn parse_lamport(attribute: &str, value: &AnyValue) -> Result<Lamport> {
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
pub fn parse_vc(attribute: &str, value: &AnyValue) -> Result<VectorClock> {
    match &value.value {
        Some(Value::StringValue(text)) => VectorClock::parse_json(attribute, text),
        Some(Value::KvlistValue(list)) => VectorClock::try_from_entries(
            attribute,
            list.values.iter().map(|kv| {
                let counter = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(Value::IntValue(n)) => u64::try_from(*n).map_err(|_| n.to_string()),
                    Some(Value::StringValue(s)) => s.parse::<u64>().map_err(|_| format!("{s:?}")),
                    other => Err(describe(other)),
                };
                (kv.key.clone(), counter)
            }),
        ),
        other => Err(ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected: "a JSON object string or a key-value list",
            found: describe(other.as_ref()),
        }),
    }
}

/// An int attribute. Decimal strings are accepted too: some SDKs and
/// hand-written OTLP JSON send int64 values as strings.
fn parse_int(attribute: &str, value: &AnyValue, expected: &'static str) -> Result<i64> {
    match &value.value {
        Some(Value::IntValue(n)) => Ok(*n),
        Some(Value::StringValue(s)) => s.trim().parse::<i64>().map_err(|_| ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected,
            found: format!("string {:?}", truncate(s)),
        }),
        other => Err(ClockError::WrongType {
            attribute: attribute.to_owned(),
            expected,
            found: describe(other.as_ref()),
        }),
    }
}

/// A short description of an attribute value for error messages.
fn describe(value: Option<&Value>) -> String {
    match value {
        None => "an empty value".to_owned(),
        Some(Value::StringValue(s)) => format!("string {:?}", truncate(s)),
        Some(Value::BoolValue(b)) => format!("bool {b}"),
        Some(Value::IntValue(n)) => format!("int {n}"),
        Some(Value::DoubleValue(d)) => format!("double {d}"),
        Some(Value::ArrayValue(a)) => format!("an array of {} values", a.values.len()),
        Some(Value::KvlistValue(l)) => format!("a key-value list of {} entries", l.values.len()),
        Some(Value::BytesValue(b)) => format!("{} bytes", b.len()),
        Some(Value::StringValueStrindex(i)) => format!("string table index {i}"),
    }
}
