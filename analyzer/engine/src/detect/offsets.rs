//! Clock skew between nodes: causality violations on cross-node edges, and
//! per-node offset intervals from RPC timing.
//!
//! Each CLIENT->SERVER pair whose reply arrived bounds the offset
//! `theta = server_clock - client_clock` to `[server_end - client_end,
//! server_start - client_start]` (the server ran inside the client's span in
//! true time). The bounds of one node pair and window are intersected; the
//! pairs' intervals are difference constraints on per-node offsets, solved
//! by shortest paths from a reference node. Bounds that miss each other by
//! a little are a drifting clock and give the range the offset moved in; by
//! more than a tenth of max-offset, or a negative cycle, no offsets explain
//! the timings (a clock jumped, or the trace is wrong): that is reported
//! with its witnesses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{DetectConfig, Finding, FindingKind, Severity, event_json};
use crate::fmt::human_ns;
use crate::graph::{EdgeSource, EventId, Graph};
use causet_schema::kinds::Verdict;

/// A node's estimated offset in one window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeOffset {
    /// Window start, ns since the epoch.
    pub window_start: i64,
    /// The node.
    pub node: String,
    /// The node offsets are measured against.
    pub reference: String,
    /// Lower bound of `node_clock - reference_clock`, ns (None: unbounded).
    pub lower_ns: Option<i64>,
    /// Upper bound, ns (None: unbounded).
    pub upper_ns: Option<i64>,
    /// How the offset was judged.
    pub verdict: Verdict,
    /// RPC pairs that bounded this node's offset to its peers in the window.
    pub rpc_pairs: u64,
}

/// One edge between two nodes whose effect's wall time precedes its cause's,
/// aggregated per (cause node, effect node, window): the worst one is the witness.
pub fn causality_violations(g: &Graph, config: &DetectConfig) -> Vec<Finding> {
    let mut worst: BTreeMap<(u32, u32, i64), (i64, u32, u64)> = BTreeMap::new();
    for (i, edge) in g.edges().enumerate() {
        if edge.inferred {
            continue;
        }
        let (from, to) = (g.event(edge.from), g.event(edge.to));
        if from.node == to.node || to.time >= from.time {
            continue;
        }
        let lead = from.time - to.time;
        let window = from.time.div_euclid(config.window_ns);
        let entry = worst
            .entry((from.node, to.node, window))
            .or_insert((0, i as u32, 0));
        entry.2 += 1;
        if lead > entry.0 {
            (entry.0, entry.1) = (lead, i as u32);
        }
    }
    worst
        .into_values()
        .map(|(lead, edge, count)| {
            let e = g.edge(edge);
            let severity = if lead > config.max_offset_ns {
                Severity::High
            } else if lead > config.max_offset_ns / 10 {
                Severity::Medium
            } else {
                Severity::Low
            };
            let mut f = Finding::about(g, FindingKind::CausalityViolation, severity, &[e.from, e.to]);
            let (cause, effect) = (&g.nodes[g.node_of(e.from) as usize], &g.nodes[g.node_of(e.to) as usize]);
            f.magnitude = Some(lead);
            f.summary = format!(
                "{effect} recorded {} {} before {cause} recorded {}, which caused it ({}): their clocks disagree by at least that much{}.",
                g.event_name(e.to),
                human_ns(lead),
                g.event_name(e.from),
                e.source.as_str(),
                if count > 1 { format!(" ({count} such edges in this window; the worst shown)") } else { String::new() },
            );
            f.evidence = json!({"lead_ns": lead, "edges": count, "source": e.source.as_str(), "max_offset_ns": config.max_offset_ns});
            f.witness = json!([{"source": e.source.as_str(), "from": event_json(g, e.from), "to": event_json(g, e.to)}]);
            f
        })
        .collect()
}

/// Offset bounds of one RPC: (client node, server node, lower, upper, client start, server start event, client end event).
struct Bound {
    client: u32,
    server: u32,
    lower: Option<i64>,
    upper: i64,
    window: i64,
    client_start: EventId,
    server_start: EventId,
}

