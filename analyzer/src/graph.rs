//! The happens-before graph: one vertex per event (span start, span end,
//! span event), one edge per happens-before fact, each with its source.
//!
//! Built in Rust over Arrow arrays, because reachability is what SQL
//! expresses badly; exposed back to SQL as the `causal_events` and
//! `hb_edges` tables and the `causal_past`, `causal_future` and `hb_path`
//! table functions.
//!
//! Edges come from trace structure and application clocks (proof) or, for
//! sequential sibling spans on one node, from that node's wall clock
//! (`inferred`), so a finding can say how sure it is. From the edges it
//! derives, for every event, a Lamport number (the length of the longest
//! chain of events leading to it, 0 for an event nothing precedes) and a
//! sparse vector clock over a chain decomposition of the graph, exact for
//! reachability: `e -> f` iff `dvc(e)[chain(e)] <= dvc(f)[chain(e)]`.

mod edges;
pub mod load;
mod order;
pub mod search;
pub mod tables;

use std::collections::{BTreeMap, HashMap};

use causet_schema::clocks::{Hlc, VectorClock};

pub use load::Input;

/// Index of an event in [`Graph::events`].
pub type EventId = u32;

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A span's start.
    Start,
    /// A span's end.
    End,
    /// A span event, with its index in the span.
    Point(u32),
}

impl EventType {
    /// `start`, `end` or `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Start => "start",
            EventType::End => "end",
            EventType::Point(_) => "event",
        }
    }
}

/// OTLP span kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// Unspecified or unknown.
    Unspecified,
    /// Internal.
    Internal,
    /// Server side of an RPC.
    Server,
    /// Client side of an RPC.
    Client,
    /// Sender of an asynchronous message.
    Producer,
    /// Receiver of an asynchronous message.
    Consumer,
}

impl SpanKind {
    /// As in the `kind` column: `SERVER`, `CLIENT`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "UNSPECIFIED",
            SpanKind::Internal => "INTERNAL",
            SpanKind::Server => "SERVER",
            SpanKind::Client => "CLIENT",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
        }
    }

    /// From the `kind` column's text.
    pub fn parse(kind: &str) -> SpanKind {
        match kind {
            "INTERNAL" => SpanKind::Internal,
            "SERVER" => SpanKind::Server,
            "CLIENT" => SpanKind::Client,
            "PRODUCER" => SpanKind::Producer,
            "CONSUMER" => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }
}

/// Where a happens-before edge comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeSource {
    /// Parent start before child start; child end before parent end.
    ParentChild,
    /// CLIENT start before its SERVER child's start.
    RpcRequest,
    /// SERVER end before its CLIENT parent's end.
    RpcReply,
    /// A send before its receive: PRODUCER/CONSUMER spans, or
    /// `causet.send` / `causet.receive` events with one `causet.msg.id`.
    Messaging,
    /// A linked span's start before the linking span's start.
    Link,
    /// Consecutive events of one node: within a span, by the node's own
    /// logical clock, or (inferred) sequential sibling spans by wall clock.
    ProgramOrder,
    /// Implied by application vector clocks (a transitive reduction).
    VectorClock,
}

impl EdgeSource {
    /// The name used in `hb_edges.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeSource::ParentChild => "parent_child",
            EdgeSource::RpcRequest => "rpc_request",
            EdgeSource::RpcReply => "rpc_reply",
            EdgeSource::Messaging => "messaging",
            EdgeSource::Link => "link",
            EdgeSource::ProgramOrder => "program_order",
            EdgeSource::VectorClock => "vector_clock",
        }
    }
}

