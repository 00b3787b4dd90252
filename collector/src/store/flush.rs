//! Sealed WAL segments to Parquet.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::TimestampNanosecondType;
use causet_schema::tables::{self, INGESTED_TABLES, col};
use causet_schema::{WalError, wal};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tokio::sync::oneshot;

use super::sync_dir;
use crate::error::{Error, Result};

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;
const TMP_SUFFIX: &str = ".tmp";

/// A segment to flush, and who waits for it.
pub(crate) struct Job {
    /// `(sequence, path)`; `None` for a marker that only answers `done`.
    pub segment: Option<(u64, PathBuf)>,
    pub done: Option<oneshot::Sender<()>>,
}

/// What one flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushStats {
    /// Span rows written.
    pub spans: u64,
    /// Span event rows written.
    pub span_events: u64,
    /// Span link rows written.
    pub span_links: u64,
    /// Parquet files written.
    pub files: u64,
    /// Bytes of a torn last record that were ignored.
    pub torn_bytes: u64,
}

/// The flusher thread: flushes each sealed segment, retrying with backoff;
/// a segment that still fails is left in the WAL for the next start.
pub(crate) fn run(data_dir: &Path, jobs: mpsc::Receiver<Job>) {
    for job in jobs {
        if let Some((seq, path)) = &job.segment {
            let mut backoff = Duration::from_millis(500);
            for attempt in 1..=6 {
                match flush_segment(data_dir, *seq, path) {
                    Ok(stats) => {
                        tracing::info!(
                            segment = seq,
                            spans = stats.spans,
                            files = stats.files,
                            "flushed WAL segment to Parquet"
                        );
                        break;
                    }
                    Err(e) if attempt < 6 => {
                        tracing::warn!(segment = seq, error = %e, "flush failed; retrying");
                        std::thread::sleep(backoff);
                        backoff *= 2;
                    }
                    Err(e) => tracing::error!(
                        segment = seq,
                        error = %e,
                        "flush failed; segment kept in the WAL for the next start"
                    ),
                }
            }
        }
        if let Some(done) = job.done {
            let _ = done.send(());
        }
    }
}

/// Writes segment `seq` at `path` to Parquet under `data_dir`, then deletes it.
/// Idempotent: a repeated flush of the same segment writes the same files.
pub fn flush_segment(data_dir: &Path, seq: u64, path: &Path) -> Result<FlushStats> {
    let segment = match wal::read_segment(path) {
        Ok(segment) => segment,
        Err(WalError::BadHeader { .. }) => {
            // A crash between creating a segment and syncing its header: it
            // never held an acknowledged record.
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len <= wal::SEGMENT_HEADER.len() as u64 {
                std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
                return Ok(FlushStats::default());
            }
            let aside = path.with_extension("bad");
            tracing::error!(segment = seq, moved_to = %aside.display(), "WAL segment has a foreign header; moved aside");
            std::fs::rename(path, &aside).map_err(|e| Error::io(path, e))?;
            return Ok(FlushStats::default());
        }
        Err(e) => return Err(e.into()),
    };
    let mut stats = FlushStats {
        torn_bytes: segment.torn_bytes,
        ..FlushStats::default()
    };
    if segment.torn_bytes > 0 {
        tracing::warn!(
            segment = seq,
            torn_bytes = segment.torn_bytes,
            "WAL segment ends in a torn record (a crash mid-write); it was never acknowledged and is dropped"
        );
    }

    // (table, hour) -> rows.
    let mut parts: BTreeMap<(u8, i64), Vec<RecordBatch>> = BTreeMap::new();
    for record in &segment.records {
        let span_hours = record
            .batches
            .iter()
            .find(|(table, _)| *table == 0)
            .map(|(_, spans)| span_hours(spans))
            .transpose()?
            .unwrap_or_default();
        for (table, batch) in &record.batches {
            let hours = row_hours(*table, batch, &span_hours)?;
            for (hour, rows) in group_rows(&hours) {
                let part = take_record_batch(batch, &UInt32Array::from(rows))?;
                parts.entry((*table, hour)).or_default().push(part);
            }
        }
    }

    for ((table, hour), batches) in parts {
        let name = INGESTED_TABLES[usize::from(table)];
        let schema = tables::schema_for(name).ok_or_else(|| Error::Internal(name.into()))?;
        let batch = concat_batches(&schema, &batches)?;
        let rows = batch.num_rows() as u64;
        write_parquet(&partition_dir(data_dir, name, hour), seq, &batch)?;
        stats.files += 1;
        match table {
            0 => stats.spans += rows,
            1 => stats.span_events += rows,
            _ => stats.span_links += rows,
        }
    }

    std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(stats)
}

