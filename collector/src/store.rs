//! Durable storage: the write-ahead log and its flush to Parquet.
//!
//! An export is acknowledged only once its record is in a WAL segment on
//! disk and fsync'd. One writer thread owns the open segment; exports queue
//! their records to it and it commits whatever has queued up with a single
//! fsync (group commit), so concurrent exports share the cost of the sync
//! and a lone export is not made to wait for company.
//!
//! Segments are sealed when they reach a size or age; a flusher thread turns
//! each sealed segment into zstd Parquet files, one per table and hour
//! (`DATA/<table>/date=YYYY-MM-DD/hour=HH/part-<segment>.parquet`), each
//! written under a temporary name, fsync'd and renamed, and deletes the
//! segment only after that. File names depend only on the segment, so a
//! flush interrupted by a crash and redone on restart replaces its own
//! files instead of duplicating rows.
//!
//! The flusher does not read a segment back to write it: the writer hands
//! it each committed export's rows, already in Arrow, and the flusher
//! encodes them into the open segment's Parquet files as they come, so
//! sealing only closes, fsyncs and renames. Reading the segment from disk
//! is kept for what memory cannot serve: recovery at start, retrying a
//! flush that failed (a full disk), and the records of a segment after the
//! flusher's backlog filled (those before are already encoded and kept).
//!
//! With a data folder in an object store ([`StoreConfig::remote`]), the WAL
//! and the files being written stay in the local folder, and each closed
//! file is uploaded with one PUT (the object appears whole or not at all)
//! instead of renamed, then deleted here; the segment is deleted once all
//! its files are up. Names carry this collector's instance id (made once
//! per WAL folder) and the segment, so collectors sharing a prefix never
//! collide and a flush redone after a crash replaces its own objects.

mod flush;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use causet_schema::location::Remote;
use causet_schema::{partition, wal};
use tokio::sync::oneshot;

use crate::convert::Converted;
use crate::error::{Error, Result};
pub use flush::{FlushStats, write_records};
use writer::{WalMsg, Writer};

/// Name of the lock file that keeps two collectors off one data folder.
pub const LOCK_FILE: &str = ".lock";

/// How the store is laid out and paced.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The data folder; with [`remote`](Self::remote), the local folder of
    /// the WAL and of the files being uploaded.
    pub data_dir: PathBuf,
    /// A data folder in an object store that flushed files are uploaded to
    /// (one PUT each, named for this collector instance and the segment).
    pub remote: Option<Remote>,
    /// Longest time an acknowledged span waits in the WAL before it is flushed to Parquet.
    pub flush_interval: Duration,
    /// A segment is sealed once it holds this many bytes.
    pub segment_bytes: u64,
    /// Most bytes of committed rows waiting for the flusher in memory;
    /// past it, the rest of the open segment is read back from disk when it
    /// is sealed.
    pub flush_backlog_bytes: usize,
}

impl StoreConfig {
    /// Defaults for `data_dir`: flush every 10 s or 64 MiB.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            remote: None,
            flush_interval: Duration::from_secs(10),
            segment_bytes: 64 << 20,
            flush_backlog_bytes: flush::DEFAULT_BACKLOG_BYTES,
        }
    }
}

/// Rows with their WAL record encoded: the CPU part of an append, done by
/// the caller (off the async runtime) before [`Store::append`].
#[derive(Debug)]
pub struct Prepared {
    rows: Converted,
    /// `None` when there are no rows to store.
    record: Option<Vec<u8>>,
}

impl Prepared {
    /// Encodes the WAL record of `rows`.
    pub fn new(rows: Converted) -> Result<Prepared> {
        let record = if rows.spans.num_rows() == 0 {
            None
        } else {
            Some(wal::encode_record(&rows.tables())?)
        };
        Ok(Prepared { rows, record })
    }

    /// The rows.
    pub fn rows(&self) -> &Converted {
        &self.rows
    }
}

/// The open store: the WAL writer and flusher threads.
#[derive(Debug)]
pub struct Store {
    tx: Mutex<Option<mpsc::Sender<WalMsg>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    _lock: File,
}

impl Store {
    /// Locks the data folder, recovers what an earlier run left in the WAL
    /// (flushing it to Parquet), and starts the writer and flusher.
    /// Blocks while recovering; call it from a blocking context.
    pub fn open(config: StoreConfig) -> Result<Store> {
        let wal_dir = config.data_dir.join(wal::WAL_DIR);
        std::fs::create_dir_all(&wal_dir).map_err(|e| Error::io(&wal_dir, e))?;
        for sub in std::iter::once(wal::WAL_DIR).chain(causet_schema::tables::INGESTED_TABLES) {
            let dir = config.data_dir.join(sub);
            if dir.exists() {
                inside(&config.data_dir, &dir)?;
            }
        }
        let lock = lock_data_dir(&config.data_dir)?;
        flush::remove_temporary_files(&config.data_dir)?;
        let target = match &config.remote {
            None => flush::Target::folder(&config.data_dir),
            Some(remote) => {
                let instance =
                    partition::instance_id(&wal_dir).map_err(|e| Error::io(&wal_dir, e))?;
                flush::Target::remote(&config.data_dir, remote.clone(), instance)?
            }
        };
        // Segment numbers name the Parquet files they flush to, so they are
        // never reused: continue after the highest ever handed out.
        let mut next_seq = read_high_water(&wal_dir)? + 1;
        for (seq, path) in wal::list_segments(&wal_dir)? {
            let stats = flush::flush_segment(&target, seq, &path)?;
            tracing::info!(
                segment = seq,
                spans = stats.spans,
                torn_bytes = stats.torn_bytes,
                "recovered WAL segment"
            );
            next_seq = next_seq.max(seq + 1);
        }

        let (flush_tx, flush_rx) = mpsc::channel::<flush::Job>();
        let backlog = std::sync::Arc::new(flush::Backlog::new(config.flush_backlog_bytes));
        let flusher_backlog = std::sync::Arc::clone(&backlog);
        let flusher = std::thread::Builder::new()
            .name("causet-flush".into())
            .spawn(move || flush::run(&target, flush_rx, &flusher_backlog))
            .map_err(|e| Error::io(&config.data_dir, e))?;
        let (tx, rx) = mpsc::channel::<WalMsg>();
        let writer = Writer::new(
            wal_dir,
            next_seq,
            config.flush_interval,
            config.segment_bytes,
            flush_tx,
            backlog,
        );
        let writer = std::thread::Builder::new()
            .name("causet-wal".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| Error::io(&config.data_dir, e))?;
        Ok(Store {
            tx: Mutex::new(Some(tx)),
            // Writer first: it must finish (and seal) before the flusher drains.
            threads: Mutex::new(vec![writer, flusher]),
            _lock: lock,
        })
    }