fn rpc_bounds(g: &Graph, config: &DetectConfig) -> Vec<Bound> {
    let replied: BTreeSet<(EventId, EventId)> = g
        .edges()
        .filter(|e| e.source == EdgeSource::RpcReply)
        .map(|e| (e.from, e.to))
        .collect();
    g.edges()
        .filter(|e| e.source == EdgeSource::RpcRequest)
        .filter_map(|e| {
            let (cs, ss) = (g.event(e.from), g.event(e.to));
            if cs.node == ss.node {
                return None;
            }
            let (client, server) = (&g.spans[cs.span as usize], &g.spans[ss.span as usize]);
            let lower = replied
                .contains(&(server.end_event(), client.end_event()))
                .then(|| server.end - client.end);
            Some(Bound {
                client: cs.node,
                server: ss.node,
                lower,
                upper: server.start - client.start,
                window: client.start.div_euclid(config.window_ns),
                client_start: e.from,
                server_start: e.to,
            })
        })
        .collect()
}

/// Per-node offsets per window, and the findings they support.
pub fn estimate(g: &Graph, config: &DetectConfig) -> (Vec<NodeOffset>, Vec<Finding>) {
    let bounds = rpc_bounds(g, config);
    let mut findings = Vec::new();
    let mut offsets = Vec::new();
    // (window) -> (node pair as (a, b), a < b) -> interval of b - a, and its witnesses.
    let mut windows: BTreeMap<i64, BTreeMap<(u32, u32), Pair>> = BTreeMap::new();
    for (i, b) in bounds.iter().enumerate() {
        let (key, lower, upper) = if b.client < b.server {
            ((b.client, b.server), b.lower, Some(b.upper))
        } else {
            ((b.server, b.client), Some(-b.upper), b.lower.map(|l| -l))
        };
        let pair = windows.entry(b.window).or_default().entry(key).or_default();
        pair.count += 1;
        if let Some(l) = lower
            && pair.lower.is_none_or(|(cur, _)| l > cur)
        {
            pair.lower = Some((l, i));
        }
        if let Some(u) = upper
            && pair.upper.is_none_or(|(cur, _)| u < cur)
        {
            pair.upper = Some((u, i));
        }
    }

    // A fallback reference for the whole run: a window is read off the
    // client's clock, so a skewed node's calls can fall in a window of their
    // own, where that window's "majority" would be the skewed node itself.
    let mut all_pairs: Intervals = BTreeMap::new();
    for pairs in windows.values() {
        for (&key, pair) in pairs {
            if let (Some((l, _)), Some((u, _))) = (pair.lower, pair.upper)
                && l - u > drift_tolerance(config)
            {
                continue;
            }
            let entry = all_pairs.entry(key).or_insert((None, None, 0));
            entry.0 = max_opt(entry.0, pair.lower.map(|x| x.0));
            entry.1 = min_opt(entry.1, pair.upper.map(|x| x.0));
            entry.2 += pair.count;
        }
    }
    let all_nodes: BTreeSet<u32> = all_pairs.keys().flat_map(|&(a, b)| [a, b]).collect();
    let global_reference =
        (!all_nodes.is_empty()).then(|| choose_reference(g, config, &all_nodes, &all_pairs).0);

    let mut off_nodes: BTreeMap<u32, (i64, NodeOffset, Vec<EventId>)> = BTreeMap::new();
    for (window, pairs) in &windows {
        let mut consistent: Intervals = BTreeMap::new();
        for (&(a, b), pair) in pairs {
            match (pair.lower, pair.upper) {
                (Some((l, li)), Some((u, ui))) if l - u > drift_tolerance(config) => {
                    findings.push(inconsistent(g, &bounds, a, b, l, u, li, ui));
                }
                // A little apart: the offset moved within the window (clock
                // drift); the estimate is the range it moved in.
                (Some((l, _)), Some((u, _))) if l > u => {
                    consistent.insert((a, b), (Some(u), Some(l), pair.count));
                }
                _ => {
                    consistent.insert(
                        (a, b),
                        (pair.lower.map(|x| x.0), pair.upper.map(|x| x.0), pair.count),
                    );
                }
            }
        }
        let nodes: BTreeSet<u32> = consistent.keys().flat_map(|&(a, b)| [a, b]).collect();
        if nodes.is_empty() {
            continue;
        }
        // The window's own majority; where no node agrees with any peer in
        // the window (a sliver of calls at a window's edge, read off a
        // skewed client's clock), the whole run's.
        let (local, agreeing) = choose_reference(g, config, &nodes, &consistent);
        let reference = match global_reference {
            Some(global) if agreeing == 0 && nodes.contains(&global) => global,
            _ => local,
        };
        let Some(solution) = solve(&nodes, &consistent, reference) else {
            let mut f = Finding::about(g, FindingKind::OffsetInconsistent, Severity::Medium, &[]);
            f.nodes = nodes.iter().map(|&n| g.nodes[n as usize].clone()).collect();
            f.time = window * config.window_ns;
            f.summary = format!(
                "No clock offsets explain the RPC timings among {} in this window: a clock jumped or ran at a different rate.",
                f.nodes.join(", ")
            );
            f.evidence = json!({"window_start_ns": f.time, "pairs": consistent.len()});
            f.witness = json!(consistent.iter().map(|(&(a, b), &(l, u, n))| json!({
                "nodes": [g.nodes[a as usize], g.nodes[b as usize]], "lower_ns": l, "upper_ns": u, "rpc_pairs": n
            })).collect::<Vec<_>>());
            findings.push(f);
            continue;
        };
        for &node in &nodes {
            let (lower, upper) = solution[&node];
            let max = config.max_offset_ns;
            let verdict = match (lower, upper) {
                _ if node == reference => Verdict::Healthy,
                (Some(l), _) if l > max => Verdict::Unhealthy,
                (_, Some(u)) if u < -max => Verdict::Unhealthy,
                (Some(l), Some(u)) if l >= -max && u <= max => Verdict::Healthy,
                (None, None) => Verdict::Unknown,
                _ => Verdict::Ambiguous,
            };
            let rpc_pairs = consistent
                .iter()
                .filter(|((a, b), _)| *a == node || *b == node)
                .map(|(_, v)| v.2)
                .sum();
            let offset = NodeOffset {
                window_start: window * config.window_ns,
                node: g.nodes[node as usize].clone(),
                reference: g.nodes[reference as usize].clone(),
                lower_ns: lower,
                upper_ns: upper,
                verdict,
                rpc_pairs,
            };
            if verdict == Verdict::Unhealthy {
                let distance = lower
                    .filter(|&l| l > max)
                    .unwrap_or_else(|| -upper.unwrap_or(0));
                let witness: Vec<EventId> = bounds
                    .iter()
                    .filter(|b| b.window == *window && (b.client == node || b.server == node))
                    .flat_map(|b| [b.client_start, b.server_start])
                    .take(2)
                    .collect();
                if off_nodes.get(&node).is_none_or(|(d, _, _)| distance > *d) {
                    off_nodes.insert(node, (distance, offset.clone(), witness));
                }
            }
            offsets.push(offset);
        }
    }
    for (node, (distance, offset, witness)) in off_nodes {
        let mut f = Finding::about(
            g,
            FindingKind::SkewExceedsMaxOffset,
            Severity::High,
            &witness,
        );
        let name = &g.nodes[node as usize];
        f.nodes.retain(|n| n == name);
        f.nodes.insert(0, name.clone());
        f.nodes.dedup();
        f.magnitude = Some(distance);
        f.time = offset.window_start;
        f.summary = format!(
            "{name}'s clock is off by at least {} from {} and the peers that agree with it (limit {}).",
            human_ns(distance),
            offset.reference,
            human_ns(config.max_offset_ns)
        );
        f.evidence = json!({
            "node": name, "reference": offset.reference, "window_start_ns": offset.window_start,
            "lower_ns": offset.lower_ns, "upper_ns": offset.upper_ns, "max_offset_ns": config.max_offset_ns,
            "rpc_pairs": offset.rpc_pairs,
        });
        f.witness = json!({
            "bounds": {"lower_ns": offset.lower_ns, "upper_ns": offset.upper_ns},
            "example_rpc": witness.iter().map(|&e| event_json(g, e)).collect::<Vec<_>>(),
        });
        findings.push(f);
    }
    (offsets, findings)
}