/// One span, with its ids parsed.
#[derive(Debug, Clone)]
pub struct Span {
    /// Trace id.
    pub trace_id: u128,
    /// Span id.
    pub span_id: u64,
    /// Parent span id, if any.
    pub parent_id: Option<u64>,
    /// Parent span, when it was ingested.
    pub parent: Option<u32>,
    /// Kind.
    pub kind: SpanKind,
    /// Status is ERROR.
    pub error: bool,
    /// Index into [`Graph::nodes`].
    pub node: u32,
    /// Span name.
    pub name: String,
    /// Start time, ns since the epoch.
    pub start: i64,
    /// End time, ns since the epoch.
    pub end: i64,
    /// Span-level message id (PRODUCER / CONSUMER spans).
    pub msg_id: Option<String>,
    /// Start event.
    pub start_event: EventId,
    /// End event.
    pub end_event: EventId,
    /// Its span events, in index order (consecutive ids).
    pub points: std::ops::Range<EventId>,
}

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Index into [`Graph::spans`].
    pub span: u32,
    /// Start, end or span event.
    pub ty: EventType,
    /// Index into [`Graph::nodes`].
    pub node: u32,
    /// Wall time, ns since the epoch.
    pub time: i64,
    /// Span event name (start and end use the span's name).
    pub name: Option<Box<str>>,
    /// Application Lamport time.
    pub lamport: Option<u64>,
    /// Application HLC.
    pub hlc: Option<Hlc>,
    /// Application vector clock.
    pub vc: Option<VectorClock>,
    /// `causet.msg.id` of a span event.
    pub msg_id: Option<Box<str>>,
}

/// A happens-before edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Cause.
    pub from: EventId,
    /// Effect.
    pub to: EventId,
    /// Why.
    pub source: EdgeSource,
    /// Read from one node's wall clock rather than proven.
    pub inferred: bool,
}

/// A node's own logical time of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tick {
    /// The vector clock's own entry.
    Vc(u64),
    /// The HLC.
    Hlc(i64, u32),
    /// The Lamport time.
    Lamport(u64),
}

/// Adjacency in compressed sparse rows.
#[derive(Debug, Clone, Default)]
pub struct Adjacency {
    offsets: Vec<u32>,
    targets: Vec<EventId>,
    edges: Vec<u32>,
}

impl Adjacency {
    fn build(n: usize, pairs: impl Iterator<Item = (EventId, EventId, u32)> + Clone) -> Self {
        let mut offsets = vec![0u32; n + 1];
        for (from, _, _) in pairs.clone() {
            offsets[from as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let total = offsets[n] as usize;
        let (mut targets, mut edges) = (vec![0; total], vec![0; total]);
        for (from, to, edge) in pairs {
            let at = &mut fill[from as usize];
            targets[*at as usize] = to;
            edges[*at as usize] = edge;
            *at += 1;
        }
        Adjacency {
            offsets,
            targets,
            edges,
        }
    }

    /// Neighbours of `v` and the index of the edge to each.
    pub fn of(&self, v: EventId) -> impl Iterator<Item = (EventId, u32)> + '_ {
        let (a, b) = (
            self.offsets[v as usize] as usize,
            self.offsets[v as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.edges[a..b].iter().copied())
    }
}

/// The derived clocks of one event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// Chain the event lies on.
    pub chain: u32,
    /// 1-based position on it.
    pub pos: u32,
}

/// The happens-before graph of a data set.
#[derive(Debug, Default)]
pub struct Graph {
    /// Node names, interned.
    pub nodes: Vec<String>,
    /// Spans.
    pub spans: Vec<Span>,
    /// Events.
    pub events: Vec<Event>,
    /// Edges, unique by (from, to).
    pub edges: Vec<Edge>,
    /// Out-edges.
    pub out: Adjacency,
    /// In-edges.
    pub inn: Adjacency,
    /// Derived Lamport number per event; `None` for events on a cycle
    /// (contradictory clocks or links).
    pub lamport: Vec<Option<u64>>,
    /// Chain and position per event (meaningless for cyclic events).
    pub position: Vec<Position>,
    /// Name of each chain: its node, `#k` for a node's k-th chain.
    pub chain_names: Vec<String>,
    /// Derived sparse vector clocks, in `dvc_offsets` slices: (chain, position).
    dvc_entries: Vec<(u32, u32)>,
    dvc_offsets: Vec<u32>,
    /// Whether an event's derived vector clock was kept (see [`order::MAX_DVC_ENTRIES`]).
    dvc_known: Vec<bool>,
    /// Events that lie on a cycle.
    pub cyclic: Vec<EventId>,
    span_index: HashMap<(u128, u64), u32>,
}

impl Graph {
    /// Builds the graph of `input`.
    pub fn build(input: &Input) -> crate::Result<Graph> {
        let mut graph = load::load(input)?;
        edges::add_all(&mut graph, input)?;
        let edge_pairs = graph
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| (e.from, e.to, i as u32));
        graph.out = Adjacency::build(graph.events.len(), edge_pairs.clone());
        graph.inn = Adjacency::build(graph.events.len(), edge_pairs.map(|(f, t, i)| (t, f, i)));
        order::derive(&mut graph);
        Ok(graph)
    }

