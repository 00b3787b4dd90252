//! Attribute values as text, for the `Map<Utf8, Utf8>` attribute columns.
//!
//! Strings are kept as they are; every other type is written in its JSON
//! form, so `attributes['http.response.status_code']` reads `503` and an
//! array reads `["a","b"]`. Bytes become base64, as in OTLP/JSON.

use std::borrow::Cow;

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
use serde_json::Value as Json;

/// The value as text; borrowed when it is a string.
pub fn text(value: Option<&AnyValue>) -> Cow<'_, str> {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => Cow::Borrowed(s),
        Some(Value::IntValue(n)) => Cow::Owned(n.to_string()),
        Some(Value::BoolValue(b)) => Cow::Borrowed(if *b { "true" } else { "false" }),
        None => Cow::Borrowed(""),
        Some(other) => Cow::Owned(json(Some(other)).to_string()),
    }
}

/// The value as JSON (strings as JSON strings).
fn json(value: Option<&Value>) -> Json {
    match value {
        None => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(n)) => Json::from(*n),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Json::Number)
            // OTLP/JSON spells the non-finite doubles as strings.
            .unwrap_or_else(|| Json::String(non_finite(*d).to_owned())),
        Some(Value::BytesValue(b)) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(Value::ArrayValue(a)) => {
            Json::Array(a.values.iter().map(|v| json(v.value.as_ref())).collect())
        }
        Some(Value::KvlistValue(l)) => Json::Object(
            l.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        json(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                    )
                })
                .collect(),
        ),
        Some(Value::StringValueStrindex(i)) => Json::from(*i),
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
pub fn first_string(value: Option<&AnyValue>) -> Option<Cow<'_, str>> {
    match value?.value.as_ref()? {
        Value::ArrayValue(a) => a.values.first().map(|v| text(Some(v))),
        _ => Some(text(value)),
    }
}

/// An int value, also from a decimal string.
pub fn int(value: Option<&AnyValue>) -> Option<i64> {
    match value?.value.as_ref()? {
        Value::IntValue(n) => Some(*n),
        Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A bool value, also from the strings `true` / `false`.
pub fn bool(value: Option<&AnyValue>) -> Option<bool> {
    match value?.value.as_ref()? {
        Value::BoolValue(b) => Some(*b),
        Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValue, KeyValueList};

    use super::*;

    fn v(value: Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    #[test]
    fn every_type_has_a_text_form() {
        assert_eq!(text(Some(&v(Value::StringValue("x y".into())))), "x y");
        assert_eq!(text(Some(&v(Value::IntValue(-3)))), "-3");
        assert_eq!(text(Some(&v(Value::DoubleValue(1.0)))), "1.0");
        assert_eq!(text(Some(&v(Value::DoubleValue(f64::NAN)))), "\"NaN\"");
        assert_eq!(text(Some(&v(Value::BoolValue(true)))), "true");
        assert_eq!(text(Some(&v(Value::BytesValue(vec![0xff, 0])))), "\"/wA=\"");
        let array = v(Value::ArrayValue(ArrayValue {
            values: vec![v(Value::StringValue("a".into())), v(Value::IntValue(2))],
        }));
        assert_eq!(text(Some(&array)), r#"["a",2]"#);
        let list = v(Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(v(Value::BoolValue(false))),
                ..Default::default()
            }],
        }));
        assert_eq!(text(Some(&list)), r#"{"k":false}"#);
        assert_eq!(text(None), "");
    }

    #[test]
    fn header_arrays_give_their_first_string() {
        let header = v(Value::ArrayValue(ArrayValue {
            values: vec![v(Value::StringValue("key-1".into()))],
        }));
        assert_eq!(first_string(Some(&header)).as_deref(), Some("key-1"));
        let empty = v(Value::ArrayValue(ArrayValue { values: vec![] }));
        assert_eq!(first_string(Some(&empty)), None);
    }

    #[test]
    fn ints_and_bools_accept_their_string_spelling() {
        assert_eq!(int(Some(&v(Value::StringValue(" 12 ".into())))), Some(12));
        assert_eq!(int(Some(&v(Value::DoubleValue(1.0)))), None);
        assert_eq!(
            bool(Some(&v(Value::StringValue("true".into())))),
            Some(true)
        );
    }
}
