//! `causet diff GOOD BAD`: how a bad trace differs from a good one of the
//! same operation, causally.
//!
//! The traces are aligned by structure, not by ids or instances: two spans
//! match when their parents match and they have the same name and kind and
//! the same position among their parent's children of that name and kind
//! (in start order); the roots match the same way. Then:
//!
//! - spans only in one trace (with their subtrees); one whose name and kind
//!   a matched sibling shares is an *extra attempt* (a retry, or a call
//!   made once more);
//! - *reordered* pairs: two matched sibling spans one of which happened
//!   before the other in one trace (one ended before the other started,
//!   through the happens-before graph) while in the other they were
//!   concurrent or the other way round (siblings only: what runs under
//!   them follows their order);
//! - the largest latency differences of the matched spans on the bad
//!   trace's critical path (see [`explain`](crate::explain)).
//!
//! The causal structure is the same when no span is only in one trace and
//! no pair is reordered; timing alone does not make it differ. Instances
//! are not part of the match (a retry may land on another replica); the
//! service is implied by where a span sits. [`baseline`] finds the good
//! trace for a bad one: one of the most common structure among the traces
//! of its operation (the name and kind of its root span).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::graph::load::parse_trace;
use crate::graph::{Graph, SpanKind, span_hex, trace_hex};
use crate::settings::TimeRange;

/// How two spans of one trace relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The first ended before the second started.
    Before,
    /// The second ended before the first started.
    After,
    /// Neither.
    Concurrent,
}

/// A span only in one trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// The span (an index into the graph's spans).
    pub span: u32,
    /// A matched sibling has its name and kind: an extra attempt.
    pub extra_attempt: bool,
}

/// Two matched pairs whose order differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reordered {
    /// The pairs: (good span, bad span) for each side.
    pub first: (u32, u32),
    /// The second pair.
    pub second: (u32, u32),
    /// Their order in the good trace.
    pub good: Order,
    /// Their order in the bad trace.
    pub bad: Order,
}

/// The differences between two traces.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// Matched spans: (good, bad).
    pub matched: Vec<(u32, u32)>,
    /// Spans only in the good trace.
    pub only_good: Vec<Unmatched>,
    /// Spans only in the bad trace.
    pub only_bad: Vec<Unmatched>,
    /// Pairs whose happens-before order differs.
    pub reordered: Vec<Reordered>,
    /// Matched spans on the bad trace's critical path, by how much longer
    /// they took there (ns, bad minus good), most first.
    pub slower: Vec<(u32, u32, i64)>,
    /// End-to-end: the good and the bad trace's duration, ns.
    pub durations: (i64, i64),
}

impl Diff {
    /// Whether the causal structure differs (timing aside).
    pub fn differs(&self) -> bool {
        !self.only_good.is_empty() || !self.only_bad.is_empty() || !self.reordered.is_empty()
    }
}

/// Most spans of a trace whose pairs are compared for reordering.
const MAX_PAIRED: usize = 400;

/// The roots of `trace` and, for each span, its children, in start order.
fn tree(g: &Graph, trace: u128) -> (Vec<u32>, BTreeMap<u32, Vec<u32>>) {
    // Spans are in (trace id, span id) order: the trace is one run.
    let first = g.spans.partition_point(|s| s.trace_id < trace);
    let end = g.spans.partition_point(|s| s.trace_id <= trace);
    let spans: Vec<u32> = (first as u32..end as u32).collect();
    let mut roots = Vec::new();
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &s in &spans {
        match g.spans[s as usize].parent() {
            Some(p) if g.spans[p as usize].trace_id == trace => {
                children.entry(p).or_default().push(s)
            }
            _ => roots.push(s),
        }
    }
    let start = |s: &u32| (g.spans[*s as usize].start, *s);
    roots.sort_by_key(start);
    for list in children.values_mut() {
        list.sort_by_key(start);
    }
    (roots, children)
}

type Shape<'g> = (&'g str, SpanKind);

