//! The rows acknowledged by the collector but not yet in Parquet.
//!
//! Read-only and lock-free: the collector may be appending to the newest
//! segment (its torn tail is ignored) or flushing and deleting older ones (a
//! segment gone between listing and reading is skipped, its Parquet files
//! are there). Rows whose Parquet file already exists (its own, or a
//! compacted file that merged it) are left out, so no row is seen twice
//! through the two paths.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::SchemaRef;
use causet_schema::tables::INGESTED_TABLES;
use causet_schema::{WalError, partition, wal};

use crate::error::Result;

/// Unflushed rows per ingested table (in [`INGESTED_TABLES`] order), with
/// their `date` and `hour` partition values appended: rows of `schemas`,
/// the tables as SQL sees them.
pub fn read(data_dir: &Path, schemas: &[SchemaRef; 3]) -> Result<[Vec<RecordBatch>; 3]> {
    let mut out: [Vec<RecordBatch>; 3] = Default::default();
    for (seq, path) in wal::list_segments(&data_dir.join(wal::WAL_DIR))? {
        let segment = match wal::read_segment(&path) {
            Ok(segment) => segment,
            Err(WalError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                continue;
            }
            Err(WalError::BadHeader { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        // Whether (table, hour) of this segment is already in Parquet.
        let mut flushed: std::collections::HashMap<(usize, i64), bool> = Default::default();
        for record in &segment.records {
            let hours = partition::record_hours(record);
            for ((table, batch), hours) in record.batches.iter().zip(hours) {
                let t = usize::from(*table);
                let name = INGESTED_TABLES[t];
                let keep: Vec<u32> = (0..batch.num_rows() as u32)
                    .filter(|&i| {
                        let hour = hours[i as usize];
                        !*flushed
                            .entry((t, hour))
                            .or_insert_with(|| partition::flushed(data_dir, name, hour, seq))
                    })
                    .collect();
                if keep.is_empty() {
                    continue;
                }
                let rows = take_record_batch(batch, &UInt32Array::from(keep.clone()))?;
                let (dates, hh): (Vec<String>, Vec<String>) = keep
                    .iter()
                    .map(|&i| partition::values(hours[i as usize]))
                    .unzip();
                let mut columns: Vec<ArrayRef> = rows.columns().to_vec();
                columns.push(Arc::new(StringArray::from(dates)));
                columns.push(Arc::new(StringArray::from(hh)));
                out[t].push(RecordBatch::try_new(Arc::clone(&schemas[t]), columns)?);
            }
        }
    }
    Ok(out)
}
