//! Compaction and retention of the data folder.
//!
//! The collector writes one Parquet file per table, hour and flush (every
//! 10 s by default: 360 files per table-hour), and every query lists and
//! plans them all. [`compact`] merges each closed hour's files of a table
//! into one file, sorted, in row groups of [`ROW_GROUP_ROWS`]; [`retain`]
//! deletes whole hours past a retention.
//!
//! **Sort order.** Spans are sorted by `(start_time, trace_id)`, not by
//! trace first: the analysis reads spans a time window at a time and prunes
//! row groups by their `start_time` statistics, which a trace-first order
//! would make span the whole hour (every window would read every row group
//! of its hours). A trace-first order would let `trace_id` statistics prune
//! lookups of one trace, but the windows are what every report pays for;
//! a bloom filter of trace ids per row group serves those lookups in time
//! order instead. Events and links, which the analysis reads
//! by hour folder and joins to their span, are sorted by their key
//! (`trace_id, span_id, index`), which also keeps a span's rows together.
//!
//! **Safety.** Rows are copied, never rewritten: the merged file's row
//! count is checked against the sum of its inputs' before anything is
//! replaced. A merge is recorded in a journal (`compaction.journal`, JSON,
//! fsync'd) before the merged file is renamed into place, and the journal
//! is removed only once the inputs are deleted. A kill at any moment leaves
//! one of: the inputs alone (a temporary file and maybe a journal, cleaned
//! up by the next run); the inputs and the merged file both (the next run
//! finishes deleting the inputs; meanwhile SQL and the analysis see each
//! row once, since they drop copies of a row by its key, see
//! [`crate::ingested`]); or the merged file alone. Running it again is
//! always safe and does nothing once an hour is one file. One compaction
//! runs per data folder at a time ([`LOCK_FILE`]); a second is refused.
//!
//! A data folder in an object store is compacted the same way by
//! [`remote`].
//!
//! **What is left alone.** Hours that end less than `older_than` ago (the
//! collector may still flush late spans into them; a later run merges
//! those), and files of WAL segments still in the log (a collector
//! restarting would flush them again under their own names). Copies of a
//! row (an export the client re-sent) are kept as they are, so the counts
//! can be checked exactly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use causet_schema::tables::{self, INGESTED_TABLES, col};
use causet_schema::{partition, wal};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext, col as column};
use futures::StreamExt as _;
use parquet::arrow::ArrowWriter;
use parquet::file::reader::{FileReader as _, SerializedFileReader};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingested;

pub mod remote;
use crate::settings::Settings;

/// Rows per row group of a merged file: large enough for scans to read in
/// long runs, small enough that a time window's reads prune most of an
/// hour (a busy hour holds several million spans).
pub const ROW_GROUP_ROWS: usize = 256 * 1024;

/// The journal of a merge in progress, in its partition folder.
pub const JOURNAL: &str = "compaction.journal";
/// The lock one compaction holds on a data folder, so that two (a manual
/// run beside a collector's `--compact-after`) never merge the same hour.
pub const LOCK_FILE: &str = ".compact.lock";
/// The journal while it is written, before its rename.
const JOURNAL_TMP: &str = "compaction.journal.tmp";

/// What one [`compact`] run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Compacted {
    /// Table-hours merged into one file each.
    pub hours: usize,
    /// Files they held before.
    pub files_before: usize,
    /// Rows copied.
    pub rows: u64,
    /// Bytes of the files before and after.
    pub bytes_before: u64,
    /// Bytes of the merged files.
    pub bytes_after: u64,
    /// Merges an earlier, interrupted run left half done, finished now.
    pub recovered: usize,
    /// Table-hours skipped because they are too recent or a file is still
    /// in the WAL.
    pub open_hours: usize,
}

/// What one [`retain`] run deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retained {
    /// Table-hours deleted.
    pub hours: usize,
    /// Files deleted.
    pub files: usize,
    /// Bytes freed.
    pub bytes: u64,
}

