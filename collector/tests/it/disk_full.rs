//! A real full disk: the data folder on a small tmpfs, filled with a
//! ballast file. Exports get a retryable status, nothing acknowledged is
//! lost, no half-written Parquet is visible, and everything recovers once
//! the space is back.
//!
//! Mounting needs root. `.ci/run` sets CAUSET_REQUIRE_TMPFS=1 so CI cannot
//! skip this; elsewhere it is skipped when the mount is refused.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use causet_schema::tables;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use tonic_types::StatusExt as _;

use crate::common::{otlp, rows, start_with};

/// A tmpfs mounted on a temporary folder, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if mounted {
            return Some(Tmpfs { dir });
        }
        assert!(
            std::env::var_os("CAUSET_REQUIRE_TMPFS").is_none(),
            "CAUSET_REQUIRE_TMPFS is set but a tmpfs cannot be mounted (needs root)"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipping: cannot mount a tmpfs (needs root)");
        }
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xa5u8; 64 << 10];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "expected ENOSPC, got {e}");
                break;
            }
        }
    }
    // Whatever is left is smaller than one block.
    let _ = file.write_all(&[0; 512]);
    path
}

fn request(batch: u8, spans: u8) -> ExportTraceServiceRequest {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: vec![batch; 16],
            span_id: vec![batch, i, 1, 1, 1, 1, 1, 1],
            name: format!("batch {batch}"),
            start_time_unix_nano: 1_795_600_800_000_000_000,
            end_time_unix_nano: 1_795_600_800_000_001_000,
            ..Default::default()
        })
        .collect();
    otlp(spans)
}

/// Every `.parquet` file under `dir` (temporary files are dot-files ending in `.tmp`).
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_retryable_status_and_loses_nothing_acknowledged() {
    let Some(tmpfs) = Tmpfs::mount(8 << 20) else {
        return;
    };
    let data = tmpfs.path().join("data");
    let c = start_with(|config| {
        config.store.data_dir = data.clone();
        config.store.flush_interval = Duration::from_secs(3600);
    })
    .await;
    let mut grpc = TraceServiceClient::connect(format!("http://{}", c.grpc))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{}/v1/traces", c.http);
    let post = |batch: u8| {
        http.post(&url)
            .header("content-type", "application/x-protobuf")
            .body(request(batch, 50).encode_to_vec())
            .send()
    };

    // Batch 1 is acknowledged while there is room.
    grpc.export(request(1, 50)).await.unwrap();
    c.ingest.store().flush().await.unwrap();
    grpc.export(request(2, 50)).await.unwrap();

    // Disk full: both listeners refuse with their retryable status.
    let ballast = fill(tmpfs.path());
    let refused = grpc.export(request(3, 50)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.get_details_retry_info().is_some(), "{refused:?}");
    let res = post(4).await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    // Flushing batch 2 fails too; it stays in the WAL and no half-written
    // Parquet file is left under a real name.
    c.ingest.store().flush().await.unwrap();
    let visible = parquet_files(&data);
    assert_eq!(visible.len(), 1, "only batch 1's file: {visible:?}");
    for table in tables::INGESTED_TABLES {
        causet_collector::store::read_table(&data, table)
            .unwrap_or_else(|e| panic!("a visible Parquet file is unreadable: {e}"));
    }

    // Space returns: the exporter's retries go through, the stuck segment
    // is flushed, and every acknowledged span is there exactly once.
    std::fs::remove_file(ballast).unwrap();
    grpc.export(request(3, 50)).await.unwrap();
    assert_eq!(post(4).await.unwrap().status(), 200);
    drop(grpc);
    let _dir = c.stop().await;

    assert!(parquet_files(&data).len() > visible.len());
    let spans = rows(&data, tables::SPANS);
    assert_eq!(spans.len(), 200, "batches 1-4, 50 spans each, once each");
    let mut ids: Vec<&str> = spans
        .iter()
        .map(|s| s["span_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "no span stored twice");
    assert!(
        causet_schema::wal::list_segments(&data.join(causet_schema::wal::WAL_DIR))
            .unwrap()
            .is_empty(),
        "every segment flushed once space returned"
    );
}