/// Each span's (name, kind, ordinal among its siblings of that name and kind).
fn keyed<'g>(g: &'g Graph, siblings: &[u32]) -> Vec<((Shape<'g>, usize), u32)> {
    let mut seen: BTreeMap<Shape<'g>, usize> = BTreeMap::new();
    siblings
        .iter()
        .map(|&s| {
            let span = &g.spans[s as usize];
            let shape = (g.text(span.name), span.kind);
            let n = seen.entry(shape).or_default();
            *n += 1;
            ((shape, *n), s)
        })
        .collect()
}

fn order(g: &Graph, a: u32, b: u32) -> Order {
    let (a, b) = (&g.spans[a as usize], &g.spans[b as usize]);
    if g.happens_before(a.end_event(), b.start_event) {
        Order::Before
    } else if g.happens_before(b.end_event(), a.start_event) {
        Order::After
    } else {
        Order::Concurrent
    }
}

/// Compares trace `good` with trace `bad` in `g`; `critical` are the bad
/// trace's spans on its critical path.
pub fn diff(g: &Graph, good: &str, bad: &str, critical: &[u32]) -> Result<Diff> {
    let parse = |t: &str| {
        parse_trace(t)
            .filter(|id| g.spans.iter().any(|s| s.trace_id == *id))
            .ok_or_else(|| Error::Usage(format!("no trace {t}")))
    };
    let (tg, tb) = (parse(good)?, parse(bad)?);
    let (good_roots, good_children) = tree(g, tg);
    let (bad_roots, bad_children) = tree(g, tb);
    let mut d = Diff::default();
    let mut level = vec![(good_roots, bad_roots)];
    let subtree = |children: &BTreeMap<u32, Vec<u32>>, s: u32| {
        let mut out = vec![s];
        let mut i = 0;
        while i < out.len() {
            out.extend(children.get(&out[i]).into_iter().flatten().copied());
            i += 1;
        }
        out
    };
    while let Some((gs, bs)) = level.pop() {
        let (gk, bk) = (keyed(g, &gs), keyed(g, &bs));
        let bad_by: BTreeMap<_, u32> = bk.iter().cloned().collect();
        let good_by: BTreeMap<_, u32> = gk.iter().cloned().collect();
        let good_shapes: Vec<Shape<'_>> = gk.iter().map(|((shape, _), _)| *shape).collect();
        let bad_shapes: Vec<Shape<'_>> = bk.iter().map(|((shape, _), _)| *shape).collect();
        for (key, s) in &gk {
            match bad_by.get(key) {
                Some(&b) => {
                    d.matched.push((*s, b));
                    level.push((
                        good_children.get(s).cloned().unwrap_or_default(),
                        bad_children.get(&b).cloned().unwrap_or_default(),
                    ));
                }
                None => {
                    let extra = bad_shapes.contains(&key.0);
                    for (i, t) in subtree(&good_children, *s).into_iter().enumerate() {
                        d.only_good.push(Unmatched {
                            span: t,
                            extra_attempt: i == 0 && extra,
                        });
                    }
                }
            }
        }
        for (key, s) in &bk {
            if !good_by.contains_key(key) {
                let extra = good_shapes.contains(&key.0);
                for (i, t) in subtree(&bad_children, *s).into_iter().enumerate() {
                    d.only_bad.push(Unmatched {
                        span: t,
                        extra_attempt: i == 0 && extra,
                    });
                }
            }
        }
    }
    d.matched.sort();
    let paired = &d.matched[..d.matched.len().min(MAX_PAIRED)];
    let parent = |s: u32| g.spans[s as usize].parent();
    for (i, &(ga, ba)) in paired.iter().enumerate() {
        for &(gb, bb) in &paired[i + 1..] {
            // Siblings only: their descendants' order follows from theirs.
            if parent(ga) != parent(gb) {
                continue;
            }
            let (before, after) = (order(g, ga, gb), order(g, ba, bb));
            if before != after {
                d.reordered.push(Reordered {
                    first: (ga, ba),
                    second: (gb, bb),
                    good: before,
                    bad: after,
                });
            }
        }
    }
    let duration = |s: u32| g.spans[s as usize].end - g.spans[s as usize].start;
    d.slower = d
        .matched
        .iter()
        .filter(|(_, b)| critical.contains(b))
        .map(|&(a, b)| (a, b, duration(b) - duration(a)))
        .filter(|&(_, _, dt)| dt > 0)
        .collect();
    d.slower
        .sort_by_key(|&(_, b, dt)| (std::cmp::Reverse(dt), b));
    let length = |trace: u128| {
        let (lo, hi) = g
            .spans
            .iter()
            .filter(|s| s.trace_id == trace)
            .fold((i64::MAX, i64::MIN), |(lo, hi), s| {
                (lo.min(s.start), hi.max(s.end))
            });
        hi.saturating_sub(lo).max(0)
    };
    d.durations = (length(tg), length(tb));
    Ok(d)
}

/// A trace's structure as text (from its [`tree`]): each span's name and
/// kind, its children inside, in start order.
fn shape(g: &Graph, (roots, children): &(Vec<u32>, BTreeMap<u32, Vec<u32>>)) -> String {
    fn write(g: &Graph, s: u32, children: &BTreeMap<u32, Vec<u32>>, out: &mut String) {
        let span = &g.spans[s as usize];
        let _ = write!(out, "{}|{}(", g.text(span.name), span.kind.as_str());
        for &c in children.get(&s).into_iter().flatten() {
            write(g, c, children, out);
        }
        out.push(')');
    }
    let mut out = String::new();
    for &r in roots {
        write(g, r, children, &mut out);
    }
    out
}

/// The structure most traces of an operation share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// A trace with that structure (the earliest).
    pub trace: String,
    /// Traces with it.
    pub sharing: usize,
    /// Traces of the operation (the bad one excluded).
    pub of: usize,
}

