//! Sealed WAL segments to Parquet.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use arrow::array::{AsArray as _, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::TimestampNanosecondType;
use causet_schema::location::Remote;
use causet_schema::tables::{self, INGESTED_TABLES};
use causet_schema::{WalError, partition, wal};
use object_store::path::Path as ObjectPath;
use parquet::arrow::ArrowWriter;
use tokio::sync::oneshot;

use super::sync_dir;
use crate::convert::Converted;
use crate::error::{Error, Result};

const TMP_SUFFIX: &str = ".tmp";

/// Where flushed Parquet files go.
pub(crate) struct Target {
    /// The data folder; with `upload`, the local folder files are written
    /// in before they are uploaded (beside the WAL).
    local: PathBuf,
    upload: Option<Upload>,
}

/// A remote data folder, and a runtime for its client on the flusher's
/// thread.
struct Upload {
    remote: Remote,
    /// This collector's name in its files' names.
    instance: String,
    runtime: tokio::runtime::Runtime,
}

impl Target {
    /// Files renamed into place in the data folder `local`.
    pub fn folder(local: &Path) -> Self {
        Target {
            local: local.to_path_buf(),
            upload: None,
        }
    }

    /// Files written in `local`, then uploaded under `remote`'s prefix with
    /// names that carry `instance`.
    pub fn remote(local: &Path, remote: Remote, instance: String) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io(local, e))?;
        Ok(Target {
            local: local.to_path_buf(),
            upload: Some(Upload {
                remote,
                instance,
                runtime,
            }),
        })
    }
}

impl Upload {
    /// Uploads the closed file `tmp` as `key` (see [`Remote::put_file`]).
    fn put(&self, tmp: &Path, key: &ObjectPath) -> Result<()> {
        self.runtime
            .block_on(self.remote.put_file(tmp, key))
            .map_err(|source| Error::Upload {
                key: self.remote.url_of(key),
                source,
            })
    }
}

/// Default of [`StoreConfig::flush_backlog_bytes`](super::StoreConfig).
pub(crate) const DEFAULT_BACKLOG_BYTES: usize = 128 << 20;

/// Bytes of rows handed to the flusher and not yet written. Past its limit
/// the writer stops handing over the open segment's rows, and the flusher
/// reads the rest of that segment from disk when it is sealed: a flusher
/// that falls behind costs disk, as before, never memory.
#[derive(Debug)]
pub(crate) struct Backlog {
    bytes: AtomicUsize,
    limit: usize,
}

impl Backlog {
    pub fn new(limit: usize) -> Self {
        Backlog {
            bytes: AtomicUsize::new(0),
            limit,
        }
    }

