//! Unit tests of the conversion: the rules a span's fields follow into columns.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, UInt64Type};
use causet_schema::tables::col;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

use prost::Message as _;

use super::{Converted, convert_protobuf};

/// Both ways in, which must agree: the protobuf walker on the request's
/// encoding, and prost's structs (the oracle).
fn convert(request: &ExportTraceServiceRequest) -> crate::Result<Converted> {
    let oracle = super::convert(request)?;
    let walked = convert_protobuf(&request.encode_to_vec())?;
    assert_same(&walked, &oracle);
    Ok(walked)
}

fn assert_same(walked: &Converted, oracle: &Converted) {
    assert_eq!(walked.spans, oracle.spans, "spans differ");
    assert_eq!(walked.span_events, oracle.span_events, "span events differ");
    assert_eq!(walked.span_links, oracle.span_links, "span links differ");
    assert_eq!(walked.rejected, oracle.rejected);
    assert_eq!(walked.error_message, oracle.error_message);
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.into()))
}

fn span(id: u8, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![id; 8],
        name: format!("span-{id}"),
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 2_000,
        attributes,
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    batch
        .column_by_name(column)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

#[test]
fn node_comes_from_the_span_then_the_instance_then_the_service() {
    let req = request(
        vec![
            s("service.name", "cart"),
            s("service.instance.id", "cart-3"),
        ],
        vec![
            span(1, vec![s("causet.node", "replica-a")]),
            span(2, vec![]),
        ],
    );
    let out = convert(&req).unwrap();
    assert_eq!(
        strings(&out.spans, col::NODE),
        [Some("replica-a".into()), Some("cart-3".into())]
    );
    assert_eq!(
        strings(&out.spans, col::SERVICE_NAME)[1].as_deref(),
        Some("cart")
    );

    let only_service = convert(&request(
        vec![s("service.name", "cart")],
        vec![span(1, vec![])],
    ))
    .unwrap();
    assert_eq!(
        strings(&only_service.spans, col::NODE),
        [Some("cart".into())]
    );
    let nothing = convert(&request(vec![], vec![span(1, vec![])])).unwrap();
    assert_eq!(
        strings(&nothing.spans, col::NODE),
        [Some("unknown_service".into())]
    );
}

#[test]
fn malformed_clocks_keep_the_span_and_say_why() {
    let req = request(
        vec![],
        vec![span(
            1,
            vec![
                s("causet.vc", r#"{"a":-1}"#),
                s("causet.lamport", "12"),
                kv("causet.hlc.logical", Value::IntValue(1)),
            ],
        )],
    );
    let out = convert(&req).unwrap();
    assert_eq!(out.accepted(), 1);
    assert_eq!(out.rejected, 0);
    let error = strings(&out.spans, col::CLOCK_ERROR)[0].clone().unwrap();
    assert!(
        error.contains("causet.vc") && error.contains("-1"),
        "{error}"
    );
    assert!(
        error.contains("causet.hlc.logical is set but causet.hlc.wall_ns is not"),
        "{error}"
    );
    assert!(out.spans.column_by_name(col::VC).unwrap().is_null(0));
    // The string-spelled Lamport time is a valid clock.
    let lamport = out
        .spans
        .column_by_name(col::LAMPORT)
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(lamport.value(0), 12);
}

#[test]
fn spans_that_cannot_be_stored_are_counted_with_the_first_reason() {
    let mut short = span(2, vec![]);
    short.trace_id = vec![1; 15];
    let mut zero = span(3, vec![]);
    zero.span_id = vec![0; 8];
    let mut late = span(4, vec![]);
    late.end_time_unix_nano = u64::MAX;
    let mut bad_parent = span(5, vec![]);
    bad_parent.parent_span_id = vec![1; 3];
    let out = convert(&request(
        vec![],
        vec![span(1, vec![]), short, zero, late, bad_parent],
    ))
    .unwrap();
    assert_eq!(out.accepted(), 1);
    assert_eq!(out.rejected, 4);
    let message = out.error_message.unwrap();
    assert_eq!(
        message,
        "rejected 4 spans; the first: trace_id has 15 bytes, expected 16"
    );
}

#[test]
fn retries_and_idempotency_fall_back_to_semantic_conventions() {
    let header = kv(
        "http.request.header.idempotency-key",
        Value::ArrayValue(ArrayValue {
            values: vec![AnyValue {
                value: Some(Value::StringValue("hdr-key".into())),
            }],
        }),
    );
    let req = request(
        vec![],
        vec![
            span(
                1,
                vec![header, kv("http.request.resend_count", Value::IntValue(2))],
            ),
            span(
                2,
                vec![
                    s("causet.idempotency_key", "own-key"),
                    kv("causet.retry.attempt", Value::IntValue(0)),
                    kv("http.request.resend_count", Value::IntValue(5)),
                    kv("causet.idempotency.replayed", Value::BoolValue(true)),
                ],
            ),
        ],
    );
    let out = convert(&req).unwrap();
    assert_eq!(
        strings(&out.spans, col::IDEMPOTENCY_KEY),
        [Some("hdr-key".into()), Some("own-key".into())]
    );
    let attempts = out
        .spans
        .column_by_name(col::RETRY_ATTEMPT)
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!((attempts.value(0), attempts.value(1)), (2, 0));
    let replayed = out
        .spans
        .column_by_name(col::IDEMPOTENCY_REPLAYED)
        .unwrap()
        .as_boolean();
    assert!(replayed.is_null(0));
    assert!(replayed.value(1));
}

#[test]
fn events_carry_their_clocks_and_links_keep_odd_ids() {
    let mut sp = span(1, vec![s("causet.node", "n1")]);
    sp.events = vec![span::Event {
        time_unix_nano: 1_500,
        name: "causet.receive".into(),
        attributes: vec![
            s("causet.msg.id", "m-9"),
            s("causet.vc", r#"{"n1":2,"n0":4}"#),
        ],
        ..Default::default()
    }];
    sp.links = vec![span::Link {
        trace_id: vec![0xab; 3],
        span_id: vec![],
        ..Default::default()
    }];
    sp.parent_span_id = vec![0; 8];
    let out = convert(&request(vec![], vec![sp])).unwrap();
    assert_eq!(strings(&out.span_events, col::MSG_ID), [Some("m-9".into())]);
    assert_eq!(strings(&out.span_events, col::NODE), [Some("n1".into())]);
    let vc = out.span_events.column_by_name(col::VC).unwrap().as_map();
    assert_eq!(vc.value_length(0), 2);
    assert_eq!(
        strings(&out.span_links, col::LINKED_TRACE_ID),
        [Some("ababab".into())]
    );
    assert_eq!(
        strings(&out.span_links, col::LINKED_SPAN_ID),
        [Some(String::new())]
    );
    // An all-zero parent id means "no parent", as some SDKs send it.
    assert_eq!(strings(&out.spans, col::PARENT_SPAN_ID), [None]);
}

#[test]
fn an_empty_request_converts_to_empty_batches() {
    let out = convert(&ExportTraceServiceRequest::default()).unwrap();
    assert_eq!(out.accepted(), 0);
    assert_eq!(out.span_events.num_rows(), 0);
    assert_eq!(out.error_message, None);
}

#[test]
fn malformed_protobuf_is_a_decode_error() {
    let good = request(vec![], vec![span(1, vec![s("k", "v")])]).encode_to_vec();
    // Cut short, and with a string that is not UTF-8.
    let cut = convert_protobuf(&good[..good.len() - 3]).unwrap_err();
    assert!(matches!(cut, crate::Error::Decode(_)), "{cut}");
    let mut bad_utf8 = good.clone();
    let at = bad_utf8
        .windows(6)
        .position(|w| w == b"span-1")
        .expect("the span name is in the bytes");
    bad_utf8[at] = 0xff;
    let err = convert_protobuf(&bad_utf8).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
    // prost refuses both too.
    assert!(ExportTraceServiceRequest::decode(&good[..good.len() - 3]).is_err());
    assert!(ExportTraceServiceRequest::decode(bad_utf8.as_slice()).is_err());
}

/// Random requests, the conventions' attributes among them, give the same
/// rows through the walker, through prost, and through OTLP/JSON.
mod same_rows {
    use opentelemetry_proto::tonic::common::v1::KeyValueList;
    use opentelemetry_proto::tonic::trace::v1::Status;
    use proptest::prelude::*;

    use super::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "causet.node",
                "causet.lamport",
                "causet.vc",
                "causet.hlc.wall_ns",
                "causet.hlc.logical",
                "causet.end.lamport",
                "causet.end.vc",
                "causet.end.hlc.wall_ns",
                "causet.write.key",
                "causet.write.value",
                "causet.read.key",
                "causet.msg.id",
                "causet.idempotency_key",
                "causet.idempotency.replayed",
                "causet.retry.attempt",
                "http.request.header.idempotency-key",
                "http.request.resend_count",
                "service.name",
                "service.instance.id",
            ])
            .prop_map(str::to_owned),
            "[a-z.]{0,6}",
            "\\PC{0,4}",
        ]
    }

    fn leaf() -> impl Strategy<Value = AnyValue> {
        prop_oneof![
            "\\PC{0,6}".prop_map(Value::StringValue),
            prop::sample::select(vec![r#"{"a":1,"b":7}"#, "{oops", "12", "-3", "true", ""])
                .prop_map(|s| Value::StringValue(s.to_owned())),
            any::<i64>().prop_map(Value::IntValue),
            (0i64..5).prop_map(Value::IntValue),
            any::<bool>().prop_map(Value::BoolValue),
            (prop::num::f64::NORMAL | prop::num::f64::ZERO).prop_map(Value::DoubleValue),
            prop::collection::vec(any::<u8>(), 0..4).prop_map(Value::BytesValue),
        ]
        .prop_map(|v| AnyValue { value: Some(v) })
    }

    fn any_value() -> impl Strategy<Value = AnyValue> {
        leaf().prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(|values| AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue { values })),
                }),
                prop::collection::vec((key(), inner), 0..3).prop_map(|pairs| AnyValue {
                    value: Some(Value::KvlistValue(KeyValueList {
                        values: pairs
                            .into_iter()
                            .map(|(key, value)| KeyValue {
                                key,
                                value: Some(value),
                                ..Default::default()
                            })
                            .collect(),
                    })),
                }),
            ]
        })
    }

    fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
        prop::collection::vec(
            (key(), prop::option::weighted(0.95, any_value())).prop_map(|(key, value)| KeyValue {
                key,
                value,
                ..Default::default()
            }),
            0..6,
        )
    }

    fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => prop::collection::vec(any::<u8>(), len),
            1 => prop::collection::vec(any::<u8>(), 0..20),
            1 => Just(vec![0; len]),
        ]
    }

    fn time() -> impl Strategy<Value = u64> {
        prop_oneof![9 => 0u64..(1 << 62), 1 => any::<u64>()]
    }

    fn event() -> impl Strategy<Value = span::Event> {
        (time(), "\\PC{0,6}", attributes(), any::<u32>()).prop_map(
            |(time_unix_nano, name, attributes, dropped_attributes_count)| span::Event {
                time_unix_nano,
                name,
                attributes,
                dropped_attributes_count,
            },
        )
    }

    fn link() -> impl Strategy<Value = span::Link> {
        (
            id(16),
            id(8),
            "[a-z=,]{0,6}",
            attributes(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(
                |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| {
                    span::Link {
                        trace_id,
                        span_id,
                        trace_state,
                        attributes,
                        dropped_attributes_count,
                        flags,
                    }
                },
            )
    }

    fn a_span() -> impl Strategy<Value = Span> {
        (
            (
                id(16),
                id(8),
                id(8),
                "[a-z=,]{0,6}",
                any::<u32>(),
                "\\PC{0,8}",
                -1i32..7,
            ),
            (time(), time(), attributes(), any::<u32>()),
            (
                prop::collection::vec(event(), 0..3),
                prop::collection::vec(link(), 0..2),
                any::<(u32, u32)>(),
                prop::option::of((-1i32..4, "\\PC{0,6}")),
            ),
        )
            .prop_map(
                |(
                    (trace_id, span_id, parent_span_id, trace_state, flags, name, kind),
                    (start, end, attributes, dropped_attributes_count),
                    (events, links, (dropped_events_count, dropped_links_count), status),
                )| Span {
                    trace_id,
                    span_id,
                    parent_span_id,
                    trace_state,
                    flags,
                    name,
                    kind,
                    start_time_unix_nano: start,
                    end_time_unix_nano: end,
                    attributes,
                    dropped_attributes_count,
                    events,
                    dropped_events_count,
                    links,
                    dropped_links_count,
                    status: status.map(|(code, message)| Status { code, message }),
                },
            )
    }

    fn a_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
        let scope = (
            prop::option::of(("\\PC{0,4}", "[0-9.]{0,4}", attributes(), any::<u32>())),
            prop::collection::vec(a_span(), 0..4),
            "[a-z:/]{0,6}",
        )
            .prop_map(|(scope, spans, schema_url)| ScopeSpans {
                scope: scope.map(|(name, version, attributes, dropped_attributes_count)| {
                    InstrumentationScope {
                        name,
                        version,
                        attributes,
                        dropped_attributes_count,
                    }
                }),
                spans,
                schema_url,
            });
        let resource = (
            prop::option::of((attributes(), any::<u32>())),
            prop::collection::vec(scope, 0..3),
            "[a-z:/]{0,6}",
        )
            .prop_map(|(resource, scope_spans, schema_url)| ResourceSpans {
                resource: resource.map(|(attributes, dropped_attributes_count)| Resource {
                    attributes,
                    dropped_attributes_count,
                    ..Default::default()
                }),
                scope_spans,
                schema_url,
            });
        prop::collection::vec(resource, 0..3)
            .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
    }

    proptest! {
        #[test]
        fn walker_prost_and_json_agree(request in a_request()) {
            let walked = convert(&request).unwrap();
            let json = serde_json::to_vec(&request).unwrap();
            let from_json = super::super::convert(&crate::ingest::decode_json(&json).unwrap()).unwrap();
            assert_same(&walked, &from_json);
        }
    }
}
