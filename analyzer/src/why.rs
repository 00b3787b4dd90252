//! `causet why A B`: how two spans or events relate, and the proof.
//!
//! A and B name a span (`SPAN_ID` or `TRACE_ID:SPAN_ID`) or one of its span
//! events (`TRACE_ID:SPAN_ID#INDEX`). A span happens before another when it
//! ended before the other started (its end happens before the other's
//! start); an event is a point. When neither happens before the other they
//! are concurrent, and the answer names their fork point: the last event
//! both causally follow. Unless spans or messages that were not collected
//! could order them (see [`gaps`](crate::graph::gaps)): then the answer is
//! *unknown*, naming the gaps a path would run through, rather than a
//! "concurrent" that sampling may have made up.

use std::fmt::Write as _;

use crate::detect::event_json;
use crate::error::{Error, Result};
use crate::graph::gaps::Gap;
use crate::graph::load::{parse_span, parse_trace};
use crate::graph::{EventId, EventType, Graph, search, span_hex, trace_hex};

/// A span or span event, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// Where it begins.
    pub first: EventId,
    /// Where it is done (the same event for a point).
    pub last: EventId,
}

/// How A relates to B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// A happens before B, by this path of edges.
    Before(Vec<u32>),
    /// B happens before A, by this path of edges.
    After(Vec<u32>),
    /// Neither; the last event both follow, if any.
    Concurrent(Option<EventId>),
    /// No collected path either way, but one could run through what was
    /// not collected: for each direction that could (A to B, then B to A),
    /// the gap it would leave by and the gap it would come back in by.
    Unknown(Vec<(Gap, Gap)>),
}

/// Finds the span or event `name` in `graph`.
pub fn resolve(graph: &Graph, name: &str) -> Result<Subject> {
    let (span_part, index) = match name.split_once('#') {
        Some((s, i)) => (
            s,
            Some(
                i.parse::<u32>()
                    .map_err(|_| Error::Usage(format!("bad event index in {name:?}")))?,
            ),
        ),
        None => (name, None),
    };
    let span = match span_part.split_once(':') {
        Some((t, s)) => parse_trace(t)
            .zip(parse_span(s))
            .and_then(|(t, s)| graph.span(t, s))
            .ok_or_else(|| Error::Usage(format!("no span {s} in trace {t}")))?,
        None => {
            let id = parse_span(span_part).ok_or_else(|| {
                Error::Usage(format!("{span_part:?} is not a span id (16 hex digits)"))
            })?;
            let matches: Vec<u32> = (0..graph.spans.len() as u32)
                .filter(|&i| graph.spans[i as usize].span_id == id)
                .collect();
            match matches[..] {
                [one] => one,
                [] => return Err(Error::Usage(format!("no span {span_part}"))),
                _ => {
                    return Err(Error::Usage(format!(
                        "span id {span_part} is in {} traces; name it as TRACE_ID:SPAN_ID",
                        matches.len()
                    )));
                }
            }
        }
    };
    let s = &graph.spans[span as usize];
    match index {
        None => Ok(Subject {
            first: s.start_event,
            last: s.end_event(),
        }),
        Some(i) => graph
            .point(span, i)
            .map(|e| Subject { first: e, last: e })
            .ok_or_else(|| Error::Usage(format!("span {} has no event #{i}", span_hex(s.span_id)))),
    }
}

/// How `a` relates to `b`; `max_offset_ns` bounds the clocks when a path
/// through gaps is timed.
pub fn relate(graph: &Graph, a: Subject, b: Subject, max_offset_ns: i64) -> Relation {
    let path = |from: EventId, to: EventId| {
        if from == to {
            Some(Vec::new())
        } else {
            search::path(graph, from, to)
        }
    };
    if let Some(p) = path(a.last, b.first) {
        return Relation::Before(p);
    }
    if let Some(p) = path(b.last, a.first) {
        return Relation::After(p);
    }
    let through: Vec<(Gap, Gap)> = [(a.last, b.first), (b.last, a.first)]
        .into_iter()
        .filter_map(|(x, y)| graph.gaps.possible_path(graph, x, y, max_offset_ns))
        .collect();
    if !through.is_empty() {
        return Relation::Unknown(through);
    }
    Relation::Concurrent(search::last_common_ancestor(graph, a.first, b.first))
}

/// One line describing an event: what, where, when, clocks.
pub fn describe(graph: &Graph, e: EventId) -> String {
    let ev = graph.event(e);
    let span = &graph.spans[ev.span as usize];
    let mut out = format!(
        "{} ({}) on {} at {}",
        graph.event_name(e),
        match ev.ty {
            EventType::Point(i) => format!(
                "{}:{}#{i}",
                trace_hex(span.trace_id),
                span_hex(span.span_id)
            ),
            ty => format!(
                "{} of {}:{}",
                ty.as_str(),
                trace_hex(span.trace_id),
                span_hex(span.span_id)
            ),
        },
        graph.nodes[ev.node as usize],
        crate::fmt::rfc3339(ev.time)
    );
    let json = event_json(graph, e);
    for clock in ["lamport", "hlc", "vc"] {
        if let Some(v) = json.get(clock) {
            let _ = write!(out, " {clock}={v}");
        }
    }
    out
}

/// The answer as text.
pub fn render(graph: &Graph, a_name: &str, b_name: &str, relation: &Relation) -> String {
    let mut out = String::new();
    let steps = |out: &mut String, path: &[u32]| {
        for (i, &edge) in path.iter().enumerate() {
            let e = graph.edge(edge);
            if i == 0 {
                let _ = writeln!(out, "     {}", describe(graph, e.from));
            }
            let _ = writeln!(
                out,
                "  {:>2}. --{}{}--> {}",
                i + 1,
                e.source.as_str(),
                if e.inferred {
                    " (inferred from wall clock)"
                } else {
                    ""
                },
                describe(graph, e.to)
            );
        }
    };
    match relation {
        Relation::Before(path) => {
            let _ = writeln!(
                out,
                "{a_name} happened before {b_name} ({} steps):",
                path.len()
            );
            steps(&mut out, path);
        }
        Relation::After(path) => {
            let _ = writeln!(
                out,
                "{b_name} happened before {a_name} ({} steps):",
                path.len()
            );
            steps(&mut out, path);
        }
        Relation::Unknown(through) => {
            let _ = writeln!(
                out,
                "unknown: nothing collected orders {a_name} and {b_name}, but spans or messages that were not collected could:"
            );
            for (exit, entry) in through {
                let _ = writeln!(
                    out,
                    "  from {}\n    to {} (not collected)\n    ... back through {} (not collected)\n    to {}",
                    describe(graph, exit.event),
                    exit.missing.describe(graph),
                    entry.missing.describe(graph),
                    describe(graph, entry.event),
                );
            }
            let _ = writeln!(
                out,
                "Collect those spans (sampling keeps whole traces only when every service samples alike) to know."
            );
        }
        Relation::Concurrent(fork) => {
            let _ = writeln!(
                out,
                "{a_name} and {b_name} are concurrent: neither happened before the other."
            );
            match fork {
                Some(f) => {
                    let _ = writeln!(out, "They fork at: {}", describe(graph, *f));
                }
                None => {
                    let _ = writeln!(out, "They share no causal past.");
                }
            }
        }
    }
    out
}
