//! Detectors: clock skew, concurrent conflicting writes, ambiguous
//! partial-failure retries, and failures of nodes and links (heartbeat
//! suspicion, partitions, unreachable nodes, gray failures).
//!
//! Each detector reads the happens-before graph and the [`facts`] it needs
//! and returns [`Finding`]s, each with a one-sentence summary, the evidence
//! (JSON) and a witness a person can check by hand: the chain of events and
//! edge sources that proves it, or the bounds that do. Timestamps are never
//! rewritten; corrections appear next to raw values.
//!
//! Precision matters as much as recall: a detector reports only what its
//! evidence proves, and aggregates repetitions (one finding per node pair
//! and window, per node, per key pair, per logical request) rather than
//! flooding.

pub mod clocks;
pub mod facts;
pub mod gray;
pub mod heartbeats;
pub mod offsets;
pub mod reach;
pub mod retries;
pub mod writes;

use serde_json::Value;

use crate::graph::{EventId, Graph, span_hex, trace_hex};
pub use causet_schema::kinds::{Family, FindingKind, Severity, Verdict};
pub use facts::Facts;

/// Detector settings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DetectConfig {
    /// Largest clock offset between nodes considered healthy (default 250 ms).
    pub max_offset_ns: i64,
    /// Width of the windows offsets are estimated in (default 1 min).
    pub window_ns: i64,
    /// Node offsets are reported against; default: the node most peers agree with.
    pub reference_node: Option<String>,
    /// Smallest step back of a node's wall clock reported as a jump (default 1 ms).
    pub clock_jump_ns: i64,
    /// RPC methods (`rpc.method` or `service/method`) that are not idempotent;
    /// HTTP methods are classified by the standard (POST and PATCH are not).
    pub non_idempotent_rpc: Vec<String>,
    /// Span attributes that together name the key a span writes, for spans
    /// without `causet.write.key` (e.g. `db.collection.name` and a key
    /// attribute; the values are joined with `/`). A span is a write when it
    /// has all of them, unless its `db.operation.name` is a read
    /// ([`READ_OPERATIONS`]). Empty: only `causet.write.key` names writes.
    pub write_key_attributes: Vec<String>,
    /// Phi-accrual suspicion above which a silent node is `suspected`
    /// (default 8: a one in 10^8 chance of a heartbeat that late).
    pub phi_threshold: f64,
    /// Span names that are heartbeats received (a heartbeat RPC's server
    /// span), besides spans with `causet.heartbeat.from`.
    pub heartbeat_spans: Vec<String>,
    /// Where the data read ends when more follows that was not read with
    /// it (a report window's horizon), ns; `None`: the data's own end. A
    /// silence that reaches it is open, not over.
    pub read_until: Option<i64>,
}

/// `db.operation.name` values (any case) that read and so are never writes.
pub const READ_OPERATIONS: &[&str] = &[
    "SELECT",
    "GET",
    "MGET",
    "HGET",
    "HGETALL",
    "FIND",
    "READ",
    "QUERY",
    "SCAN",
    "COUNT",
    "EXISTS",
    "AGGREGATE",
    "DESCRIBE",
    "SHOW",
];

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            max_offset_ns: 250_000_000,
            window_ns: 60_000_000_000,
            reference_node: None,
            clock_jump_ns: 1_000_000,
            non_idempotent_rpc: Vec::new(),
            write_key_attributes: Vec::new(),
            phi_threshold: 8.0,
            heartbeat_spans: Vec::new(),
            read_until: None,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// What was found.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// When it happened: the wall time of the first event concerned, ns.
    pub time: i64,
    /// Traces concerned.
    pub trace_ids: Vec<String>,
    /// Spans concerned, in the order the summary names them.
    pub span_ids: Vec<String>,
    /// Nodes concerned.
    pub nodes: Vec<String>,
    /// The key, for write findings; the idempotency key, for retries; the
    /// two sides, for partitions (`{a, b} | {c}`); the operation, for gray
    /// failures.
    pub key: Option<String>,
    /// Size: nanoseconds for clock findings, a count otherwise.
    pub magnitude: Option<i64>,
    /// One sentence.
    pub summary: String,
    /// The facts, as JSON.
    pub evidence: Value,
    /// The shortest proof: events and edges, or bounds.
    pub witness: Value,
    /// The events the finding is about (ids of this analysis's graph).
    pub events: Vec<EventId>,
}

