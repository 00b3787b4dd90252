//! Who could not reach whom: `partition` and `node_unreachable`.
//!
//! Every CLIENT span is a call from its node to a callee: the node of its
//! SERVER child when one was collected, else its `server.address` /
//! `peer.service` when that names a node of the data. A call *reached* its
//! callee when the server span exists or the client got an answer (success,
//! an HTTP status, a gRPC status other than `DEADLINE_EXCEEDED` or
//! `UNAVAILABLE`); it *failed to reach* it when it ended in error with none
//! of those (a timeout, a refused or reset connection). A slow server, a
//! lost reply or a 503 are answers or server spans, so none of them is a
//! failure to reach.
//!
//! In time order, [`MIN_FAILED`] or more failed calls with no call reaching
//! in between are a *run*: the link was down at least from its first
//! failure to its last. Runs are found per callee first (the
//! failures of two or more callers to reach one node, no call reaching it
//! in between: evidence even when each link of a wide fan-out saw one or
//! two calls), then per caller and callee over the calls left. A single
//! failed call followed by a retry that reached is no run. Runs whose
//! failures overlap in time are one episode, judged in two steps:
//!
//! - **`node_unreachable`** first: a node that no call reached while calls
//!   to it failed, which two or more callers failed to reach or which sent
//!   no span meanwhile, is dead, paused or cut off from everyone (the
//!   finding says which: alive and isolated, or silent). It is judged with
//!   its own calls, apart from the rest of the episode, so a node that died
//!   while a partition went on elsewhere is neither folded into it nor
//!   hides it.
//! - then each set of nodes the remaining calls connect, by **the sides**:
//!   calls that reached put their two nodes on one side, a failed run puts
//!   them on two (its direction's successes are left out). One side a
//!   single node nothing reached is `node_unreachable` again; otherwise a
//! - **`partition`**, **full** when nothing crossed, **asymmetric**
//!   when one side's calls failed while the other side's calls to it
//!   reached, **partial** when calls across still reached in the direction
//!   that failed (more than one in twenty: a few at the edges are links
//!   healing one by one), a node outside reached both sides (a bridge), or
//!   the failures do not split in two.
//!
//! The time bounds are an interval: failing at least from the first
//! failure to the last, and at most from the last call that reached before
//! (into the unreachable node, or across the cut the way calls failed) to
//! the first that reached after (none: not healed in the data read). Times are the
//! callers' clocks, shifted onto the reference clock for a node whose
//! offset was judged unhealthy in that window (`node_offsets`), so a
//! skewed caller's failures fall into the right episode.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::{HashMap, HashSet};
use serde_json::json;

use super::offsets::NodeOffset;
use super::{DetectConfig, Facts, Finding, FindingKind, Severity, UnionFind, Verdict, event_json};
use crate::fmt::human_ns;
use crate::graph::{EventId, Graph, SpanKind};

/// Failed calls in a row, per caller and callee, that make a run.
pub const MIN_FAILED: usize = 3;
/// A partition is partial when more than one call in this many across,
/// the way calls failed, reached.
const PARTIAL_SHARE: usize = 20;
/// Failed calls a finding's witness shows, at most.
const WITNESS_CALLS: usize = 6;

/// gRPC codes a client raises itself when no server answered.
const UNANSWERED_GRPC: [i64; 2] = [4, 14];

/// One call: when, who to whom, and whether it reached.
#[derive(Debug, Clone, Copy)]
struct Call {
    at: i64,
    span: u32,
    caller: u32,
    callee: u32,
    reached: bool,
}

/// Consecutive failed calls of one caller to one callee.
#[derive(Debug)]
struct Run {
    caller: u32,
    callee: u32,
    /// The failed calls, in time order.
    failed: Vec<Call>,
    /// From the first failure to the last: the link's own, or, for a run
    /// found per callee, the callee's (so its callers' runs stay together).
    from: i64,
    to: i64,
}

impl Run {
    fn new(failed: Vec<Call>, (from, to): (i64, i64)) -> Run {
        Run {
            caller: failed[0].caller,
            callee: failed[0].callee,
            failed,
            from,
            to,
        }
    }
}

/// Shifts a node's times onto the reference clock where its offset was
/// judged unhealthy: a node whose clock is seconds off would otherwise put
/// its calls into another episode.
struct Clocks {
    window_ns: i64,
    shift: HashMap<(u32, i64), i64>,
}

