//! What every receiver shares: limits, admission, decoding, conversion and
//! the durable append.
//!
//! The receivers (gRPC, HTTP, import) only translate their transport to an
//! [`Ingest`] call and its outcome back to their status codes.

use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use crate::convert::convert;
use crate::error::{Error, Result};
use crate::meter::{Budget, Meter};
use crate::store::Store;

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
    /// Totals since start.
    pub counters: Counters,
}

impl Ingest {
    /// An ingest path writing to `store`.
    pub fn new(store: Store, limits: Limits) -> Self {
        Ingest {
            store,
            limits,
            budget: Budget::new(limits.max_inflight_bytes),
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

    /// Inflates a gzip body, refusing to inflate past the request limit (gzip
    /// bombs), and charging what it inflates to `meter` as it goes.
    pub fn gunzip(&self, body: &[u8], meter: &Meter) -> Result<Vec<u8>> {
        let limit = self.limits.max_request_bytes as u64;
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
            self.check_size(out.len() as u64)?;
        }
        Ok(out)
    }

    /// Decodes an OTLP/protobuf body.
    pub fn decode_protobuf(&self, body: &[u8]) -> Result<ExportTraceServiceRequest> {
        ExportTraceServiceRequest::decode(body).map_err(|e| Error::Decode(e.to_string()))
    }

    /// Decodes an OTLP/JSON body.
    pub fn decode_json(&self, body: &[u8]) -> Result<ExportTraceServiceRequest> {
        decode_json(body)
    }

    /// Converts and durably appends a decoded request.
    pub async fn export(&self, request: &ExportTraceServiceRequest) -> Result<ExportOutcome> {
        let rows = convert(request)?;
        let outcome = ExportOutcome {
            accepted: rows.accepted(),
            rejected: rows.rejected,
            error_message: rows.error_message.clone(),
        };
        if let Err(e) = self.store.append(&rows).await {
            self.counters
                .failed_requests
                .fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
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

    /// Counts a request refused as a whole.
    pub fn count_failure(&self) {
        self.counters
            .failed_requests
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest`: hex ids, int64 as
/// strings or numbers, enums as ints, unknown fields ignored.
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest> {
    serde_json::from_slice(body).map_err(|e| Error::Decode(format!("invalid OTLP/JSON: {e}")))
}
