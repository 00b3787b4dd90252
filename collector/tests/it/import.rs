//! `import_file` on the formats exporters and the OpenTelemetry Collector write.

use std::path::Path;

use causet_collector::{Ingest, Limits, Store, StoreConfig, import_file};
use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use crate::common::rows;

fn sample() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/lamport-seed.otlp.json");
    std::fs::read_to_string(path).unwrap()
}

async fn import(dir: &Path, file: &Path) -> causet_collector::ImportSummary {
    let store = Store::open(StoreConfig::new(dir)).unwrap();
    let ingest = Ingest::new(store, Limits::default());
    let mut last = 0;
    let summary = import_file(&ingest, file, &mut |done| last = done)
        .await
        .unwrap();
    assert_eq!(
        last,
        std::fs::metadata(file).unwrap().len(),
        "progress reaches the end"
    );
    ingest.store().flush().await.unwrap();
    summary
}

#[tokio::test]
async fn json_lines_are_imported_line_by_line() {
    let request: ExportTraceServiceRequest = serde_json::from_str(&sample()).unwrap();
    let line = serde_json::to_string(&request).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    std::fs::write(
        &file,
        format!("{line}\n{{\"resourceSpans\": [}}\n\n{line}\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let summary = import(&data, &file).await;
    assert_eq!(summary.requests, 3);
    assert_eq!(summary.accepted, 6);
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    assert!(
        summary.errors[0].starts_with("line 2:"),
        "{:?}",
        summary.errors
    );
    assert_eq!(rows(&data, tables::SPANS).len(), 6);
    assert_eq!(rows(&data, tables::SPAN_EVENTS).len(), 28);
}

#[tokio::test]
async fn pretty_json_and_protobuf_files_are_one_request_each() {
    let dir = tempfile::tempdir().unwrap();
    let pretty = dir.path().join("pretty.json");
    std::fs::write(&pretty, sample()).unwrap();
    let request: ExportTraceServiceRequest = serde_json::from_str(&sample()).unwrap();
    let binary = dir.path().join("request.pb");
    std::fs::write(&binary, request.encode_to_vec()).unwrap();

    let data = dir.path().join("data");
    let summary = import(&data, &pretty).await;
    assert_eq!(
        (summary.requests, summary.accepted, summary.rejected),
        (1, 3, 0)
    );
    let data2 = dir.path().join("data2");
    let summary = import(&data2, &binary).await;
    assert_eq!(
        (summary.requests, summary.accepted, summary.rejected),
        (1, 3, 0)
    );
    assert_eq!(rows(&data, tables::SPANS), rows(&data2, tables::SPANS));
}

#[tokio::test]
async fn later_runs_never_overwrite_earlier_files() {
    // Each run flushes its own segments: numbers continue across runs, so a
    // second import (or a restarted collector) adds files instead of
    // replacing the first run's.
    let dir = tempfile::tempdir().unwrap();
    let pretty = dir.path().join("pretty.json");
    std::fs::write(&pretty, sample()).unwrap();
    let mut other: ExportTraceServiceRequest = serde_json::from_str(&sample()).unwrap();
    for rs in &mut other.resource_spans {
        for ss in &mut rs.scope_spans {
            for span in &mut ss.spans {
                span.trace_id[0] ^= 0xff;
            }
        }
    }
    let second = dir.path().join("other.json");
    std::fs::write(&second, serde_json::to_string(&other).unwrap()).unwrap();
    let data = dir.path().join("data");
    import(&data, &pretty).await;
    import(&data, &second).await;
    import(&data, &pretty).await;
    // 3 + 3 distinct spans, and the first file's 3 again (kept; the
    // analyzer deduplicates).
    assert_eq!(rows(&data, tables::SPANS).len(), 9);
}

#[tokio::test]
async fn the_store_never_writes_through_symlinks_leading_out_of_the_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();

    // A table folder that is a symlink elsewhere: refused at open.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::symlink(&outside, data.join(tables::SPANS)).unwrap();
    let refused = Store::open(StoreConfig::new(&data)).unwrap_err();
    assert!(
        refused.to_string().contains("outside the data folder"),
        "{refused}"
    );

    // A partition folder planted as a symlink after open: the flush refuses
    // it, the rows stay in the WAL, and nothing lands outside.
    let data = dir.path().join("data2");
    let store = Store::open(StoreConfig::new(&data)).unwrap();
    let ingest = Ingest::new(store, Limits::default());
    let request: ExportTraceServiceRequest = serde_json::from_str(&sample()).unwrap();
    let hour_dir = {
        let start = request.resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano;
        causet_schema::partition::dir(
            &data,
            tables::SPANS,
            causet_schema::partition::hour_of(start as i64),
        )
    };
    std::fs::create_dir_all(hour_dir.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&outside, &hour_dir).unwrap();
    ingest
        .append(causet_collector::convert::convert(&request).unwrap())
        .await
        .unwrap();
    ingest.store().flush().await.unwrap();
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(
        causet_schema::wal::list_segments(&data.join(causet_schema::wal::WAL_DIR))
            .unwrap()
            .len(),
        1,
        "the segment stays in the WAL"
    );
}