impl Clocks {
    fn new(node_of: &HashMap<&str, u32>, offsets: &[NodeOffset], window_ns: i64) -> Clocks {
        let shift = offsets
            .iter()
            .filter(|o| o.verdict == Verdict::Unhealthy)
            .filter_map(|o| {
                let node = *node_of.get(o.node.as_str())?;
                let mid = (o.lower_ns? / 2).saturating_add(o.upper_ns? / 2);
                Some(((node, o.window_start.div_euclid(window_ns)), mid))
            })
            .collect();
        Clocks {
            window_ns: window_ns.max(1),
            shift,
        }
    }

    /// `t`, read on `node`'s clock, on the reference clock.
    fn at(&self, node: u32, t: i64) -> i64 {
        let window = t.div_euclid(self.window_ns);
        t - self.shift.get(&(node, window)).copied().unwrap_or(0)
    }
}

/// The calls of the data, each with its callee and whether it reached.
fn calls(g: &Graph, facts: &Facts, node_of: &HashMap<&str, u32>, clocks: &Clocks) -> Vec<Call> {
    // The server child of each client span.
    let mut served: HashMap<u32, u32> = HashMap::new();
    for span in &g.spans {
        if span.kind == SpanKind::Server
            && let Some(p) = span.parent()
            && g.spans[p as usize].kind == SpanKind::Client
        {
            served.insert(p, span.node);
        }
    }
    let mut calls = Vec::new();
    for (i, span) in g.spans.iter().enumerate() {
        if span.kind != SpanKind::Client {
            continue;
        }
        let f = facts.of(i as u32);
        let server = served.get(&(i as u32)).copied();
        let callee = server.or_else(|| {
            facts
                .str(f.and_then(|f| f.peer))
                .and_then(|p| node_of.get(p).copied())
        });
        let Some(callee) = callee.filter(|&c| c != span.node) else {
            continue;
        };
        let answered = f.is_some_and(|f| {
            f.http_status.is_some() || f.grpc_status.is_some_and(|c| !UNANSWERED_GRPC.contains(&c))
        });
        calls.push(Call {
            at: clocks.at(span.node, span.start),
            span: i as u32,
            caller: span.node,
            callee,
            reached: !span.error || server.is_some() || answered,
        });
    }
    calls
}

/// Failures in a row in `calls` (time order), with no call reaching in
/// between.
fn segments(calls: &[Call]) -> impl Iterator<Item = &[Call]> {
    calls
        .split(|c| c.reached)
        .filter(|failed| !failed.is_empty())
}

/// The span of time of failed calls in time order.
fn span_of(failed: &[Call]) -> (i64, i64) {
    (failed[0].at, failed[failed.len() - 1].at)
}

/// The runs of failed calls. First per callee, whoever called: failures
/// from two or more callers with no call reaching it in between say the
/// callee was unreachable even when each link of a wide fan-out saw one or
/// two calls; they become one run per caller, over the callee's span of
/// time. Then per caller and callee, over the calls left.
fn runs(calls: &mut [Call]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut taken: HashSet<u32> = HashSet::new();
    calls.sort_unstable_by_key(|c| (c.callee, c.at, c.span));
    for callee in calls.chunk_by(|a, b| a.callee == b.callee) {
        for failed in segments(callee) {
            let callers: BTreeSet<u32> = failed.iter().map(|c| c.caller).collect();
            if failed.len() < MIN_FAILED || callers.len() < 2 {
                continue;
            }
            taken.extend(failed.iter().map(|c| c.span));
            for caller in callers {
                let of_caller = failed.iter().filter(|c| c.caller == caller).copied();
                runs.push(Run::new(of_caller.collect(), span_of(failed)));
            }
        }
    }
    calls.sort_unstable_by_key(|c| (c.caller, c.callee, c.at, c.span));
    for link in calls.chunk_by(|a, b| (a.caller, a.callee) == (b.caller, b.callee)) {
        let left: Vec<Call> = link
            .iter()
            .filter(|c| !taken.contains(&c.span))
            .copied()
            .collect();
        for failed in segments(&left) {
            if failed.len() >= MIN_FAILED {
                runs.push(Run::new(failed.to_vec(), span_of(failed)));
            }
        }
    }
    runs
}

