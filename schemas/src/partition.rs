//! Where rows live on disk: Hive partitions by the hour of the span's start.
//!
//! `DATA/<table>/date=YYYY-MM-DD/hour=HH/part-<segment>.parquet`. A span's
//! events and links go to their span's partition, so one span's rows stay
//! together. The file name is the WAL segment it was flushed from: a reader
//! of the WAL tail can tell exactly which rows are already in Parquet.
//!
//! ```
//! use std::path::Path;
//! use causet_schema::partition;
//!
//! let hour = partition::hour_of(1_795_600_800_000_000_000);
//! assert_eq!(partition::values(hour), ("2026-11-25".to_string(), "10".to_string()));
//! assert_eq!(
//!     partition::file(Path::new("data"), "spans", hour, 7),
//!     Path::new("data/spans/date=2026-11-25/hour=10/part-00000000000000000007.parquet"),
//! );
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::TimestampNanosecondType;

use crate::tables::col;
use crate::wal::WalRecord;

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;

/// Hours since the Unix epoch of a time in nanoseconds (floor, so times
/// before 1970 land in the right hour too).
pub fn hour_of(time_ns: i64) -> i64 {
    time_ns.div_euclid(NANOS_PER_HOUR)
}

/// The partition values `(date, hour)` of an hour since the epoch, in UTC.
pub fn values(hour: i64) -> (String, String) {
    let at = chrono::DateTime::from_timestamp(hour.saturating_mul(3600), 0).unwrap_or_default();
    (
        at.format("%Y-%m-%d").to_string(),
        at.format("%H").to_string(),
    )
}

/// `<table>`, `date=YYYY-MM-DD`, `hour=HH`: the folders of a partition, in
/// a data folder or under an object store prefix.
pub fn relative_dir(table: &str, hour: i64) -> [String; 3] {
    let (date, hh) = values(hour);
    [
        table.to_owned(),
        format!("{}={date}", col::DATE),
        format!("{}={hh}", col::HOUR),
    ]
}

/// `DATA/<table>/date=YYYY-MM-DD/hour=HH`.
pub fn dir(data_dir: &Path, table: &str, hour: i64) -> PathBuf {
    let mut dir = data_dir.to_path_buf();
    dir.extend(relative_dir(table, hour));
    dir
}

/// The Parquet file that segment `seq` flushes `table`'s rows of `hour` into.
pub fn file(data_dir: &Path, table: &str, hour: i64, seq: u64) -> PathBuf {
    dir(data_dir, table, hour).join(format!("part-{seq:020}.parquet"))
}

/// The name of the file segment `seq` of collector `instance` flushes a
/// table-hour's rows into under an object store prefix, which several
/// collectors may share (see [`instance_id`]).
pub fn instance_file_name(instance: &str, seq: u64) -> String {
    format!("part-{instance}-{seq:020}.parquet")
}

/// A collector's name in the files it uploads: 16 hex digits, made once per
/// WAL folder (`<wal>/INSTANCE`) and kept, so a segment flushed again after
/// a crash overwrites its own objects instead of adding copies.
pub fn instance_id(wal_dir: &Path) -> std::io::Result<String> {
    use std::hash::BuildHasher as _;
    let path = wal_dir.join("INSTANCE");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() == 16 => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // Random enough to tell apart the collectors of one bucket: the
    // standard library's per-process random hash keys, over the time and pid.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let id = std::collections::hash_map::RandomState::new().hash_one((now, std::process::id()));
    let id = format!("{id:016x}");
    write_synced(&path, id.as_bytes())?;
    Ok(id)
}

/// The name of the file that compaction merges the rows of segments
/// `first..=last` of one table and hour into.
pub fn compacted_name(first: u64, last: u64) -> String {
    format!("compact-{first:020}-{last:020}.parquet")
}

/// The WAL segments whose rows a Parquet file of a partition folder holds,
/// read from its name: `part-<seq>.parquet` holds segment `seq`,
/// `compact-<first>-<last>.parquet` segments `first..=last` (as many as had
/// rows of that hour). `None` for a name causet does not write.
pub fn segments_of(file_name: &str) -> Option<(u64, u64)> {
    let stem = file_name.strip_suffix(".parquet")?;
    if let Some(seq) = stem.strip_prefix("part-") {
        let seq = seq.parse().ok()?;
        return Some((seq, seq));
    }
    let (first, last) = stem.strip_prefix("compact-")?.split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some((first, last))
}

