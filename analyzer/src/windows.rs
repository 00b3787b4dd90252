//! The analysis in time windows, so that its memory is set by the window,
//! not by the data.
//!
//! The time line is cut into windows of `window` (rounded up to whole
//! offset windows, and aligned to multiples of it since the epoch, so two
//! runs over overlapping ranges cut at the same instants). Each window is
//! analysed on its own: the spans that start in it are read with its
//! *horizon* after it (5 minutes) and its *lead* before it (one offset
//! window, 1 minute), the graph and the facts are built, the detectors
//! run, and the window keeps the findings *anchored* in it, then drops the
//! graph before the next one. A finding's anchor is the earliest of the
//! events it is about (for a finding without events, such as an offset
//! estimate's, its time). The first window also keeps what lies before it
//! and the last what lies after, so every finding is anchored in exactly
//! one window.
//!
//! Why the horizon comes after and only a lead before: every event a
//! finding is about is at or after its anchor, so the window holding the
//! anchor, reading a horizon past its end, sees every finding whose events
//! lie within a horizon of each other: the later write of a concurrent
//! pair, a retry chain's later attempts and its server executions, a
//! message's receive. Reading a horizon before the window as well would
//! only repeat work its predecessor did (it read 2.4x the data at 10M
//! spans instead of 1.5x). The lead is context for the window's first
//! events: a node's previous tick, the sends of receives that a skewed
//! clock put just inside the window.
//!
//! Spans that started before the lead and were still running at its start
//! are read too (with the horizon as the bound: a parent that began
//! minutes ago and replies inside the window, a long server span), so the
//! window sees their ends.
//!
//! What crosses a boundary is carried, not re-read: the spans of the retry
//! chains already reported. A chain that began before a window's lead and
//! goes on in it is seen there in part; a finding the window makes about
//! any of those spans is the same chain, already reported, and is dropped.
//!
//! What this cannot see: a relation between events further apart than the
//! horizon (a retry chain, a pair of conflicting writes or an RPC longer
//! than it) is judged with the part inside the window's reach only. The
//! default horizon, 5 minutes, is longer than the RPC timeouts and retry
//! chains the detectors follow; node offsets are estimated per offset
//! window (1 minute) and so never need more. Findings that aggregate a
//! window's occurrences (clock findings: the worst instance per node) are
//! counted over what the window read.

use std::sync::Arc;

use causet_engine::window::{self, Bounds, Merge};

use crate::Result;
use crate::derived::{Detected, GraphCache};
pub use crate::settings::WindowSize;
use crate::settings::{Reach, TimeRange};

/// What a windowed analysis did, for a person sizing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowStats {
    /// Windows analysed (those with spans).
    pub windows: usize,
    /// Spans read, leads and horizons included (a span in one is read twice).
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

/// Bytes of memory budgeted per span read by an automatic window: the
/// graph and facts (about 190 bytes a span) and what building them holds
/// for a moment (the rows' clocks in scan order while the spans are sorted,
/// the edges before their sort, the scan's buffers). A report's peak RSS
/// measured about 430 bytes per span read by its largest window
/// (BENCHMARKS.md), so the default 2 GiB limit gives windows of 2.7M spans
/// and about 1.1 GiB of RSS, with room for data whose spans carry more.
pub const BUDGET_BYTES_PER_SPAN: usize = 800;

/// One window of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// What it reads: its own spans, the lead before them, the horizon
    /// after, and the spans still running at the lead's start.
    pub reach: Reach,
    /// What it keeps: the findings anchored in it and the rows of the
    /// events in it (`bounds.keep`; the first window also keeps what lies
    /// before it and the last what lies after, so every instant is kept by
    /// one window), its end, and where what it read ends.
    pub bounds: Bounds,
}

