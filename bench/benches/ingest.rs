//! Conversion cost per span, next to the floor of decoding alone.
//!
//! `cargo bench -p causet-bench --bench ingest`; criterion reports spans/s
//! (elements/s) for the same protobuf bytes, one request of
//! [`causet_bench::workload::otlp_request`]: prost decoding alone (the
//! floor), the protobuf walker into Arrow (what the collector does), and
//! prost decoding then converting its structs (the walker's oracle, and
//! what the collector did before). `causet-loadgen` measures the same
//! ratio end to end, against a running collector.
//!
//! `parquet_flush` is the flusher's share: the rows of 64 distinct requests
//! (fresh ids, as the load generator sends them) written into one Parquet
//! file per table with the collector's writer properties
//! ([`tables::parquet_properties`]) and closed, per span. Beside
//! `prost_decode_only` it says how much of the decode floor writing Parquet
//! alone costs. `parquet_read` reads those files back whole, every column:
//! what a choice of writer properties costs the queries.

use std::hint::black_box;

use bytes::Bytes;
use causet_bench::workload::{SPANS_PER_REQUEST, Template, otlp_request};
use causet_collector::convert::{Converted, convert, convert_protobuf};
use causet_schema::tables;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
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

/// Requests written per `parquet_flush` iteration: 32,768 spans, so that
/// pages fill and compress as in a segment's files.
const FLUSHED_REQUESTS: u64 = 64;

fn flush(c: &mut Criterion) {
    let rows: Vec<Converted> = (0..FLUSHED_REQUESTS)
        .map(|i| {
            let template = Template::new(&otlp_request(i, SPANS));
            convert_protobuf(&template.render([i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i])).unwrap()
        })
        .collect();
    let mut group = c.benchmark_group("otlp_ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FLUSHED_REQUESTS * SPANS as u64));
    group.bench_function("parquet_flush", |b| {
        b.iter(|| write_files(black_box(&rows)))
    });
    let files = write_files(&rows);
    group.bench_function("parquet_read", |b| {
        b.iter(|| {
            let mut read = 0;
            for file in &files {
                for batch in ParquetRecordBatchReaderBuilder::try_new(file.clone())
                    .unwrap()
                    .build()
                    .unwrap()
                {
                    read += batch.unwrap().num_rows();
                }
            }
            black_box(read)
        })
    });
    group.finish();
}

/// Every table of `rows` written into a Parquet file of its own, in memory.
fn write_files(rows: &[Converted]) -> Vec<Bytes> {
    (0..tables::INGESTED_TABLES.len())
        .map(|table| {
            let schema = rows[0].tables()[table].1.schema();
            let props = tables::parquet_properties().build();
            let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
            for converted in rows {
                writer.write(converted.tables()[table].1).unwrap();
            }
            Bytes::from(writer.into_inner().unwrap())
        })
        .collect()
}

criterion_group!(benches, ingest, flush);
criterion_main!(benches);