/// The most common structure among the other traces whose first root span
/// has the name and kind of `bad`'s and starts in `range`, and one trace of
/// it; `None` when there is no other such trace.
pub fn baseline(g: &Graph, bad: &str, range: TimeRange) -> Result<Option<Baseline>> {
    let bad = parse_trace(bad)
        .filter(|id| g.spans.iter().any(|s| s.trace_id == *id))
        .ok_or_else(|| Error::Usage(format!("no trace {bad}")))?;
    // A trace's operation: its first root's name, kind and start.
    let operation = |roots: &[u32]| {
        roots.first().map(|&r| {
            let span = &g.spans[r as usize];
            (span.name, span.kind, span.start)
        })
    };
    let Some((name, kind, _)) = operation(&tree(g, bad).0) else {
        return Ok(None);
    };
    // shape -> (traces, earliest (start, trace)).
    let mut shapes: BTreeMap<String, (usize, (i64, u128))> = BTreeMap::new();
    let mut of = 0;
    // Spans are in trace order: each trace is one run.
    for run in g.spans.chunk_by(|a, b| a.trace_id == b.trace_id) {
        let t = run[0].trace_id;
        if t == bad {
            continue;
        }
        let tree = tree(g, t);
        match operation(&tree.0) {
            Some((n, k, start)) if n == name && k == kind && range.contains(start) => {
                of += 1;
                let entry = shapes.entry(shape(g, &tree)).or_insert((0, (start, t)));
                entry.0 += 1;
                entry.1 = entry.1.min((start, t));
            }
            _ => {}
        }
    }
    Ok(shapes
        .into_values()
        .max_by_key(|&(n, (start, t))| (n, std::cmp::Reverse((start, t))))
        .map(|(sharing, (_, t))| Baseline {
            trace: trace_hex(t),
            sharing,
            of,
        }))
}

/// The differences as text.
pub fn to_text(g: &Graph, good: &str, bad: &str, d: &Diff) -> String {
    let name = |s: u32| {
        let span = &g.spans[s as usize];
        format!(
            "{} ({}) on {} [{}]",
            g.text(span.name),
            span.kind.as_str().to_lowercase(),
            g.nodes[span.node as usize],
            span_hex(span.span_id)
        )
    };
    let human = crate::fmt::human_ns;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "good {good} ({}), bad {bad} ({}): {} spans matched by structure",
        human(d.durations.0),
        human(d.durations.1),
        d.matched.len()
    );
    for (what, list) in [
        ("only in the good trace", &d.only_good),
        ("only in the bad trace", &d.only_bad),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{what}:");
        for u in list {
            let _ = writeln!(
                out,
                "  {}{}",
                name(u.span),
                if u.extra_attempt {
                    "  (an extra attempt: a matched sibling has its name)"
                } else {
                    ""
                }
            );
        }
    }
    if !d.reordered.is_empty() {
        let _ = writeln!(out, "\nreordered (happens-before differs):");
        let word = |o: Order| match o {
            Order::Before => "before",
            Order::After => "after",
            Order::Concurrent => "concurrent with",
        };
        for r in &d.reordered {
            let _ = writeln!(
                out,
                "  good: {} {} {}\n   bad: {} {} {}",
                name(r.first.0),
                word(r.good),
                name(r.second.0),
                name(r.first.1),
                word(r.bad),
                name(r.second.1)
            );
        }
    }
    if !d.slower.is_empty() {
        let _ = writeln!(out, "\nslower on the bad trace's critical path:");
        for &(a, b, dt) in d.slower.iter().take(5) {
            let _ = writeln!(
                out,
                "  +{} {} (good: {})",
                human(dt),
                name(b),
                human(g.spans[a as usize].end - g.spans[a as usize].start)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        if d.differs() {
            "The causal structure differs."
        } else {
            "The causal structure is the same; only timing differs."
        }
    );
    out
}

/// The differences and both traces drawn side by side, as one page.
pub fn to_html(
    text: &str,
    good: &crate::explain::Diagram,
    bad: &crate::explain::Diagram,
) -> String {
    use crate::fmt::escape_html as esc;
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>causet diff</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:1.5em}}.side{{display:flex;gap:1em;align-items:flex-start}}\
         .side>div{{overflow:auto;border:1px solid #eee}}pre{{background:#f7f7f7;padding:.6em}}</style></head><body>\
         <h1>causet diff</h1><pre id=\"differences\">{}</pre><div class=\"side\"><div><h2>good {}</h2>{}</div><div><h2>bad {}</h2>{}</div></div></body></html>\n",
        esc(text),
        esc(&good.traces.join(", ")),
        crate::explain::to_svg(good),
        esc(&bad.traces.join(", ")),
        crate::explain::to_svg(bad),
    )
}
