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
pub mod gaps;
pub mod intern;
pub mod load;
mod order;
pub mod search;
mod sparse;

use std::collections::BTreeMap;

use causet_schema::clocks::Hlc;

pub use causet_schema::kinds::SpanKind;
pub use intern::{Sym, Symbols, Vc, VcArena, VcId};
pub use load::Input;
pub use sparse::Sparse;

/// Index of an event ([`Graph::event`]).
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

/// One span, with its ids parsed: 64 bytes.
#[derive(Debug, Clone)]
pub struct Span {
    /// Trace id.
    pub trace_id: u128,
    /// Span id.
    pub span_id: u64,
    /// Start time, ns since the epoch.
    pub start: i64,
    /// End time, ns since the epoch.
    pub end: i64,
    /// Parent span when it was ingested, else [`NO_PARENT`].
    parent: u32,
    /// Index into [`Graph::nodes`].
    pub node: u32,
    /// Span name.
    pub name: Sym,
    /// Span-level message id (PRODUCER / CONSUMER spans).
    pub msg_id: Option<Sym>,
    /// Start event (the end event is the next).
    pub start_event: EventId,
    /// Kind.
    pub kind: SpanKind,
    /// Status is ERROR.
    pub error: bool,
}

/// [`Span::parent`] of a span whose parent was not ingested (or that has none).
const NO_PARENT: u32 = u32::MAX;

impl Span {
    /// Parent span, when it was ingested.
    pub fn parent(&self) -> Option<u32> {
        (self.parent != NO_PARENT).then_some(self.parent)
    }

    /// End event.
    pub fn end_event(&self) -> EventId {
        self.start_event + 1
    }
}

/// One event, as [`Graph::event`] puts it together: the graph holds no
/// rows of events, only the clocks they carry ([`EventClocks`]) and the
/// fields of span events ([`Point`]); a span's start and end take their
/// time, node and name from the span.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// Index into [`Graph::spans`].
    pub span: u32,
    /// Index into [`Graph::nodes`].
    pub node: u32,
    /// Wall time, ns since the epoch.
    pub time: i64,
    /// Start, end or span event.
    pub ty: EventType,
    /// Span event name (start and end use the span's name).
    pub name: Option<Sym>,
    /// `causet.msg.id` of a span event.
    pub msg_id: Option<Sym>,
    /// Application vector clock, in [`Graph::clocks`].
    pub vc: Option<VcId>,
    lamport: u64,
    hlc_wall: i64,
    hlc_logical: u32,
    /// Which of the Lamport time and the HLC are present.
    has: u8,
}

const HAS_LAMPORT: u8 = 1;
const HAS_HLC: u8 = 2;

/// A span event's own fields.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Its span.
    pub span: u32,
    /// Its index in the span.
    pub index: u32,
    /// Wall time, ns since the epoch.
    pub time: i64,
    /// Its name.
    pub name: Sym,
    /// `causet.msg.id`.
    pub msg_id: Option<Sym>,
}

/// The application clocks of the events, by event id, each kind a sparse
/// column: most events carry one or two kinds of clock, many none.
#[derive(Debug, Default)]
pub struct EventClocks {
    lamport: Sparse<u64>,
    hlc: Sparse<Hlc>,
    vc: Sparse<VcId>,
}

impl EventClocks {
    fn push(&mut self, lamport: Option<u64>, hlc: Option<Hlc>, vc: Option<VcId>) {
        self.lamport.push(lamport);
        self.hlc.push(hlc);
        self.vc.push(vc);
    }

    /// Appends row `row` of `other`.
    fn push_row(&mut self, other: &EventClocks, row: usize) {
        self.lamport.push(other.lamport.get(row));
        self.hlc.push(other.hlc.get(row));
        self.vc.push(other.vc.get(row));
    }

    fn heap_bytes(&self) -> usize {
        self.lamport.heap_bytes() + self.hlc.heap_bytes() + self.vc.heap_bytes()
    }

    fn shrink(&mut self) {
        self.lamport.shrink();
        self.hlc.shrink();
        self.vc.shrink();
    }
}