impl Finding {
    /// A finding about `events` of `graph` (their spans, traces and nodes, in order).
    pub fn about(
        graph: &Graph,
        kind: FindingKind,
        severity: Severity,
        events: &[EventId],
    ) -> Finding {
        let mut finding = Finding {
            kind,
            severity,
            time: events.first().map(|&e| graph.time_of(e)).unwrap_or(0),
            trace_ids: Vec::new(),
            span_ids: Vec::new(),
            nodes: Vec::new(),
            key: None,
            magnitude: None,
            summary: String::new(),
            evidence: Value::Null,
            witness: Value::Null,
            events: events.to_vec(),
        };
        for &e in events {
            let ev = graph.event(e);
            let span = &graph.spans[ev.span as usize];
            push_unique(&mut finding.trace_ids, trace_hex(span.trace_id));
            push_unique(&mut finding.span_ids, span_hex(span.span_id));
            push_unique(&mut finding.nodes, graph.nodes[ev.node as usize].clone());
        }
        finding
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Disjoint sets of `0..n` (union-find with path compression): the
/// attempts of one request, the nodes on one side of a partition.
pub(crate) struct UnionFind(Vec<u32>);

impl UnionFind {
    /// Every element in a set of its own.
    pub(crate) fn new(n: usize) -> UnionFind {
        UnionFind((0..n as u32).collect())
    }

    /// The representative of `x`'s set (the smallest element merged in).
    pub(crate) fn find(&mut self, x: u32) -> u32 {
        let parent = self.0[x as usize];
        if parent == x {
            return x;
        }
        let root = self.find(parent);
        self.0[x as usize] = root;
        root
    }

    /// Merges the sets of `a` and `b`.
    pub(crate) fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b) as usize] = a.min(b);
        }
    }
}

/// An event as evidence: where and when, with its clocks.
pub fn event_json(graph: &Graph, e: EventId) -> Value {
    let ev = graph.event(e);
    let span = &graph.spans[ev.span as usize];
    let mut json = serde_json::json!({
        "event_id": e,
        "trace_id": trace_hex(span.trace_id),
        "span_id": span_hex(span.span_id),
        "event": ev.ty.as_str(),
        "name": graph.event_name(e),
        "node": graph.nodes[ev.node as usize],
        "time_ns": ev.time,
    });
    if let Some(l) = ev.lamport() {
        json["lamport"] = l.into();
    }
    if let Some(h) = ev.hlc() {
        json["hlc"] = serde_json::json!({"wall_ns": h.wall_ns, "logical": h.logical});
    }
    if let Some(vc) = graph.vc(e) {
        json["vc"] = vc.to_json(&graph.symbols);
    }
    json
}

/// A path of edges as a witness: each step's source and endpoints.
///
/// A path longer than twice [`PATH_ENDS`] edges keeps that many at each
/// end and says how many it left out between them (`{"elided": n}`): a
/// witness through a busy replica can run to thousands of edges, megabytes
/// of JSON per finding, and `causet why` prints the whole path.
pub fn path_json(graph: &Graph, edges: &[u32]) -> Value {
    let edge_json = |&i: &u32| {
        let edge = graph.edge(i);
        serde_json::json!({
            "source": edge.source.as_str(),
            "inferred": edge.inferred,
            "from": event_json(graph, edge.from),
            "to": event_json(graph, edge.to),
        })
    };
    if edges.len() <= 2 * PATH_ENDS {
        return Value::Array(edges.iter().map(edge_json).collect());
    }
    let (head, tail) = (&edges[..PATH_ENDS], &edges[edges.len() - PATH_ENDS..]);
    let elided = serde_json::json!({ "elided": edges.len() - 2 * PATH_ENDS });
    Value::Array(
        head.iter()
            .map(edge_json)
            .chain([elided])
            .chain(tail.iter().map(edge_json))
            .collect(),
    )
}

/// Edges a witness path keeps at each end ([`path_json`]).
pub const PATH_ENDS: usize = 16;

/// What the detectors found besides findings: the estimates behind them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimates {
    /// Node clock offsets per window (`node_offsets`).
    pub offsets: Vec<offsets::NodeOffset>,
    /// Phi at each heartbeat's arrival (`node_phi`).
    pub phi: Vec<heartbeats::PhiSample>,
}

/// Runs every detector.
pub fn run_all(graph: &Graph, facts: &Facts, config: &DetectConfig) -> (Vec<Finding>, Estimates) {
    let mut findings = Vec::new();
    findings.extend(offsets::causality_violations(graph, config));
    let (node_offsets, offset_findings) = offsets::estimate(graph, config);
    findings.extend(offset_findings);
    findings.extend(clocks::detect(graph, facts, config));
    findings.extend(writes::detect(graph, facts, config));
    findings.extend(retries::detect(graph, facts, config));
    let (suspected, phi) = heartbeats::detect(graph, facts, config);
    findings.extend(suspected);
    findings.extend(reach::detect(graph, facts, &node_offsets, config));
    findings.extend(gray::detect(graph, facts, config));
    sort(&mut findings);
    (
        findings,
        Estimates {
            offsets: node_offsets,
            phi,
        },
    )
}

/// Findings in report order: by time, then kind, then spans.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.time, a.kind.as_str(), &a.span_ids).cmp(&(b.time, b.kind.as_str(), &b.span_ids))
    });
}