/// The windows of the cache's range, in time order: cut every `size`, or
/// as long as the memory limit allows.
pub async fn plan(cache: &GraphCache, size: WindowSize) -> Result<Vec<Window>> {
    let settings = cache.settings();
    // Whole offset windows, so no offset estimate is split between two.
    let slot_ns = settings.detect.window_ns.max(1);
    let slots = span_counts(cache, settings.range, slot_ns).await?;
    let lead = settings.lead_ns();
    let cuts = match size {
        WindowSize::Fixed(window_ns) => {
            let per = (window_ns.max(1).saturating_add(slot_ns - 1) / slot_ns).max(1);
            fixed_cuts(&slots, per)
        }
        WindowSize::Auto => {
            let slots_of = |ns: i64| (ns.max(0).saturating_add(slot_ns - 1)) / slot_ns;
            let reach = (slots_of(lead), slots_of(settings.horizon_ns));
            let budget = (settings.memory_limit / BUDGET_BYTES_PER_SPAN).max(1) as u64;
            packed_cuts(&slots, reach, budget)
        }
    };
    let last = cuts.len().saturating_sub(2);
    Ok(cuts
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let (at, end) = (
                pair[0].saturating_mul(slot_ns),
                pair[1].saturating_mul(slot_ns),
            );
            // The window's spans, within the asked range.
            let core = TimeRange {
                from_ns: Some(settings.range.from_ns.map_or(at, |f| f.max(at))),
                to_ns: Some(settings.range.to_ns.map_or(end, |t| t.min(end))),
            };
            Window {
                reach: Reach {
                    starts: core.extended(lead, settings.horizon_ns),
                    running_since: core.from_ns.map(|f| f.saturating_sub(settings.horizon_ns)),
                    trace: None,
                },
                bounds: Bounds {
                    keep: TimeRange {
                        from_ns: (i > 0).then_some(at),
                        to_ns: (i < last).then_some(end),
                    },
                    end,
                    read_until: (i < last).then(|| end.saturating_add(settings.horizon_ns)),
                },
            }
        })
        .collect())
}

/// The findings and node offsets of the cache's range, window by window:
/// each window's graph is built from a scan, analysed by the engine
/// ([`causet_engine::window::analyse`]) and dropped before the next.
pub async fn detect(cache: &GraphCache, size: WindowSize) -> Result<(Detected, WindowStats)> {
    let settings = cache.settings();
    let mut stats = WindowStats::default();
    let mut merge = Merge::new(settings.horizon_ns);
    let windows: Arc<[Window]> = if size == settings.window {
        cache.windows().await?
    } else {
        Arc::from(plan(cache, size).await?)
    };
    for window in windows.iter() {
        let built = cache.analyse(window.reach).await?;
        let found = window::analyse(&built.graph, &built.facts, &window.bounds, &settings.detect);
        drop(built);
        stats.windows += 1;
        stats.spans_read += found.spans;
        if found.bytes > stats.peak_bytes {
            (stats.peak_bytes, stats.peak_spans) = (found.bytes, found.spans);
        }
        merge.push(&window.bounds, found);
    }
    let (findings, estimates) = merge.finish();
    Ok((Detected::new(findings, estimates), stats))
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
/// the spans it reads (its slots, `reach.0` slots before them and
/// `reach.1` after) stay within `budget`, and at least one slot.
fn packed_cuts(slots: &[(i64, u64)], reach: (i64, i64), budget: u64) -> Vec<i64> {
    if slots.is_empty() {
        return Vec::new();
    }
    let (before, after) = reach;
    // prefix[i]: spans in slots[..i].
    let mut prefix = vec![0u64; slots.len() + 1];
    for (i, &(_, n)) in slots.iter().enumerate() {
        prefix[i + 1] = prefix[i] + n;
    }
    let below = |slot: i64| slots.partition_point(|&(s, _)| s < slot);
    let read = |from: i64, to: i64| {
        prefix[below(to.saturating_add(after))] - prefix[below(from.saturating_sub(before))]
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
    let rows = cache.span_counts(range, slot_ns).await?;
    // By slot, then service: each slot's services are one run.
    Ok(rows
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| (run[0].0, run.iter().map(|r| r.2).sum()))
        .collect())
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
        // Ten slots of 100 spans; a lead and a horizon of one slot.
        let slots: Vec<(i64, u64)> = (0..10).map(|s| (s, 100)).collect();
        let cuts = packed_cuts(&slots, (1, 1), 500);
        // [0,4) reads slots 0..=4 (500); then [4,7) reads 3..=7; ...
        assert_eq!(cuts, vec![0, 4, 7, 10]);
        // No lead, a horizon of two: [0,3) reads 0..=4; [3,6) reads 3..=7;
        // [6,10) reads 6..=9.
        assert_eq!(packed_cuts(&slots, (0, 2), 500), vec![0, 3, 6, 10]);
        // One slot over the budget still makes a window of its own.
        assert_eq!(packed_cuts(&[(5, 900)], (1, 1), 100), vec![5, 6]);
        // Gaps are absorbed into the next window.
        assert_eq!(packed_cuts(&[(0, 10), (50, 10)], (1, 1), 1000), vec![0, 51]);
    }
}
