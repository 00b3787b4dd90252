//! OTLP attributes, borrowed: straight from protobuf bytes as they arrived,
//! or from prost structs (OTLP/JSON goes through serde into those).
//!
//! The collector's protobuf path never builds an `ExportTraceServiceRequest`:
//! it walks the bytes with [`wire`] and hands out [`Attr`]s that point into
//! them, and the clock parsers of [`crate::clocks`] read those. Nested
//! values (arrays, key-value lists) stay as bytes until someone asks for
//! them; [`wire::any_value`] has already checked them, so reading them later
//! cannot fail.

pub mod wire;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// An attribute: a key and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attr<'a> {
    /// The key.
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> From<&'a KeyValue> for Attr<'a> {
    fn from(kv: &'a KeyValue) -> Self {
        Attr {
            key: &kv.key,
            value: kv.value.as_ref().into(),
        }
    }
}

/// An attribute value (OTLP's `AnyValue`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// No value set.
    Empty,
    /// A string.
    Str(&'a str),
    /// A bool.
    Bool(bool),
    /// An int64.
    Int(i64),
    /// A double.
    Double(f64),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// An array of values.
    Array(List<'a>),
    /// A list of key-value pairs.
    KvList(List<'a>),
    /// A string-table index (profiles only; kept as the number).
    StrIndex(i32),
}

impl<'a> From<Option<&'a AnyValue>> for Value<'a> {
    fn from(value: Option<&'a AnyValue>) -> Self {
        use any_value::Value as V;
        match value.and_then(|v| v.value.as_ref()) {
            None => Value::Empty,
            Some(V::StringValue(s)) => Value::Str(s),
            Some(V::BoolValue(b)) => Value::Bool(*b),
            Some(V::IntValue(n)) => Value::Int(*n),
            Some(V::DoubleValue(d)) => Value::Double(*d),
            Some(V::BytesValue(b)) => Value::Bytes(b),
            Some(V::ArrayValue(a)) => Value::Array(List::Values(&a.values)),
            Some(V::KvlistValue(l)) => Value::KvList(List::Pairs(&l.values)),
            Some(V::StringValueStrindex(i)) => Value::StrIndex(*i),
        }
    }
}

/// The elements of an array or key-value list value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum List<'a> {
    /// The bytes of an `ArrayValue` or `KeyValueList` message, checked by
    /// [`wire::any_value`] when its parent value was read.
    Wire(&'a [u8]),
    /// An array's values, decoded by prost.
    Values(&'a [AnyValue]),
    /// A key-value list's pairs, decoded by prost.
    Pairs(&'a [KeyValue]),
}

impl<'a> List<'a> {
    /// The elements of an array (empty for a key-value list from prost).
    pub fn values(self) -> impl Iterator<Item = Value<'a>> {
        let (wire, prost) = match self {
            List::Wire(bytes) => (Some(bytes), &[][..]),
            List::Values(values) => (None, values),
            List::Pairs(_) => (None, &[][..]),
        };
        let wire = wire.into_iter().flat_map(|bytes| {
            wire::repeated(bytes, 1).filter_map(|element| wire::any_value(element, 0).ok())
        });
        wire.chain(prost.iter().map(|v| Value::from(Some(v))))
    }

    /// The pairs of a key-value list (empty for an array from prost).
    pub fn pairs(self) -> impl Iterator<Item = Attr<'a>> {
        let (wire, prost) = match self {
            List::Wire(bytes) => (Some(bytes), &[][..]),
            List::Pairs(pairs) => (None, pairs),
            List::Values(_) => (None, &[][..]),
        };
        let wire = wire.into_iter().flat_map(|bytes| {
            wire::repeated(bytes, 1).filter_map(|pair| wire::key_value(pair, 0).ok())
        });
        wire.chain(prost.iter().map(Attr::from))
    }

    /// How many elements it has.
    pub fn len(self) -> usize {
        match self {
            List::Wire(bytes) => wire::repeated(bytes, 1).count(),
            List::Values(values) => values.len(),
            List::Pairs(pairs) => pairs.len(),
        }
    }

    /// True when it has no elements.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use prost::Message as _;

    use super::*;

    fn any(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    /// The same value read from prost structs and from its encoding.
    #[test]
    fn wire_and_prost_values_agree() {
        use any_value::Value as V;
        let nested = any(V::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "a".into(),
                value: Some(any(V::ArrayValue(ArrayValue {
                    values: vec![any(V::IntValue(-2)), any(V::StringValue("x".into()))],
                }))),
                ..Default::default()
            }],
        }));
        let bytes = nested.encode_to_vec();
        let from_wire = wire::any_value(&bytes, 0).expect("valid");
        let from_prost = Value::from(Some(&nested));
        let (Value::KvList(w), Value::KvList(p)) = (from_wire, from_prost) else {
            panic!("not lists: {from_wire:?} {from_prost:?}");
        };
        assert_eq!(w.len(), 1);
        let (w, p): (Vec<_>, Vec<_>) = (w.pairs().collect(), p.pairs().collect());
        assert_eq!(w[0].key, p[0].key);
        let (Value::Array(wa), Value::Array(pa)) = (w[0].value, p[0].value) else {
            panic!("not arrays");
        };
        assert_eq!(wa.values().collect::<Vec<_>>()[0], Value::Int(-2));
        assert_eq!(
            wa.values().nth(1),
            pa.values().nth(1),
            "the string element reads the same"
        );
    }
}
