//! The ingest workload: OTLP export requests shaped like production ones.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

/// Spans per request, as the OpenTelemetry SDKs' batch processors send.
pub const SPANS_PER_REQUEST: usize = 512;

/// An attribute.
pub fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// Request `batch` of a stream of realistic exports: `spans` server spans
/// of one service with 20 attributes each (HTTP semantic conventions,
/// Lamport, HLC and vector clock annotations, a write key, an idempotency
/// key), one event each and a link on every eighth. Ids are unique across
/// batches, so every request adds new spans.
pub fn otlp_request(batch: u64, spans: usize) -> ExportTraceServiceRequest {
    let first = batch * spans as u64;
    let spans = (0..spans)
        .map(|i| {
            let n = first + i as u64;
            let mut attributes = vec![
                kv(
                    "causet.node",
                    Value::StringValue(format!("replica-{}", i % 5)),
                ),
                kv("causet.lamport", Value::IntValue(n as i64 + 1)),
                kv(
                    "causet.hlc.wall_ns",
                    Value::IntValue(1_795_600_800_000_000_000 + n as i64),
                ),
                kv("causet.hlc.logical", Value::IntValue((n % 3) as i64)),
                kv(
                    "causet.vc",
                    Value::StringValue(format!(
                        r#"{{"replica-0":{n},"replica-1":{},"replica-2":3}}"#,
                        n / 2
                    )),
                ),
                kv(
                    "causet.write.key",
                    Value::StringValue(format!("user:{}", i % 97)),
                ),
                kv("http.request.method", Value::StringValue("POST".into())),
                kv("http.route", Value::StringValue("/v1/users/{id}".into())),
                kv("http.response.status_code", Value::IntValue(200)),
                kv(
                    "server.address",
                    Value::StringValue("users.internal".into()),
                ),
                kv("server.port", Value::IntValue(8080)),
                kv("network.protocol.version", Value::StringValue("1.1".into())),
                kv(
                    "user_agent.original",
                    Value::StringValue("bench/1.0".into()),
                ),
                kv(
                    "causet.idempotency_key",
                    Value::StringValue(format!("req-{n}")),
                ),
            ];
            for extra in attributes.len()..20 {
                attributes.push(kv(
                    &format!("app.attr.{extra}"),
                    Value::StringValue(format!("value-{extra}-{n}")),
                ));
            }
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(n / 16 + 1).to_be_bytes());
            Span {
                trace_id: trace_id.to_vec(),
                span_id: (n + 1).to_be_bytes().to_vec(),
                parent_span_id: if i % 16 == 0 {
                    vec![]
                } else {
                    n.to_be_bytes().to_vec()
                },
                name: "POST /v1/users/{id}".into(),
                kind: 2,
                start_time_unix_nano: 1_795_600_800_000_000_000 + n * 1_000,
                end_time_unix_nano: 1_795_600_800_000_500_000 + n * 1_000,
                attributes,
                events: vec![span::Event {
                    time_unix_nano: 1_795_600_800_000_100_000 + n * 1_000,
                    name: "causet.send".into(),
                    attributes: vec![kv("causet.msg.id", Value::StringValue(format!("m-{n}")))],
                    ..Default::default()
                }],
                links: if i % 8 == 0 {
                    vec![span::Link {
                        trace_id: trace_id.to_vec(),
                        span_id: 1u64.to_be_bytes().to_vec(),
                        ..Default::default()
                    }]
                } else {
                    vec![]
                },
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", Value::StringValue("users".into())),
                    kv("service.instance.id", Value::StringValue("users-1".into())),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