/// `partition` and `node_unreachable` findings.
pub fn detect(
    g: &Graph,
    facts: &Facts,
    offsets: &[NodeOffset],
    config: &DetectConfig,
) -> Vec<Finding> {
    let node_of: HashMap<&str, u32> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let clocks = Clocks::new(&node_of, offsets, config.window_ns);
    let mut calls = calls(g, facts, &node_of, &clocks);
    let mut runs = runs(&mut calls);
    if runs.is_empty() {
        return Vec::new();
    }
    // Calls by time, for each episode's successes and failures.
    calls.sort_unstable_by_key(|c| (c.at, c.span));
    let (reached, failed) = calls.into_iter().partition(|c| c.reached);
    let timeline = Timeline {
        reached,
        failed,
        graph: g,
        clocks: &clocks,
        open: config.read_until.is_some(),
    };

    runs.sort_by_key(|r| (r.from, r.caller, r.callee));
    // Episodes: runs whose failures overlap in time.
    let mut episodes: Vec<Vec<&Run>> = Vec::new();
    let mut until = i64::MIN;
    for run in &runs {
        match episodes.last_mut() {
            Some(episode) if run.from <= until => episode.push(run),
            _ => episodes.push(vec![run]),
        }
        until = until.max(run.to);
    }
    let mut out = Vec::new();
    for episode in &episodes {
        let rest = unreachable_first(g, episode, &timeline, &mut out);
        for group in split(&rest, &timeline) {
            out.extend(judge(g, &group, &timeline));
        }
    }
    out
}

/// Judges first each node that no call reached while calls to it failed
/// (and that sent nothing meanwhile, or that two or more callers failed to
/// reach), with its own calls: one `node_unreachable` each, so a node that
/// died while a partition went on elsewhere is not folded into it. Returns
/// the runs left.
fn unreachable_first<'a>(
    g: &Graph,
    runs: &[&'a Run],
    timeline: &Timeline<'_>,
    out: &mut Vec<Finding>,
) -> Vec<&'a Run> {
    let callees: BTreeSet<u32> = runs.iter().map(|r| r.callee).collect();
    let mut left: Vec<&Run> = runs.to_vec();
    for x in callees {
        let to_x: Vec<&Run> = left.iter().copied().filter(|r| r.callee == x).collect();
        if to_x.is_empty() {
            continue;
        }
        let (from, to) = window(&to_x);
        if !timeline.unreachable(x, from, to) {
            continue;
        }
        let (own, rest): (Vec<&Run>, Vec<&Run>) = left
            .into_iter()
            .partition(|r| r.callee == x || r.caller == x);
        out.extend(judge(g, &own, timeline));
        left = rest;
    }
    left
}

/// Every call by time, and the spans, for what a node sent.
struct Timeline<'a> {
    reached: Vec<Call>,
    failed: Vec<Call>,
    graph: &'a Graph,
    clocks: &'a Clocks,
    /// More data follows what was read (a report window).
    open: bool,
}

impl Timeline<'_> {
    /// The calls of `calls` from `from` to `to`, both included.
    fn between(calls: &[Call], from: i64, to: i64) -> &[Call] {
        let lo = calls.partition_point(|c| c.at < from);
        let hi = calls.partition_point(|c| c.at <= to);
        &calls[lo..hi]
    }

    /// Every caller that failed to reach `x` from `from` to `to`, runs or
    /// not, in index order.
    fn callers_failing(&self, x: u32, from: i64, to: i64) -> Vec<u32> {
        let callers: BTreeSet<u32> = Self::between(&self.failed, from, to)
            .iter()
            .filter(|c| c.callee == x)
            .map(|c| c.caller)
            .collect();
        callers.into_iter().collect()
    }

    /// Whether no call reached `x` from `from` to `to` while calls to it
    /// failed, and it either sent nothing meanwhile or two or more callers
    /// failed to reach it: dead, paused or cut off from everyone.
    fn unreachable(&self, x: u32, from: i64, to: i64) -> bool {
        !Self::between(&self.reached, from, to)
            .iter()
            .any(|c| c.callee == x)
            && (!self.sent(x, from, to) || self.callers_failing(x, from, to).len() >= 2)
    }

    /// Whether `node` started a span from `from` to `to`: asked only of a
    /// node no call reached, once per episode, so a scan.
    fn sent(&self, node: u32, from: i64, to: i64) -> bool {
        self.graph
            .spans
            .iter()
            .any(|s| s.node == node && (from..=to).contains(&self.clocks.at(node, s.start)))
    }
}

