//! Sealed WAL segments to Parquet.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use causet_schema::tables::{self, INGESTED_TABLES};
use causet_schema::{WalError, partition, wal};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tokio::sync::oneshot;

use super::sync_dir;
use crate::error::{Error, Result};

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

/// Longest wait between attempts at a segment whose flush failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// First wait after a failed flush.
const MIN_BACKOFF: Duration = Duration::from_millis(500);

/// The flusher thread: flushes sealed segments in order. A segment whose
/// flush fails (a full disk, say) stays in the WAL, where queries still see
/// it, and is tried again, oldest first, with backoff up to
/// [`MAX_BACKOFF`] and whenever another segment arrives, until it goes
/// through; whatever is still stuck at shutdown is flushed at the next start.
pub(crate) fn run(data_dir: &Path, jobs: mpsc::Receiver<Job>) {
    let mut stuck: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut backoff = MIN_BACKOFF;
    loop {
        let job = if stuck.is_empty() {
            match jobs.recv() {
                Ok(job) => Some(job),
                Err(mpsc::RecvError) => break,
            }
        } else {
            match jobs.recv_timeout(backoff) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        };
        let (segment, done) = job.map_or((None, None), |job| (job.segment, job.done));
        if let Some((seq, path)) = segment {
            stuck.insert(seq, path);
        }
        backoff = if flush_in_order(data_dir, &mut stuck) {
            MIN_BACKOFF
        } else {
            (backoff * 2).min(MAX_BACKOFF)
        };
        if let Some(done) = done {
            let _ = done.send(());
        }
    }
    if !flush_in_order(data_dir, &mut stuck) {
        tracing::error!(
            segments = stuck.len(),
            "stopping with segments that could not be flushed; they stay in the WAL for the next start"
        );
    }
}

/// Flushes `pending` oldest first, stopping at the first failure. True when
/// nothing is left.
fn flush_in_order(data_dir: &Path, pending: &mut BTreeMap<u64, PathBuf>) -> bool {
    while let Some((&seq, path)) = pending.first_key_value() {
        match flush_segment(data_dir, seq, path) {
            Ok(stats) => {
                tracing::info!(
                    segment = seq,
                    spans = stats.spans,
                    files = stats.files,
                    "flushed WAL segment to Parquet"
                );
                pending.remove(&seq);
            }
            Err(e) => {
                tracing::warn!(segment = seq, error = %e, "flush failed; the segment stays in the WAL and is retried");
                return false;
            }
        }
    }
    true
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

    let written = write_records(data_dir, seq, &segment.records)?;
    stats.spans = written.spans;
    stats.span_events = written.span_events;
    stats.span_links = written.span_links;
    stats.files = written.files;

    std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(stats)
}

/// Writes `records` to Parquet under `data_dir`: one file per table and
/// hour, named for `seq`, each via a temporary file, fsync'd and renamed.
/// How flushed segments land; also how generated datasets are written.
pub fn write_records(data_dir: &Path, seq: u64, records: &[wal::WalRecord]) -> Result<FlushStats> {
    let mut stats = FlushStats::default();
    // (table, hour) -> rows.
    let mut parts: BTreeMap<(u8, i64), Vec<RecordBatch>> = BTreeMap::new();
    for record in records {
        let hours = partition::record_hours(record);
        for ((table, batch), hours) in record.batches.iter().zip(hours) {
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
        write_parquet(
            data_dir,
            &partition::file(data_dir, name, hour, seq),
            &batch,
        )?;
        stats.files += 1;
        match table {
            0 => stats.spans += rows,
            1 => stats.span_events += rows,
            _ => stats.span_links += rows,
        }
    }

    Ok(stats)
}

/// Row indices by hour, hours ascending.
fn group_rows(hours: &[i64]) -> BTreeMap<i64, Vec<u32>> {
    let mut groups: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (row, hour) in hours.iter().enumerate() {
        groups.entry(*hour).or_default().push(row as u32);
    }
    groups
}

/// Writes `batch` to `dest` via a hidden temporary file beside it, fsync'd
/// before and after the rename. Refuses a `dest` whose folder resolves
/// outside `data_dir` (a symlink planted in the data folder).
fn write_parquet(data_dir: &Path, dest: &Path, batch: &RecordBatch) -> Result<()> {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Err(Error::Internal(format!(
            "bad Parquet path {}",
            dest.display()
        )));
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    super::inside(data_dir, dir)?;
    let tmp = dir.join(format!(".{}{TMP_SUFFIX}", name.to_string_lossy()));
    let written = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        // zstd level 1: compression was a fifth of the flusher's CPU at
        // level 3, and spans still come out near 8% of their OTLP size.
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
            .build();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
        writer.write(batch)?;
        let file = writer.into_inner()?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))
    })();
    if let Err(e) = written {
        // A half-written file is never visible under its real name; don't
        // let it hold the space a retry needs either.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
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
