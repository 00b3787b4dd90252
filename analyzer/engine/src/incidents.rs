//! Incidents: findings grouped by the one cause they share, so a report
//! says "three things went wrong" instead of listing 26,000 findings.
//!
//! Every finding belongs to exactly one incident. The rules, in order:
//!
//! 1. **The kind of cause** follows from the finding's kind
//!    ([`FindingKind::cause`]): a wall-clock finding (skew, jump, HLC drift,
//!    offset inconsistency, causality violation, LWW inversion) is
//!    [`Cause::ClockSkew`]; a logical clock that did not grow along an edge
//!    is [`Cause::ClockProtocol`]; an unparseable clock is
//!    [`Cause::Instrumentation`]; a concurrent write is
//!    [`Cause::WriteConflict`]; a retry finding is [`Cause::Retry`]; a
//!    suspected or unreachable node is [`Cause::NodeFailure`]; a partition
//!    is [`Cause::NetworkPartition`]; a gray failure is [`Cause::GrayFailure`].
//! 2. **The anchor** says what the cause is about:
//!    - clock skew: one node. Findings that name a node's own clock
//!      (`skew_exceeds_max_offset`, `hlc_drift`, `clock_jump`) anchor on it;
//!      those nodes are *named*. A finding between two nodes (a causality
//!      violation, an offset inconsistency, an LWW inversion) anchors on its
//!      named node (the one with more named findings if both are). The
//!      rest are covered greedily: the node that takes part in most of them
//!      explains them all, then the next, until none is left (the fewest
//!      skewed clocks that explain what was seen). Nodes whose offset was
//!      judged healthy, and the offsets' reference nodes, are chosen last.
//!      So one skewed node gives one incident, and two skewed nodes that
//!      each disagree with healthy peers give two.
//!    - clock protocol: the node whose clock should have grown (the
//!      effect's); instrumentation: the node that sent the attribute;
//!    - write conflict: the key;
//!    - retry: the client node and the request (`POST /orders`);
//!    - node failure: the node suspected or unreachable;
//!    - network partition: its two sides (`{a, b} | {c}`); a `suspected`
//!      between its two sides while it lasted is the partition's too;
//!    - gray failure: the instance and the operation (`kv-2 GET /kv/{key}`).
//! 3. **Time**: the findings of one anchor form one incident as long as
//!    each comes within [`DEFAULT_GAP_NS`] (30 minutes) of the one before;
//!    a longer quiet stretch starts a new incident.
//!
//! An incident's severity is its worst finding's; its findings are ranked
//! by severity, then size (magnitude), then time, and the first is its
//! best witness. Incidents are ranked by severity, then by how many
//! findings they explain, then by time.
//!
//! An incident's id, `CAUSE:ANCHOR@FIRST_SEEN`, is what `findings.incident_id`
//! holds; its fingerprint, `CAUSE:ANCHOR`, is what `--compare-to` matches
//! across reports (the same skewed node tomorrow is "continuing").

use std::collections::BTreeMap;

use causet_schema::kinds::{Cause, Verdict};
use hashbrown::{HashMap, HashSet};
use serde_json::Value;

use crate::detect::offsets::NodeOffset;
use crate::detect::{Finding, FindingKind, Severity};
use crate::fmt::{human_ns, rfc3339, some, thousands};

/// The quiet stretch after which findings of one anchor start a new
/// incident.
pub const DEFAULT_GAP_NS: i64 = 30 * 60 * 1_000_000_000;

/// Findings that share a cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `CAUSE:ANCHOR@FIRST_SEEN` (RFC 3339).
    pub id: String,
    /// The kind of cause.
    pub cause: Cause,
    /// What it is about: a node, a key, or a client and request.
    pub anchor: String,
    /// How the anchor was found.
    pub attribution: Attribution,
    /// Its worst finding's severity.
    pub severity: Severity,
    /// Its first finding's time, ns.
    pub first_ns: i64,
    /// Its last finding's time, ns.
    pub last_ns: i64,
    /// Nodes its findings name, sorted.
    pub nodes: Vec<String>,
    /// Keys its findings name, sorted.
    pub keys: Vec<String>,
    /// Findings per kind.
    pub counts: BTreeMap<FindingKind, usize>,
    /// Its findings (indexes into the slice grouped), best witness first.
    pub findings: Vec<usize>,
    /// One sentence.
    pub summary: String,
}

