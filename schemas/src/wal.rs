//! The write-ahead log format: how the collector makes an export durable
//! before acknowledging it, and how the analyzer reads what is not yet in
//! Parquet.
//!
//! A segment is a file `DATA/wal/<20-digit sequence>.wal`: an 8-byte header,
//! then records. A record is one export's rows, all tables at once, so an
//! export is in the log entirely or not at all:
//!
//! ```text
//! record  := len: u32 LE | crc32: u32 LE | payload[len]
//! payload := ( table: u8 | n: u32 LE | Arrow IPC stream[n] )*
//! ```
//!
//! A crash can leave a torn last record (short, or failing its checksum);
//! readers stop at the first such frame and report how many bytes they
//! ignored. Writers truncate a segment back to its last whole record after a
//! failed write, so a bad frame is only ever at the tail.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{RecordBatch, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use causet_schema::wal;
//!
//! let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, false)]));
//! let batch = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["a"]))]).unwrap();
//! let mut segment = wal::SEGMENT_HEADER.to_vec();
//! segment.extend(wal::encode_record(&[(0, &batch)]).unwrap());
//! segment.extend(&[7, 0, 0]); // a torn write
//!
//! let read = wal::decode_segment(&segment).unwrap();
//! assert_eq!(read.records.len(), 1);
//! assert_eq!(read.records[0].batches[0].1.num_rows(), 1);
//! assert_eq!(read.torn_bytes, 3);
//! ```

use std::io::Cursor;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::WalError;

/// Folder under the data folder that holds segments.
pub const WAL_DIR: &str = "wal";
/// File extension of segments.
pub const SEGMENT_EXTENSION: &str = "wal";
/// First bytes of every segment: format name and version.
pub const SEGMENT_HEADER: &[u8; 8] = b"CSETWAL1";
/// Bytes of a record's frame before its payload.
pub const FRAME_HEADER_LEN: usize = 8;

/// One record: the batches of one export, tagged with their table's index in
/// [`crate::tables::INGESTED_TABLES`].
#[derive(Debug, Clone)]
pub struct WalRecord {
    /// `(table index, rows)`.
    pub batches: Vec<(u8, RecordBatch)>,
}

/// What a segment holds.
#[derive(Debug, Clone, Default)]
pub struct Segment {
    /// Whole records, in write order (after the ones skipped, with
    /// [`read_segment_from`]).
    pub records: Vec<WalRecord>,
    /// Bytes of header and whole records: where a writer may append.
    pub valid_len: u64,
    /// Bytes after the last whole record (a torn write), 0 normally.
    pub torn_bytes: u64,
}

