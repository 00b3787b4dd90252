//! What every receiver shares: limits, admission, decoding, conversion and
//! the durable append.
//!
//! The receivers (gRPC, HTTP, import) only translate their transport to an
//! [`Ingest`] call and its outcome back to their status codes.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest,
};
use tokio::sync::Semaphore;

use crate::convert::{Converted, convert, convert_protobuf};
use crate::error::{Error, Result};
use crate::meter::{Budget, Meter};
use crate::store::{Prepared, Store};

/// Bounds on what the collector accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, after decompression.
    pub max_request_bytes: usize,
    /// Most request bytes being received, decoded, converted or written at
    /// once; beyond it exporters are told to retry later (see [`crate::meter`]).
    pub max_inflight_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 64 << 20,
            max_inflight_bytes: 256 << 20,
        }
    }
}

/// Result of one export, for OTLP's partial success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOutcome {
    /// Spans made durable.
    pub accepted: u64,
    /// Spans refused (bad ids or times).
    pub rejected: u64,
    /// Why, when some were refused.
    pub error_message: Option<String>,
}

impl ExportOutcome {
    /// OTLP's partial success, when some spans were refused.
    pub fn partial_success(&self) -> Option<ExportTracePartialSuccess> {
        (self.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(self.rejected).unwrap_or(i64::MAX),
            error_message: self.error_message.clone().unwrap_or_default(),
        })
    }
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// OTLP/protobuf, walked in place by [`convert_protobuf`].
    Protobuf,
    /// OTLP/JSON, decoded by serde into prost structs, then [`convert`]ed.
    Json,
}

/// Running totals, for logs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Spans acknowledged.
    pub accepted: AtomicU64,
    /// Spans refused through partial success.
    pub rejected: AtomicU64,
    /// Requests refused as a whole.
    pub failed_requests: AtomicU64,
}

/// The shared ingest path.
#[derive(Debug)]
pub struct Ingest {
    store: Store,
    limits: Limits,
    budget: Budget,
    workers: Arc<Semaphore>,
    /// Totals since start.
    pub counters: Counters,
}

impl Ingest {
    /// An ingest path writing to `store`.
    pub fn new(store: Store, limits: Limits) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ingest {
            store,
            limits,
            budget: Budget::new(limits.max_inflight_bytes),
            workers: Arc::new(Semaphore::new(cores)),
            counters: Counters::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The store behind it.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The in-flight byte budget every request is charged to.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Reserves room for a request of `bytes` outside the listeners (which
    /// meter their bodies as they arrive), or says to come back later.
    pub fn admit(&self, bytes: usize) -> Result<Meter> {
        self.check_size(bytes as u64)?;
        let meter = self.budget.meter();
        meter.charge(bytes)?;
        Ok(meter)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let limit = self.limits.max_request_bytes as u64;
        if size > limit {
            return Err(Error::TooLarge { size, limit });
        }
        Ok(())
    }

    /// Decodes and converts `body` (inflating it first when `gzip`), then
    /// makes its rows durable. The CPU work runs on a pool of threads, one
    /// per core, off the async runtime, so one large request does not hold
    /// up other connections' acknowledgements; `meter` (the body already
    /// charged to it) is charged for the inflated body and the rows too.
    pub async fn export_body(
        &self,
        body: Bytes,
        encoding: Encoding,
        gzip: bool,
        meter: Meter,
    ) -> Result<ExportOutcome> {
        let limit = self.limits.max_request_bytes;
        let prepared = self
            .on_workers(move || {
                let inflated;
                let body = if gzip {
                    inflated = gunzip(&body, limit, &meter)?;
                    &inflated[..]
                } else {
                    &body[..]
                };
                // The rows take about as much as the body they come from.
                meter.charge(body.len())?;
                Prepared::new(convert_body(body, encoding)?)
            })
            .await?;
        self.make_durable(prepared).await
    }

    /// Decodes OTLP/JSON `lines` (each `(line number, bytes)`) into one set
    /// of rows on the conversion pool and makes them durable as one WAL
    /// record. Lines that do not decode are returned with their error and
    /// skipped; the others are stored.
    pub async fn export_json_lines(
        &self,
        lines: Vec<(u64, Bytes)>,
        meter: Meter,
    ) -> Result<(ExportOutcome, Vec<(u64, Error)>)> {
        let (prepared, refused) = self
            .on_workers(move || {
                let bytes: usize = lines.iter().map(|(_, line)| line.len()).sum();
                meter.charge(bytes)?;
                let mut batch = crate::convert::Batch::with_capacity(bytes / 1024);
                let mut refused = Vec::new();
                for (number, line) in lines {
                    match decode_json(&line) {
                        Ok(request) => batch.push(&request),
                        Err(e) => refused.push((number, e)),
                    }
                }
                Ok((Prepared::new(batch.finish()?)?, refused))
            })
            .await?;
        Ok((self.make_durable(prepared).await?, refused))
    }

    /// Runs `work` on the conversion pool once a worker is free.
    pub async fn on_workers<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _worker = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|_| Error::ShuttingDown)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("conversion worker failed: {e}")))?
    }

    /// Makes converted rows durable. Returns once they are fsync'd.
    pub async fn append(&self, rows: Converted) -> Result<ExportOutcome> {
        self.make_durable(Prepared::new(rows)?).await
    }

    async fn make_durable(&self, prepared: Prepared) -> Result<ExportOutcome> {
        let rows = prepared.rows();
        let outcome = ExportOutcome {
            accepted: rows.accepted(),
            rejected: rows.rejected,
            error_message: rows.error_message.clone(),
        };
        self.store.append(prepared).await?;
        self.counters
            .accepted
            .fetch_add(outcome.accepted, Ordering::Relaxed);
        self.counters
            .rejected
            .fetch_add(outcome.rejected, Ordering::Relaxed);
        tracing::debug!(
            accepted = outcome.accepted,
            rejected = outcome.rejected,
            "export acknowledged"
        );
        Ok(outcome)
    }

    /// Counts a request refused as a whole. The receivers call it once per
    /// refused request, whatever refused it.
    pub fn count_failure(&self) {
        self.counters
            .failed_requests
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Rows of an uncompressed body.
pub fn convert_body(body: &[u8], encoding: Encoding) -> Result<Converted> {
    match encoding {
        Encoding::Protobuf => convert_protobuf(body),
        Encoding::Json => convert(&decode_json(body)?),
    }
}

/// Inflates a gzip body, refusing to inflate past `limit` (gzip bombs), and
/// charging what it inflates to `meter` as it goes.
pub fn gunzip(body: &[u8], limit: usize, meter: &Meter) -> Result<Vec<u8>> {
    let limit = limit as u64;
    let mut decoder = flate2::read::GzDecoder::new(body).take(limit + 1);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = decoder
            .read(&mut chunk)
            .map_err(|e| Error::Decode(format!("invalid gzip body: {e}")))?;
        if n == 0 {
            break;
        }
        meter.charge(n)?;
        out.extend_from_slice(&chunk[..n]);
        if out.len() as u64 > limit {
            return Err(Error::TooLarge {
                size: out.len() as u64,
                limit,
            });
        }
    }
    Ok(out)
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`: hex ids, int64 as
/// strings or numbers, enums as ints, unknown fields ignored.
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest> {
    serde_json::from_slice(body).map_err(|e| Error::Decode(format!("invalid OTLP/JSON: {e}")))
}