impl Incident {
    /// `CAUSE:ANCHOR`: the same cause in another report.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.cause, &self.anchor)
    }

    /// Its best witness (an index into the slice grouped).
    pub fn best(&self) -> usize {
        self.findings[0]
    }
}

/// How an incident's anchor was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// A finding names it: the key, the client, a clock judged on its own.
    Named,
    /// Clock skew: no finding judged the node's clock; it is the node the
    /// findings have in common.
    Inferred,
    /// Clock skew: two nodes' clocks disagree and nothing tells which one
    /// is wrong (no third node bounds either); the anchor names both.
    Pair,
}

/// `CAUSE:ANCHOR`.
pub fn fingerprint(cause: Cause, anchor: &str) -> String {
    format!("{cause}:{anchor}")
}

/// Groups `findings` into incidents, ranked worst first. `offsets` tells
/// healthy clocks from suspects; `gap_ns` splits an anchor's findings in time.
pub fn group(findings: &[&Finding], offsets: &[NodeOffset], gap_ns: i64) -> Vec<Incident> {
    let (mut anchors, attributions) = anchors(findings, offsets);
    let mut causes: Vec<Cause> = findings.iter().map(|f| f.kind.cause()).collect();
    across_partitions(findings, &mut causes, &mut anchors);
    let mut by_anchor: BTreeMap<(Cause, &str), Vec<usize>> = BTreeMap::new();
    for (i, anchor) in anchors.iter().enumerate() {
        by_anchor
            .entry((causes[i], anchor.as_str()))
            .or_default()
            .push(i);
    }
    let mut incidents = Vec::new();
    for ((cause, anchor), mut members) in by_anchor {
        members.sort_by_key(|&i| (findings[i].time, i));
        let mut run: Vec<usize> = Vec::new();
        for i in members {
            if let Some(&last) = run.last()
                && findings[i].time.saturating_sub(findings[last].time) > gap_ns
            {
                incidents.push(incident(
                    findings,
                    cause,
                    anchor,
                    attribution(&attributions, anchor),
                    std::mem::take(&mut run),
                ));
            }
            run.push(i);
        }
        if !run.is_empty() {
            incidents.push(incident(
                findings,
                cause,
                anchor,
                attribution(&attributions, anchor),
                run,
            ));
        }
    }
    incidents.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.findings.len().cmp(&a.findings.len()))
            .then(a.first_ns.cmp(&b.first_ns))
            .then(a.id.cmp(&b.id))
    });
    incidents
}

/// A monitor's suspicion of a node on the other side of a partition, while
/// the partition lasted (from the last call across that reached before it
/// to the first after), is the partition's, not a node failure: moved to
/// its incident.
fn across_partitions(findings: &[&Finding], causes: &mut [Cause], anchors: &mut [String]) {
    let side = |f: &Finding, name: &str| -> Vec<String> {
        f.evidence[name]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    /// A partition's span of time, sides and anchor.
    struct Cut {
        during: std::ops::RangeInclusive<i64>,
        a: Vec<String>,
        b: Vec<String>,
        anchor: String,
    }
    let partitions: Vec<Cut> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::Partition)
        .filter_map(|f| {
            let window = &f.evidence["window"];
            let from = window["last_success_before_ns"]
                .as_i64()
                .or(window["first_failure_ns"].as_i64())?;
            let to = window["first_success_after_ns"]
                .as_i64()
                .unwrap_or(i64::MAX);
            Some(Cut {
                during: from..=to,
                a: side(f, "side_a"),
                b: side(f, "side_b"),
                anchor: f.key.clone()?,
            })
        })
        .collect();
    if partitions.is_empty() {
        return;
    }
    for (i, f) in findings.iter().enumerate() {
        let [monitored, monitor] = f.nodes.as_slice() else {
            continue;
        };
        if f.kind != FindingKind::Suspected {
            continue;
        }
        let across = |a: &[String], b: &[String]| a.contains(monitored) && b.contains(monitor);
        if let Some(cut) = partitions
            .iter()
            .find(|c| c.during.contains(&f.time) && (across(&c.a, &c.b) || across(&c.b, &c.a)))
        {
            causes[i] = Cause::NetworkPartition;
            anchors[i] = cut.anchor.clone();
        }
    }
}