impl Event {
    /// An event without clocks.
    pub fn new(span: u32, node: u32, time: i64, ty: EventType) -> Event {
        Event {
            span,
            node,
            time,
            ty,
            name: None,
            msg_id: None,
            vc: None,
            lamport: 0,
            hlc_wall: 0,
            hlc_logical: 0,
            has: 0,
        }
    }

    /// With the application's Lamport time and HLC.
    pub fn with_clocks(mut self, lamport: Option<u64>, hlc: Option<Hlc>) -> Event {
        if let Some(l) = lamport {
            self.lamport = l;
            self.has |= HAS_LAMPORT;
        }
        if let Some(h) = hlc {
            (self.hlc_wall, self.hlc_logical) = (h.wall_ns, h.logical);
            self.has |= HAS_HLC;
        }
        self
    }

    /// Application Lamport time.
    pub fn lamport(&self) -> Option<u64> {
        (self.has & HAS_LAMPORT != 0).then_some(self.lamport)
    }

    /// Application HLC.
    pub fn hlc(&self) -> Option<Hlc> {
        (self.has & HAS_HLC != 0).then(|| Hlc::new(self.hlc_wall, self.hlc_logical))
    }
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

/// The edges as columns, sorted by (from, to): the out-adjacency in
/// compressed sparse rows is then the columns themselves (an edge's index
/// is its place, its cause the row of `out` it falls in), and the
/// in-adjacency lists each event's causes. 13 bytes an edge and 8 an
/// event, where rows with an adjacency list each way took 36 and 8.
#[derive(Debug, Clone, Default)]
struct EdgeColumns {
    to: Vec<EventId>,
    /// [`EdgeSource`] in the low bits, [`INFERRED`] on top.
    meta: Vec<u8>,
    /// Edges out of `v`: `out[v]..out[v + 1]`.
    out: Vec<u32>,
    /// The causes of `v`: `causes[inn[v]..inn[v + 1]]`, ascending.
    inn: Vec<u32>,
    causes: Vec<EventId>,
}

/// [`EdgeColumns::meta`]'s bit for an inferred edge.
const INFERRED: u8 = 0x80;

/// Each [`EdgeSource`] by its number in [`EdgeColumns::meta`].
const SOURCES: [EdgeSource; 7] = [
    EdgeSource::ParentChild,
    EdgeSource::RpcRequest,
    EdgeSource::RpcReply,
    EdgeSource::Messaging,
    EdgeSource::Link,
    EdgeSource::ProgramOrder,
    EdgeSource::VectorClock,
];

impl EdgeColumns {
    /// Columns of `edges` over `n` events: one edge per (from, to), the
    /// first given (a stable sort).
    fn new(n: usize, mut edges: Vec<Edge>) -> EdgeColumns {
        edges.sort_by_key(|e| (e.from, e.to));
        edges.dedup_by_key(|e| (e.from, e.to));
        let offsets = |key: &dyn Fn(&Edge) -> EventId| {
            let mut offsets = vec![0u32; n + 1];
            for e in &edges {
                offsets[key(e) as usize + 1] += 1;
            }
            for i in 0..n {
                offsets[i + 1] += offsets[i];
            }
            offsets
        };
        let (out, inn) = (offsets(&|e| e.from), offsets(&|e| e.to));
        let mut fill = inn.clone();
        let mut causes = vec![0; edges.len()];
        for e in &edges {
            let at = &mut fill[e.to as usize];
            causes[*at as usize] = e.from;
            *at += 1;
        }
        let meta = |e: &Edge| {
            let source = SOURCES
                .iter()
                .position(|&s| s == e.source)
                .expect("a source") as u8;
            source | if e.inferred { INFERRED } else { 0 }
        };
        EdgeColumns {
            to: edges.iter().map(|e| e.to).collect(),
            meta: edges.iter().map(meta).collect(),
            out,
            inn,
            causes,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.to.capacity() * 4
            + self.meta.capacity()
            + (self.out.capacity() + self.inn.capacity() + self.causes.capacity()) * 4
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
///
/// Columns, not rows of events: a span's start and end are events
/// `2i` and `2i + 1` and take their time and node from the span, so what an
/// event holds of its own is its clocks, each kind a sparse column
/// ([`EventClocks`]), and for a span event its [`Point`]. [`Graph::event`]
/// puts an event together. Spans are 64-byte rows (every detector reads
/// several fields of one span), text and vector clocks are interned
/// ([`intern`]), edges are columns in CSR order, derived clocks in one flat array.
#[derive(Debug, Default)]
pub struct Graph {
    /// Node names, by node index.
    pub nodes: Vec<String>,
    /// Each node's name as a symbol (to look it up in a vector clock).
    node_syms: Vec<Sym>,
    /// Every string the graph holds: names, message ids, clock keys.
    pub symbols: Symbols,
    /// Application vector clocks.
    pub clocks: VcArena,
    /// Spans, in (trace id, span id) order.
    pub spans: Vec<Span>,
    /// Span events (ids from `2 * spans.len()`), grouped by span in index order.
    points: Vec<Point>,
    /// The application clocks of every event.
    event_clocks: EventClocks,
    /// Edges, unique by (from, to), in that order.
    edges: EdgeColumns,
    /// Derived Lamport number per event; [`NO_LAMPORT`] for events on a cycle.
    derived_lamport: Vec<u32>,
    /// Chain and position per event (meaningless for cyclic events).
    pub position: Vec<Position>,
    /// Name of each chain: its node, `#k` for a node's k-th chain.
    pub chain_names: Vec<String>,
    /// Derived sparse vector clocks, in `dvc_offsets` slices: (chain, position).
    dvc_entries: Vec<(u32, u32)>,
    /// `dvc_offsets[e]..dvc_offsets[e + 1]`; [`NO_DVC`] in the high bit of
    /// `dvc_offsets[e + 1]` when the clock was not kept.
    dvc_offsets: Vec<u32>,
    /// Events that lie on a cycle.
    pub cyclic: Vec<EventId>,
    /// Where spans or messages that were not collected may hide edges.
    pub gaps: gaps::Gaps,
}

/// [`Graph::lamport`] of an event on a cycle.
const NO_LAMPORT: u32 = u32::MAX;
/// Marks an event whose derived vector clock was not kept.
const NO_DVC: u32 = 1 << 31;

/// Heap bytes of a graph, by part (see [`Graph::memory`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Spans.
    pub spans: usize,
    /// Events.
    pub events: usize,
    /// Edges and both adjacency lists.
    pub edges: usize,
    /// Derived Lamport numbers, chain positions and vector clocks.
    pub derived: usize,
    /// Interned text and application vector clocks.
    pub interned: usize,
}

impl Memory {
    /// All parts.
    pub fn total(&self) -> usize {
        self.spans + self.events + self.edges + self.derived + self.interned
    }
}

impl Graph {
    /// Builds the graph of `input`.
    pub fn build(input: &Input) -> crate::Result<Graph> {
        let mut loader = load::Loader::default();
        for batch in &input.spans {
            loader.spans(batch)?;
        }
        for batch in &input.events {
            loader.points(batch)?;
        }
        for batch in &input.links {
            loader.links(batch)?;
        }
        Ok(loader.finish())
    }

    /// Adds the edges and derived clocks to loaded spans and events;
    /// `orphans` are the spans whose parent (by id) was not ingested.
    fn connect(&mut self, links: &[load::Link], orphans: &[(u32, u64)]) {
        let edges = edges::add_all(self, links, orphans);
        self.edges = EdgeColumns::new(self.event_count(), edges);
        order::derive(self);
    }

    /// Heap bytes held, by part.
    pub fn memory(&self) -> Memory {
        use std::mem::size_of;
        Memory {
            spans: self.spans.capacity() * size_of::<Span>(),
            events: self.points.capacity() * size_of::<Point>() + self.event_clocks.heap_bytes(),
            edges: self.edges.heap_bytes() + self.gaps.heap_bytes(),
            derived: self.derived_lamport.capacity() * 4
                + self.position.capacity() * size_of::<Position>()
                + self.dvc_entries.capacity() * 8
                + self.dvc_offsets.capacity() * 4
                + self.cyclic.capacity() * 4,
            interned: self.symbols.heap_bytes()
                + self.clocks.heap_bytes()
                + self.nodes.iter().map(|n| n.capacity() + 24).sum::<usize>()
                + self.node_syms.capacity() * 4,
        }
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.to.len()
    }

    /// Edge `i`: its cause is found by a binary search of the offsets.
    pub fn edge(&self, i: u32) -> Edge {
        let from = self.edges.out.partition_point(|&o| o <= i) - 1;
        self.edge_from(from as EventId, i)
    }

    fn edge_from(&self, from: EventId, i: u32) -> Edge {
        let meta = self.edges.meta[i as usize];
        Edge {
            from,
            to: self.edges.to[i as usize],
            source: SOURCES[usize::from(meta & !INFERRED)],
            inferred: meta & INFERRED != 0,
        }
    }

    /// Every edge, by (from, to).
    pub fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        (0..self.event_count() as EventId)
            .flat_map(move |v| self.out_of(v).map(move |(_, i)| self.edge_from(v, i)))
    }

    /// The events right after `v`, and the index of the edge to each.
    pub fn out_of(&self, v: EventId) -> impl Iterator<Item = (EventId, u32)> + '_ {
        let v = v as usize;
        (self.edges.out[v]..self.edges.out[v + 1]).map(|i| (self.edges.to[i as usize], i))
    }

