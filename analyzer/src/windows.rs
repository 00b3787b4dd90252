//! The analysis in time windows, so that its memory is set by the window,
//! not by the data.
//!
//! The time line is cut into windows of `window` (rounded up to whole
//! offset windows, and aligned to multiples of it since the epoch, so two
//! runs over overlapping ranges cut at the same instants). Each window is analysed on its own: the spans that start in
//! it plus a horizon on both sides are read, the graph and the facts are
//! built, the detectors run, and the window keeps the findings *anchored*
//! in it (the finding's time: the earliest event it is about, or the
//! offset window it aggregates), then drops the graph before the next one.
//! The first window also keeps what lies before it and the last what lies
//! after, so every finding is anchored in exactly one window: a finding
//! whose events straddle a boundary, such as a concurrent-write pair with
//! one write on each side, is found by both windows (each reads the other
//! side's horizon) and reported by one.
//!
//! What this cannot see: a relation between events further apart than the
//! horizon (a retry chain, a pair of conflicting writes or an RPC longer
//! than it) is judged with the part inside the window's reach only. The
//! default horizon, 5 minutes, is longer than the RPC timeouts and retry
//! chains the detectors follow; node offsets are estimated per offset
//! window (1 minute) and so never need more.

use crate::Result;
use crate::derived::{Detected, GraphCache, source_context};
use crate::detect::offsets::NodeOffset;
use crate::detect::{self, Finding};
use crate::ingested;
use crate::settings::TimeRange;

/// Default window: 1 hour (see BENCHMARKS.md for how it was chosen).
pub const DEFAULT_WINDOW_NS: i64 = 3_600_000_000_000;

/// What a windowed analysis did, for a person sizing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowStats {
    /// Windows analysed (those with spans).
    pub windows: usize,
    /// Spans read, horizons included (a span in a horizon is read twice).
    pub spans_read: usize,
    /// The largest graph and facts of one window, in bytes.
    pub peak_bytes: usize,
    /// The spans of that window.
    pub peak_spans: usize,
}

impl WindowStats {
    /// Analysis memory (graph and facts) per span, in the largest window.
    pub fn bytes_per_span(&self) -> usize {
        self.peak_bytes / self.peak_spans.max(1)
    }
}

/// The findings and node offsets of the cache's range, window by window.
pub async fn detect(cache: &GraphCache, window_ns: i64) -> Result<(Detected, WindowStats)> {
    let settings = cache.settings();
    // Whole offset windows, so no offset estimate is split between two.
    let offset_window = settings.detect.window_ns.max(1);
    let whole = window_ns.max(1).saturating_add(offset_window - 1) / offset_window;
    let window_ns = whole.saturating_mul(offset_window);
    let mut stats = WindowStats::default();
    let Some((first, last)) = start_bounds(cache, settings.range).await? else {
        return Ok((Detected::new(Vec::new(), Vec::new())?, stats));
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut offsets: Vec<NodeOffset> = Vec::new();
    let mut at = first.div_euclid(window_ns) * window_ns;
    while at <= last {
        let end = at.saturating_add(window_ns);
        // The window's spans, within the asked range.
        let core = TimeRange {
            from_ns: Some(settings.range.from_ns.map_or(at, |f| f.max(at))),
            to_ns: Some(settings.range.to_ns.map_or(end, |t| t.min(end))),
        };
        // What it keeps: the first and last windows keep what lies beyond them.
        let keep = TimeRange {
            from_ns: (at > first.div_euclid(window_ns) * window_ns).then_some(at),
            to_ns: (end <= last).then_some(end),
        };
        let built = cache.analyse(core.widened(settings.horizon_ns)).await?;
        stats.windows += usize::from(!built.graph.spans.is_empty());
        stats.spans_read += built.graph.spans.len();
        let bytes = built.graph.memory().total() + built.facts.heap_bytes();
        if bytes > stats.peak_bytes {
            (stats.peak_bytes, stats.peak_spans) = (bytes, built.graph.spans.len());
        }
        let (found, estimated) = detect::run_all(&built.graph, &built.facts, &settings.detect);
        findings.extend(found.into_iter().filter(|f| keep.contains(f.time)));
        offsets.extend(
            estimated
                .into_iter()
                .filter(|o| keep.contains(o.window_start)),
        );
        drop(built);
        at = end;
    }
    detect::sort(&mut findings);
    // Offsets stay as estimated: by window (windows come in time order),
    // then by node as each window's graph numbers them.
    Ok((Detected::new(findings, offsets)?, stats))
}

/// The first and last span start inside `range`, if any span is.
async fn start_bounds(cache: &GraphCache, range: TimeRange) -> Result<Option<(i64, i64)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::TimestampNanosecondType;
    use causet_schema::tables::{SPANS, col};
    use datafusion::functions_aggregate::expr_fn::{max, min};
    use datafusion::logical_expr::col as column;

    let ctx = source_context(&cache.sources(), cache.runtime())?;
    let mut frame = ctx.table(SPANS).await?;
    if let Some(filter) = ingested::start_time_filter(range) {
        frame = frame.filter(filter)?;
    }
    let batches = frame
        .aggregate(
            vec![],
            vec![min(column(col::START_TIME)), max(column(col::START_TIME))],
        )?
        .collect()
        .await?;
    let Some(batch) = batches.first().filter(|b| b.num_rows() == 1) else {
        return Ok(None);
    };
    let (lo, hi) = (
        batch.column(0).as_primitive::<TimestampNanosecondType>(),
        batch.column(1).as_primitive::<TimestampNanosecondType>(),
    );
    Ok((lo.is_valid(0) && hi.is_valid(0)).then(|| (lo.value(0), hi.value(0))))
}
