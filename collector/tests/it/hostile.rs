//! Hostile input: nothing a client sends crashes the collector or loses the
//! rest; undecodable bodies are 400, odd but valid spans are kept.

use causet_collector::Limits;
use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

use crate::common::{rows, start};

fn span(id: u8, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![id; 16],
        span_id: vec![id; 8],
        name: "AAAAAAAA".into(),
        start_time_unix_nano: 1_795_600_800_000_000_000,
        end_time_unix_nano: 1_795_600_800_000_001_000,
        attributes,
        ..Default::default()
    }
}

fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    crate::common::otlp(spans)
}

fn nested(depth: usize) -> AnyValue {
    let mut value = AnyValue {
        value: Some(Value::IntValue(1)),
    };
    for _ in 0..depth {
        value = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "k".into(),
                    value: Some(value),
                    ..Default::default()
                }],
            })),
        };
    }
    value
}

async fn post(addr: std::net::SocketAddr, content_type: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_are_refused_and_odd_spans_kept() {
    let c = start(Limits::default()).await;
    let deep = KeyValue {
        key: "deep".into(),
        value: Some(nested(500)),
        ..Default::default()
    };
    // Nesting beyond the decoders' recursion limits: refused, not a stack overflow.
    let body = request(vec![span(1, vec![deep])]).encode_to_vec();
    assert_eq!(post(c.http, "application/x-protobuf", body).await, 400);
    let mut json = String::from(
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":",
    );
    for _ in 0..2000 {
        json.push_str("{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":");
    }
    assert_eq!(
        post(c.http, "application/json", json.into_bytes()).await,
        400
    );

    // Invalid UTF-8 where protobuf requires a string.
    let mut body = request(vec![span(2, vec![])]).encode_to_vec();
    let at = body.windows(8).position(|w| w == b"AAAAAAAA").unwrap();
    body[at..at + 4].copy_from_slice(&[0xff, 0xfe, 0xfd, 0xfc]);
    assert_eq!(post(c.http, "application/x-protobuf", body).await, 400);

    // Valid but odd: a nesting the decoder allows, 50,000 attributes, an end
    // before the start, and a vector clock far over the entry limit. Kept.
    let many: Vec<KeyValue> = (0..50_000)
        .map(|i| KeyValue {
            key: format!("a{i}"),
            value: Some(AnyValue {
                value: Some(Value::IntValue(i)),
            }),
            ..Default::default()
        })
        .collect();
    let mut backwards = span(4, vec![]);
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1_000;
    let huge_vc: String = format!(
        "{{{}}}",
        (0..100_000)
            .map(|i| format!("\"n{i}\":1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let clock = span(
        5,
        vec![KeyValue {
            key: "causet.vc".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(huge_vc)),
            }),
            ..Default::default()
        }],
    );
    let fine = KeyValue {
        key: "fine".into(),
        value: Some(nested(20)),
        ..Default::default()
    };
    let body = request(vec![span(3, many), backwards, clock, span(6, vec![fine])]).encode_to_vec();
    assert_eq!(post(c.http, "application/x-protobuf", body).await, 200);

    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    assert_eq!(spans.len(), 4, "only the last request was stored");
    let clock = spans
        .iter()
        .find(|s| s["span_id"] == "0505050505050505")
        .unwrap();
    assert!(
        clock["clock_error"]
            .as_str()
            .unwrap()
            .contains("100000 entries"),
        "{}",
        clock["clock_error"]
    );
}

fn vc_attribute(json: String) -> Vec<KeyValue> {
    vec![KeyValue {
        key: "causet.vc".into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(json)),
        }),
        ..Default::default()
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_length_ids_limit_timestamps_and_absurd_clocks_are_judged_span_by_span() {
    let c = start(Limits::default()).await;
    let mut short_trace = span(1, vec![]);
    short_trace.trace_id = vec![1; 15];
    let mut long_span = span(2, vec![]);
    long_span.span_id = vec![2; 9];
    let mut beyond_i64 = span(3, vec![]);
    beyond_i64.start_time_unix_nano = u64::MAX;
    beyond_i64.end_time_unix_nano = u64::MAX;
    let mut at_i64_max = span(4, vec![]);
    at_i64_max.start_time_unix_nano = i64::MAX as u64;
    at_i64_max.end_time_unix_nano = i64::MAX as u64;
    let mut at_zero = span(5, vec![]);
    at_zero.start_time_unix_nano = 0;
    at_zero.end_time_unix_nano = 0;
    let million = format!(
        "{{{}}}",
        (0..1_000_000)
            .map(|i| format!("\"n{i}\":1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let million_vc = span(6, vc_attribute(million));
    let negative_vc = span(7, vc_attribute(r#"{"a":-1,"b":2}"#.into()));
    let body = request(vec![
        short_trace,
        long_span,
        beyond_i64,
        at_i64_max,
        at_zero,
        million_vc,
        negative_vc,
    ])
    .encode_to_vec();
    let res = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", c.http))
        .header("content-type", "application/json")
        .body(
            serde_json::to_vec(&ExportTraceServiceRequest::decode(body.as_slice()).unwrap())
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(
        answer["partialSuccess"]["rejectedSpans"], 3,
        "the two bad ids and the time beyond i64 are refused: {answer}"
    );

    let dir = c.stop().await;
    let spans = rows(dir.path(), tables::SPANS);
    let kept: Vec<&str> = spans
        .iter()
        .map(|s| s["span_id"].as_str().unwrap())
        .collect();
    assert_eq!(kept.len(), 4, "{kept:?}");
    let error = |id: &str| {
        spans
            .iter()
            .find(|s| s["span_id"] == id)
            .and_then(|s| s["clock_error"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        error("0606060606060606").contains("1000000 entries"),
        "{}",
        error("0606060606060606")
    );
    assert!(
        !error("0707070707070707").is_empty(),
        "a negative counter is a clock error"
    );
}