    /// The events right before `v`, ascending.
    pub fn in_of(&self, v: EventId) -> impl ExactSizeIterator<Item = EventId> + '_ {
        let v = v as usize;
        let at = self.edges.inn[v] as usize..self.edges.inn[v + 1] as usize;
        self.edges.causes[at].iter().copied()
    }

    /// Number of events.
    pub fn event_count(&self) -> usize {
        2 * self.spans.len() + self.points.len()
    }

    /// Event `e`, put together from its span, its point and its clocks.
    pub fn event(&self, e: EventId) -> Event {
        let i = e as usize;
        let bounds = 2 * self.spans.len();
        let mut event = if i < bounds {
            let s = &self.spans[i / 2];
            let (time, ty) = if i.is_multiple_of(2) {
                (s.start, EventType::Start)
            } else {
                (s.end, EventType::End)
            };
            Event::new((i / 2) as u32, s.node, time, ty)
        } else {
            let p = &self.points[i - bounds];
            let mut event = Event::new(
                p.span,
                self.spans[p.span as usize].node,
                p.time,
                EventType::Point(p.index),
            );
            (event.name, event.msg_id) = (Some(p.name), p.msg_id);
            event
        };
        let clocks = &self.event_clocks;
        event = event.with_clocks(clocks.lamport.get(i), clocks.hlc.get(i));
        event.vc = clocks.vc.get(i);
        event
    }