/// The record of one merge: written before the merged file appears, so an
/// interrupted merge can be finished or undone.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The merged file's name.
    output: String,
    /// The names of the files it replaces.
    inputs: Vec<String>,
    /// Rows it holds (the sum of the inputs').
    rows: u64,
}

/// One table's partition folder of one hour.
#[derive(Debug)]
struct HourDir {
    table: &'static str,
    hour: i64,
    path: PathBuf,
}

/// Merges the files of every table-hour of `data_dir` that ended at least
/// `older_than_ns` before `now_ns`, finishing first any merge a kill
/// interrupted. Sorting runs under `settings`' memory limit and spills past
/// it.
pub async fn compact(
    data_dir: &Path,
    now_ns: i64,
    older_than_ns: i64,
    settings: &Settings,
) -> Result<Compacted> {
    ingested::check_folder(data_dir)?;
    let _lock = lock(data_dir)?;
    let live: Vec<u64> = wal::list_segments(&data_dir.join(wal::WAL_DIR))?
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    let runtime = settings.runtime()?;
    let mut done = Compacted::default();
    for dir in hour_dirs(data_dir)? {
        if finish_interrupted(&dir.path)? {
            done.recovered += 1;
        }
        let closed = ended_by(dir.hour, now_ns.saturating_sub(older_than_ns));
        let files = parquet_files(&dir.path)?;
        let in_wal = files
            .iter()
            .any(|(_, (first, last))| live.iter().any(|seq| (*first..=*last).contains(seq)));
        if !closed || in_wal {
            done.open_hours += 1;
            continue;
        }
        if files.len() < 2 {
            continue;
        }
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), Arc::clone(&runtime));
        let merged = merge(&ctx, &dir, &files)
            .await
            .map_err(|e| Error::with_limit(e, settings.memory_limit))?;
        done.hours += 1;
        done.files_before += files.len();
        done.rows += merged.rows;
        done.bytes_before += merged.bytes_before;
        done.bytes_after += merged.bytes_after;
    }
    Ok(done)
}

/// Deletes every table-hour of `data_dir` that ended at least `keep_ns`
/// before `now_ns`: links and events first, spans last, so no hour is ever
/// left with events whose spans are gone.
pub fn retain(data_dir: &Path, now_ns: i64, keep_ns: i64) -> Result<Retained> {
    ingested::check_folder(data_dir)?;
    let _lock = lock(data_dir)?;
    let mut done = Retained::default();
    let mut expired: Vec<HourDir> = hour_dirs(data_dir)?
        .into_iter()
        .filter(|dir| ended_by(dir.hour, now_ns.saturating_sub(keep_ns)))
        .collect();
    // Spans last, within each hour.
    expired.sort_by_key(|dir| (dir.hour, dir.table == tables::SPANS));
    for dir in expired {
        for entry in std::fs::read_dir(&dir.path).map_err(|e| Error::io(&dir.path, e))? {
            let entry = entry.map_err(|e| Error::io(&dir.path, e))?;
            done.files += 1;
            done.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
        std::fs::remove_dir_all(&dir.path).map_err(|e| Error::io(&dir.path, e))?;
        done.hours += 1;
        // The date folder goes with its last hour.
        if let Some(date) = dir.path.parent() {
            let empty = std::fs::read_dir(date).is_ok_and(|mut e| e.next().is_none());
            if empty {
                std::fs::remove_dir(date).map_err(|e| Error::io(date, e))?;
            }
            if let Some(table) = date.parent() {
                partition::sync_dir(table).map_err(|e| Error::io(table, e))?;
            }
        }
    }
    Ok(done)
}

/// Takes the data folder's compaction lock (released when the file is
/// closed, also by a kill), or says who holds it.
fn lock(data_dir: &Path) -> Result<std::fs::File> {
    let path = data_dir.join(LOCK_FILE);
    match partition::lock(&path).map_err(|e| Error::io(&path, e))? {
        partition::Lock::Taken(file) => Ok(file),
        partition::Lock::HeldBy(pid) => Err(Error::Usage(format!(
            "{}: another compaction is running (pid {pid}); try again when it ends",
            data_dir.display()
        ))),
    }
}

/// Whether hour `hour` (since the epoch) ended at or before `t_ns`.
fn ended_by(hour: i64, t_ns: i64) -> bool {
    hour < partition::hour_of(t_ns)
}

/// Every `DATA/<table>/date=D/hour=H` folder, by table and hour.
fn hour_dirs(data_dir: &Path) -> Result<Vec<HourDir>> {
    let mut out = Vec::new();
    for table in INGESTED_TABLES {
        for date in sub_dirs(&data_dir.join(table))? {
            for hour in sub_dirs(&date)? {
                if let Some(at) = hour_of_dir(&date, &hour) {
                    out.push(HourDir {
                        table,
                        hour: at,
                        path: hour,
                    });
                }
            }
        }
    }
    Ok(out)
}

fn sub_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_type().map_err(|e| Error::io(dir, e))?.is_dir() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The hour since the epoch a `date=YYYY-MM-DD/hour=HH` folder holds.
fn hour_of_dir(date: &Path, hour: &Path) -> Option<i64> {
    hour_of_names(date.file_name()?.to_str()?, hour.file_name()?.to_str()?)
}

/// The hour since the epoch of the partition names `date=YYYY-MM-DD` and
/// `hour=HH` (folders, or object store prefixes).
fn hour_of_names(date: &str, hour: &str) -> Option<i64> {
    let date = date.strip_prefix("date=")?;
    let hh: i64 = hour.strip_prefix("hour=")?.parse().ok()?;
    let start = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(u32::try_from(hh).ok()?, 0, 0)?;
    Some(start.and_utc().timestamp().div_euclid(3600))
}

/// The Parquet files causet wrote in `dir`, by name, with the segments each holds.
fn parquet_files(dir: &Path) -> Result<Vec<(String, (u64, u64))>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(segments) = partition::segments_of(&name) {
            out.push((name, segments));
        }
    }
    out.sort();
    Ok(out)
}