/// Splits an episode into the node sets its calls connect.
fn split<'a>(runs: &[&'a Run], timeline: &Timeline<'_>) -> Vec<Vec<&'a Run>> {
    let (from, to) = window(runs);
    let failing: BTreeSet<(u32, u32)> = runs.iter().map(|r| (r.caller, r.callee)).collect();
    let involved: BTreeSet<u32> = failing.iter().flat_map(|&(a, b)| [a, b]).collect();
    // Failed links and calls that reached among the nodes involved.
    let mut sets = UnionFind::new(timeline.graph.nodes.len());
    for &(a, b) in &failing {
        sets.union(a, b);
    }
    for c in Timeline::between(&timeline.reached, from, to) {
        if involved.contains(&c.caller) && involved.contains(&c.callee) {
            sets.union(c.caller, c.callee);
        }
    }
    let mut groups: BTreeMap<u32, Vec<&Run>> = BTreeMap::new();
    for &r in runs {
        groups.entry(sets.find(r.caller)).or_default().push(r);
    }
    groups.into_values().collect()
}

/// From the first failure of `runs` to the last.
fn window(runs: &[&Run]) -> (i64, i64) {
    let from = runs.iter().map(|r| r.from).min().unwrap_or(0);
    let to = runs.iter().map(|r| r.to).max().unwrap_or(0);
    (from, to)
}

/// The two sides of a set of failed links, each in name order: nodes that
/// reached each other on one side, the ends of a failed link on two; and
/// whether the failures split the nodes in two.
fn sides(
    names: &[String],
    failing: &BTreeSet<(u32, u32)>,
    within: &[(u32, u32)],
) -> (Vec<u32>, Vec<u32>, bool) {
    let mut same = UnionFind::new(names.len());
    for &(a, b) in within {
        same.union(a, b);
    }
    let nodes: BTreeSet<u32> = failing.iter().flat_map(|&(a, b)| [a, b]).collect();
    // Two-colour the groups, failed links between colours.
    let mut colour: HashMap<u32, bool> = HashMap::new();
    let mut split = true;
    let mut across: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(a, b) in failing {
        let (ga, gb) = (same.find(a), same.find(b));
        if ga == gb {
            split = false;
            continue;
        }
        across.entry(ga).or_default().push(gb);
        across.entry(gb).or_default().push(ga);
    }
    let mut groups: Vec<u32> = nodes.iter().map(|&n| same.find(n)).collect();
    groups.sort_unstable();
    groups.dedup();
    for &start in &groups {
        if colour.contains_key(&start) {
            continue;
        }
        colour.insert(start, false);
        let mut stack = vec![start];
        while let Some(g) = stack.pop() {
            let c = colour[&g];
            for &h in across.get(&g).into_iter().flatten() {
                match colour.get(&h) {
                    Some(&d) if d == c => split = false,
                    Some(_) => {}
                    None => {
                        colour.insert(h, !c);
                        stack.push(h);
                    }
                }
            }
        }
    }
    let (mut a, mut b): (Vec<u32>, Vec<u32>) = nodes.iter().partition(|&&n| !colour[&same.find(n)]);
    a.sort_by_key(|&n| &names[n as usize]);
    b.sort_by_key(|&n| &names[n as usize]);
    // The smaller side first; on a tie, the one with the first name.
    let first = |side: &[u32]| side.first().map(|&n| &names[n as usize]);
    if (b.len(), first(&b)) < (a.len(), first(&a)) {
        std::mem::swap(&mut a, &mut b);
    }
    (a, b, split)
}

/// `{a, b}`, in name order.
fn names(g: &Graph, nodes: &[u32]) -> String {
    let mut names: Vec<&str> = nodes
        .iter()
        .map(|&n| g.nodes[n as usize].as_str())
        .collect();
    names.sort_unstable();
    format!("{{{}}}", names.join(", "))
}

