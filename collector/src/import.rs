//! `causet import`: OTLP files through the same conversion and durability
//! path as live exports.
//!
//! Accepted: an OTLP/JSON `ExportTraceServiceRequest` (pretty-printed or
//! not), JSON lines with one request per line (the OpenTelemetry
//! Collector's file exporter), or an OTLP/protobuf request.

use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::error::{Error, Result};
use crate::ingest::{Ingest, decode_json};

/// What one file contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// The file.
    pub file: PathBuf,
    /// Requests read.
    pub requests: u64,
    /// Spans stored.
    pub accepted: u64,
    /// Spans refused.
    pub rejected: u64,
    /// Why spans or lines were refused (first few).
    pub errors: Vec<String>,
}

const MAX_ERRORS: usize = 20;

impl ImportSummary {
    fn error(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(message);
        }
    }
}

/// Imports one file; `progress` is told how many bytes of it are done.
/// Malformed lines or requests are reported and skipped; a file that cannot
/// be read at all is an error.
pub async fn import_file(
    ingest: &Ingest,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut summary = ImportSummary {
        file: path.to_path_buf(),
        ..ImportSummary::default()
    };
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let requests: Vec<(String, Result<ExportTraceServiceRequest>)> = match first.map(|i| bytes[i]) {
        None => Vec::new(),
        Some(b'{') if is_json_lines(&bytes) => bytes
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| line.iter().any(|b| !b.is_ascii_whitespace()))
            .map(|(i, line)| (format!("line {}", i + 1), decode_json(line)))
            .collect(),
        Some(b'{') => {
            let stream = serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<ExportTraceServiceRequest>();
            let mut out = Vec::new();
            for (i, request) in stream.enumerate() {
                let failed = request.is_err();
                out.push((
                    format!("request {}", i + 1),
                    request.map_err(|e| Error::Decode(format!("invalid OTLP/JSON: {e}"))),
                ));
                if failed {
                    // A JSON syntax error leaves no place to resume from.
                    break;
                }
            }
            out
        }
        Some(_) => vec![("protobuf".into(), ingest.decode_protobuf(&bytes))],
    };
    let total = requests.len().max(1) as u64;
    for (done, (place, request)) in requests.into_iter().enumerate() {
        summary.requests += 1;
        match request {
            Ok(request) => {
                let outcome = ingest.export(&request).await?;
                summary.accepted += outcome.accepted;
                summary.rejected += outcome.rejected;
                if let Some(message) = outcome.error_message {
                    summary.error(format!("{place}: {message}"));
                }
            }
            Err(e) => summary.error(format!("{place}: {e}")),
        }
        progress(bytes.len() as u64 * (done as u64 + 1) / total);
    }
    Ok(summary)
}

/// JSON lines: the first non-empty line is a whole request by itself.
fn is_json_lines(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .is_some_and(|line| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok())
}