    /// Counts `bytes` more, unless that would pass the limit.
    pub fn try_add(&self, bytes: usize) -> bool {
        let now = self.bytes.fetch_add(bytes, Ordering::AcqRel) + bytes;
        if now > self.limit {
            self.bytes.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }

    fn release(&self, bytes: usize) {
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// What the WAL writer hands the flusher.
pub(crate) enum Job {
    /// The rows of one record now durable in segment `seq`, `bytes` of
    /// them counted in the [`Backlog`].
    Rows {
        seq: u64,
        rows: Converted,
        bytes: usize,
    },
    /// The rest of segment `seq` is not handed over: finish it from disk.
    Spill { seq: u64 },
    /// Segment `(sequence, path)` is sealed; `None` for a marker that only
    /// answers `done` once everything before it is flushed.
    Seal {
        segment: Option<(u64, PathBuf)>,
        done: Option<oneshot::Sender<()>>,
    },
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

impl FlushStats {
    /// Counts `rows` more rows of table `table` (its index in
    /// [`INGESTED_TABLES`]).
    fn count(&mut self, table: u8, rows: usize) {
        let rows = rows as u64;
        match table {
            0 => self.spans += rows,
            1 => self.span_events += rows,
            _ => self.span_links += rows,
        }
    }
}

/// Longest wait between attempts at a segment whose flush failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// First wait after a failed flush.
const MIN_BACKOFF: Duration = Duration::from_millis(500);

/// The flusher thread. It encodes each committed record's rows into the
/// open segment's Parquet files as they arrive ([`Streaming`]) and, when the
/// segment is sealed, closes, fsyncs and renames them and deletes the
/// segment. A segment whose rows stopped coming (the backlog was full)
/// is finished from its file, from the first record not handed over. A
/// segment it could not stream (a write failed, or an older segment is
/// still waiting) is flushed whole from its file instead, oldest first.
/// A segment whose flush fails (a full disk, say) stays in the WAL, where
/// queries still see it, and is tried again, oldest first, with backoff up
/// to [`MAX_BACKOFF`] and whenever another segment arrives, until it goes
/// through; whatever is still stuck at shutdown is flushed at the next start.
pub(crate) fn run(target: &Target, jobs: mpsc::Receiver<Job>, backlog: &Backlog) {
    let mut stuck: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut streaming: Option<Streaming> = None;
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
        let (segment, done) = match job {
            Some(Job::Rows { seq, rows, bytes }) => {
                let open = match streaming.take() {
                    Some(open) if open.seq == seq => open,
                    other => {
                        if let Some(stale) = other {
                            stale.abandon();
                        }
                        Streaming::new(seq)
                    }
                };
                streaming = Some(open.write(target, &rows));
                drop(rows);
                backlog.release(bytes);
                continue;
            }
            Some(Job::Spill { seq }) => {
                if let Some(open) = streaming.as_mut().filter(|open| open.seq == seq) {
                    open.spilled = true;
                }
                continue;
            }
            Some(Job::Seal { segment, done }) => (segment, done),
            None => (None, None),
        };
        if let Some((seq, path)) = segment {
            let streamed = streaming.take();
            match streamed {
                // Only in order: an older segment still stuck goes first.
                Some(open) if open.seq == seq && stuck.is_empty() => {
                    let flushed = if open.spilled {
                        open.resume(target, &path)
                    } else {
                        open.finish(target, &path)
                    };
                    match flushed {
                        Ok(stats) => tracing::info!(
                            segment = seq,
                            spans = stats.spans,
                            files = stats.files,
                            "flushed WAL segment to Parquet"
                        ),
                        Err(e) => {
                            tracing::warn!(segment = seq, error = %e, "flush failed; the segment stays in the WAL and is retried");
                            stuck.insert(seq, path);
                        }
                    }
                }
                other => {
                    if let Some(open) = other {
                        open.abandon();
                    }
                    stuck.insert(seq, path);
                }
            }
        }
        backoff = if flush_in_order(target, &mut stuck) {
            MIN_BACKOFF
        } else {
            (backoff * 2).min(MAX_BACKOFF)
        };
        if let Some(done) = done {
            let _ = done.send(());
        }
    }
    if let Some(open) = streaming {
        open.abandon();
    }
    if !flush_in_order(target, &mut stuck) {
        tracing::error!(
            segments = stuck.len(),
            "stopping with segments that could not be flushed; they stay in the WAL for the next start"
        );
    }
}

/// The open segment's Parquet files, written as its records commit. A
/// segment read from disk goes through the same files, record by record.
struct Streaming {
    seq: u64,
    /// `(table, hour)` -> its file.
    files: BTreeMap<(u8, i64), Part>,
    stats: FlushStats,
    /// Records written so far: the segment's first ones.
    records: usize,
    /// The writer stopped handing over this segment's rows (the backlog
    /// was full): the seal reads the records after `records` from disk.
    spilled: bool,
    /// A write failed: the files are gone and the seal reads the segment.
    failed: bool,
}

/// One Parquet file being written under its temporary name.
struct Part {
    dest: Dest,
    tmp: PathBuf,
    writer: ArrowWriter<File>,
}

/// Where a [`Part`] goes once closed.
enum Dest {
    /// Renamed to this path in the data folder.
    File(PathBuf),
    /// Uploaded as this object, then deleted here.
    Object(ObjectPath),
}

impl Streaming {
    fn new(seq: u64) -> Self {
        Streaming {
            seq,
            files: BTreeMap::new(),
            stats: FlushStats::default(),
            records: 0,
            spilled: false,
            failed: false,
        }
    }

    /// Encodes `rows` into the files of their hours.
    fn write(mut self, target: &Target, rows: &Converted) -> Self {
        if self.failed {
            return self;
        }
        let record = wal::WalRecord {
            batches: rows
                .tables()
                .into_iter()
                .map(|(table, batch)| (table, batch.clone()))
                .collect(),
        };
        if let Err(e) = self.try_write(target, &record) {
            tracing::warn!(segment = self.seq, error = %e, "streaming flush failed; the segment will be flushed from the WAL at seal");
            self.failed = true;
            self.remove_files();
        }
        self
    }

    fn try_write(&mut self, target: &Target, record: &wal::WalRecord) -> Result<()> {
        self.records += 1;
        for (table, hour, batch) in by_hour(record)? {
            let part = match self.files.entry((table, hour)) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let name = INGESTED_TABLES[usize::from(table)];
                    e.insert(Part::create(target, name, hour, self.seq, batch.schema())?)
                }
            };
            part.writer.write(&batch)?;
            self.stats.count(table, batch.num_rows());
        }
        Ok(())
    }

    /// Writes the records of the segment at `path` after the ones already
    /// written (all of them, for a new one), without decoding those, then
    /// [`finish`](Self::finish)es. A spilled segment is so encoded once:
    /// what was streamed before the spill is kept, not read back and
    /// encoded again.
    fn resume(mut self, target: &Target, path: &Path) -> Result<FlushStats> {
        if self.failed {
            // Its files are gone: the segment is flushed whole instead.
            return Err(earlier_failure());
        }
        let segment = match wal::read_segment_from(path, self.records) {
            Ok(segment) => segment,
            Err(e) => {
                self.abandon();
                return Err(e.into());
            }
        };
        if segment.torn_bytes > 0 {
            tracing::warn!(
                segment = self.seq,
                torn_bytes = segment.torn_bytes,
                "WAL segment ends in a torn record (a crash mid-write); it was never acknowledged and is dropped"
            );
        }
        self.stats.torn_bytes = segment.torn_bytes;
        self.write_all(target, &segment.records)?
            .finish(target, path)
    }

    /// Writes `records` in order; on a failure removes every file and
    /// returns the error.
    fn write_all(mut self, target: &Target, records: &[wal::WalRecord]) -> Result<Self> {
        for record in records {
            if let Err(e) = self.try_write(target, record) {
                self.abandon();
                return Err(e);
            }
        }
        Ok(self)
    }

    /// Closes, fsyncs and renames every file, then deletes the segment.
    fn finish(self, target: &Target, segment: &Path) -> Result<FlushStats> {
        let stats = self.commit(target)?;
        std::fs::remove_file(segment).map_err(|e| Error::io(segment, e))?;
        if let Some(dir) = segment.parent() {
            sync_dir(dir)?;
        }
        Ok(stats)
    }

    /// Closes, fsyncs and renames (or uploads) every file.
    fn commit(mut self, target: &Target) -> Result<FlushStats> {
        if self.failed {
            return Err(earlier_failure());
        }
        let files = std::mem::take(&mut self.files);
        let mut result = Ok(());
        for part in files.into_values() {
            match &result {
                Ok(()) => {
                    result = part.commit(target);
                    self.stats.files += 1;
                }
                Err(_) => part.discard(),
            }
        }
        result?;
        Ok(self.stats)
    }

    /// Gives up on streaming this segment; its file will be read instead.
    fn abandon(mut self) {
        self.remove_files();
    }

    fn remove_files(&mut self) {
        for part in std::mem::take(&mut self.files).into_values() {
            part.discard();
        }
    }
}

impl Part {
    /// Starts the file of `table`'s rows of `hour` from segment `seq`.
    fn create(
        target: &Target,
        table: &str,
        hour: i64,
        seq: u64,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<Part> {
        let (tmp, dest) = match &target.upload {
            None => {
                let dest = partition::file(&target.local, table, hour, seq);
                (prepare(&target.local, &dest)?, Dest::File(dest))
            }
            Some(upload) => {
                let name = partition::instance_file_name(&upload.instance, seq);
                let staged = partition::dir(&target.local, table, hour).join(&name);
                let key = upload.remote.key(table, hour, &name);
                (prepare(&target.local, &staged)?, Dest::Object(key))
            }
        };
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let props = tables::parquet_properties().build();
        let writer = ArrowWriter::try_new(file, schema, Some(props)).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(Part { dest, tmp, writer })
    }

    fn commit(self, target: &Target) -> Result<()> {
        let Part { dest, tmp, writer } = self;
        let closed = writer.into_inner().map_err(Error::from);
        let closed = match (&dest, closed) {
            // The WAL segment is the durable copy until the upload succeeds.
            (Dest::Object(_), closed) => closed.map(drop),
            (Dest::File(_), closed) => {
                closed.and_then(|file| file.sync_all().map_err(|e| Error::io(&tmp, e)))
            }
        };
        if let Err(e) = closed {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        match (dest, &target.upload) {
            (Dest::File(dest), _) => publish(&target.local, &tmp, &dest),
            (Dest::Object(key), Some(upload)) => {
                let uploaded = upload.put(&tmp, &key);
                let _ = std::fs::remove_file(&tmp);
                // Its partition folders here (hour, date, table), as far as
                // nothing else is staged in them.
                for dir in tmp.ancestors().skip(1).take(3) {
                    if std::fs::remove_dir(dir).is_err() {
                        break;
                    }
                }
                uploaded
            }
            (Dest::Object(_), None) => Err(Error::Internal("an upload without a store".into())),
        }
    }

    fn discard(self) {
        drop(self.writer);
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The rows of one record by table and partition hour. Usually one hour:
/// every span starts in it, so its events and links go there too; else each
/// event and link goes to its span's hour ([`partition::record_hours`]).
fn by_hour(record: &wal::WalRecord) -> Result<Vec<(u8, i64, RecordBatch)>> {
    let starts = record
        .batches
        .iter()
        .find(|(table, _)| *table == 0)
        .and_then(|(_, spans)| spans.column_by_name(tables::col::START_TIME))
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .map(|a| a.values().iter().map(|&t| partition::hour_of(t)));
    let mut hours = starts.into_iter().flatten();
    if let Some(hour) = hours.next()
        && hours.all(|h| h == hour)
    {
        return Ok(record
            .batches
            .iter()
            .filter(|(_, batch)| batch.num_rows() > 0)
            .map(|(table, batch)| (*table, hour, batch.clone()))
            .collect());
    }
    let mut out = Vec::new();
    for ((table, batch), hours) in record.batches.iter().zip(partition::record_hours(record)) {
        for (hour, rows) in group_rows(&hours) {
            out.push((
                *table,
                hour,
                take_record_batch(batch, &UInt32Array::from(rows))?,
            ));
        }
    }
    Ok(out)
}

/// Why a segment whose streaming failed is not finished from its files.
fn earlier_failure() -> Error {
    Error::Internal("an earlier write of this segment failed".into())
}

/// Flushes `pending` oldest first, stopping at the first failure. True when
/// nothing is left.
fn flush_in_order(target: &Target, pending: &mut BTreeMap<u64, PathBuf>) -> bool {
    while let Some((&seq, path)) = pending.first_key_value() {
        match flush_segment(target, seq, path) {
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

/// Writes segment `seq` at `path` to Parquet files at `target`, record by
/// record, then deletes it. Idempotent: a repeated flush of the same
/// segment writes the same files.
pub(crate) fn flush_segment(target: &Target, seq: u64, path: &Path) -> Result<FlushStats> {
    match Streaming::new(seq).resume(target, path) {
        Err(Error::Wal(WalError::BadHeader { .. })) => {
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
            Ok(FlushStats::default())
        }
        flushed => flushed,
    }
}

/// Writes `records` to Parquet under `data_dir`: one file per table and
/// hour, named for `seq`, each via a temporary file, fsync'd and renamed.
/// How flushed segments land; also how generated datasets are written.
pub fn write_records(data_dir: &Path, seq: u64, records: &[wal::WalRecord]) -> Result<FlushStats> {
    let target = Target::folder(data_dir);
    Streaming::new(seq)
        .write_all(&target, records)?
        .commit(&target)
}

/// Row indices by hour, hours ascending.
fn group_rows(hours: &[i64]) -> BTreeMap<i64, Vec<u32>> {
    let mut groups: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (row, hour) in hours.iter().enumerate() {
        groups.entry(*hour).or_default().push(row as u32);
    }
    groups
}

/// Creates `dest`'s folder, checks it is inside `data_dir`, and names the
/// hidden temporary file `dest` is written as.
fn prepare(data_dir: &Path, dest: &Path) -> Result<PathBuf> {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Err(Error::Internal(format!(
            "bad Parquet path {}",
            dest.display()
        )));
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    super::inside(data_dir, dir)?;
    Ok(dir.join(format!(".{}{TMP_SUFFIX}", name.to_string_lossy())))
}

/// Renames the fsync'd `tmp` to `dest` and makes the rename durable.
fn publish(data_dir: &Path, tmp: &Path, dest: &Path) -> Result<()> {
    if let Err(e) = std::fs::rename(tmp, dest) {
        let _ = std::fs::remove_file(tmp);
        return Err(Error::io(dest, e));
    }
    let dir = dest.parent().unwrap_or(data_dir);
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use arrow::array::{Array as _, StringArray};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;
    use crate::convert::convert;

    /// Request `r`: 10 spans, the last two an hour after the others.
    fn request(r: u8) -> ExportTraceServiceRequest {
        let spans = (0..10)
            .map(|i| {
                let start = 1_795_600_800_000_000_000 + u64::from(i >= 8) * 3_600_000_000_000;
                Span {
                    trace_id: vec![r + 1; 16],
                    span_id: vec![r + 1, i + 1, 1, 1, 1, 1, 1, 1],
                    name: format!("r{r}"),
                    start_time_unix_nano: start,
                    end_time_unix_nano: start + 1_000,
                    ..Default::default()
                }
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    /// A segment of five records whose first `streamed` were handed over
    /// before the backlog filled: the flusher writes the streamed rows and
    /// reads only the rest back, so every span lands once.
    #[test]
    fn a_spilled_segment_resumes_after_its_streamed_records() {
        let converted: Vec<Converted> = (0..5).map(|r| convert(&request(r)).unwrap()).collect();
        let mut segment = wal::SEGMENT_HEADER.to_vec();
        for rows in &converted {
            segment.extend(wal::encode_record(&rows.tables()).unwrap());
        }
        for streamed in 0..=converted.len() {
            let dir = tempfile::tempdir().unwrap();
            let wal_dir = dir.path().join(wal::WAL_DIR);
            std::fs::create_dir_all(&wal_dir).unwrap();
            let path = wal::segment_path(&wal_dir, 7);
            std::fs::write(&path, &segment).unwrap();

            let (jobs, queue) = mpsc::channel();
            for rows in &converted[..streamed] {
                let rows = rows.clone();
                jobs.send(Job::Rows {
                    seq: 7,
                    rows,
                    bytes: 0,
                })
                .unwrap();
            }
            jobs.send(Job::Spill { seq: 7 }).unwrap();
            let segment = Some((7, path.clone()));
            jobs.send(Job::Seal {
                segment,
                done: None,
            })
            .unwrap();
            drop(jobs);
            run(
                &Target::folder(dir.path()),
                queue,
                &Backlog::new(usize::MAX),
            );

            let batches = super::super::read_table(dir.path(), tables::SPANS).unwrap();
            let ids: Vec<String> = batches
                .iter()
                .flat_map(|batch| {
                    let column = batch.column_by_name(tables::col::SPAN_ID).unwrap();
                    let ids = column.as_any().downcast_ref::<StringArray>().unwrap();
                    (0..ids.len())
                        .map(|i| ids.value(i).to_owned())
                        .collect::<Vec<_>>()
                })
                .collect();
            let distinct: HashSet<&String> = ids.iter().collect();
            assert_eq!(ids.len(), 50, "streamed {streamed}: every span");
            assert_eq!(distinct.len(), 50, "streamed {streamed}: no span twice");
            assert!(
                !path.exists(),
                "streamed {streamed}: the segment is deleted"
            );
        }
    }
}
