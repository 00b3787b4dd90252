//! `causet import`: OTLP files through the same conversion and durability
//! path as live exports.
//!
//! Accepted: an OTLP/JSON `ExportTraceServiceRequest` (pretty-printed or
//! not), JSON lines with one request per line (the OpenTelemetry
//! Collector's file exporter), or an OTLP/protobuf request.

use std::fs::File;
use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures::stream::{FuturesOrdered, StreamExt as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::convert::convert;
use crate::error::{Error, Result};
use crate::ingest::{Encoding, ExportOutcome, Ingest};

/// JSON lines converted together into one WAL record (at most).
const LINES_PER_RECORD: usize = 256;
/// JSON bytes converted together into one WAL record (about, at most).
const BYTES_PER_RECORD: usize = 4 << 20;
/// Most records of one file being converted or written at once: enough
/// for every core to convert while the WAL commits earlier ones together.
const MAX_INFLIGHT_RECORDS: usize = 8;
/// Most bytes of one file being converted or written at once.
const MAX_INFLIGHT_BYTES: usize = 32 << 20;

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
///
/// The file is streamed, so memory does not grow with its size: JSON lines
/// are read in runs of up to 256 lines or 4 MiB, each run converted on the
/// ingest's worker pool into one set of rows and one WAL record (small
/// requests each with their own would spend more on builders, records and
/// Parquet writes than on their spans), 8 runs at a
/// time, while the WAL commits whatever has been converted with one fsync
/// per group. Results are taken in file order, so `progress` and the
/// errors follow the file.
pub async fn import_file(
    ingest: &Ingest,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut import = Import {
        ingest,
        path,
        summary: ImportSummary {
            file: path.to_path_buf(),
            ..ImportSummary::default()
        },
        inflight: FuturesOrdered::new(),
        inflight_bytes: 0,
        done_bytes: 0,
    };
    let read = |e| Error::io(path, e);
    let first = {
        let buffered = reader.fill_buf().map_err(read)?;
        buffered.iter().copied().find(|b| !b.is_ascii_whitespace())
    };
    match first {
        None if file_len == 0 => {}
        Some(b'{') | None => {
            // JSON lines (the OpenTelemetry Collector's file exporter) when
            // the first non-empty line is a whole request by itself.
            let mut line = Vec::new();
            let mut line_no = 0u64;
            let mut first_line = None;
            while first_line.is_none() {
                line.clear();
                if reader.read_until(b'\n', &mut line).map_err(read)? == 0 {
                    break;
                }
                line_no += 1;
                if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    first_line = Some(std::mem::take(&mut line));
                }
            }
            let Some(first_line) = first_line else {
                progress(file_len);
                return Ok(import.summary);
            };
            if serde_json::from_slice::<serde::de::IgnoredAny>(&first_line).is_ok() {
                import.lines(reader, first_line, line_no, progress).await?;
            } else {
                let rest = std::io::Cursor::new(first_line).chain(reader);
                import.documents(rest).await?;
            }
        }
        Some(_) => {
            let limit = ingest.limits().max_request_bytes;
            let mut body = Vec::new();
            reader
                .take(limit as u64 + 1)
                .read_to_end(&mut body)
                .map_err(read)?;
            if body.len() > limit {
                return Err(Error::TooLarge {
                    size: std::fs::metadata(path).map_or(body.len() as u64, |m| m.len()),
                    limit: limit as u64,
                });
            }
            let len = body.len();
            import.submit(
                "protobuf".into(),
                Bytes::from(body),
                Encoding::Protobuf,
                len as u64,
            );
        }
    }
    import.finish(progress).await?;
    progress(file_len);
    Ok(import.summary)
}

/// How one record's export went.
struct Exported {
    /// Where its requests are in the file (`line 4`, `lines 5-260`).
    place: String,
    /// Its bytes, counted in flight until now.
    len: usize,
    /// The file offset after it.
    end: u64,
    /// What was stored, and the lines that did not decode.
    outcome: Result<(ExportOutcome, Vec<(u64, Error)>)>,
}

type Pending<'i> = Pin<Box<dyn Future<Output = Exported> + Send + 'i>>;

/// One file's import in progress.
struct Import<'i> {
    ingest: &'i Ingest,
    path: &'i Path,
    summary: ImportSummary,
    /// Requests converting or committing, all polled whenever the oldest
    /// is awaited, and answered in file order.
    inflight: FuturesOrdered<Pending<'i>>,
    inflight_bytes: usize,
    /// File offset up to which every request is done.
    done_bytes: u64,
}