/// The incident of each finding (an index into `incidents`).
pub fn of_findings(incidents: &[Incident], findings: usize) -> Vec<u32> {
    let mut of = vec![0; findings];
    for (n, incident) in incidents.iter().enumerate() {
        for &i in &incident.findings {
            of[i] = n as u32;
        }
    }
    of
}

/// Kinds that judge one node's own clock: they name the skewed node.
fn names_a_clock(kind: FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::SkewExceedsMaxOffset | FindingKind::HlcDrift | FindingKind::ClockJump
    )
}

fn attribution(found: &HashMap<String, Attribution>, anchor: &str) -> Attribution {
    found.get(anchor).copied().unwrap_or(Attribution::Named)
}

/// Joins the two nodes of a [`Attribution::Pair`] anchor.
const PAIR: &str = " + ";

/// Each finding's anchor, and how the clock-skew anchors that no finding
/// names were found.
fn anchors<'a>(
    findings: &[&'a Finding],
    offsets: &'a [NodeOffset],
) -> (Vec<String>, HashMap<String, Attribution>) {
    let mut anchors: Vec<Option<String>> = findings
        .iter()
        .map(|f| match f.kind.cause() {
            Cause::ClockSkew => names_a_clock(f.kind).then(|| first_node(f)),
            Cause::ClockProtocol => Some(f.nodes.last().cloned().unwrap_or_default()),
            Cause::Instrumentation => Some(first_node(f)),
            Cause::WriteConflict => Some(f.key.clone().unwrap_or_default()),
            Cause::Retry => Some(retry_anchor(f)),
            Cause::NodeFailure => Some(first_node(f)),
            Cause::NetworkPartition => Some(f.key.clone().unwrap_or_else(|| first_node(f))),
            Cause::GrayFailure => Some(format!(
                "{} {}",
                first_node(f),
                f.key.as_deref().unwrap_or("?")
            )),
        })
        .collect();

    // Named clocks explain the pairs they take part in.
    let mut named: HashMap<&str, usize> = HashMap::new();
    for &f in findings.iter().filter(|f| names_a_clock(f.kind)) {
        if let Some(node) = f.nodes.first() {
            *named.entry(node.as_str()).or_default() += 1;
        }
    }
    let mut open: Vec<usize> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if anchors[i].is_some() {
            continue;
        }
        let best = f
            .nodes
            .iter()
            .filter_map(|n| named.get(n.as_str()).map(|&c| (c, std::cmp::Reverse(n))))
            .max();
        match best {
            Some((_, std::cmp::Reverse(node))) => anchors[i] = Some(node.clone()),
            None => open.push(i),
        }
    }

    // The rest: the fewest nodes that take part in all of them, greedily.
    let mut healthy: HashSet<&str> = HashSet::new();
    let mut unhealthy: HashSet<&str> = HashSet::new();
    for o in offsets {
        healthy.insert(o.reference.as_str());
        match o.verdict {
            Verdict::Healthy => {
                healthy.insert(o.node.as_str());
            }
            Verdict::Unhealthy => {
                unhealthy.insert(o.node.as_str());
            }
            Verdict::Ambiguous | Verdict::Unknown => {}
        }
    }
    // Least suspect first: a reference, then a node judged healthy.
    let references: HashSet<&str> = offsets.iter().map(|o| o.reference.as_str()).collect();
    let rank = |n: &str| {
        (
            !healthy.contains(n) || unhealthy.contains(n),
            !references.contains(n),
        )
    };
    let mut involving: HashMap<&str, Vec<usize>> = HashMap::new();
    for &i in &open {
        for n in &findings[i].nodes {
            involving.entry(n.as_str()).or_default().push(i);
        }
    }
    let mut left: HashMap<&str, usize> = involving.iter().map(|(n, l)| (*n, l.len())).collect();
    let mut found: HashMap<String, Attribution> = HashMap::new();
    while let Some((node, count)) = left
        .iter()
        .filter(|(_, c)| **c > 0)
        .max_by_key(|(n, c)| (rank(n), **c, std::cmp::Reverse(**n)))
        .map(|(n, c)| (*n, *c))
    {
        let covered: Vec<usize> = involving[node]
            .iter()
            .copied()
            .filter(|&i| anchors[i].is_none())
            .collect();
        // A node just as suspect that takes part in every one of them:
        // nothing tells the two apart.
        let twin = left
            .iter()
            .filter(|&(m, c)| *m != node && *c == count && rank(m) == rank(node))
            .map(|(m, _)| *m)
            .filter(|m| {
                covered
                    .iter()
                    .all(|&i| findings[i].nodes.iter().any(|n| n == m))
            })
            .min();
        let (anchor, how) = match twin {
            Some(m) => (
                format!("{}{PAIR}{}", m.min(node), m.max(node)),
                Attribution::Pair,
            ),
            None => (node.to_owned(), Attribution::Inferred),
        };
        found.insert(anchor.clone(), how);
        for i in covered {
            anchors[i] = Some(anchor.clone());
            for n in &findings[i].nodes {
                if let Some(c) = left.get_mut(n.as_str()) {
                    *c = c.saturating_sub(1);
                }
            }
        }
    }
    let anchors = anchors.into_iter().map(Option::unwrap_or_default).collect();
    (anchors, found)
}

