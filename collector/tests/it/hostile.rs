//! Hostile input: nothing a client sends crashes the collector or loses the
//! rest; undecodable bodies are 400, odd but valid spans are kept.

use causet_collector::Limits;
use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
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
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
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