impl<'i> Import<'i> {
    /// Every JSON line from `first` on.
    async fn lines(
        &mut self,
        mut reader: impl BufRead,
        first: Vec<u8>,
        first_no: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let mut offset = 0u64;
        let mut line = first;
        let mut line_no = first_no;
        let mut run: Vec<(u64, Bytes)> = Vec::new();
        let mut run_bytes = 0;
        loop {
            offset += line.len() as u64;
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                run_bytes += line.len();
                run.push((line_no, Bytes::from(std::mem::take(&mut line))));
            }
            line.clear();
            let more = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(self.path, e))?
                > 0;
            if !run.is_empty()
                && (!more || run.len() >= LINES_PER_RECORD || run_bytes >= BYTES_PER_RECORD)
            {
                self.submit_lines(std::mem::take(&mut run), offset);
                run_bytes = 0;
                self.settle(MAX_INFLIGHT_RECORDS, MAX_INFLIGHT_BYTES, progress)
                    .await?;
            }
            if !more {
                return Ok(());
            }
            line_no += 1;
        }
    }

    /// Whole JSON requests one after another (pretty-printed or not). A
    /// syntax error leaves no place to resume from, so it ends the file.
    async fn documents(&mut self, reader: impl Read) -> Result<()> {
        let stream =
            serde_json::Deserializer::from_reader(reader).into_iter::<ExportTraceServiceRequest>();
        for (i, request) in stream.enumerate() {
            let place = format!("request {}", i + 1);
            self.summary.requests += 1;
            match request {
                Ok(request) => {
                    let rows = convert(&request)?;
                    let outcome = self.ingest.append(rows).await?;
                    self.record(&place, outcome);
                }
                Err(e) => {
                    self.summary
                        .error(format!("{place}: invalid OTLP/JSON: {e}"));
                    break;
                }
            }
        }
        Ok(())
    }

    /// Starts the export of one request body, which ends at file offset `end`.
    fn submit(&mut self, place: String, body: Bytes, encoding: Encoding, end: u64) {
        let ingest = self.ingest;
        let len = body.len();
        let meter = ingest.budget().meter();
        let export: Pending<'i> = Box::pin(async move {
            let outcome = ingest
                .export_body(body, encoding, false, meter)
                .await
                .map(|outcome| (outcome, Vec::new()));
            Exported {
                place,
                len,
                end,
                outcome,
            }
        });
        self.summary.requests += 1;
        self.inflight_bytes += len;
        self.inflight.push_back(export);
    }

    /// Starts the export of a run of JSON lines as one record, which ends
    /// at file offset `end`.
    fn submit_lines(&mut self, lines: Vec<(u64, Bytes)>, end: u64) {
        let ingest = self.ingest;
        let len = lines.iter().map(|(_, line)| line.len()).sum();
        let place = match (lines.first(), lines.last()) {
            (Some((first, _)), Some((last, _))) if first != last => {
                format!("lines {first}-{last}")
            }
            (Some((first, _)), _) => format!("line {first}"),
            _ => String::new(),
        };
        self.summary.requests += lines.len() as u64;
        let meter = ingest.budget().meter();
        let export: Pending<'i> = Box::pin(async move {
            let outcome = ingest.export_json_lines(lines, meter).await;
            Exported {
                place,
                len,
                end,
                outcome,
            }
        });
        self.inflight_bytes += len;
        self.inflight.push_back(export);
    }

    /// Waits for the oldest requests until at most `requests` and `bytes`
    /// are in flight.
    async fn settle(
        &mut self,
        requests: usize,
        bytes: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        while self.inflight.len() > requests
            || (self.inflight_bytes > bytes && !self.inflight.is_empty())
        {
            let Some(Exported {
                place,
                len,
                end,
                outcome,
            }) = self.inflight.next().await
            else {
                break;
            };
            self.inflight_bytes -= len;
            match outcome {
                Ok((outcome, refused)) => {
                    for (line, e) in refused {
                        self.summary.error(format!("line {line}: {e}"));
                    }
                    self.record(&place, outcome);
                }
                Err(e @ Error::Decode(_)) => self.summary.error(format!("{place}: {e}")),
                Err(e) => return Err(e),
            }
            self.done_bytes = end;
            progress(end);
        }
        Ok(())
    }

    async fn finish(&mut self, progress: &mut dyn FnMut(u64)) -> Result<()> {
        self.settle(0, 0, progress).await
    }

    fn record(&mut self, place: &str, outcome: ExportOutcome) {
        self.summary.accepted += outcome.accepted;
        self.summary.rejected += outcome.rejected;
        if let Some(message) = outcome.error_message {
            self.summary.error(format!("{place}: {message}"));
        }
    }
}
