//! Conversion cost per span, next to the floor of decoding alone.
//!
//! `cargo bench -p causet-bench --bench ingest`; criterion reports spans/s
//! (elements/s) for the same protobuf bytes, one request of
//! [`causet_bench::workload::otlp_request`]: prost decoding alone (the
//! floor), the protobuf walker into Arrow (what the collector does), and
//! prost decoding then converting its structs (the walker's oracle, and
//! what the collector did before). `causet-loadgen` measures the same
//! ratio end to end, against a running collector.

use std::hint::black_box;

use causet_bench::workload::{SPANS_PER_REQUEST, otlp_request};
use causet_collector::convert::{convert, convert_protobuf};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

const SPANS: usize = SPANS_PER_REQUEST;

fn ingest(c: &mut Criterion) {
    let bytes = otlp_request(0, SPANS).encode_to_vec();
    let mut group = c.benchmark_group("otlp_ingest");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("prost_decode_only", |b| {
        b.iter(|| ExportTraceServiceRequest::decode(black_box(bytes.as_slice())).unwrap())
    });
    group.bench_function("walk_into_arrow", |b| {
        b.iter(|| convert_protobuf(black_box(bytes.as_slice())).unwrap())
    });
    group.bench_function("prost_decode_then_convert", |b| {
        b.iter(|| {
            let request = ExportTraceServiceRequest::decode(black_box(bytes.as_slice())).unwrap();
            convert(&request).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
