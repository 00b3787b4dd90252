//! `concurrent_writes(key)`: the pairs of writes to one key that neither
//! write's vector clock orders.
//!
//! The question a self-join answers (`spans` joined with itself on the key,
//! `vc_compare(a.vc, b.vc) = 'concurrent'`), asked the way it is cheap: the
//! key's writes are read once (a filtered scan of `spans`, copies dropped),
//! their clocks laid out in one array of (node, counter) entries sorted by
//! node, and every pair compared by a merge of two short arrays, with no row
//! per candidate pair materialised in between. A hot key's tens of thousands
//! of writes are hundreds of millions of pairs: the join spends most of its
//! time building those rows, this spends a few nanoseconds on each.
//!
//! Like the self-join, it reads the writes' own clocks only (a write without
//! a vector clock is not compared), not the happens-before graph: the
//! `concurrent_write` finding is the graph's verdict, this is the clocks'.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampNanosecondType, UInt64Type};
use async_trait::async_trait;
use causet_schema::tables::{self, SPANS, col, timestamp_type};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType, col as column, lit};
use datafusion::physical_plan::ExecutionPlan;
use hashbrown::HashMap;

use crate::derived::{GraphCache, rows_scan};
use crate::scan::{Copies, source_context};

/// `concurrent_writes(key)`.
#[derive(Debug)]
pub struct ConcurrentWrites {
    cache: Arc<GraphCache>,
}

impl ConcurrentWrites {
    /// The function over `cache`'s snapshot.
    pub fn new(cache: Arc<GraphCache>) -> Self {
        ConcurrentWrites { cache }
    }
}

impl TableFunctionImpl for ConcurrentWrites {
    fn call_with_args(&self, args: TableFunctionArgs<'_, '_>) -> Result<Arc<dyn TableProvider>> {
        let key = match args.exprs() {
            [Expr::Literal(value, _)] => match value.try_as_str() {
                Some(Some(key)) => key.to_owned(),
                _ => return Err(usage()),
            },
            _ => return Err(usage()),
        };
        Ok(Arc::new(Pairs {
            cache: Arc::clone(&self.cache),
            key,
        }))
    }
}

fn usage() -> DataFusionError {
    DataFusionError::Plan("concurrent_writes takes one key, a string literal".into())
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        utf8("key"),
        utf8("a_trace_id"),
        utf8("a_span_id"),
        Field::new("a_start_time", timestamp_type(), false),
        utf8("b_trace_id"),
        utf8("b_span_id"),
        Field::new("b_start_time", timestamp_type(), false),
    ]))
});

/// The pairs of one key: a (the write that started first) and b.
#[derive(Debug)]
struct Pairs {
    cache: Arc<GraphCache>,
    key: String,
}

#[async_trait]
impl TableProvider for Pairs {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let writes = Writes::read(&self.cache, &self.key).await?;
        // Every pair is compared: CPU work, off the async runtime's threads.
        let key = self.key.clone();
        let batch = tokio::task::spawn_blocking(move || writes.concurrent_pairs(&key))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))??;
        rows_scan(batch, state, projection, filters, limit).await
    }
}

/// A write: (trace id, span id, start time).
type WriteId = (String, String, i64);

/// One key's writes that carry a vector clock, in start-time order.
#[derive(Debug, Default)]
struct Writes {
    /// Per write.
    ids: Vec<WriteId>,
    /// Write i's clock is `entries[offsets[i]..offsets[i + 1]]`:
    /// (node number, counter), by node number, counters above 0.
    offsets: Vec<usize>,
    entries: Vec<(u32, u64)>,
}

