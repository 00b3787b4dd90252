//! The WAL writer thread: appends records, group-commits them with one
//! fsync, seals segments by size and age.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use causet_schema::wal;
use tokio::sync::oneshot;

use std::sync::Arc;

use super::flush::{Backlog, Job};
use super::sync_dir;

use crate::convert::Converted;
use crate::error::{Error, Result};

/// Most bytes committed by one fsync; later records wait for the next.
const MAX_GROUP_BYTES: usize = 64 << 20;

/// What the writer is asked to do.
pub(crate) enum WalMsg {
    /// Append `record` (the encoding of `rows`) and answer `ack` once it is
    /// durable (or not); then hand `rows` to the flusher.
    Append {
        record: Vec<u8>,
        rows: Converted,
        ack: oneshot::Sender<Result<()>>,
    },
    /// Seal the open segment; answer `done` once it is in Parquet.
    Seal { done: oneshot::Sender<()> },
}

/// An append waiting for its group's fsync.
struct Pending {
    record: Vec<u8>,
    rows: Converted,
    ack: oneshot::Sender<Result<()>>,
}

struct OpenSegment {
    seq: u64,
    path: PathBuf,
    file: File,
    len: u64,
    opened: Instant,
}

pub(crate) struct Writer {
    wal_dir: PathBuf,
    next_seq: u64,
    flush_interval: Duration,
    segment_bytes: u64,
    flush_tx: mpsc::Sender<Job>,
    backlog: Arc<Backlog>,
    /// The segment whose rows stopped being handed over (backlog full).
    spilled: Option<u64>,
    open: Option<OpenSegment>,
}

impl Writer {
    pub fn new(
        wal_dir: PathBuf,
        next_seq: u64,
        flush_interval: Duration,
        segment_bytes: u64,
        flush_tx: mpsc::Sender<Job>,
        backlog: Arc<Backlog>,
    ) -> Self {
        Writer {
            wal_dir,
            next_seq,
            flush_interval,
            segment_bytes,
            flush_tx,
            backlog,
            spilled: None,
            open: None,
        }
    }

    pub fn run(mut self, rx: mpsc::Receiver<WalMsg>) {
        loop {
            let wait = match &self.open {
                Some(seg) => self.flush_interval.saturating_sub(seg.opened.elapsed()),
                None => Duration::from_secs(3600),
            };
            let first = match rx.recv_timeout(wait) {
                Ok(msg) => msg,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.seal(None);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            // Take everything already queued, up to a seal, as one group.
            let mut group = Vec::new();
            let mut group_bytes = 0;
            let mut seal = None;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    WalMsg::Append { record, rows, ack } => {
                        group_bytes += record.len();
                        group.push(Pending { record, rows, ack });
                    }
                    WalMsg::Seal { done } => {
                        seal = Some(done);
                        break;
                    }
                }
                if group_bytes < MAX_GROUP_BYTES {
                    next = rx.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            let too_big = self
                .open
                .as_ref()
                .is_some_and(|s| s.len >= self.segment_bytes);
            if seal.is_some() || too_big {
                self.seal(seal);
            }
        }
        self.seal(None);
    }

    /// Writes the group and fsyncs once; acknowledges every record with the
    /// outcome, and hands the rows of a durable group to the flusher.
    fn commit(&mut self, group: Vec<Pending>) {
        let outcome = self.write_group(group.iter().map(|p| p.record.as_slice()));
        // Read before anything can seal: the segment the group went to.
        let seq = self.open.as_ref().map(|seg| seg.seq);
        let records = group.len();
        match &outcome {
            Ok(()) => tracing::debug!(records, "WAL group committed"),
            Err(e) => {
                tracing::error!(records, error = %e, "WAL write failed; exports not acknowledged")
            }
        }
        for Pending { rows, ack, .. } in group {
            let reply = match (&outcome, seq) {
                (Ok(()), Some(seq)) => {
                    self.hand_over(seq, rows);
                    Ok(())
                }
                (Ok(()), None) => Ok(()),
                (Err(e), _) => Err(Error::Io {
                    path: self.wal_dir.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                }),
            };
            // The exporter may have gone away; its record is durable anyway.
            let _ = ack.send(reply);
        }
    }

    /// Gives durable rows of segment `seq` to the flusher, unless its
    /// backlog is full: then the rest of the segment is read from disk.
    fn hand_over(&mut self, seq: u64, rows: Converted) {
        if self.spilled == Some(seq) {
            return;
        }
        let bytes = rows
            .tables()
            .iter()
            .map(|(_, batch)| batch.get_array_memory_size())
            .sum();
        // A flusher that is gone leaves the segment for recovery.
        if self.backlog.try_add(bytes) {
            let _ = self.flush_tx.send(Job::Rows { seq, rows, bytes });
        } else {
            tracing::debug!(
                segment = seq,
                "flusher behind; the rest of the segment will be read back from disk"
            );
            self.spilled = Some(seq);
            let _ = self.flush_tx.send(Job::Spill { seq });
        }
    }

    fn write_group<'r>(&mut self, records: impl Iterator<Item = &'r [u8]>) -> Result<()> {
        let seg = self.open_segment()?;
        let before = seg.len;
        let written = (|| {
            for record in records {
                seg.file.write_all(record)?;
                seg.len += record.len() as u64;
            }
            seg.file.sync_data()
        })();
        if let Err(e) = written {
            // Cut the segment back to its last whole record, so later records
            // are not stranded behind a partial one; if even that fails, start
            // a new segment and let the reader's checksum stop at the tear.
            let cut = seg.file.set_len(before).and_then(|()| seg.file.sync_data());
            seg.len = before;
            if cut.is_err() {
                self.seal(None);
            }
            return Err(Error::io(&self.wal_dir, e));
        }
        Ok(())
    }

    fn open_segment(&mut self) -> Result<&mut OpenSegment> {
        if self.open.is_none() {
            let seq = self.next_seq;
            super::write_high_water(&self.wal_dir, seq)?;
            let path = wal::segment_path(&self.wal_dir, seq);
            let mut file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            let header = file
                .write_all(wal::SEGMENT_HEADER)
                .and_then(|()| file.sync_all());
            if let Err(e) = header
                .map_err(|e| Error::io(&path, e))
                .and_then(|()| sync_dir(&self.wal_dir))
            {
                // Nothing acknowledged lives here; don't leave a headless file.
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            self.next_seq += 1;
            tracing::debug!(segment = seq, "opened WAL segment");
            self.open = Some(OpenSegment {
                seq,
                path,
                file,
                len: wal::SEGMENT_HEADER.len() as u64,
                opened: Instant::now(),
            });
        }
        Ok(self.open.as_mut().expect("opened above"))
    }

    /// Hands the open segment (if any) to the flusher. `done` is answered
    /// once it is flushed, or at once when there was nothing to flush.
    fn seal(&mut self, done: Option<oneshot::Sender<()>>) {
        // With nothing open the job is only a marker queued behind earlier
        // segments, so `done` still means "everything before is flushed".
        let segment = self.open.take().map(|seg| (seg.seq, seg.path));
        if let Some((seq, _)) = &segment {
            tracing::debug!(segment = seq, "sealed WAL segment");
        } else if done.is_none() {
            return;
        }
        if self.flush_tx.send(Job::Seal { segment, done }).is_err() {
            // The flusher is gone; the segment stays for the next start.
            tracing::error!("flusher stopped; sealed segment left for recovery");
        }
    }
}