/// Encodes one record, frame included, ready to append to a segment.
pub fn encode_record(batches: &[(u8, &RecordBatch)]) -> Result<Vec<u8>, WalError> {
    // The IPC stream is the rows' buffers plus a few KiB of schema and
    // batch headers: sized so that the record is not copied as it grows.
    let rows: usize = batches
        .iter()
        .flat_map(|(_, batch)| batch.columns())
        .map(|column| column.to_data().get_slice_memory_size().unwrap_or(0))
        .sum();
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + rows + batches.len() * (8 << 10));
    out.resize(FRAME_HEADER_LEN, 0);
    for (table, batch) in batches {
        out.push(*table);
        let len_at = out.len();
        out.extend_from_slice(&[0; 4]);
        {
            let mut writer = StreamWriter::try_new(&mut out, batch.schema_ref())?;
            writer.write(batch)?;
            writer.finish()?;
        }
        let n = u32::try_from(out.len() - len_at - 4).map_err(|_| too_large())?;
        out[len_at..len_at + 4].copy_from_slice(&n.to_le_bytes());
    }
    let payload_len = u32::try_from(out.len() - FRAME_HEADER_LEN).map_err(|_| too_large())?;
    let crc = crc32fast::hash(&out[FRAME_HEADER_LEN..]);
    out[0..4].copy_from_slice(&payload_len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn too_large() -> WalError {
    WalError::Arrow(arrow::error::ArrowError::InvalidArgumentError(
        "WAL record larger than 4 GiB".into(),
    ))
}

/// Decodes a whole segment held in memory. Stops at the first incomplete or
/// corrupt frame; everything after it counts as torn.
pub fn decode_segment(bytes: &[u8]) -> Result<Segment, WalError> {
    decode_segment_from(bytes, 0)
}

/// [`decode_segment`] without decoding the first `skip` records, which are
/// only checked and stepped over.
fn decode_segment_from(bytes: &[u8], skip: usize) -> Result<Segment, WalError> {
    if bytes.len() < SEGMENT_HEADER.len() || &bytes[..SEGMENT_HEADER.len()] != SEGMENT_HEADER {
        return Err(WalError::BadHeader {
            path: String::new(),
        });
    }
    let mut pos = SEGMENT_HEADER.len();
    let mut records = Vec::new();
    let mut skipped = 0;
    while let Some(payload) = frame(bytes, pos) {
        let next = pos + FRAME_HEADER_LEN + payload.len();
        if skipped < skip {
            skipped += 1;
        } else {
            let Some(record) = decode_payload(payload)? else {
                break;
            };
            records.push(record);
        }
        pos = next;
    }
    Ok(Segment {
        records,
        valid_len: pos as u64,
        torn_bytes: (bytes.len() - pos) as u64,
    })
}

/// The payload of the frame at `pos`, or `None` when the frame there is
/// incomplete or fails its checksum.
fn frame(bytes: &[u8], pos: usize) -> Option<&[u8]> {
    let header = bytes.get(pos..pos + FRAME_HEADER_LEN)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let start = pos + FRAME_HEADER_LEN;
    let payload = bytes.get(start..start + len)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

/// The record a checked frame holds, or `None` when its tables' streams
/// do not add up to it.
fn decode_payload(payload: &[u8]) -> Result<Option<WalRecord>, WalError> {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let Some(head) = payload.get(at..at + 5) else {
            return Ok(None);
        };
        let table = head[0];
        if usize::from(table) >= crate::tables::INGESTED_TABLES.len() {
            return Err(WalError::UnknownTable(table));
        }
        let n = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let Some(stream) = payload.get(at + 5..at + 5 + n) else {
            return Ok(None);
        };
        for batch in StreamReader::try_new(Cursor::new(stream), None)? {
            batches.push((table, batch?));
        }
        at += 5 + n;
    }
    Ok(Some(WalRecord { batches }))
}

/// Reads a segment file (see [`decode_segment`]).
pub fn read_segment(path: &Path) -> Result<Segment, WalError> {
    read_segment_from(path, 0)
}

/// Reads a segment file without decoding its first `skip` records: what a
/// reader that already holds those rows needs.
pub fn read_segment_from(path: &Path, skip: usize) -> Result<Segment, WalError> {
    let bytes = std::fs::read(path).map_err(|source| WalError::Io {
        path: path.display().to_string(),
        source,
    })?;
    decode_segment_from(&bytes, skip).map_err(|e| match e {
        WalError::BadHeader { .. } => WalError::BadHeader {
            path: path.display().to_string(),
        },
        other => other,
    })
}

/// Path of segment number `seq` in `wal_dir`.
pub fn segment_path(wal_dir: &Path, seq: u64) -> PathBuf {
    wal_dir.join(format!("{seq:020}.{SEGMENT_EXTENSION}"))
}

/// Segments in `wal_dir`, oldest first, as `(sequence, path)`. A missing
/// folder has none; files that are not segments are ignored.
pub fn list_segments(wal_dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let entries = match std::fs::read_dir(wal_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(WalError::Io {
                path: wal_dir.display().to_string(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| WalError::Io {
                path: wal_dir.display().to_string(),
                source,
            })?
            .path();
        let seq = path
            .extension()
            .filter(|ext| *ext == SEGMENT_EXTENSION)
            .and_then(|_| path.file_stem()?.to_str()?.parse::<u64>().ok());
        if let Some(seq) = seq {
            out.push((seq, path));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    fn segment(records: &[&[(u8, &RecordBatch)]]) -> Vec<u8> {
        let mut out = SEGMENT_HEADER.to_vec();
        for r in records {
            out.extend(encode_record(r).unwrap());
        }
        out
    }

    #[test]
    fn records_round_trip_with_every_table() {
        let (a, b, c) = (batch(&[1, 2]), batch(&[3]), batch(&[]));
        let bytes = segment(&[&[(0, &a), (1, &b), (2, &c)], &[(0, &b)]]);
        let seg = decode_segment(&bytes).unwrap();
        assert_eq!(seg.records.len(), 2);
        assert_eq!(seg.records[0].batches.len(), 3);
        assert_eq!(seg.records[0].batches[0].1, a);
        assert_eq!(seg.records[0].batches[1], (1, b.clone()));
        assert_eq!(seg.records[1].batches, vec![(0, b)]);
        assert_eq!(seg.valid_len, bytes.len() as u64);
        assert_eq!(seg.torn_bytes, 0);
    }

    #[test]
    fn skipped_records_are_stepped_over() {
        let (a, b, c) = (batch(&[1]), batch(&[2, 3]), batch(&[4]));
        let mut bytes = segment(&[&[(0, &a)], &[(0, &b), (1, &a)], &[(0, &c)]]);
        bytes.extend_from_slice(&[7; 5]);
        let whole = decode_segment(&bytes).unwrap();
        for skip in 0..=4 {
            let seg = decode_segment_from(&bytes, skip).unwrap();
            let rest: Vec<_> = whole
                .records
                .iter()
                .skip(skip)
                .map(|r| &r.batches)
                .collect();
            assert_eq!(
                seg.records.iter().map(|r| &r.batches).collect::<Vec<_>>(),
                rest
            );
            assert_eq!((seg.valid_len, seg.torn_bytes), (whole.valid_len, 5));
        }
    }

    #[test]
    fn every_truncation_keeps_exactly_the_whole_records() {
        let (a, b) = (batch(&[1, 2, 3]), batch(&[4]));
        let bytes = segment(&[&[(0, &a)], &[(0, &b)]]);
        let first_end = SEGMENT_HEADER.len() + encode_record(&[(0, &a)]).unwrap().len();
        for cut in SEGMENT_HEADER.len()..bytes.len() {
            let seg = decode_segment(&bytes[..cut]).unwrap();
            let whole = if cut >= first_end { 1 } else { 0 };
            assert_eq!(seg.records.len(), whole, "cut at {cut}");
            assert_eq!(seg.valid_len + seg.torn_bytes, cut as u64);
        }
    }

    #[test]
    fn a_flipped_bit_ends_the_readable_part() {
        let (a, b) = (batch(&[1]), batch(&[2]));
        let mut bytes = segment(&[&[(0, &a)], &[(0, &b)]]);
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        let seg = decode_segment(&bytes).unwrap();
        assert_eq!(seg.records.len(), 1);
        assert!(seg.torn_bytes > 0);
    }

    #[test]
    fn foreign_files_are_refused_and_not_listed() {
        assert!(matches!(
            decode_segment(b"PAR1...."),
            Err(WalError::BadHeader { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(segment_path(dir.path(), 12), SEGMENT_HEADER).unwrap();
        std::fs::write(segment_path(dir.path(), 3), SEGMENT_HEADER).unwrap();
        let listed: Vec<u64> = list_segments(dir.path())
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(listed, [3, 12]);
        assert!(
            list_segments(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }
}