/// `(trace_id, span_id)` -> hour of the span's start.
fn span_hours(spans: &RecordBatch) -> Result<HashMap<(String, String), i64>> {
    let trace = string_column(spans, col::TRACE_ID)?;
    let span = string_column(spans, col::SPAN_ID)?;
    let hours = time_hours(spans, col::START_TIME)?;
    Ok((0..spans.num_rows())
        .map(|i| {
            (
                (trace.value(i).to_owned(), span.value(i).to_owned()),
                hours[i],
            )
        })
        .collect())
}

/// The hour each row belongs to: a span's start hour, and for its events
/// and links the hour of their span, so a span's rows share a partition.
fn row_hours(
    table: u8,
    batch: &RecordBatch,
    span_hours: &HashMap<(String, String), i64>,
) -> Result<Vec<i64>> {
    if table == 0 {
        return time_hours(batch, col::START_TIME);
    }
    let trace = string_column(batch, col::TRACE_ID)?;
    let span = string_column(batch, col::SPAN_ID)?;
    Ok((0..batch.num_rows())
        .map(|i| {
            span_hours
                .get(&(trace.value(i).to_owned(), span.value(i).to_owned()))
                .copied()
                .unwrap_or(0)
        })
        .collect())
}

fn time_hours(batch: &RecordBatch, name: &str) -> Result<Vec<i64>> {
    let times = batch
        .column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .ok_or_else(|| Error::Internal(format!("column {name} missing or not a timestamp")))?;
    Ok(times
        .values()
        .iter()
        .map(|t| t.div_euclid(NANOS_PER_HOUR))
        .collect())
}

fn string_column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b arrow::array::StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .filter(|c| c.null_count() == 0)
        .ok_or_else(|| Error::Internal(format!("column {name} missing, not a string, or null")))
}

/// Row indices by hour, hours ascending.
fn group_rows(hours: &[i64]) -> BTreeMap<i64, Vec<u32>> {
    let mut groups: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (row, hour) in hours.iter().enumerate() {
        groups.entry(*hour).or_default().push(row as u32);
    }
    groups
}

/// `DATA/<table>/date=YYYY-MM-DD/hour=HH`.
pub(crate) fn partition_dir(data_dir: &Path, table: &str, hour: i64) -> PathBuf {
    let at = chrono::DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default();
    data_dir
        .join(table)
        .join(format!("{}={}", col::DATE, at.format("%Y-%m-%d")))
        .join(format!("{}={}", col::HOUR, at.format("%H")))
}

/// Writes `batch` to `dir/part-<seq>.parquet` via a hidden temporary file,
/// fsync'd before and after the rename.
fn write_parquet(dir: &Path, seq: u64, batch: &RecordBatch) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = format!("part-{seq:020}.parquet");
    let tmp = dir.join(format!(".{name}{TMP_SUFFIX}"));
    let dest = dir.join(&name);
    let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(batch)?;
    let file = writer.into_inner()?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
    sync_dir(dir)?;
    // The partition folders themselves may be new.
    let mut up = dir.parent();
    for _ in 0..3 {
        if let Some(parent) = up {
            sync_dir(parent)?;
            up = parent.parent();
        }
    }
    Ok(())
}

/// Deletes temporary Parquet files a crash left behind; they were never renamed
/// into place, so their segment is still in the WAL.
pub(crate) fn remove_temporary_files(data_dir: &Path) -> Result<()> {
    fn walk(dir: &Path) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(&path)?;
            } else if path.to_string_lossy().ends_with(TMP_SUFFIX) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(())
    }
    for table in INGESTED_TABLES {
        let dir = data_dir.join(table);
        walk(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    Ok(())
}
