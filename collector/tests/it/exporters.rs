//! Spans from the real opentelemetry-otlp exporters, over gRPC, HTTP/protobuf
//! and HTTP/JSON, read back from Parquet field by field.

use std::time::{Duration, SystemTime};

use causet_collector::Limits;
use causet_schema::clocks::{Hlc, Lamport, VectorClock};
use causet_schema::tables;
use opentelemetry::trace::{
    Link, Span, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_otlp::{
    Compression, Protocol, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};

use crate::common::{row, rows, start};

const T0: u64 = 1_795_600_800_000_000_000; // 2026-11-25T10:00:00Z

fn at(ns: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(ns)
}

/// Ids the test needs to find its spans again.
struct Emitted {
    trace_id: String,
    parent_id: String,
    child_id: String,
}

fn provider(exporter: SpanExporter) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("checkout")
                .with_attribute(KeyValue::new("service.instance.id", "checkout-1"))
                .with_attribute(KeyValue::new("deployment.environment", "test"))
                .build(),
        )
        .build()
}

/// A server span with a client child carrying every convention attribute,
/// a send event, a link and an error status. Blocks until exported.
fn emit(provider: SdkTracerProvider) -> Emitted {
    let scope = InstrumentationScope::builder("causet-test")
        .with_version("1.2.3")
        .with_attributes([KeyValue::new("scope.kind", "it")])
        .build();
    let tracer = provider.tracer_with_scope(scope);
    let parent = tracer
        .span_builder("GET /cart")
        .with_kind(SpanKind::Server)
        .with_start_time(at(T0))
        .start(&tracer);
    let parent_cx = Context::current_with_span(parent);

    let vc: VectorClock = [("node-7", 3), ("checkout-1", 5)].into_iter().collect();
    let hlc = Hlc::new(T0 as i64 + 1_000, 2);
    let mut attrs = vec![
        KeyValue::new("causet.node", "node-7"),
        KeyValue::new("causet.write.key", "cart:42"),
        KeyValue::new("causet.write.value", "v9"),
        KeyValue::new("causet.idempotency_key", "req-1"),
        KeyValue::new("causet.retry.attempt", 2),
        KeyValue::new("causet.msg.id", "m-0"),
        KeyValue::new("http.request.method", "POST"),
        KeyValue::new("ratio", 0.5),
        KeyValue::new("causet.end.vc", "{broken"),
    ];
    attrs.extend(vc.to_attributes());
    attrs.extend(hlc.to_attributes());
    attrs.push(Lamport(11).to_attribute());
    attrs.extend(Hlc::new(T0 as i64 + 9_000, 0).to_end_attributes());
    attrs.push(Lamport(14).to_end_attribute());

    let linked = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "x")]).unwrap(),
    );
    let mut child = tracer
        .span_builder("replicate")
        .with_kind(SpanKind::Client)
        .with_start_time(at(T0 + 1_000))
        .with_attributes(attrs)
        .with_links(vec![Link::new(
            linked,
            vec![KeyValue::new("link.why", "caused-by")],
            0,
        )])
        .start_with_context(&tracer, &parent_cx);
    child.add_event_with_timestamp(
        "causet.send",
        at(T0 + 2_000),
        vec![
            KeyValue::new("causet.msg.id", "m-1"),
            KeyValue::new("causet.vc", r#"{"node-7":4,"checkout-1":5}"#),
            KeyValue::new("causet.lamport", 12),
        ],
    );
    child.set_status(Status::error("replica unreachable"));
    let emitted = Emitted {
        trace_id: child.span_context().trace_id().to_string(),
        parent_id: parent_cx.span().span_context().span_id().to_string(),
        child_id: child.span_context().span_id().to_string(),
    };
    child.end_with_timestamp(at(T0 + 9_000));
    parent_cx.span().end_with_timestamp(at(T0 + 10_000));
    provider.shutdown().expect("exporter flushed and shut down");
    emitted
}

fn map_get<'v>(map: &'v Value, key: &str) -> &'v Value {
    &map[key]
}

