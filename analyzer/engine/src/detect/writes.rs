//! Concurrent conflicting writes and last-writer-wins inversions.
//!
//! Each key's writes are swept in a linear extension of happens-before (by
//! derived Lamport number) keeping the frontier of writes no later write
//! has yet covered. A new write that a frontier write does not happen
//! before conflicts with it: the pair is reported once, with its fork point
//! (the last event both writes know of). A covered pair whose later write
//! carries the smaller timestamp is a last-writer-wins inversion.
//!
//! "Happens before" between writes uses the application's vector clocks
//! when both writes carry one, else the graph. A write by a span is done at
//! some point inside the span: it happens before a later write when
//! something the span did after starting (one of its events, or its end)
//! happens before the later write begins, as when a replica writes and then
//! replicates within one span.
//!
//! A pair the graph alone calls concurrent (no vector clocks on both) is
//! reported as `possible_concurrent_write` instead when spans or messages
//! that were not collected could order it (see
//! [`gaps`](crate::graph::gaps)): the witness names the gaps.

use std::collections::BTreeMap;

use causet_schema::clocks::CausalOrder;
use serde_json::json;

use super::facts::Write;
use super::{DetectConfig, Facts, Finding, FindingKind, Severity, event_json, path_json};
use crate::graph::gaps::Gap;
use crate::graph::{EventId, EventType, Graph, Vc, search};

/// Most conflicting pairs reported per key; the evidence counts the rest.
const MAX_PAIRS_PER_KEY: usize = 10_000;

/// The events that bound a write: where it starts and where it is done.
fn extent(g: &Graph, w: &Write) -> (EventId, EventId) {
    let ev = g.event(w.event);
    match ev.ty {
        EventType::Start => (w.event, g.spans[ev.span as usize].end_event()),
        _ => (w.event, w.event),
    }
}

/// The write's vector clock: its span's end clock, else its start clock.
fn clock<'g>(g: &'g Graph, w: &Write) -> Option<Vc<'g>> {
    let (start, done) = extent(g, w);
    g.vc(done).or_else(|| g.vc(start))
}

/// The write's timestamp for last-writer-wins: its HLC, else its wall time.
fn stamp(g: &Graph, w: &Write) -> (i64, u32) {
    let ev = g.event(w.event);
    ev.hlc()
        .map(|h| (h.wall_ns, h.logical))
        .unwrap_or((ev.time, 0))
}

/// Whether write `a` happens before write `b` (by their vector clocks when
/// both carry one, else by the graph).
pub fn before(g: &Graph, a: &Write, b: &Write) -> bool {
    if let (Some(x), Some(y)) = (clock(g, a), clock(g, b)) {
        return x.compare(y) == CausalOrder::Before;
    }
    let (a_start, a_done) = extent(g, a);
    let (b_start, _) = extent(g, b);
    // A span write: any of its span events, then its end; an event write: itself.
    let points = if a_start == a_done {
        0..0
    } else {
        g.points(g.span_of(a_start))
    };
    points
        .chain([a_done])
        .any(|e| e == b_start || g.happens_before(e, b_start))
}

pub fn detect(g: &Graph, facts: &Facts, config: &DetectConfig) -> Vec<Finding> {
    let mut by_key: BTreeMap<&str, Vec<&Write>> = BTreeMap::new();
    for w in &facts.writes {
        by_key.entry(facts.text.resolve(w.key)).or_default().push(w);
    }
    let mut out = Vec::new();
    for (key, mut writes) in by_key {
        if writes.len() < 2 {
            continue;
        }
        writes.sort_by_key(|w| (g.lamport(w.event).unwrap_or(u64::MAX), w.event));
        let mut frontier: Vec<&Write> = Vec::new();
        let mut conflicts = 0usize;
        for w in writes {
            let mut keep = Vec::with_capacity(frontier.len());
            for f in frontier {
                if before(g, f, w) {
                    if stamp(g, w) < stamp(g, f) {
                        out.push(inversion(g, facts, key, f, w));
                    }
                } else {
                    conflicts += 1;
                    if conflicts <= MAX_PAIRS_PER_KEY {
                        out.push(conflict(g, facts, config, key, f, w));
                    }
                    keep.push(f);
                }
            }
            keep.push(w);
            frontier = keep;
        }
        if conflicts > MAX_PAIRS_PER_KEY
            && let Some(last) = out
                .iter_mut()
                .rev()
                .find(|f| f.kind == FindingKind::ConcurrentWrite && f.key.as_deref() == Some(key))
        {
            last.evidence["pairs_on_key"] = conflicts.into();
        }
    }
    out
}

fn write_json(g: &Graph, facts: &Facts, w: &Write) -> serde_json::Value {
    let mut json = event_json(g, w.event);
    json["value"] = facts.str(w.value).into();
    if let Some(vc) = clock(g, w) {
        json["write_vc"] = vc.to_json(&g.symbols);
    }
    json
}

