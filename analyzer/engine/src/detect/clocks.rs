//! Findings about the clocks applications keep: jumps, HLC drift and
//! regressions, vector-clock and Lamport violations, malformed clocks.

use std::collections::BTreeMap;

use causet_schema::clocks::CausalOrder;
use serde_json::json;

use super::{DetectConfig, Facts, Finding, FindingKind, Severity, event_json};
use crate::fmt::human_ns;
use crate::graph::{EdgeSource, EventId, Graph};

/// The worst occurrence per key, and how many there were.
struct Worst<K: Ord> {
    map: BTreeMap<K, (i64, EventId, EventId, u64)>,
}

impl<K: Ord> Default for Worst<K> {
    fn default() -> Self {
        Worst {
            map: BTreeMap::new(),
        }
    }
}

impl<K: Ord> Worst<K> {
    fn add(&mut self, key: K, magnitude: i64, from: EventId, to: EventId) {
        let entry = self.map.entry(key).or_insert((i64::MIN, from, to, 0));
        entry.3 += 1;
        if magnitude > entry.0 {
            (entry.0, entry.1, entry.2) = (magnitude, from, to);
        }
    }
}

fn times(count: u64) -> String {
    if count > 1 {
        format!(" ({count} times; the worst shown)")
    } else {
        String::new()
    }
}

pub fn detect(g: &Graph, facts: &Facts, config: &DetectConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(clock_jumps(g, config));
    out.extend(hlc_drift(g, config));
    out.extend(edge_violations(g));
    out.extend(malformed(g, facts));
    out
}

/// On one node, consecutive events by the node's logical clock whose wall
/// times go backwards by more than the threshold: the wall clock stepped back.
fn clock_jumps(g: &Graph, config: &DetectConfig) -> Vec<Finding> {
    let mut worst = Worst::default();
    for (node, ticks) in g.node_ticks() {
        for pair in ticks.windows(2) {
            let (a, b) = (pair[0].1, pair[1].1);
            let back = g.time_of(a) - g.time_of(b);
            if pair[0].0 < pair[1].0 && back > config.clock_jump_ns {
                worst.add(node, back, a, b);
            }
        }
    }
    worst
        .map
        .into_iter()
        .map(|(node, (back, a, b, count))| {
            let severity = if back > config.max_offset_ns { Severity::High } else { Severity::Medium };
            let mut f = Finding::about(g, FindingKind::ClockJump, severity, &[a, b]);
            f.magnitude = Some(back);
            f.summary = format!(
                "{}'s wall clock stepped back {}: its own logical clock orders {} before {}, its wall clock the other way{}.",
                g.nodes[node as usize],
                human_ns(back),
                g.event_name(a),
                g.event_name(b),
                times(count)
            );
            f.evidence = json!({"step_back_ns": back, "occurrences": count, "threshold_ns": config.clock_jump_ns});
            f.witness = json!([event_json(g, a), event_json(g, b)]);
            f
        })
        .collect()
}

/// HLC wall parts ahead of the event's own physical time by more than max-offset.
fn hlc_drift(g: &Graph, config: &DetectConfig) -> Vec<Finding> {
    let mut worst = Worst::default();
    for (e, ev) in g.events() {
        if let Some(h) = ev.hlc() {
            let ahead = h.wall_ns.saturating_sub(ev.time);
            if ahead > config.max_offset_ns {
                worst.add(ev.node, ahead, e, e);
            }
        }
    }
    worst
        .map
        .into_iter()
        .map(|(node, (ahead, e, _, count))| {
            let mut f = Finding::about(g, FindingKind::HlcDrift, Severity::Medium, &[e]);
            f.magnitude = Some(ahead);
            f.summary = format!(
                "{}'s HLC runs {} ahead of its physical clock (limit {}): a clock it heard from is ahead{}.",
                g.nodes[node as usize],
                human_ns(ahead),
                human_ns(config.max_offset_ns),
                times(count)
            );
            f.evidence = json!({"ahead_ns": ahead, "occurrences": count, "max_offset_ns": config.max_offset_ns});
            f.witness = json!([event_json(g, e)]);
            f
        })
        .collect()
}

/// Along proven edges: HLC, vector clock and Lamport values that fail to grow.
fn edge_violations(g: &Graph) -> Vec<Finding> {
    let (mut hlc, mut vc, mut lamport) = (Worst::default(), Worst::default(), Worst::default());
    for edge in g.edges() {
        // Vector-clock edges are read from the clocks themselves.
        if edge.inferred || edge.source == EdgeSource::VectorClock {
            continue;
        }
        let (from, to) = (g.event(edge.from), g.event(edge.to));
        let key = (to.node, edge.source);
        if let (Some(a), Some(b)) = (from.hlc(), to.hlc())
            && b <= a
        {
            hlc.add(key, a.wall_ns - b.wall_ns, edge.from, edge.to);
        }
        if let (Some(a), Some(b)) = (g.vc(edge.from), g.vc(edge.to)) {
            let grows = if from.node == to.node {
                let own = g.node_sym(to.node);
                b.get(own) > a.get(own)
            } else {
                a.compare(b) == CausalOrder::Before
            };
            if !grows {
                vc.add(key, 1, edge.from, edge.to);
            }
        }
        if let (Some(a), Some(b)) = (from.lamport(), to.lamport())
            && b <= a
        {
            lamport.add(key, (a - b) as i64, edge.from, edge.to);
        }
    }
    let mut out = Vec::new();
    let findings = [
        (FindingKind::HlcRegression, "HLC", hlc),
        (FindingKind::VcViolation, "vector clock", vc),
        (FindingKind::LamportViolation, "Lamport clock", lamport),
    ];
    for (kind, clock, worst) in findings {
        for ((node, source), (magnitude, a, b, count)) in worst.map {
            let mut f = Finding::about(g, kind, Severity::Medium, &[a, b]);
            f.magnitude = Some(if kind == FindingKind::VcViolation {
                count as i64
            } else {
                magnitude
            });
            let what = match source {
                EdgeSource::Messaging
                | EdgeSource::RpcRequest
                | EdgeSource::RpcReply
                | EdgeSource::Link => {
                    format!("a receive is not after its send ({})", source.as_str())
                }
                _ => format!("its own clock did not advance ({})", source.as_str()),
            };
            f.summary = format!(
                "{}'s {clock} is wrong: {what}, from {} on {} to {}{}.",
                g.nodes[node as usize],
                g.event_name(a),
                g.nodes[g.node_of(a) as usize],
                g.event_name(b),
                times(count)
            );
            f.evidence = json!({"edge_source": source.as_str(), "occurrences": count});
            f.witness = json!([{"source": source.as_str(), "from": event_json(g, a), "to": event_json(g, b)}]);
            out.push(f);
        }
    }
    out
}

/// The clock attributes the collector could not parse (the span was kept).
fn malformed(g: &Graph, facts: &Facts) -> Vec<Finding> {
    facts
        .clock_errors
        .iter()
        .map(|(e, error)| {
            let mut f = Finding::about(g, FindingKind::MalformedClock, Severity::Medium, &[*e]);
            f.summary = format!(
                "{} on {} carries a clock causet could not read: {error}.",
                g.event_name(*e),
                g.nodes[g.node_of(*e) as usize]
            );
            f.evidence = json!({"error": error});
            f.witness = json!([event_json(g, *e)]);
            f
        })
        .collect()
}
