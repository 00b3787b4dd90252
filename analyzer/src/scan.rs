//! The analysis's one scan: each ingested table read once, streamed batch
//! by batch into the graph's loader and the detectors' facts, copies
//! dropped by the loaders (see [`DedupTable::with_copies`]), limited to a
//! time range, its memory charged to the pool as it grows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use causet_engine::window::{Bounds, WindowInput, WindowLoader};
use causet_schema::tables::{SPAN_EVENTS, SPAN_LINKS, SPANS};
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::detect::{self, Facts};
use crate::error::Result;
use crate::graph::{Graph, Input};
use crate::ingested::{self, DedupTable};
use crate::settings::{Reach, Settings};

/// Whether a private session's tables drop the copies of a re-sent export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copies {
    /// Every row, copies included: for readers that keep one row per key
    /// themselves (the analysis's loaders) or count what arrived.
    Kept,
    /// One row per key, as SQL sees the tables.
    Dropped,
}

/// A private session over the snapshot's ingested tables, in `runtime`,
/// its scans run on `settings`' workers if there are any.
pub(crate) fn source_context(
    sources: &[Arc<DedupTable>],
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    copies: Copies,
) -> Result<SessionContext> {
    let ctx = crate::workers::context(SessionConfig::new(), runtime, settings)?;
    for table in sources {
        match copies {
            Copies::Kept => ctx.register_table(table.name(), table.with_copies())?,
            Copies::Dropped => ctx.register_table(table.name(), Arc::clone(table) as _)?,
        };
    }
    Ok(ctx)
}

/// Builds the graph and the detectors' facts from one streamed scan of each
/// ingested table: each batch is copied into the graph's compact rows and
/// the facts, then dropped, so the scan's Arrow batches are never all held
/// at once.
pub(crate) async fn load(
    sources: &[Arc<DedupTable>],
    reach: Reach,
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    memory: &MemoryReservation,
) -> Result<(Graph, Facts)> {
    let mut loader = WindowLoader::default();
    scan(sources, reach, runtime, settings, |table, batch| {
        loader.push(table, batch)?;
        memory.try_resize(loader.peak_bytes())?;
        Ok(())
    })
    .await?;
    let (graph, facts) = loader.finish();
    let memory = graph.memory();
    let spans = graph.spans.len().max(1);
    tracing::info!(
        spans = graph.spans.len(),
        events = graph.event_count(),
        edges = graph.edge_count(),
        graph_bytes_per_span = memory.total() / spans,
        facts_bytes_per_span = facts.heap_bytes() / spans,
        ?memory,
        "graph built"
    );
    Ok((graph, facts))
}

/// The rows of a window, as the engine's [`WindowInput`]: the same scan
/// as [`load`]'s, its batches kept (and charged to `memory`) instead of
/// copied into a graph, so the window can be analysed elsewhere.
pub(crate) async fn window_input(
    sources: &[Arc<DedupTable>],
    reach: Reach,
    bounds: Bounds,
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    memory: &MemoryReservation,
) -> Result<WindowInput> {
    let mut rows = Input::default();
    scan(sources, reach, runtime, settings, |table, batch| {
        memory.try_grow(batch.get_array_memory_size())?;
        match table {
            SPANS => rows.spans.push(batch.clone()),
            SPAN_EVENTS => rows.events.push(batch.clone()),
            _ => rows.links.push(batch.clone()),
        }
        Ok(())
    })
    .await?;
    Ok(WindowInput {
        bounds,
        config: settings.detect.clone(),
        rows,
    })
}