fn conflict(
    g: &Graph,
    facts: &Facts,
    config: &DetectConfig,
    key: &str,
    a: &Write,
    b: &Write,
) -> Finding {
    let differ = a.value != b.value;
    let by_clocks = clock(g, a).is_some() && clock(g, b).is_some();
    // Paths either way that could run through what was not collected.
    let gaps: Vec<(Gap, Gap)> = if by_clocks {
        Vec::new()
    } else {
        [(a, b), (b, a)]
            .into_iter()
            .filter_map(|(x, y)| {
                let (_, done) = extent(g, x);
                let (start, _) = extent(g, y);
                g.gaps.possible_path(g, done, start, config.max_offset_ns)
            })
            .collect()
    };
    let (kind, severity) = match (gaps.is_empty(), differ) {
        (false, _) => (FindingKind::PossibleConcurrentWrite, Severity::Low),
        (true, true) => (FindingKind::ConcurrentWrite, Severity::High),
        (true, false) => (FindingKind::ConcurrentWrite, Severity::Low),
    };
    let mut f = Finding::about(g, kind, severity, &[a.event, b.event]);
    // The earlier write, whichever the sweep met first: a window analysis
    // decides by this time which window reports the pair.
    f.time = g.time_of(a.event).min(g.time_of(b.event));
    f.key = Some(key.to_owned());
    f.magnitude = Some(2);
    let fork = search::last_common_ancestor(g, a.event, b.event);
    let (na, nb) = (
        &g.nodes[g.node_of(a.event) as usize],
        &g.nodes[g.node_of(b.event) as usize],
    );
    let mut missing: Vec<String> = gaps
        .iter()
        .flat_map(|(exit, entry)| [exit.missing.describe(g), entry.missing.describe(g)])
        .collect();
    missing.sort();
    missing.dedup();
    f.summary = if !gaps.is_empty() {
        format!(
            "{na} and {nb} may have written {key} concurrently: nothing collected orders the writes, but {} {} not collected and could.",
            missing.join(", "),
            if missing.len() == 1 { "was" } else { "were" }
        )
    } else {
        format!(
            "{na} and {nb} wrote {key} concurrently{}: neither write happened before the other{}.",
            if differ {
                " with different values"
            } else {
                " (the same value)"
            },
            match fork {
                Some(e) => format!(
                    ", both after {} on {}",
                    g.event_name(e),
                    g.nodes[g.node_of(e) as usize]
                ),
                None => ", and they share no causal past".to_owned(),
            }
        )
    };
    f.evidence = json!({
        "key": key,
        "values_differ": differ,
        "by": if by_clocks { "vector_clock" } else { "graph" },
        "writes": [write_json(g, facts, a), write_json(g, facts, b)],
    });
    f.witness = json!({
        "fork_point": fork.map(|e| event_json(g, e)),
        "fork_to_first": fork.and_then(|e| search::path(g, e, a.event)).map(|p| path_json(g, &p)),
        "fork_to_second": fork.and_then(|e| search::path(g, e, b.event)).map(|p| path_json(g, &p)),
    });
    if !gaps.is_empty() {
        f.evidence["not_collected"] = missing.into();
        f.witness["gaps"] = gaps
            .iter()
            .map(|(exit, entry)| {
                json!({
                    "leaves_at": event_json(g, exit.event),
                    "missing_after": exit.missing.describe(g),
                    "missing_before": entry.missing.describe(g),
                    "comes_back_at": event_json(g, entry.event),
                })
            })
            .collect();
    }
    f
}

fn inversion(g: &Graph, facts: &Facts, key: &str, first: &Write, second: &Write) -> Finding {
    let mut f = Finding::about(
        g,
        FindingKind::LwwInversion,
        Severity::High,
        &[first.event, second.event],
    );
    f.key = Some(key.to_owned());
    let (s1, s2) = (stamp(g, first), stamp(g, second));
    f.magnitude = Some(s1.0 - s2.0);
    f.summary = format!(
        "The write of {key} on {} happened after the one on {}, but carries an earlier timestamp: last-writer-wins would keep the older value.",
        g.nodes[g.node_of(second.event) as usize],
        g.nodes[g.node_of(first.event) as usize],
    );
    let (_, done) = extent(g, first);
    let (start, _) = extent(g, second);
    f.evidence = json!({
        "key": key,
        "first": write_json(g, facts, first),
        "second": write_json(g, facts, second),
        "timestamp_first": {"wall_ns": s1.0, "logical": s1.1},
        "timestamp_second": {"wall_ns": s2.0, "logical": s2.1},
    });
    f.witness = json!({"path": search::path(g, done, start).map(|p| path_json(g, &p))});
    f
}
