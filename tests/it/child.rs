//! A `causet collect` child process, and what it stored.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

pub use causet_bench::child::Collector;

/// Starts `causet collect` on loopback port 0 with `args` and waits until it listens.
pub fn start(data: &Path, args: &[&str]) -> Collector {
    causet_bench::child::start_collector(Path::new(env!("CARGO_BIN_EXE_causet")), data, args)
        .expect("start causet collect")
}

/// How often each span id is stored in Parquet.
pub fn stored_span_ids(data: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for batch in causet_collector::store::read_table(data, tables::SPANS).unwrap() {
        let ids = batch
            .column_by_name(tables::col::SPAN_ID)
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap()
            .clone();
        for id in ids.iter().flatten() {
            *counts.entry(id.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// SIGTERM, and a clean exit.
pub fn terminate(mut collector: Collector) {
    let status = Command::new("kill")
        .args(["-TERM", &collector.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = collector.child.wait().unwrap();
    assert!(exit.success(), "collector exited with {exit}");
}

/// Request `seq` of exporter `client`: `spans` spans with ids unique per
/// (client, seq, index), each with a `payload` attribute if given; and the
/// span ids as stored (hex).
pub fn request(
    client: u8,
    seq: u16,
    spans: u16,
    payload: Option<&str>,
) -> (ExportTraceServiceRequest, Vec<String>) {
    let mut ids = Vec::new();
    let spans = (0..spans)
        .map(|i| {
            let mut span_id = [0u8; 8];
            span_id[0] = client + 1;
            span_id[1..3].copy_from_slice(&seq.to_be_bytes());
            span_id[3..5].copy_from_slice(&i.to_be_bytes());
            ids.push(span_id.iter().map(|b| format!("{b:02x}")).collect());
            Span {
                trace_id: vec![client + 1; 16],
                span_id: span_id.to_vec(),
                name: format!("op-{i}"),
                start_time_unix_nano: 1_795_600_800_000_000_000 + u64::from(seq),
                end_time_unix_nano: 1_795_600_800_000_100_000 + u64::from(seq),
                attributes: payload
                    .map(|p| KeyValue {
                        key: "payload".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(p.into())),
                        }),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    (request, ids)
}