/// Rows of a Parquet file, from its footer.
fn rows_in(path: &Path) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader =
        SerializedFileReader::new(file).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
}

/// Finishes or undoes a merge a kill interrupted in `dir`: with the merged
/// file in place (and whole), its inputs are deleted; without it, the
/// journal and the temporary file go and the inputs stay. Whether there
/// was one.
fn finish_interrupted(dir: &Path) -> Result<bool> {
    let path = dir.join(JOURNAL);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            remove_temporary(dir)?;
            return Ok(false);
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|e| {
        Error::io(
            &path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    let output = dir.join(&journal.output);
    if output.exists() {
        if rows_in(&output)? == journal.rows {
            delete_inputs(dir, &journal)?;
        } else if journal.inputs.iter().all(|i| dir.join(i).exists()) {
            // Not the file the journal describes (it was fsync'd before the
            // rename, so this is damage): the inputs are whole, keep them.
            remove_synced(&output)?;
        } else {
            return Err(Error::Usage(format!(
                "{}: {} holds {} rows where the merge wrote {}, and some of its inputs are \
                 gone; left as it is for a person to look at",
                dir.display(),
                journal.output,
                rows_in(&output)?,
                journal.rows
            )));
        }
    }
    remove_temporary(dir)?;
    remove_synced(&path)?;
    Ok(true)
}

/// Deletes the temporary files of merges that never finished: merged
/// files not yet renamed, and a journal not yet renamed.
fn remove_temporary(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let merged = name.starts_with(".compact-") && name.ends_with(".tmp");
        if merged || name == JOURNAL_TMP {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(&entry.path(), e))?;
        }
    }
    Ok(())
}

