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

use super::convert;

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
