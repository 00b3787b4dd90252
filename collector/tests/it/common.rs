//! A collector on 127.0.0.1:0 in this process, and readers for what it wrote.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use causet_collector::{Collector, CollectorConfig, Ingest, Limits};

use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Running {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub ingest: Arc<Ingest>,
    pub dir: TempDir,
    stop: oneshot::Sender<()>,
    task: JoinHandle<causet_collector::Result<()>>,
}

pub async fn start(limits: Limits) -> Running {
    start_with(|config| config.limits = limits).await
}

/// A collector on loopback port 0 with settings changed by `adjust`.
pub async fn start_with(adjust: impl FnOnce(&mut CollectorConfig)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CollectorConfig::new(dir.path());
    config.grpc_addr = "127.0.0.1:0".into();
    config.http_addr = "127.0.0.1:0".into();
    adjust(&mut config);
    let collector = Collector::bind(config).await.unwrap();
    let (grpc, http, ingest) = (
        collector.grpc_addr(),
        collector.http_addr(),
        collector.ingest(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(collector.serve(async move {
        let _ = stopped.await;
    }));
    Running {
        grpc,
        http,
        ingest,
        dir,
        stop,
        task,
    }
}

impl Running {
    /// Shuts the collector down (flushing everything) and hands back its data folder.
    pub async fn stop(self) -> TempDir {
        drop(self.ingest);
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
        self.dir
    }
}

/// Every row of a table in Parquet, as JSON objects (maps become objects).
pub fn rows(dir: &Path, table: &str) -> Vec<Value> {
    let batches = causet_collector::store::read_table(dir, table).unwrap();
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.finish().unwrap();
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Vec::new();
    }
    serde_json::from_slice::<Vec<Value>>(&bytes).unwrap()
}

/// The row whose `column` equals `value`.
pub fn row<'r>(rows: &'r [Value], column: &str, value: &str) -> &'r Value {
    let found: Vec<&Value> = rows.iter().filter(|r| r[column] == value).collect();
    assert_eq!(found.len(), 1, "rows with {column} = {value}: {rows:#?}");
    found[0]
}

/// Ends one span named `name` through a real SDK tracer provider exporting
/// with `exporter`, and shuts the provider down (flushing the export).
pub async fn export_one_span(exporter: opentelemetry_otlp::SpanExporter, name: &'static str) {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    tokio::task::spawn_blocking(move || {
        provider.tracer("causet-test").start(name).end();
        provider.shutdown().unwrap();
    })
    .await
    .unwrap();
}

/// An export request holding `spans` under one resource and scope.
pub fn otlp(
    spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One 1 µs span named `name`, every id byte `id`.
pub fn one_span(id: u8, name: &str) -> opentelemetry_proto::tonic::trace::v1::Span {
    opentelemetry_proto::tonic::trace::v1::Span {
        trace_id: vec![id; 16],
        span_id: vec![id; 8],
        name: name.into(),
        start_time_unix_nano: 1_795_600_800_000_000_000,
        end_time_unix_nano: 1_795_600_800_000_001_000,
        ..Default::default()
    }
}
