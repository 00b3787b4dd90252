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
use crate::derived::{Detected, GraphCache};
use crate::detect::offsets::NodeOffset;
use crate::detect::{self, Finding};
use crate::ingested;
use crate::scan::source_context;
use crate::settings::TimeRange;

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

/// How long the windows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSize {
    /// This many ns (rounded up to whole offset windows).
    Fixed(i64),
    /// As long as the memory limit allows: consecutive offset windows are
    /// packed into one analysis window while the spans it reads (horizons
    /// included) fit [`Settings::memory_limit`](crate::Settings) at
    /// [`BUDGET_BYTES_PER_SPAN`] each.
    Auto,
}

/// Bytes of memory budgeted per span read by an automatic window: the
/// graph and facts (about 460 bytes a span) and what building them holds
/// for a moment (the rows in scan order while they are sorted, the edge
/// set, the scan's buffers). A report's peak RSS measured about 900 bytes
/// per span read by its largest window (BENCHMARKS.md), so the default
/// 2 GiB limit gives windows of 1.8M spans and about 1.5 GiB of RSS.
pub const BUDGET_BYTES_PER_SPAN: usize = 1_200;

/// The findings and node offsets of the cache's range, window by window.
pub async fn detect(cache: &GraphCache, size: WindowSize) -> Result<(Detected, WindowStats)> {
    let settings = cache.settings();
    // Whole offset windows, so no offset estimate is split between two.
    let slot_ns = settings.detect.window_ns.max(1);
    let mut stats = WindowStats::default();
    let slots = span_counts(cache, settings.range, slot_ns).await?;
    let cuts = match size {
        WindowSize::Fixed(window_ns) => {
            let per = (window_ns.max(1).saturating_add(slot_ns - 1) / slot_ns).max(1);
            fixed_cuts(&slots, per)
        }
        WindowSize::Auto => {
            let horizon = (settings.horizon_ns.max(0).saturating_add(slot_ns - 1)) / slot_ns;
            let budget = (settings.memory_limit / BUDGET_BYTES_PER_SPAN).max(1) as u64;
            packed_cuts(&slots, horizon, budget)
        }
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut offsets: Vec<NodeOffset> = Vec::new();
    for (i, pair) in cuts.windows(2).enumerate() {
        let (at, end) = (
            pair[0].saturating_mul(slot_ns),
            pair[1].saturating_mul(slot_ns),
        );
        // The window's spans, within the asked range.
        let core = TimeRange {
            from_ns: Some(settings.range.from_ns.map_or(at, |f| f.max(at))),
            to_ns: Some(settings.range.to_ns.map_or(end, |t| t.min(end))),
        };
        // What it keeps: the first and last windows keep what lies beyond them.
        let keep = TimeRange {
            from_ns: (i > 0).then_some(at),
            to_ns: (i + 2 < cuts.len()).then_some(end),
        };
        let built = cache.analyse(core.widened(settings.horizon_ns)).await?;
        stats.windows += 1;
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
    }
    detect::sort(&mut findings);
    // Offsets stay as estimated: by window (windows come in time order),
    // then by node as each window's graph numbers them.
    Ok((Detected::new(findings, offsets)?, stats))
}

/// Window boundaries (in slots) every `per` slots, aligned to multiples of
/// it, covering the slots that hold spans.
fn fixed_cuts(slots: &[(i64, u64)], per: i64) -> Vec<i64> {
    let (Some(&(first, _)), Some(&(last, _))) = (slots.first(), slots.last()) else {
        return Vec::new();
    };
    let mut cuts = vec![first.div_euclid(per) * per];
    while *cuts.last().expect("one cut") <= last {
        let next = cuts.last().expect("one cut").saturating_add(per);
        cuts.push(next);
    }
    cuts
}

/// Window boundaries (in slots): each window takes the next slots while
/// the spans it reads (its slots and `horizon` slots on each side) stay
/// within `budget`, and at least one slot.
fn packed_cuts(slots: &[(i64, u64)], horizon: i64, budget: u64) -> Vec<i64> {
    if slots.is_empty() {
        return Vec::new();
    }
    // prefix[i]: spans in slots[..i].
    let mut prefix = vec![0u64; slots.len() + 1];
    for (i, &(_, n)) in slots.iter().enumerate() {
        prefix[i + 1] = prefix[i] + n;
    }
    let below = |slot: i64| slots.partition_point(|&(s, _)| s < slot);
    let read = |from: i64, to: i64| {
        prefix[below(to.saturating_add(horizon))] - prefix[below(from.saturating_sub(horizon))]
    };
    let mut cuts = vec![slots[0].0];
    let mut start = 0;
    while start < slots.len() {
        let from = slots[start].0;
        let mut end = start + 1;
        while end < slots.len() && read(from, slots[end].0 + 1) <= budget {
            end += 1;
        }
        cuts.push(slots.get(end).map_or(slots[end - 1].0 + 1, |&(s, _)| s));
        start = end;
    }
    cuts
}

/// Spans per slot (offset window) inside `range`, for the slots that have any.
async fn span_counts(
    cache: &GraphCache,
    range: TimeRange,
    slot_ns: i64,
) -> Result<Vec<(i64, u64)>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, Int64Type};
    use causet_schema::tables::{SPANS, col};
    use datafusion::functions_aggregate::expr_fn::count;
    use datafusion::logical_expr::{cast, col as column, lit};

    let ctx = source_context(&cache.sources(), cache.runtime())?;
    let mut frame = ctx.table(SPANS).await?;
    if let Some(filter) = ingested::start_time_filter(range) {
        frame = frame.filter(filter)?;
    }
    let slot = (cast(column(col::START_TIME), DataType::Int64) / lit(slot_ns)).alias("slot");
    let batches = frame
        .aggregate(vec![slot], vec![count(lit(1)).alias("spans")])?
        .collect()
        .await?;
    let mut slots = Vec::new();
    for batch in &batches {
        let (slot, spans) = (
            batch.column(0).as_primitive::<Int64Type>(),
            batch.column(1).as_primitive::<Int64Type>(),
        );
        for i in 0..batch.num_rows() {
            slots.push((slot.value(i), spans.value(i).max(0) as u64));
        }
    }
    slots.sort_unstable();
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_cover_every_slot() {
        let slots = [(61, 5), (62, 1), (130, 7)];
        assert_eq!(fixed_cuts(&slots, 60), vec![60, 120, 180]);
        assert_eq!(fixed_cuts(&[], 60), Vec::<i64>::new());
    }

    #[test]
    fn packed_windows_stay_within_the_budget_with_their_horizons() {
        // Ten slots of 100 spans; a horizon of one slot each side.
        let slots: Vec<(i64, u64)> = (0..10).map(|s| (s, 100)).collect();
        let cuts = packed_cuts(&slots, 1, 500);
        // [0,4) reads slots 0..=4 (500); then [4,7) reads 3..=7; ...
        assert_eq!(cuts, vec![0, 4, 7, 10]);
        // One slot over the budget still makes a window of its own.
        assert_eq!(packed_cuts(&[(5, 900)], 1, 100), vec![5, 6]);
        // Gaps are absorbed into the next window.
        assert_eq!(packed_cuts(&[(0, 10), (50, 10)], 1, 1000), vec![0, 51]);
    }
}