impl Writes {
    /// Reads the writes of `key` from the snapshot's `spans` (one row per
    /// span: the table's own deduplication).
    async fn read(cache: &GraphCache, key: &str) -> Result<Writes> {
        let ctx = source_context(
            &cache.sources(),
            cache.runtime(),
            cache.settings(),
            Copies::Dropped,
        )
        .map_err(crate::error::to_datafusion)?;
        let batches = ctx
            .table(SPANS)
            .await?
            .filter(
                column(col::WRITE_KEY)
                    .eq(lit(key))
                    .and(column(col::VC).is_not_null()),
            )?
            .select_columns(&[col::TRACE_ID, col::SPAN_ID, col::START_TIME, col::VC])?
            .collect()
            .await?;
        let mut rows: Vec<(WriteId, Vec<(u32, u64)>)> = Vec::new();
        let mut nodes: HashMap<String, u32> = HashMap::new();
        for batch in &batches {
            let (traces, spans) = (
                batch.column(0).as_string::<i32>(),
                batch.column(1).as_string::<i32>(),
            );
            let starts = batch.column(2).as_primitive::<TimestampNanosecondType>();
            let clocks = batch.column(3).as_map();
            let (names, counters) = (
                clocks.keys().as_string::<i32>(),
                clocks.values().as_primitive::<UInt64Type>(),
            );
            let offsets = clocks.value_offsets();
            for i in 0..batch.num_rows() {
                let mut clock: Vec<(u32, u64)> = (offsets[i] as usize..offsets[i + 1] as usize)
                    .filter(|&j| counters.is_valid(j) && counters.value(j) > 0)
                    .map(|j| {
                        let next = nodes.len() as u32;
                        (
                            *nodes.entry_ref(names.value(j)).or_insert(next),
                            counters.value(j),
                        )
                    })
                    .collect();
                clock.sort_unstable();
                // A node named twice keeps its highest counter.
                clock.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 = kept.1.max(later.1);
                    }
                    same
                });
                let id = (
                    traces.value(i).to_owned(),
                    spans.value(i).to_owned(),
                    starts.value(i),
                );
                rows.push((id, clock));
            }
        }
        rows.sort_unstable_by(|a, b| (a.0.2, &a.0.1, &a.0.0).cmp(&(b.0.2, &b.0.1, &b.0.0)));
        let mut writes = Writes {
            offsets: vec![0],
            ..Writes::default()
        };
        for (id, clock) in rows {
            writes.ids.push(id);
            writes.entries.extend_from_slice(&clock);
            writes.offsets.push(writes.entries.len());
        }
        tracing::debug!(
            key,
            writes = writes.ids.len(),
            entries = writes.entries.len(),
            nodes = nodes.len(),
            "concurrent_writes: the key's writes"
        );
        Ok(writes)
    }

    fn clock(&self, i: usize) -> &[(u32, u64)] {
        &self.entries[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Every pair neither clock orders, as rows of the function's schema.
    fn concurrent_pairs(&self, key: &str) -> Result<RecordBatch> {
        let began = std::time::Instant::now();
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for i in 0..self.ids.len() {
            let a = self.clock(i);
            for j in i + 1..self.ids.len() {
                if concurrent(a, self.clock(j)) {
                    pairs.push((i, j));
                }
            }
        }
        tracing::debug!(
            key,
            pairs = pairs.len(),
            seconds = began.elapsed().as_secs_f64(),
            "concurrent_writes: compared every pair"
        );
        let text = || StringBuilder::new();
        let time = || TimestampNanosecondBuilder::new().with_timezone(tables::UTC);
        let (mut keys, mut a_trace, mut a_span, mut b_trace, mut b_span) =
            (text(), text(), text(), text(), text());
        let (mut a_start, mut b_start) = (time(), time());
        for &(i, j) in &pairs {
            let (a, b) = (&self.ids[i], &self.ids[j]);
            keys.append_value(key);
            a_trace.append_value(&a.0);
            a_span.append_value(&a.1);
            a_start.append_value(a.2);
            b_trace.append_value(&b.0);
            b_span.append_value(&b.1);
            b_start.append_value(b.2);
        }
        Ok(RecordBatch::try_new(
            Arc::clone(&SCHEMA),
            vec![
                Arc::new(keys.finish()),
                Arc::new(a_trace.finish()),
                Arc::new(a_span.finish()),
                Arc::new(a_start.finish()),
                Arc::new(b_trace.finish()),
                Arc::new(b_span.finish()),
                Arc::new(b_start.finish()),
            ],
        )?)
    }
}

/// Whether neither clock is at most the other: each has a node whose
/// counter is above the other's (a missing entry counts as 0). Both are
/// sorted by node with counters above 0, so one merge decides it.
fn concurrent(a: &[(u32, u64)], b: &[(u32, u64)]) -> bool {
    let (mut a_ahead, mut b_ahead) = (false, false);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x.0 == y.0 {
            a_ahead |= x.1 > y.1;
            b_ahead |= y.1 > x.1;
            i += 1;
            j += 1;
        } else if x.0 < y.0 {
            a_ahead = true;
            i += 1;
        } else {
            b_ahead = true;
            j += 1;
        }
        if a_ahead && b_ahead {
            return true;
        }
    }
    (a_ahead || i < a.len()) && (b_ahead || j < b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_when_each_clock_is_ahead_somewhere() {
        assert!(concurrent(&[(0, 2)], &[(1, 1)]));
        assert!(concurrent(&[(0, 2), (1, 1)], &[(0, 1), (1, 2)]));
        assert!(!concurrent(&[(0, 1)], &[(0, 1), (1, 1)]));
        assert!(!concurrent(&[(0, 1), (1, 1)], &[(0, 1)]));
        assert!(!concurrent(&[(0, 1)], &[(0, 1)]));
        assert!(!concurrent(&[], &[(0, 1)]));
        assert!(concurrent(&[(0, 1), (2, 1)], &[(1, 1), (2, 1)]));
    }
}