/// Hands `each` every batch of the three ingested tables that `reach`
/// reads, table by table (spans, span events, links), with the columns
/// the graph and `settings`' detectors need.
///
/// Spans are read by their start time and end time (see [`Reach`]; their
/// `date=`/`hour=` folders pruned by the same bounds), span events and
/// links from the folders of those hours; with [`Reach::trace`], one
/// trace's rows only. With workers there, the scans run on them.
async fn scan(
    sources: &[Arc<DedupTable>],
    reach: Reach,
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    mut each: impl FnMut(&str, &RecordBatch) -> Result<()>,
) -> Result<()> {
    use futures::TryStreamExt as _;
    let ctx = source_context(sources, runtime, settings, Copies::Kept)?;
    let span_columns: Vec<String> = Input::SPAN_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(detect::facts::span_columns(&settings.detect))
        .collect();
    let event_columns: Vec<String> = Input::EVENT_COLUMNS
        .iter()
        .chain(detect::facts::EVENT_COLUMNS)
        .map(|c| (*c).to_owned())
        .collect();
    let link_columns: Vec<String> = Input::LINK_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    for (table, columns) in [
        (SPANS, span_columns),
        (SPAN_EVENTS, event_columns),
        (SPAN_LINKS, link_columns),
    ] {
        let mut frame = ctx.table(table).await?;
        let filter = if table == SPANS {
            ingested::reach_filter(reach)
        } else {
            ingested::hours_filter(reach.outer())
        };
        if let Some(filter) = filter {
            frame = frame.filter(filter)?;
        }
        if let Some(trace) = reach.trace {
            use datafusion::logical_expr::{col, lit};
            let hex = crate::graph::trace_hex(trace);
            frame = frame.filter(col(causet_schema::tables::col::TRACE_ID).eq(lit(hex)))?;
        }
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        let mut stream = frame.select_exprs(&columns)?.execute_stream().await?;
        while let Some(batch) = stream.try_next().await? {
            each(table, &batch)?;
        }
    }
    Ok(())
}

/// Spans per slot (`slot_ns` of start time, as a number since the epoch)
/// and service inside `range`, by slot then service, for the slots that
/// have any: what windows are cut by and what ingest health reports. The
/// copies of a re-sent export are counted too.
pub(crate) async fn span_counts(
    sources: &[Arc<DedupTable>],
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    range: crate::settings::TimeRange,
    slot_ns: i64,
) -> Result<Vec<(i64, String, u64)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Int64Type};
    use causet_schema::tables::col;
    use datafusion::functions_aggregate::expr_fn::count;
    use datafusion::logical_expr::{cast, col as column, lit};

    let ctx = source_context(sources, runtime, settings, Copies::Kept)?;
    let mut frame = ctx.table(SPANS).await?;
    if let Some(filter) = ingested::start_time_filter(range) {
        frame = frame.filter(filter)?;
    }
    let slot = (cast(column(col::START_TIME), DataType::Int64) / lit(slot_ns)).alias("slot");
    let batches = frame
        .aggregate(
            vec![slot, column(col::SERVICE_NAME)],
            vec![count(lit(1)).alias("spans")],
        )?
        .collect()
        .await?;
    let mut rows = Vec::new();
    for batch in &batches {
        let slots = batch.column(0).as_primitive::<Int64Type>();
        let services = arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
        let services = services.as_string::<i32>();
        let spans = batch.column(2).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            let service = if services.is_null(i) {
                ""
            } else {
                services.value(i)
            };
            rows.push((
                slots.value(i),
                service.to_owned(),
                spans.value(i).max(0) as u64,
            ));
        }
    }
    rows.sort_unstable();
    Ok(rows)
}

/// The longest span in `range` (by start time), ns; 0 without spans.
pub(crate) async fn longest_span(
    sources: &[Arc<DedupTable>],
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
    range: crate::settings::TimeRange,
) -> Result<i64> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Int64Type};
    use causet_schema::tables::col;
    use datafusion::functions_aggregate::expr_fn::max;
    use datafusion::logical_expr::{cast, col as column};

    let ctx = source_context(sources, runtime, settings, Copies::Kept)?;
    let mut frame = ctx.table(SPANS).await?;
    if let Some(filter) = ingested::start_time_filter(range) {
        frame = frame.filter(filter)?;
    }
    let duration = cast(column(col::END_TIME), DataType::Int64)
        - cast(column(col::START_TIME), DataType::Int64);
    let batches = frame
        .aggregate(vec![], vec![max(duration).alias("longest")])?
        .collect()
        .await?;
    Ok(batches
        .iter()
        .filter(|b| b.num_rows() > 0 && !b.column(0).is_null(0))
        .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
        .max()
        .unwrap_or(0)
        .max(0))
}