fn first_node(f: &Finding) -> String {
    f.nodes.first().cloned().unwrap_or_default()
}

/// `CLIENT REQUEST`, e.g. `web-1 POST /orders`.
fn retry_anchor(f: &Finding) -> String {
    let request = f
        .evidence
        .get("request")
        .or_else(|| f.evidence.get("method"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{} {request}", first_node(f))
}

fn incident(
    findings: &[&Finding],
    cause: Cause,
    anchor: &str,
    attribution: Attribution,
    mut members: Vec<usize>,
) -> Incident {
    let first_ns = members.iter().map(|&i| findings[i].time).min().unwrap_or(0);
    let last_ns = members.iter().map(|&i| findings[i].time).max().unwrap_or(0);
    members.sort_by(|&a, &b| {
        let (fa, fb) = (findings[a], findings[b]);
        fb.severity
            .cmp(&fa.severity)
            .then(magnitude(fb).cmp(&magnitude(fa)))
            .then(fa.time.cmp(&fb.time))
            .then(a.cmp(&b))
    });
    let mut counts: BTreeMap<FindingKind, usize> = BTreeMap::new();
    let mut nodes: Vec<String> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for &i in &members {
        let f = findings[i];
        *counts.entry(f.kind).or_default() += 1;
        nodes.extend(f.nodes.iter().cloned());
        keys.extend(f.key.iter().cloned());
    }
    for list in [&mut nodes, &mut keys] {
        list.sort();
        list.dedup();
    }
    let severity = members
        .iter()
        .map(|&i| findings[i].severity)
        .max()
        .unwrap_or(Severity::Info);
    let largest = members
        .iter()
        .map(|&i| magnitude(findings[i]))
        .max()
        .unwrap_or(0);
    let mut incident = Incident {
        id: format!("{}@{}", fingerprint(cause, anchor), rfc3339(first_ns)),
        cause,
        anchor: anchor.to_owned(),
        attribution: if cause == Cause::ClockSkew {
            attribution
        } else {
            Attribution::Named
        },
        severity,
        first_ns,
        last_ns,
        nodes,
        keys,
        counts,
        findings: members,
        summary: String::new(),
    };
    incident.summary = summary(&incident, largest);
    incident
}

fn magnitude(f: &Finding) -> u64 {
    f.magnitude.map_or(0, i64::unsigned_abs)
}

/// "from T1 to T2", or "at T" for one instant.
fn when(incident: &Incident) -> String {
    if incident.first_ns == incident.last_ns {
        format!("at {}", rfc3339(incident.first_ns))
    } else {
        format!(
            "from {} to {}",
            rfc3339(incident.first_ns),
            rfc3339(incident.last_ns)
        )
    }
}

/// `causality_violation 5,686, lww_inversion 5,039`, most first.
pub fn counts_text(counts: &BTreeMap<FindingKind, usize>) -> String {
    let mut counts: Vec<(&FindingKind, &usize)> = counts.iter().collect();
    counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    counts
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(**n as u64)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 pair`, `5,686 pairs`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

fn summary(incident: &Incident, largest: u64) -> String {
    let (anchor, when, counts) = (
        &incident.anchor,
        when(incident),
        counts_text(&incident.counts),
    );
    let total = counted(incident.findings.len(), "finding", "findings");
    match incident.cause {
        Cause::ClockSkew if incident.attribution == Attribution::Pair => format!(
            "The wall clocks of {} disagreed by at least {} {when}, and no other node tells which one is wrong: {counts}.",
            anchor.replace(PAIR, " and "),
            human_ns(largest as i64)
        ),
        Cause::ClockSkew if incident.attribution == Attribution::Inferred => format!(
            "{anchor}'s wall clock disagreed with its peers' by at least {} {when}; every one of these {total} involves {anchor}: {counts}.",
            human_ns(largest as i64)
        ),
        Cause::ClockSkew => format!(
            "{anchor}'s wall clock was wrong by at least {} {when}; it explains {total}: {counts}.",
            human_ns(largest as i64)
        ),
        Cause::ClockProtocol => {
            format!("{anchor}'s logical clock did not advance along causal edges {when}: {counts}.")
        }
        Cause::Instrumentation => format!(
            "{anchor} sent clock attributes that cannot be parsed {when} ({total}); its spans were kept without those clocks."
        ),
        Cause::WriteConflict => {
            let pairs = incident
                .counts
                .get(&FindingKind::ConcurrentWrite)
                .copied()
                .unwrap_or(0);
            let possible = incident
                .counts
                .get(&FindingKind::PossibleConcurrentWrite)
                .copied()
                .unwrap_or(0);
            let pairs = match (pairs, possible) {
                (n, 0) => format!("{} of concurrent writes", counted(n, "pair", "pairs")),
                (0, p) => format!(
                    "{} of writes that nothing collected orders (spans not collected could)",
                    counted(p, "pair", "pairs")
                ),
                (n, p) => format!(
                    "{} of concurrent writes and {} that spans not collected could order",
                    counted(n, "pair", "pairs"),
                    thousands(p as u64)
                ),
            };
            format!(
                "Key {anchor} got {pairs} from {} ({}) {when}.",
                counted(incident.nodes.len(), "writer", "writers"),
                some(&incident.nodes, 5)
            )
        }
        Cause::Retry
            if incident
                .counts
                .keys()
                .all(|k| *k == FindingKind::Deduplicated) =>
        {
            format!(
                "{anchor}: {} answered from the server's deduplication cache {when}; the idempotency key worked.",
                counted(incident.findings.len(), "retry was", "retries were")
            )
        }
        Cause::NodeFailure => format!(
            "{anchor} went silent {when}: its monitors stopped receiving its heartbeats or its callers stopped reaching it ({counts})."
        ),
        Cause::NetworkPartition => format!(
            "The network split {anchor} {when}: calls across failed while calls within each side reached ({counts})."
        ),
        Cause::GrayFailure => {
            let (node, op) = anchor.split_once(' ').unwrap_or((anchor, "?"));
            format!(
                "{node} served {op} worse than its peers {when} while it kept answering otherwise ({counts})."
            )
        }
        Cause::Retry => {
            let (client, request) = anchor.split_once(' ').unwrap_or((anchor, "?"));
            format!("{client} retried {request} after uncertain outcomes {when}: {counts}.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, time: i64, nodes: &[&str], key: Option<&str>) -> Finding {
        Finding {
            kind,
            severity: Severity::High,
            time,
            trace_ids: vec![format!("{time:032x}")],
            span_ids: vec![format!("{time:016x}")],
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            key: key.map(str::to_owned),
            magnitude: Some(time),
            summary: String::new(),
            evidence: serde_json::json!({"request": "POST /orders"}),
            witness: Value::Null,
            events: Vec::new(),
        }
    }

    fn grouped(findings: &[Finding], offsets: &[NodeOffset]) -> Vec<(String, Vec<usize>)> {
        let refs: Vec<&Finding> = findings.iter().collect();
        let mut got: Vec<(String, Vec<usize>)> = group(&refs, offsets, DEFAULT_GAP_NS)
            .into_iter()
            .map(|i| {
                let mut members = i.findings.clone();
                members.sort();
                (i.fingerprint(), members)
            })
            .collect();
        got.sort();
        got
    }

    use FindingKind::*;

    #[test]
    fn suspicions_across_a_partition_while_it_lasted_are_the_partition_s() {
        let mut partition = finding(
            Partition,
            10,
            &["a-1", "b-1", "b-2"],
            Some("{a-1} | {b-1, b-2}"),
        );
        partition.evidence = serde_json::json!({
            "side_a": ["a-1"],
            "side_b": ["b-1", "b-2"],
            "window": {"first_failure_ns": 10, "last_success_before_ns": 8, "first_success_after_ns": 30},
        });
        let findings = [
            partition,
            // b-1 suspects a-1 during it: across.
            finding(Suspected, 9, &["a-1", "b-1"], None),
            // b-2 suspects b-1: the same side.
            finding(Suspected, 12, &["b-1", "b-2"], None),
            // b-2 suspects a-1 after it healed.
            finding(Suspected, 40, &["a-1", "b-2"], None),
        ];
        assert_eq!(
            grouped(&findings, &[]),
            vec![
                (
                    "network_partition:{a-1} | {b-1, b-2}".to_owned(),
                    vec![0, 1]
                ),
                ("node_failure:a-1".to_owned(), vec![3]),
                ("node_failure:b-1".to_owned(), vec![2]),
            ]
        );
    }

    #[test]
    fn a_named_clock_explains_the_pairs_it_takes_part_in() {
        let findings = [
            finding(SkewExceedsMaxOffset, 1, &["db-1"], None),
            finding(CausalityViolation, 2, &["web-1", "db-1"], None),
            finding(CausalityViolation, 3, &["api-1", "db-1"], None),
            finding(LwwInversion, 4, &["db-1", "web-1"], Some("k")),
            finding(HlcDrift, 5, &["queue-1"], None),
            finding(CausalityViolation, 6, &["web-1", "queue-1"], None),
        ];
        assert_eq!(
            grouped(&findings, &[]),
            vec![
                ("clock_skew:db-1".to_owned(), vec![0, 1, 2, 3]),
                ("clock_skew:queue-1".to_owned(), vec![4, 5]),
            ]
        );
    }

    #[test]
    fn unnamed_pairs_are_covered_by_the_fewest_nodes_and_healthy_ones_last() {
        // web-1 is in every pair, but its offset is healthy: two skewed
        // nodes, not one skewed web-1.
        let findings = [
            finding(CausalityViolation, 1, &["web-1", "db-1"], None),
            finding(CausalityViolation, 2, &["api-1", "db-1"], None),
            finding(CausalityViolation, 3, &["web-1", "db-1"], None),
            finding(CausalityViolation, 4, &["web-1", "queue-1"], None),
        ];
        let offsets: Vec<NodeOffset> = ["api-1", "db-1", "queue-1"]
            .iter()
            .map(|n| NodeOffset {
                window_start: 0,
                node: n.to_string(),
                reference: "web-1".into(),
                lower_ns: None,
                upper_ns: None,
                verdict: if *n == "api-1" {
                    Verdict::Healthy
                } else {
                    Verdict::Ambiguous
                },
                rpc_pairs: 1,
            })
            .collect();
        assert_eq!(
            grouped(&findings, &offsets),
            vec![
                ("clock_skew:db-1".to_owned(), vec![0, 1, 2]),
                ("clock_skew:queue-1".to_owned(), vec![3]),
            ]
        );
        let refs: Vec<&Finding> = findings.iter().collect();
        let incidents = group(&refs, &offsets, DEFAULT_GAP_NS);
        assert!(
            incidents
                .iter()
                .all(|i| i.attribution == Attribution::Inferred)
        );
        assert!(
            incidents[0]
                .summary
                .contains("every one of these 3 findings involves db-1")
        );
    }

    #[test]
    fn two_clocks_nothing_tells_apart_are_one_pair() {
        let findings = [
            finding(CausalityViolation, 1, &["r-1", "r-2"], None),
            finding(LwwInversion, 2, &["r-1", "r-2"], Some("k")),
        ];
        let refs: Vec<&Finding> = findings.iter().collect();
        let incidents = group(&refs, &[], DEFAULT_GAP_NS);
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].fingerprint(), "clock_skew:r-1 + r-2");
        assert_eq!(incidents[0].attribution, Attribution::Pair);
        assert!(
            incidents[0]
                .summary
                .starts_with("The wall clocks of r-1 and r-2 disagreed"),
            "{}",
            incidents[0].summary
        );
    }

    #[test]
    fn writes_group_by_key_retries_by_client_and_request_and_time_splits_them() {
        let hour = 3_600_000_000_000;
        let findings = [
            finding(ConcurrentWrite, 1, &["r-1", "r-2"], Some("cart:1")),
            finding(ConcurrentWrite, 2, &["r-2", "r-3"], Some("cart:1")),
            finding(ConcurrentWrite, 3, &["r-1", "r-2"], Some("cart:2")),
            finding(ConcurrentWrite, hour, &["r-1", "r-2"], Some("cart:1")),
            finding(DuplicateExecution, 5, &["web-1", "orders-1"], None),
            finding(UnsafeRetry, 6, &["web-1"], None),
            finding(UnsafeRetry, 7, &["web-2"], None),
            finding(VcViolation, 8, &["a-1", "b-1"], None),
            finding(MalformedClock, 9, &["r-1"], None),
        ];
        assert_eq!(
            grouped(&findings, &[]),
            vec![
                ("clock_protocol:b-1".to_owned(), vec![7]),
                ("instrumentation:r-1".to_owned(), vec![8]),
                ("retry:web-1 POST /orders".to_owned(), vec![4, 5]),
                ("retry:web-2 POST /orders".to_owned(), vec![6]),
                ("write_conflict:cart:1".to_owned(), vec![0, 1]),
                ("write_conflict:cart:1".to_owned(), vec![3]),
                ("write_conflict:cart:2".to_owned(), vec![2]),
            ]
        );
        let refs: Vec<&Finding> = findings.iter().collect();
        let incidents = group(&refs, &[], DEFAULT_GAP_NS);
        let cart = incidents
            .iter()
            .find(|i| i.anchor == "cart:1" && i.findings.len() == 2)
            .unwrap();
        assert_eq!(cart.nodes, ["r-1", "r-2", "r-3"]);
        assert!(
            cart.summary
                .contains("2 pairs of concurrent writes from 3 writers")
        );
        // The best witness: the largest of equally severe findings.
        assert_eq!(cart.best(), 1);
        let of = of_findings(&incidents, findings.len());
        for (n, incident) in incidents.iter().enumerate() {
            for &i in &incident.findings {
                assert_eq!(of[i] as usize, n);
            }
        }
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(5686), "5,686");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