/// One finding about the runs of one set of nodes.
fn judge(g: &Graph, runs: &[&Run], timeline: &Timeline<'_>) -> Option<Finding> {
    let (from, to) = window(runs);
    let successes = Timeline::between(&timeline.reached, from, to);
    let failing: BTreeSet<(u32, u32)> = runs.iter().map(|r| (r.caller, r.callee)).collect();
    let involved: BTreeSet<u32> = failing.iter().flat_map(|&(a, b)| [a, b]).collect();
    let within: Vec<(u32, u32)> = successes
        .iter()
        .filter(|c| {
            involved.contains(&c.caller)
                && involved.contains(&c.callee)
                && !failing.contains(&(c.caller, c.callee))
                && !failing.contains(&(c.callee, c.caller))
        })
        .map(|c| (c.caller, c.callee))
        .collect();
    // A caller's failure or two, caught in another node's run, between
    // nodes that otherwise reached each other meanwhile, is noise (a lost
    // request a retry covered): judged without it.
    let mut reaching = UnionFind::new(g.nodes.len());
    for &(x, y) in &within {
        reaching.union(x, y);
    }
    let kept: Vec<&Run> = runs
        .iter()
        .copied()
        .filter(|r| {
            r.failed.len() >= MIN_FAILED || reaching.find(r.caller) != reaching.find(r.callee)
        })
        .collect();
    if kept.len() < runs.len() {
        return if kept.is_empty() {
            None
        } else {
            judge(g, &kept, timeline)
        };
    }
    let (a, b, split) = sides(&g.nodes, &failing, &within);
    let side_of = |n: u32| {
        if a.contains(&n) {
            Some(0)
        } else if b.contains(&n) {
            Some(1)
        } else {
            None
        }
    };
    let failed: usize = runs.iter().map(|r| r.failed.len()).sum();
    // Directions that failed, and what crossed or stayed within meanwhile.
    let a_to_b = failing.iter().any(|&(x, _)| side_of(x) == Some(0));
    let b_to_a = failing.iter().any(|&(x, _)| side_of(x) == Some(1));
    let (mut across_failing_way, mut across_other_way, mut within_count) = (0usize, 0usize, 0usize);
    let mut bridges: BTreeMap<u32, [bool; 2]> = BTreeMap::new();
    for c in successes {
        match (side_of(c.caller), side_of(c.callee)) {
            (Some(x), Some(y)) if x == y => within_count += 1,
            (Some(x), Some(_)) => {
                let failing_way = if x == 0 { a_to_b } else { b_to_a };
                if failing_way {
                    across_failing_way += 1;
                } else {
                    across_other_way += 1;
                }
            }
            (None, Some(y)) | (Some(y), None) => {
                let outside = if side_of(c.caller).is_none() {
                    c.caller
                } else {
                    c.callee
                };
                bridges.entry(outside).or_default()[y] = true;
            }
            (None, None) => {}
        }
    }
    let bridges: Vec<u32> = bridges
        .into_iter()
        .filter(|(_, [x, y])| *x && *y)
        .map(|(n, _)| n)
        .collect();

    // One node every caller failed to reach, and nothing reached.
    let unreachable = [&a, &b]
        .into_iter()
        .filter(|side| side.len() == 1)
        .map(|side| side[0])
        .find(|&x| {
            failing.iter().any(|&(_, callee)| callee == x) && timeline.unreachable(x, from, to)
        });
    // The bounds: the last call that reached before and the first after,
    // into the unreachable node, or across the cut the way calls failed.
    let crosses = |c: &Call| match unreachable {
        Some(x) => c.callee == x,
        None => match (side_of(c.caller), side_of(c.callee)) {
            (Some(0), Some(1)) => a_to_b,
            (Some(1), Some(0)) => b_to_a,
            _ => false,
        },
    };
    let reached = &timeline.reached;
    let last_before = reached[..reached.partition_point(|c| c.at < from)]
        .iter()
        .rev()
        .find(|c| crosses(c))
        .copied();
    let first_after = reached[reached.partition_point(|c| c.at <= to)..]
        .iter()
        .find(|c| crosses(c))
        .copied();

    let mut witness_calls: Vec<Call> = runs
        .iter()
        .flat_map(|r| [r.failed[0], r.failed[r.failed.len() - 1]])
        .collect();
    witness_calls.sort_unstable_by_key(|c| (c.at, c.span));
    witness_calls.dedup_by_key(|c| c.span);
    witness_calls.truncate(WITNESS_CALLS);
    let mut events: Vec<EventId> = witness_calls
        .iter()
        .map(|c| g.spans[c.span as usize].start_event)
        .collect();
    events.extend(
        [last_before, first_after]
            .into_iter()
            .flatten()
            .map(|c| g.spans[c.span as usize].start_event),
    );
    let at = crate::fmt::rfc3339;
    let bounds = format!(
        "failing from {} to {} ({}){}",
        at(from),
        at(to),
        human_ns(to - from),
        match first_after {
            Some(c) => format!(", reached again at {}", at(c.at)),
            None if timeline.open => {
                ", not reached again up to the end of what this window read with its horizon (later data was not read with it)".to_owned()
            }
            None => ", not reached again in the data read".to_owned(),
        }
    );
    let links: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            json!({
                "caller": g.nodes[r.caller as usize],
                "callee": g.nodes[r.callee as usize],
                "failed_calls": r.failed.len(),
                "first_failure_ns": r.failed[0].at,
                "last_failure_ns": r.failed[r.failed.len() - 1].at,
            })
        })
        .collect();
    let window = json!({
        "first_failure_ns": from,
        "last_failure_ns": to,
        "last_success_before_ns": last_before.map(|c| c.at),
        "first_success_after_ns": first_after.map(|c| c.at),
    });
    let witness = json!({
        "failed_calls": witness_calls.iter().map(|c| event_json(g, g.spans[c.span as usize].start_event)).collect::<Vec<_>>(),
        "last_success_before": last_before.map(|c| event_json(g, g.spans[c.span as usize].start_event)),
        "first_success_after": first_after.map(|c| event_json(g, g.spans[c.span as usize].start_event)),
    });

    if let Some(x) = unreachable {
        let callers = timeline.callers_failing(x, from, to);
        let alive = timeline.sent(x, from, to);
        let mut f = Finding::about(g, FindingKind::NodeUnreachable, Severity::High, &events);
        let node = g.nodes[x as usize].clone();
        f.nodes = std::iter::once(x)
            .chain(callers.iter().copied())
            .map(|n| g.nodes[n as usize].clone())
            .collect();
        f.time = from;
        f.magnitude = Some(failed as i64);
        f.summary = format!(
            "Every caller of {node} ({} callers: {}) failed to reach it, {failed} failed calls and none that reached, {bounds}; {}.",
            callers.len(),
            names(g, &callers),
            if alive {
                format!("{node} kept sending spans meanwhile: alive but cut off from its callers")
            } else {
                format!("{node} sent no span meanwhile: dead, paused or cut off")
            }
        );
        f.evidence = json!({
            "node": node,
            "callers": callers.iter().map(|&n| &g.nodes[n as usize]).collect::<Vec<_>>(),
            "failed_calls": failed,
            "sent_spans_meanwhile": alive,
            "window": window,
            "links": links,
        });
        f.witness = witness;
        return Some(f);
    }

    // A few calls across that reached while links healed one by one at
    // the edges do not make a partition partial; one in twenty does.
    let leaky = across_failing_way * PARTIAL_SHARE > failed;
    let partial = !split || leaky || !bridges.is_empty();
    let asymmetric = !partial && a_to_b != b_to_a && across_other_way > 0;
    let mode = if partial {
        "partial"
    } else if asymmetric {
        "asymmetric"
    } else {
        "full"
    };
    let (sa, sb) = (names(g, &a), names(g, &b));
    let reach = match (a_to_b, b_to_a) {
        (true, true) => format!("{sa} and {sb} could not reach each other"),
        (true, false) => format!("{sa} could not reach {sb}"),
        _ => format!("{sb} could not reach {sa}"),
    };
    let how = match mode {
        "partial" if !bridges.is_empty() => format!(
            "a partial partition: {} still reached both sides",
            names(g, &bridges)
        ),
        "partial" if leaky => {
            format!("a partial partition: {across_failing_way} calls across still reached")
        }
        "partial" => "a partial partition: the failures do not split the nodes in two".to_owned(),
        "asymmetric" => {
            format!("an asymmetric partition: {across_other_way} calls the other way reached")
        }
        _ => format!("{across_failing_way} calls across reached"),
    };
    let mut f = Finding::about(g, FindingKind::Partition, Severity::High, &events);
    f.nodes = a
        .iter()
        .chain(&b)
        .map(|&n| g.nodes[n as usize].clone())
        .collect();
    f.key = Some(format!("{} | {}", names(g, &a), names(g, &b)));
    f.time = from;
    f.magnitude = Some(failed as i64);
    f.summary = format!(
        "{reach}, {bounds}: {failed} failed calls, {how}; {within_count} calls within the sides reached meanwhile."
    );
    f.evidence = json!({
        "mode": mode,
        "side_a": a.iter().map(|&n| &g.nodes[n as usize]).collect::<Vec<_>>(),
        "side_b": b.iter().map(|&n| &g.nodes[n as usize]).collect::<Vec<_>>(),
        "a_to_b_failed": a_to_b,
        "b_to_a_failed": b_to_a,
        "failed_calls": failed,
        "reached_across_failing_way": across_failing_way,
        "reached_across_other_way": across_other_way,
        "reached_within": within_count,
        "bridges": bridges.iter().map(|&n| &g.nodes[n as usize]).collect::<Vec<_>>(),
        "window": window,
        "links": links,
    });
    f.witness = witness;
    Some(f)
}
