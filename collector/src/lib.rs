//! causet's collector: OpenTelemetry spans in over OTLP, durable Parquet out.
//!
//! ```text
//! OTLP/gRPC (grpc) ─┐
//! OTLP/HTTP (http) ─┼─> ingest: limits, decode ─> convert: Arrow batches ─> store: WAL (fsync, group commit) ─> ack
//! causet import ────┘                                                          └─> flush: zstd Parquet, Hive-partitioned
//! ```
//!
//! An export is acknowledged only once its rows are in the write-ahead log on
//! disk; a crash after that loses nothing, because the next start flushes
//! what the log holds. Everything is written with the column names of
//! `causet-schema`, which is all the analyzer knows of the collector.
//!
//! ```no_run
//! # async fn run() -> causet_collector::Result<()> {
//! use causet_collector::{Collector, CollectorConfig};
//!
//! let collector = Collector::bind(CollectorConfig::new("./causet-data")).await?;
//! println!("OTLP/gRPC on {}", collector.grpc_addr());
//! collector.serve(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod convert;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod grpc;
pub mod http;
pub mod import;
pub mod ingest;
pub mod listen;
pub mod meter;
pub mod server;
pub mod store;

pub use error::{Error, Result};

/// A boxed error, as tonic and axum take them from bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub use import::{ImportSummary, import_file};
pub use ingest::{ExportOutcome, Ingest, Limits};
pub use server::{Collector, CollectorConfig};
pub use store::{Store, StoreConfig};
