//! Attribute values as text, for the `Map<Utf8, Utf8>` attribute columns.
//!
//! Strings are kept as they are; every other type is written in its JSON
//! form, so `attributes['http.response.status_code']` reads `503` and an
//! array reads `["a","b"]`. Bytes become base64, as in OTLP/JSON.

use std::borrow::Cow;

use arrow::array::StringBuilder;
use base64::Engine as _;
use causet_schema::otlp::{List, Value};
use serde_json::Value as Json;

/// The value as text; borrowed when it is a string.
pub fn text(value: Value<'_>) -> Cow<'_, str> {
    match value {
        Value::Str(s) => Cow::Borrowed(s),
        Value::Int(n) => Cow::Owned(itoa::Buffer::new().format(n).to_owned()),
        Value::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        Value::Empty => Cow::Borrowed(""),
        other => Cow::Owned(json(other).to_string()),
    }
}

/// Appends the value's text to `builder`, without allocating for strings,
/// ints and bools.
pub(crate) fn append_text(builder: &mut StringBuilder, value: Value<'_>) {
    match value {
        Value::Str(s) => builder.append_value(s),
        Value::Int(n) => builder.append_value(itoa::Buffer::new().format(n)),
        other => builder.append_value(text(other)),
    }
}

/// The value as JSON (strings as JSON strings).
fn json(value: Value<'_>) -> Json {
    match value {
        Value::Empty => Json::Null,
        Value::Str(s) => Json::String(s.to_owned()),
        Value::Bool(b) => Json::Bool(b),
        Value::Int(n) => Json::from(n),
        Value::Double(d) => serde_json::Number::from_f64(d)
            .map(Json::Number)
            // OTLP/JSON spells the non-finite doubles as strings.
            .unwrap_or_else(|| Json::String(non_finite(d).to_owned())),
        Value::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(list) => Json::Array(list.values().map(json).collect()),
        Value::KvList(list) => Json::Object(
            list.pairs()
                .map(|a| (a.key.to_owned(), json(a.value)))
                .collect(),
        ),
        Value::StrIndex(i) => Json::from(i),
    }
}

fn non_finite(d: f64) -> &'static str {
    if d.is_nan() {
        "NaN"
    } else if d > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// The first string of a string or string-array value (HTTP header attributes
/// are string arrays in the semantic conventions).
pub fn first_string(value: Value<'_>) -> Option<Cow<'_, str>> {
    match value {
        Value::Empty => None,
        Value::Array(list) => first(list).map(text),
        other => Some(text(other)),
    }
}

fn first(list: List<'_>) -> Option<Value<'_>> {
    list.values().next()
}

/// An int value, also from a decimal string.
pub fn int(value: Value<'_>) -> Option<i64> {
    match value {
        Value::Int(n) => Some(n),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A bool value, also from the strings `true` / `false`.
pub fn bool(value: Value<'_>) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(b),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value as V,
    };

    use super::*;

    fn v(value: V) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn of(value: &AnyValue) -> Value<'_> {
        Value::from(Some(value))
    }

    #[test]
    fn every_type_has_a_text_form() {
        assert_eq!(text(of(&v(V::StringValue("x y".into())))), "x y");
        assert_eq!(text(of(&v(V::IntValue(-3)))), "-3");
        assert_eq!(text(of(&v(V::DoubleValue(1.0)))), "1.0");
        assert_eq!(text(of(&v(V::DoubleValue(f64::NAN)))), "\"NaN\"");
        assert_eq!(text(of(&v(V::BoolValue(true)))), "true");
        assert_eq!(text(of(&v(V::BytesValue(vec![0xff, 0])))), "\"/wA=\"");
        let array = v(V::ArrayValue(ArrayValue {
            values: vec![v(V::StringValue("a".into())), v(V::IntValue(2))],
        }));
        assert_eq!(text(of(&array)), r#"["a",2]"#);
        let list = v(V::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(v(V::BoolValue(false))),
                ..Default::default()
            }],
        }));
        assert_eq!(text(of(&list)), r#"{"k":false}"#);
        assert_eq!(text(Value::Empty), "");
    }

    #[test]
    fn header_arrays_give_their_first_string() {
        let header = v(V::ArrayValue(ArrayValue {
            values: vec![v(V::StringValue("key-1".into()))],
        }));
        assert_eq!(first_string(of(&header)).as_deref(), Some("key-1"));
        let empty = v(V::ArrayValue(ArrayValue { values: vec![] }));
        assert_eq!(first_string(of(&empty)), None);
    }

    #[test]
    fn ints_and_bools_accept_their_string_spelling() {
        assert_eq!(int(Value::Str(" 12 ")), Some(12));
        assert_eq!(int(Value::Double(1.0)), None);
        assert_eq!(bool(Value::Str("true")), Some(true));
    }
}
