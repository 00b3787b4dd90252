//! Building the happens-before graph and its derived clocks.
//!
//! `cargo bench -p causet-analyzer --bench graph` first builds the graph of
//! 1,000,000 generated spans once and prints the time, spans/s and the peak
//! memory the build added (from /proc/self/status, after resetting the
//! high-water mark), then lets criterion time a 100,000-span build.
//!
//! The data: 200 services on 5 nodes each; traces of 16 spans (a server
//! root, client/server RPC pairs across nodes, internal children), vector
//! clocks and HLCs on every span, one send/receive message pair per trace
//! across traces.

#![allow(clippy::print_stderr)] // A bench reports on stderr.

use std::hint::black_box;
use std::time::Instant;

use causet_analyzer::graph::{Graph, Input};
use causet_collector::convert::convert;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

const SPANS_PER_TRACE: u64 = 16;
const T0: u64 = 1_795_600_800_000_000_000;

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn trace(t: u64) -> Vec<Span> {
    let service = t % 200;
    let mut spans = Vec::with_capacity(SPANS_PER_TRACE as usize);
    for i in 0..SPANS_PER_TRACE {
        // 0: server root; odd: client calls; even > 0: their server side on another node.
        let (kind, parent) = match i {
            0 => (2, None),
            i if i % 2 == 1 => (3, Some(if i == 1 { 0 } else { i - 1 })),
            i => (2, Some(i - 1)),
        };
        let node = format!("svc{service}-{}", (t + i / 2) % 5);
        let start = T0 + t * 1_000_000 + i * 1_000;
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&(t + 1).to_be_bytes());
        let mut attributes = vec![
            kv("causet.node", Value::StringValue(node.clone())),
            kv(
                "causet.vc",
                Value::StringValue(format!("{{\"{node}\":{}}}", t * 20 + i + 1)),
            ),
            kv("causet.hlc.wall_ns", Value::IntValue(start as i64)),
        ];
        if i == 3 {
            attributes.push(kv(
                "causet.write.key",
                Value::StringValue(format!("k{}", t % 1000)),
            ));
        }
        let events = if i == 2 {
            vec![span::Event {
                time_unix_nano: start + 10,
                name: "causet.send".into(),
                attributes: vec![kv("causet.msg.id", Value::StringValue(format!("m{t}")))],
                ..Default::default()
            }]
        } else if i == 4 && t > 0 {
            vec![span::Event {
                time_unix_nano: start + 10,
                name: "causet.receive".into(),
                attributes: vec![kv(
                    "causet.msg.id",
                    Value::StringValue(format!("m{}", t - 1)),
                )],
                ..Default::default()
            }]
        } else {
            vec![]
        };
        spans.push(Span {
            trace_id: trace_id.to_vec(),
            span_id: (t * SPANS_PER_TRACE + i + 1).to_be_bytes().to_vec(),
            parent_span_id: parent
                .map(|p| (t * SPANS_PER_TRACE + p + 1).to_be_bytes().to_vec())
                .unwrap_or_default(),
            name: format!("op{i}"),
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: start + (SPANS_PER_TRACE - i) * 2_000,
            attributes,
            events,
            ..Default::default()
        });
    }
    spans
}

/// `spans` generated spans as the analyzer would load them.
fn input(spans: u64) -> Input {
    let mut input = Input::default();
    let traces = spans / SPANS_PER_TRACE;
    for chunk in (0..traces).collect::<Vec<_>>().chunks(4096) {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: chunk.iter().flat_map(|&t| trace(t)).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let rows = convert(&request).unwrap();
        input.spans.push(rows.spans);
        input.events.push(rows.span_events);
        input.links.push(rows.span_links);
    }
    input
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// One build of 1M spans, with the peak memory it added.
fn million() {
    const SPANS: u64 = 1_000_000;
    let input = input(SPANS);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let graph = Graph::build(&input).unwrap();
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:").saturating_sub(before);
    eprintln!(
        "graph build: {SPANS} spans, {} events, {} edges in {:.2} s = {:.0} spans/s; peak memory +{} MiB = {} bytes/span",
        graph.event_count(),
        graph.edge_count(),
        elapsed.as_secs_f64(),
        SPANS as f64 / elapsed.as_secs_f64(),
        peak / 1024,
        peak * 1024 / SPANS,
    );
}

fn build(c: &mut Criterion) {
    // `cargo bench` passes --bench; `cargo test --benches` runs only the quick part.
    if std::env::args().any(|a| a == "--bench") {
        million();
    }
    let input = input(100_000);
    let mut group = c.benchmark_group("hb_graph");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("build_100k_spans", |b| {
        b.iter(|| Graph::build(black_box(&input)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