fn delete_inputs(dir: &Path, journal: &Journal) -> Result<()> {
    for input in journal.inputs.iter().filter(|i| **i != journal.output) {
        let path = dir.join(input);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    partition::sync_dir(dir).map_err(|e| Error::io(dir, e))
}

fn remove_synced(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    let dir = path.parent().unwrap_or(path);
    partition::sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Writes the journal `path` durably (see [`partition::write_synced`]).
fn write_journal(path: &Path, contents: &[u8]) -> Result<()> {
    partition::write_synced(path, contents).map_err(|e| Error::io(path, e))
}

/// What one merge did.
struct Merged {
    rows: u64,
    bytes_before: u64,
    bytes_after: u64,
}

/// Merges `files` of `dir` into one sorted file, checks its row count,
/// then replaces them with it (see the module's docs for the order).
async fn merge(
    ctx: &SessionContext,
    dir: &HourDir,
    files: &[(String, (u64, u64))],
) -> Result<Merged> {
    let stored = tables::schema_for(dir.table)
        .ok_or_else(|| Error::Usage(format!("no table {}", dir.table)))?;
    let mut rows = 0;
    let mut bytes_before = 0;
    let mut urls = Vec::with_capacity(files.len());
    // DataFusion reads by absolute URL.
    let base = std::fs::canonicalize(&dir.path).map_err(|e| Error::io(&dir.path, e))?;
    for (name, _) in files {
        let path = base.join(name);
        rows += rows_in(&path)?;
        bytes_before += std::fs::metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .len();
        urls.push(ListingTableUrl::parse(path.to_string_lossy())?);
    }
    let first = files
        .iter()
        .map(|(_, (first, _))| *first)
        .min()
        .unwrap_or(0);
    let last = files.iter().map(|(_, (_, last))| *last).max().unwrap_or(0);
    let output = partition::compacted_name(first, last);
    let tmp = dir.path.join(format!(".{output}.tmp"));

    let written = write_sorted(ctx, &stored, dir.table, urls, &tmp).await;
    let written = match written {
        Ok(n) if n == rows => n,
        Ok(n) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::Usage(format!(
                "{}: the merge wrote {n} rows where its {} files hold {rows}; nothing was replaced",
                dir.path.display(),
                files.len()
            )));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let journal = Journal {
        output: output.clone(),
        inputs: files.iter().map(|(name, _)| name.clone()).collect(),
        rows: written,
    };
    let text = serde_json::to_vec(&journal).map_err(|e| Error::Usage(e.to_string()))?;
    write_journal(&dir.path.join(JOURNAL), &text)?;
    let dest = dir.path.join(&output);
    std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
    partition::sync_dir(&dir.path).map_err(|e| Error::io(&dir.path, e))?;
    delete_inputs(&dir.path, &journal)?;
    remove_synced(&dir.path.join(JOURNAL))?;
    let bytes_after = std::fs::metadata(&dest)
        .map_err(|e| Error::io(&dest, e))?
        .len();
    Ok(Merged {
        rows: written,
        bytes_before,
        bytes_after,
    })
}

/// Reads `urls` sorted (see the module's docs) into a Parquet file at
/// `tmp`, fsync'd; the rows written.
async fn write_sorted(
    ctx: &SessionContext,
    stored: &SchemaRef,
    table: &str,
    urls: Vec<ListingTableUrl>,
    tmp: &Path,
) -> Result<u64> {
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(Arc::clone(stored));
    let frame = ctx.read_table(Arc::new(ListingTable::try_new(config)?))?;
    let order: Vec<&str> = if table == tables::SPANS {
        vec![col::START_TIME, col::TRACE_ID]
    } else {
        ingested::key_columns(table).to_vec()
    };
    let frame = frame.sort(
        order
            .iter()
            .map(|name| column(*name).sort(true, false))
            .collect(),
    )?;
    let mut stream = frame.execute_stream().await?;
    let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
    // A bloom filter of trace ids per row group, for lookups of one trace
    // (`causet explain`, `why`, the report's example traces): the rows are
    // in time order, so `trace_id` statistics prune nothing. Sized for a
    // row group of short traces: 1% false positives, about 80 KB each.
    let trace = parquet::schema::types::ColumnPath::from(col::TRACE_ID);
    let props = tables::parquet_properties()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_column_bloom_filter_enabled(trace.clone(), true)
        .set_column_bloom_filter_fpp(trace.clone(), 0.01)
        .set_column_bloom_filter_max_ndv(trace, ROW_GROUP_ROWS as u64 / 4)
        .build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(stored), Some(props))
        .map_err(|e| Error::io(tmp, std::io::Error::other(e)))?;
    while let Some(batch) = stream.next().await {
        // DataFusion's batches carry its schema; the file keeps causet's
        // (with its version metadata).
        let batch =
            arrow::array::RecordBatch::try_new(Arc::clone(stored), batch?.columns().to_vec())?;
        writer
            .write(&batch)
            .map_err(|e| Error::io(tmp, std::io::Error::other(e)))?;
    }
    let file = writer
        .into_inner()
        .map_err(|e| Error::io(tmp, std::io::Error::other(e)))?;
    file.sync_all().map_err(|e| Error::io(tmp, e))?;
    rows_in(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Parquet file of `rows` rows at `path`.
    fn parquet(path: &Path, rows: i64) {
        use arrow::array::{Int64Array, RecordBatch};
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from_iter_values(0..rows)) as _,
        )])
        .unwrap();
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None)
                .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn one_compaction_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let refused = lock(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("another compaction is running"),
            "{refused}"
        );
        drop(held);
        lock(dir.path()).unwrap();
    }

    /// The states a kill can leave a merge in, each finished or undone.
    #[test]
    fn an_interrupted_merge_is_finished_or_undone() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let inputs = [
            "part-00000000000000000001.parquet",
            "part-00000000000000000002.parquet",
        ];
        let output = partition::compacted_name(1, 2);
        let journal = |rows: u64| {
            let journal = Journal {
                output: output.clone(),
                inputs: inputs.iter().map(|s| s.to_string()).collect(),
                rows,
            };
            write_journal(&d.join(JOURNAL), &serde_json::to_vec(&journal).unwrap()).unwrap();
        };
        let reset = || {
            for name in names(d) {
                std::fs::remove_file(d.join(name)).unwrap();
            }
            parquet(&d.join(inputs[0]), 3);
            parquet(&d.join(inputs[1]), 4);
        };

        // Killed while writing the merged file, or the journal: undone.
        reset();
        parquet(&d.join(format!(".{output}.tmp")), 7);
        std::fs::write(d.join(JOURNAL_TMP), b"{").unwrap();
        assert!(!finish_interrupted(d).unwrap());
        assert_eq!(names(d), inputs);

        // Killed after the journal, before the rename: undone.
        reset();
        parquet(&d.join(format!(".{output}.tmp")), 7);
        journal(7);
        assert!(finish_interrupted(d).unwrap());
        assert_eq!(names(d), inputs);

        // Killed after the rename, before or while deleting the inputs: finished.
        reset();
        parquet(&d.join(&output), 7);
        journal(7);
        std::fs::remove_file(d.join(inputs[0])).unwrap();
        assert!(finish_interrupted(d).unwrap());
        assert_eq!(names(d), std::slice::from_ref(&output));

        // A merged file that is not what the journal says is never trusted:
        // with the inputs whole it goes, without them it is left for a person.
        reset();
        parquet(&d.join(&output), 5);
        journal(7);
        assert!(finish_interrupted(d).unwrap());
        assert_eq!(names(d), inputs);
        parquet(&d.join(&output), 5);
        journal(7);
        std::fs::remove_file(d.join(inputs[0])).unwrap();
        assert!(finish_interrupted(d).is_err());
        assert!(d.join(inputs[1]).exists() && d.join(&output).exists());
    }

    #[test]
    fn hour_folders_name_their_hour() {
        let hour = partition::hour_of(1_795_600_800_000_000_000);
        let dir = partition::dir(Path::new("data"), tables::SPANS, hour);
        let date = dir.parent().unwrap();
        assert_eq!(hour_of_dir(date, &dir), Some(hour));
        assert_eq!(
            hour_of_dir(date, Path::new("data/spans/date=2026-11-25/hour=24")),
            None
        );
        let next = (hour + 1) * 3_600_000_000_000;
        assert!(ended_by(hour, next));
        assert!(!ended_by(hour, next - 1));
    }
}