    /// Every event, in id order.
    pub fn events(&self) -> impl Iterator<Item = (EventId, Event)> + '_ {
        (0..self.event_count() as EventId).map(|e| (e, self.event(e)))
    }

    /// Span `span`'s span events, in index order.
    pub fn points(&self, span: u32) -> std::ops::Range<EventId> {
        let first = self.points.partition_point(|p| p.span < span);
        let count = self.points[first..]
            .iter()
            .take_while(|p| p.span == span)
            .count();
        let base = (2 * self.spans.len() + first) as EventId;
        base..base + count as EventId
    }

    /// Every span event, in id order, with its own fields.
    pub fn point_events(&self) -> impl Iterator<Item = (EventId, &Point)> + '_ {
        let first = 2 * self.spans.len();
        (first as EventId..).zip(&self.points)
    }

    /// The span event `e`, if it is one.
    fn point_row(&self, e: EventId) -> Option<&Point> {
        self.points
            .get((e as usize).checked_sub(2 * self.spans.len())?)
    }

    /// The span with these ids.
    pub fn span(&self, trace_id: u128, span_id: u64) -> Option<u32> {
        self.spans
            .binary_search_by(|s| (s.trace_id, s.span_id).cmp(&(trace_id, span_id)))
            .ok()
            .map(|i| i as u32)
    }

    /// The text of a symbol.
    pub fn text(&self, sym: Sym) -> &str {
        self.symbols.resolve(sym)
    }

    /// The application vector clock of event `e`.
    pub fn vc(&self, e: EventId) -> Option<Vc<'_>> {
        self.event_clocks
            .vc
            .get(e as usize)
            .map(|id| self.clocks.get(id))
    }

    /// The symbol of node `node`'s name, as vector clocks name it.
    pub fn node_sym(&self, node: u32) -> Sym {
        self.node_syms[node as usize]
    }

    /// The derived Lamport number of `e`; `None` for an event on a cycle
    /// (contradictory clocks or links).
    pub fn lamport(&self, e: EventId) -> Option<u64> {
        let l = self.derived_lamport[e as usize];
        (l != NO_LAMPORT).then_some(u64::from(l))
    }

    /// The derived vector clock of `e` as (chain, position) pairs, chains
    /// ascending; `None` for an event on a cycle or whose clock was too wide to keep.
    pub fn dvc(&self, e: EventId) -> Option<&[(u32, u32)]> {
        let end = self.dvc_offsets[e as usize + 1];
        if end & NO_DVC != 0 {
            return None;
        }
        let start = self.dvc_offsets[e as usize] & !NO_DVC;
        Some(&self.dvc_entries[start as usize..end as usize])
    }

    /// True when `e` happens before `f` (a path of edges leads from e to f).
    pub fn happens_before(&self, e: EventId, f: EventId) -> bool {
        if e == f {
            return false;
        }
        let (Some(le), Some(lf)) = (self.lamport(e), self.lamport(f)) else {
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
            let ev = self.event(id as EventId);
            let own = self
                .vc(id as EventId)
                .map(|vc| vc.get(self.node_sym(ev.node)))
                .filter(|&c| c > 0);
            [
                own.map(Tick::Vc),
                ev.hlc().map(|h| Tick::Hlc(h.wall_ns, h.logical)),
                ev.lamport().map(Tick::Lamport),
            ]
        };
        // Nodes are numbered densely: counts and choices by index.
        let mut counts: Vec<[usize; 3]> = vec![[0; 3]; self.nodes.len()];
        for id in 0..self.event_count() {
            let count = &mut counts[self.node_of(id as EventId) as usize];
            for (kind, tick) in ticks_of(id).iter().enumerate() {
                count[kind] += usize::from(tick.is_some());
            }
        }
        // Highest count; the earlier kind on a tie; none without ticks.
        let chosen: Vec<Option<usize>> = counts
            .iter()
            .map(|count| {
                (0..3)
                    .rev()
                    .max_by_key(|&k| count[k])
                    .filter(|&k| count[k] > 0)
            })
            .collect();
        let mut by_node: Vec<Vec<(Tick, EventId)>> = vec![Vec::new(); self.nodes.len()];
        for id in 0..self.event_count() {
            let node = self.node_of(id as EventId) as usize;
            if let Some(tick) = chosen[node].and_then(|kind| ticks_of(id)[kind]) {
                by_node[node].push((tick, id as EventId));
            }
        }
        by_node
            .into_iter()
            .enumerate()
            .filter(|(_, ticks)| !ticks.is_empty())
            .map(|(node, mut ticks)| {
                ticks.sort_unstable();
                (node as u32, ticks)
            })
            .collect()
    }

    /// Span event `index` of span `span`, if it was ingested.
    pub fn point(&self, span: u32, index: u32) -> Option<EventId> {
        self.points(span)
            .find(|&e| self.point_row(e).is_some_and(|p| p.index == index))
    }

    /// The span of event `e`.
    pub fn span_of(&self, e: EventId) -> u32 {
        match self.point_row(e) {
            Some(p) => p.span,
            None => e / 2,
        }
    }

    /// The wall time of event `e`.
    pub fn time_of(&self, e: EventId) -> i64 {
        match self.point_row(e) {
            Some(p) => p.time,
            None if e.is_multiple_of(2) => self.spans[e as usize / 2].start,
            None => self.spans[e as usize / 2].end,
        }
    }

    /// The node of event `e`.
    pub fn node_of(&self, e: EventId) -> u32 {
        self.spans[self.span_of(e) as usize].node
    }

    /// Display name of an event: `span name` or `span name/event name`.
    pub fn event_name(&self, e: EventId) -> &str {
        match self.point_row(e) {
            Some(p) => self.text(p.name),
            None => self.text(self.spans[e as usize / 2].name),
        }
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