    /// Makes `prepared` durable. Returns once its record is fsync'd.
    pub async fn append(&self, prepared: Prepared) -> Result<()> {
        let Some(record) = prepared.record else {
            return Ok(());
        };
        let (ack, done) = oneshot::channel();
        self.send(WalMsg::Append {
            record,
            rows: prepared.rows,
            ack,
        })?;
        done.await.map_err(|_| Error::ShuttingDown)?
    }

    /// Seals the open segment and waits until everything acknowledged so far
    /// is in Parquet, or its flush has failed (a full disk, say) and is left
    /// in the WAL to be retried.
    pub async fn flush(&self) -> Result<()> {
        let (done, flushed) = oneshot::channel();
        self.send(WalMsg::Seal { done })?;
        flushed.await.map_err(|_| Error::ShuttingDown)
    }

    fn send(&self, msg: WalMsg) -> Result<()> {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        tx.as_ref()
            .ok_or(Error::ShuttingDown)?
            .send(msg)
            .map_err(|_| Error::ShuttingDown)
    }

    /// Stops taking appends, seals the WAL, flushes every segment to Parquet
    /// and stops the threads. Blocks; call it from a blocking context.
    pub fn close(&self) {
        // Dropping the sender ends the writer, which seals its segment and
        // drops the flusher's channel, which ends the flusher once it is done.
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in threads {
            if handle.join().is_err() {
                tracing::error!("a storage thread panicked");
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// Takes the data folder's lock, so a second collector or import on the
/// same folder fails clearly instead of interleaving WAL segments.
fn lock_data_dir(data_dir: &Path) -> Result<File> {
    let path = data_dir.join(LOCK_FILE);
    match causet_schema::partition::lock(&path).map_err(|e| Error::io(&path, e))? {
        causet_schema::partition::Lock::Taken(file) => Ok(file),
        causet_schema::partition::Lock::HeldBy(pid) => Err(Error::Io {
            path: data_dir.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("data folder is in use by another causet process (pid {pid})"),
            ),
        }),
    }
}

/// File in the WAL folder holding the highest segment number handed out.
pub const HIGH_WATER_FILE: &str = "HIGH_WATER";

/// The highest segment number ever handed out in `wal_dir` (0 if none).
fn read_high_water(wal_dir: &Path) -> Result<u64> {
    let path = wal_dir.join(HIGH_WATER_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map_err(|_| {
            Error::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("not a number: {text:?}"),
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Durably records that segment numbers up to `seq` are taken.
pub(crate) fn write_high_water(wal_dir: &Path, seq: u64) -> Result<()> {
    let path = wal_dir.join(HIGH_WATER_FILE);
    causet_schema::partition::write_synced(&path, seq.to_string().as_bytes())
        .map_err(|e| Error::io(&path, e))
}

/// Refuses `dir` unless it resolves to a place inside `data_dir`: the store
/// never writes through a symlink that leads out of its data folder.
pub(crate) fn inside(data_dir: &Path, dir: &Path) -> Result<()> {
    let root = data_dir
        .canonicalize()
        .map_err(|e| Error::io(data_dir, e))?;
    let real = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    if real.starts_with(&root) && real != root {
        return Ok(());
    }
    Err(Error::io(
        dir,
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "resolves to {}, outside the data folder {}; refusing to write there",
                real.display(),
                root.display()
            ),
        ),
    ))
}

/// fsync a directory, so a rename or unlink in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    causet_schema::partition::sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Every row of `table` flushed to Parquet under `data_dir`, file by file in
/// path order. For tools and tests; the analyzer reads through DataFusion.
pub fn read_table(data_dir: &Path, table: &str) -> Result<Vec<arrow::array::RecordBatch>> {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                files(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
        Ok(())
    }
    let dir = data_dir.join(table);
    let mut paths = Vec::new();
    files(&dir, &mut paths).map_err(|e| Error::io(&dir, e))?;
    paths.sort();
    let mut batches = Vec::new();
    for path in paths {
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?
            .build()?;
        for batch in reader {
            batches.push(batch?);
        }
    }
    Ok(batches)
}