fn check(dir: &std::path::Path, e: &Emitted) {
    let spans = rows(dir, tables::SPANS);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let child = row(&spans, "span_id", &e.child_id);
    let parent = row(&spans, "span_id", &e.parent_id);

    assert_eq!(child["trace_id"], e.trace_id.as_str());
    assert_eq!(child["parent_span_id"], e.parent_id.as_str());
    assert!(
        parent.get("parent_span_id").is_none_or(Value::is_null),
        "{parent}"
    );
    assert_eq!(child["name"], "replicate");
    assert_eq!(child["kind"], "CLIENT");
    assert_eq!(parent["kind"], "SERVER");
    assert_eq!(child["start_time"], "2026-11-25T10:00:00.000001Z");
    assert_eq!(child["end_time"], "2026-11-25T10:00:00.000009Z");
    assert_eq!(child["status_code"], "ERROR");
    assert_eq!(child["status_message"], "replica unreachable");
    assert_eq!(child["flags"].as_u64().unwrap() & 0xff, 1, "sampled");
    for count in [
        "dropped_attributes_count",
        "dropped_events_count",
        "dropped_links_count",
    ] {
        assert_eq!(child[count], 0, "{count}");
    }

    // Every attribute, as text.
    let attrs = &child["attributes"];
    assert_eq!(map_get(attrs, "causet.node"), "node-7");
    assert_eq!(map_get(attrs, "causet.retry.attempt"), "2");
    assert_eq!(map_get(attrs, "ratio"), "0.5");
    assert_eq!(map_get(attrs, "causet.end.vc"), "{broken");
    assert_eq!(
        map_get(attrs, "causet.vc"),
        r#"{"checkout-1":5,"node-7":3}"#
    );
    assert_eq!(attrs.as_object().unwrap().len(), 16, "{attrs}");

    assert_eq!(child["service_name"], "checkout");
    assert_eq!(
        map_get(&child["resource_attributes"], "service.instance.id"),
        "checkout-1"
    );
    assert_eq!(
        map_get(&child["resource_attributes"], "deployment.environment"),
        "test"
    );
    assert_eq!(child["scope_name"], "causet-test");
    assert_eq!(child["scope_version"], "1.2.3");
    assert_eq!(child["scope_attributes"], json!({"scope.kind": "it"}));

    // Causal columns.
    assert_eq!(child["node"], "node-7");
    assert_eq!(parent["node"], "checkout-1", "resource default");
    assert_eq!(child["lamport"], 11);
    assert_eq!(child["hlc_wall_ns"], T0 + 1_000);
    assert_eq!(child["hlc_logical"], 2);
    assert_eq!(child["vc"], json!({"checkout-1": 5, "node-7": 3}));
    assert_eq!(child["end_lamport"], 14);
    assert_eq!(child["end_hlc_wall_ns"], T0 + 9_000);
    assert_eq!(child["end_hlc_logical"], 0);
    assert!(
        child.get("end_vc").is_none_or(Value::is_null),
        "malformed clock is null"
    );
    let clock_error = child["clock_error"].as_str().unwrap();
    assert!(
        clock_error.contains("causet.end.vc") && clock_error.contains("{broken"),
        "{clock_error}"
    );
    assert_eq!(child["write_key"], "cart:42");
    assert_eq!(child["write_value"], "v9");
    assert_eq!(child["idempotency_key"], "req-1");
    assert_eq!(child["retry_attempt"], 2);
    assert_eq!(child["msg_id"], "m-0");
    assert!(parent.get("lamport").is_none_or(Value::is_null));
    assert!(parent.get("clock_error").is_none_or(Value::is_null));

    let events = rows(dir, tables::SPAN_EVENTS);
    assert_eq!(events.len(), 1, "{events:#?}");
    let ev = &events[0];
    assert_eq!(ev["trace_id"], e.trace_id.as_str());
    assert_eq!(ev["span_id"], e.child_id.as_str());
    assert_eq!(ev["event_index"], 0);
    assert_eq!(ev["name"], "causet.send");
    assert_eq!(ev["time"], "2026-11-25T10:00:00.000002Z");
    assert_eq!(ev["node"], "node-7");
    assert_eq!(ev["msg_id"], "m-1");
    assert_eq!(ev["lamport"], 12);
    assert_eq!(ev["vc"], json!({"checkout-1": 5, "node-7": 4}));
    assert_eq!(map_get(&ev["attributes"], "causet.lamport"), "12");
    assert_eq!(ev["dropped_attributes_count"], 0);

    let links = rows(dir, tables::SPAN_LINKS);
    assert_eq!(links.len(), 1, "{links:#?}");
    let link = &links[0];
    assert_eq!(link["span_id"], e.child_id.as_str());
    assert_eq!(link["link_index"], 0);
    assert_eq!(link["linked_trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(link["linked_span_id"], "b7ad6b7169203331");
    assert_eq!(link["trace_state"], "vendor=x");
    assert_eq!(link["attributes"], json!({"link.why": "caused-by"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exporter_with_gzip() {
    let collector = start(Limits::default()).await;
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(format!("http://{}", collector.grpc))
        .with_compression(Compression::Gzip)
        .build()
        .unwrap();
    let provider = provider(exporter);
    let emitted = tokio::task::spawn_blocking(move || emit(provider))
        .await
        .unwrap();
    let dir = collector.stop().await;
    check(dir.path(), &emitted);
}

async fn over_http(protocol: Protocol, compression: Option<Compression>) {
    let collector = start(Limits::default()).await;
    let endpoint = format!("http://{}/v1/traces", collector.http);
    // The blocking HTTP client must live and die outside the async runtime.
    let emitted = tokio::task::spawn_blocking(move || {
        let mut builder = SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_endpoint(endpoint);
        if let Some(compression) = compression {
            builder = builder.with_compression(compression);
        }
        emit(provider(builder.build().unwrap()))
    })
    .await
    .unwrap();
    let dir = collector.stop().await;
    check(dir.path(), &emitted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_exporter_with_gzip() {
    over_http(Protocol::HttpBinary, Some(Compression::Gzip)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_exporter() {
    over_http(Protocol::HttpJson, None).await;
}