/// Whether segment `seq`'s rows of `table` and `hour` are in Parquet: its
/// own file, or a compacted file that merged it.
pub fn flushed(data_dir: &Path, table: &str, hour: i64, seq: u64) -> bool {
    if file(data_dir, table, hour, seq).exists() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir(data_dir, table, hour)) else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry
            .file_name()
            .to_str()
            .and_then(segments_of)
            .is_some_and(|(first, last)| (first..=last).contains(&seq))
    })
}

/// What [`lock`] found.
#[derive(Debug)]
pub enum Lock {
    /// Taken: held until the file is closed (by the process ending, too).
    Taken(std::fs::File),
    /// Held by another process; the id it wrote.
    HeldBy(String),
}

/// Takes the exclusive lock of the file at `path` (made if missing) and
/// writes this process's id into it, or says who holds it. The collector
/// locks its data folder this way, and compaction its own lock.
pub fn lock(path: &Path) -> std::io::Result<Lock> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            return Ok(Lock::HeldBy(holder.trim().to_owned()));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(Lock::Taken(file))
}

/// Replaces the file at `path` with `contents` durably: written to
/// `<path>.tmp`, fsync'd, renamed over `path`, and the rename fsync'd.
pub fn write_synced(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    sync_dir(path.parent().unwrap_or(path))
}

/// fsync a directory, so a rename or unlink in it is durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

/// The partition hour of every row of every batch of a WAL record: spans by
/// their start, events and links by their span (found in the same record;
/// an orphan falls back to its own time, or hour 0 for a link).
pub fn record_hours(record: &WalRecord) -> Vec<Vec<i64>> {
    let mut span_hours: HashMap<(&str, &str), i64> = HashMap::new();
    let spans = record.batches.iter().find(|(table, _)| *table == 0);
    if let Some((_, spans)) = spans
        && let (Some(trace), Some(span), Some(start)) = (
            strings(spans, col::TRACE_ID),
            strings(spans, col::SPAN_ID),
            times(spans, col::START_TIME),
        )
    {
        for (i, &start) in start.iter().enumerate() {
            span_hours.insert((trace.value(i), span.value(i)), hour_of(start));
        }
    }
    record
        .batches
        .iter()
        .map(|(table, batch)| {
            if *table == 0 {
                return times(batch, col::START_TIME)
                    .map(|t| t.iter().map(|&t| hour_of(t)).collect())
                    .unwrap_or_else(|| vec![0; batch.num_rows()]);
            }
            let own = times(batch, col::TIME);
            match (strings(batch, col::TRACE_ID), strings(batch, col::SPAN_ID)) {
                (Some(trace), Some(span)) => (0..batch.num_rows())
                    .map(|i| {
                        span_hours
                            .get(&(trace.value(i), span.value(i)))
                            .copied()
                            .or_else(|| own.map(|t| hour_of(t[i])))
                            .unwrap_or(0)
                    })
                    .collect(),
                _ => vec![0; batch.num_rows()],
            }
        })
        .collect()
}

fn strings<'b>(batch: &'b RecordBatch, name: &str) -> Option<&'b StringArray> {
    batch
        .column_by_name(name)?
        .as_string_opt::<i32>()
        .filter(|a| a.null_count() == 0)
}

fn times<'b>(batch: &'b RecordBatch, name: &str) -> Option<&'b [i64]> {
    Some(
        batch
            .column_by_name(name)?
            .as_primitive_opt::<TimestampNanosecondType>()?
            .values(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_say_which_segments_they_hold() {
        assert_eq!(
            segments_of("part-00000000000000000007.parquet"),
            Some((7, 7))
        );
        let merged = compacted_name(3, 41);
        assert_eq!(segments_of(&merged), Some((3, 41)));
        assert_eq!(segments_of("compact-9-3.parquet"), None);
        assert_eq!(segments_of(".part-00000000000000000007.parquet.tmp"), None);
        assert_eq!(segments_of("notes.txt"), None);
    }

    #[test]
    fn a_segment_merged_into_a_compacted_file_counts_as_flushed() {
        let tmp = tempfile::tempdir().unwrap();
        let hour = hour_of(1_795_600_800_000_000_000);
        let folder = dir(tmp.path(), "spans", hour);
        std::fs::create_dir_all(&folder).unwrap();
        assert!(!flushed(tmp.path(), "spans", hour, 5));
        std::fs::write(folder.join(compacted_name(3, 6)), b"").unwrap();
        assert!(flushed(tmp.path(), "spans", hour, 5));
        assert!(!flushed(tmp.path(), "spans", hour, 7));
        std::fs::write(file(tmp.path(), "spans", hour, 7), b"").unwrap();
        assert!(flushed(tmp.path(), "spans", hour, 7));
    }
}