/// Offset interval `(lower, upper, RPC pairs)` of node b minus node a, per pair (a, b).
type Intervals = BTreeMap<(u32, u32), (Option<i64>, Option<i64>, u64)>;

/// Offset bounds per node: (lower, upper).
type Solution = HashMap<u32, (Option<i64>, Option<i64>)>;

/// How far apart one window's bounds of a pair may be before no single
/// offset can explain them: a tenth of max-offset (25 ms by default), what a
/// clock drifting 400 ppm moves in a minute. Larger gaps are jumps.
fn drift_tolerance(config: &DetectConfig) -> i64 {
    config.max_offset_ns / 10
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Default)]
struct Pair {
    lower: Option<(i64, usize)>,
    upper: Option<(i64, usize)>,
    count: u64,
}

#[allow(clippy::too_many_arguments)]
fn inconsistent(
    g: &Graph,
    bounds: &[Bound],
    a: u32,
    b: u32,
    l: i64,
    u: i64,
    li: usize,
    ui: usize,
) -> Finding {
    let events = [
        bounds[li].client_start,
        bounds[li].server_start,
        bounds[ui].client_start,
        bounds[ui].server_start,
    ];
    let mut f = Finding::about(
        g,
        FindingKind::OffsetInconsistent,
        Severity::Medium,
        &events,
    );
    f.magnitude = Some(l - u);
    let (na, nb) = (&g.nodes[a as usize], &g.nodes[b as usize]);
    f.summary = format!(
        "Two RPCs between {na} and {nb} need {nb}'s clock to be at least {} and at most {} ahead of {na}'s: one of the clocks jumped, or a call was not what its spans say.",
        human_ns(l),
        human_ns(u)
    );
    f.evidence = json!({"nodes": [na, nb], "lower_ns": l, "upper_ns": u});
    f.witness = json!({
        "lower_bound_from": [event_json(g, events[0]), event_json(g, events[1])],
        "upper_bound_from": [event_json(g, events[2]), event_json(g, events[3])],
    });
    f
}

