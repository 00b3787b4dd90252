//! The store's two ways to Parquet: rows handed from the WAL writer to the
//! flusher in memory, and a sealed segment read back from disk when the
//! flusher's backlog is full. Both must land every acknowledged row once.

use std::collections::HashSet;

use causet_collector::convert::convert;
use causet_collector::{Ingest, Limits, Store, StoreConfig};
use causet_schema::{tables, wal};
use opentelemetry_proto::tonic::trace::v1::{Span, span};

use crate::common::{otlp, rows};

const HOUR_NS: u64 = 3_600_000_000_000;

/// Request `batch`: `spans` spans with one event each, the second half an
/// hour after the first, so a request's rows go to two partitions.
fn request(
    batch: u8,
    spans: u8,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    otlp(
        (0..spans)
            .map(|i| {
                let start = 1_795_600_800_000_000_000 + u64::from(i >= spans / 2) * HOUR_NS;
                Span {
                    trace_id: vec![batch + 1; 16],
                    span_id: vec![batch + 1, i, 1, 1, 1, 1, 1, 1],
                    name: format!("batch {batch}"),
                    start_time_unix_nano: start,
                    end_time_unix_nano: start + 1_000,
                    events: vec![span::Event {
                        time_unix_nano: start + 500,
                        name: "causet.send".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }
            })
            .collect(),
    )
}

#[tokio::test]
async fn rows_land_once_whether_handed_over_or_read_back() {
    // No room in the backlog: every segment is read back from disk. Room
    // for everything: every segment is streamed from memory.
    for backlog in [0, usize::MAX] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = StoreConfig {
            // Several segments over the run.
            segment_bytes: 16 << 10,
            flush_backlog_bytes: backlog,
            ..StoreConfig::new(&data)
        };
        let ingest = Ingest::new(Store::open(config).unwrap(), Limits::default());
        for batch in 0..24 {
            ingest
                .append(convert(&request(batch, 40)).unwrap())
                .await
                .unwrap();
        }
        ingest.store().flush().await.unwrap();

        let spans = rows(&data, tables::SPANS);
        let ids: HashSet<String> = spans
            .iter()
            .map(|r| r[tables::col::SPAN_ID].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(spans.len(), 24 * 40, "backlog {backlog}: every span once");
        assert_eq!(ids.len(), 24 * 40, "backlog {backlog}: no span twice");
        assert_eq!(rows(&data, tables::SPAN_EVENTS).len(), 24 * 40);
        for table in [tables::SPANS, tables::SPAN_EVENTS] {
            let days = std::fs::read_dir(data.join(table)).unwrap();
            let hours: usize = days
                .map(|day| std::fs::read_dir(day.unwrap().path()).unwrap().count())
                .sum();
            assert_eq!(hours, 2, "backlog {backlog}: {table} in both hours");
        }
        assert!(
            wal::list_segments(&data.join(wal::WAL_DIR))
                .unwrap()
                .is_empty(),
            "backlog {backlog}: every segment flushed and deleted"
        );
    }
}