    /// The span with these ids.
    pub fn span(&self, trace_id: u128, span_id: u64) -> Option<u32> {
        self.span_index.get(&(trace_id, span_id)).copied()
    }

    /// The derived vector clock of `e` as (chain, position) pairs, chains
    /// ascending; `None` for an event on a cycle or whose clock was too wide to keep.
    pub fn dvc(&self, e: EventId) -> Option<&[(u32, u32)]> {
        if !self.dvc_known[e as usize] {
            return None;
        }
        let (a, b) = (
            self.dvc_offsets[e as usize] as usize,
            self.dvc_offsets[e as usize + 1] as usize,
        );
        Some(&self.dvc_entries[a..b])
    }

    /// True when `e` happens before `f` (a path of edges leads from e to f).
    pub fn happens_before(&self, e: EventId, f: EventId) -> bool {
        if e == f {
            return false;
        }
        let (Some(le), Some(lf)) = (self.lamport[e as usize], self.lamport[f as usize]) else {
            return search::path(self, e, f).is_some();
        };
        if le >= lf {
            return false;
        }
        match self.dvc(f) {
            Some(dvc) => {
                let Position { chain, pos } = self.position[e as usize];
                dvc.binary_search_by_key(&chain, |&(c, _)| c)
                    .is_ok_and(|i| dvc[i].1 >= pos)
            }
            None => search::reaches_below(self, e, f, lf),
        }
    }

    /// Each node's events that carry its own logical clock, in that clock's
    /// order. One kind of clock per node: the one most of its events carry
    /// (vector clock own entry, HLC, Lamport time, preferred in that order on
    /// a tie), so a node whose writes carry a vector clock and whose reads
    /// only an HLC is ordered by the HLC both carry, not by whichever its
    /// first event happened to have.
    pub fn node_ticks(&self) -> BTreeMap<u32, Vec<(Tick, EventId)>> {
        let ticks_of = |id: usize| -> [Option<Tick>; 3] {
            let ev = &self.events[id];
            let own = ev
                .vc
                .as_ref()
                .map(|vc| vc.get(&self.nodes[ev.node as usize]))
                .filter(|&c| c > 0);
            [
                own.map(Tick::Vc),
                ev.hlc.map(|h| Tick::Hlc(h.wall_ns, h.logical)),
                ev.lamport.map(Tick::Lamport),
            ]
        };
        let mut counts: BTreeMap<u32, [usize; 3]> = BTreeMap::new();
        for id in 0..self.events.len() {
            let ticks = ticks_of(id);
            if ticks.iter().any(Option::is_some) {
                let count = counts.entry(self.events[id].node).or_default();
                for (kind, tick) in ticks.iter().enumerate() {
                    count[kind] += usize::from(tick.is_some());
                }
            }
        }
        // Highest count; the earlier kind on a tie.
        let chosen: BTreeMap<u32, usize> = counts
            .into_iter()
            .map(|(node, count)| {
                let kind = (0..3).rev().max_by_key(|&k| count[k]).unwrap_or(0);
                (node, kind)
            })
            .collect();
        let mut by_node: BTreeMap<u32, Vec<(Tick, EventId)>> = BTreeMap::new();
        for id in 0..self.events.len() {
            let node = self.events[id].node;
            let Some(&kind) = chosen.get(&node) else {
                continue;
            };
            if let Some(tick) = ticks_of(id)[kind] {
                by_node.entry(node).or_default().push((tick, id as EventId));
            }
        }
        for ticks in by_node.values_mut() {
            ticks.sort_unstable();
        }
        by_node
    }

    /// Span event `index` of span `span`, if it was ingested.
    pub fn point(&self, span: u32, index: u32) -> Option<EventId> {
        self.spans[span as usize]
            .points
            .clone()
            .find(|&e| self.events[e as usize].ty == EventType::Point(index))
    }

    /// Display name of an event: `span name` or `span name/event name`.
    pub fn event_name(&self, e: EventId) -> &str {
        let ev = &self.events[e as usize];
        ev.name
            .as_deref()
            .unwrap_or(&self.spans[ev.span as usize].name)
    }
}

/// Lowercase hex of a trace id.
pub fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// Lowercase hex of a span id.
pub fn span_hex(id: u64) -> String {
    format!("{id:016x}")
}

#[cfg(test)]
mod tests;