/// `--reference-node`, else the node whose offset interval to the most
/// peers lies within max-offset, ties to the most RPC pairs, then the name.
fn choose_reference(
    g: &Graph,
    config: &DetectConfig,
    nodes: &BTreeSet<u32>,
    pairs: &Intervals,
) -> (u32, u64) {
    if let Some(name) = &config.reference_node
        && let Some(&n) = nodes.iter().find(|&&n| g.nodes[n as usize] == *name)
    {
        return (n, u64::MAX);
    }
    let max = config.max_offset_ns;
    let within = |l: Option<i64>, u: Option<i64>| match (l, u) {
        (Some(l), Some(u)) => l <= u && l >= -max && u <= max,
        _ => false,
    };
    let mut score: HashMap<u32, (u64, u64)> = HashMap::new();
    for (&(a, b), &(l, u, n)) in pairs {
        for node in [a, b] {
            let s = score.entry(node).or_default();
            s.0 += u64::from(within(l, u));
            s.1 += n;
        }
    }
    let best = *nodes
        .iter()
        .max_by(|x, y| {
            score[x]
                .cmp(&score[y])
                .then_with(|| g.nodes[**y as usize].cmp(&g.nodes[**x as usize]))
        })
        .expect("nodes is not empty");
    (best, score[&best].0)
}

/// Bounds of every node's offset against `reference` under the pairwise
/// constraints `x_b - x_a in [lower, upper]`; `None` on a negative cycle.
fn solve(nodes: &BTreeSet<u32>, pairs: &Intervals, reference: u32) -> Option<Solution> {
    // x_b - x_a <= upper: edge a -> b weight upper; x_a - x_b <= -lower: edge b -> a weight -lower.
    let mut edges: Vec<(u32, u32, i64)> = Vec::new();
    for (&(a, b), &(l, u, _)) in pairs {
        if let Some(u) = u {
            edges.push((a, b, u));
        }
        if let Some(l) = l {
            edges.push((b, a, -l));
        }
    }
    let shortest = |from: u32, reversed: bool| -> Option<HashMap<u32, i64>> {
        let mut dist: HashMap<u32, i64> = HashMap::from([(from, 0)]);
        for round in 0..=nodes.len() {
            let mut changed = false;
            for &(a, b, w) in &edges {
                let (a, b) = if reversed { (b, a) } else { (a, b) };
                if let Some(&da) = dist.get(&a) {
                    let candidate = da.saturating_add(w);
                    if dist.get(&b).is_none_or(|&db| candidate < db) {
                        dist.insert(b, candidate);
                        changed = true;
                    }
                }
            }
            if !changed {
                return Some(dist);
            }
            if round == nodes.len() {
                return None;
            }
        }
        Some(dist)
    };
    let upper = shortest(reference, false)?;
    let lower = shortest(reference, true)?;
    Some(
        nodes
            .iter()
            .map(|&n| (n, (lower.get(&n).map(|d| -d), upper.get(&n).copied())))
            .collect(),
    )
}
