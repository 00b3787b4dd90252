//! Ingested rows (Arrow) into the graph's spans and events.

use hashbrown::HashMap;

use arrow::array::{
    Array, AsArray, BooleanArray, Int64Array, MapArray, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use arrow::datatypes::{Int64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use causet_schema::clocks::{Hlc, VectorClock};
use causet_schema::tables::{self, col};

use super::{Event, EventClocks, EventId, EventType, Graph, NO_PARENT, Span, SpanKind, Sym, VcId};
use crate::error::{Error, Result};

/// The rows the graph is built from: what `SELECT <COLUMNS> FROM <table>`
/// returns for each of the three ingested tables.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Rows of `spans` with [`Input::SPAN_COLUMNS`].
    pub spans: Vec<RecordBatch>,
    /// Rows of `span_events` with [`Input::EVENT_COLUMNS`].
    pub events: Vec<RecordBatch>,
    /// Rows of `span_links` with [`Input::LINK_COLUMNS`].
    pub links: Vec<RecordBatch>,
}

impl Input {
    /// The three tables' names and rows, in the order a graph loads them.
    pub fn tables(&self) -> [(&'static str, &[RecordBatch]); 3] {
        [
            (tables::SPANS, &self.spans),
            (tables::SPAN_EVENTS, &self.events),
            (tables::SPAN_LINKS, &self.links),
        ]
    }

    /// Columns of `spans` the graph needs.
    pub const SPAN_COLUMNS: &[&str] = &[
        col::TRACE_ID,
        col::SPAN_ID,
        col::PARENT_SPAN_ID,
        col::KIND,
        col::STATUS_CODE,
        col::NODE,
        col::NAME,
        col::START_TIME,
        col::END_TIME,
        col::LAMPORT,
        col::HLC_WALL_NS,
        col::HLC_LOGICAL,
        col::VC,
        col::END_LAMPORT,
        col::END_HLC_WALL_NS,
        col::END_HLC_LOGICAL,
        col::END_VC,
        col::MSG_ID,
    ];
    /// Columns of `span_events` the graph needs.
    pub const EVENT_COLUMNS: &[&str] = &[
        col::TRACE_ID,
        col::SPAN_ID,
        col::EVENT_INDEX,
        col::TIME,
        col::NAME,
        col::LAMPORT,
        col::HLC_WALL_NS,
        col::HLC_LOGICAL,
        col::VC,
        col::MSG_ID,
    ];
    /// Columns of `span_links` the graph needs.
    pub const LINK_COLUMNS: &[&str] = &[
        col::TRACE_ID,
        col::SPAN_ID,
        col::LINKED_TRACE_ID,
        col::LINKED_SPAN_ID,
    ];
}

/// Typed access to a batch's columns by name.
pub(crate) struct Columns<'b>(&'b RecordBatch);

impl<'b> Columns<'b> {
    pub fn new(batch: &'b RecordBatch) -> Self {
        Columns(batch)
    }

    fn get(&self, name: &str) -> Result<&'b dyn Array> {
        self.0
            .column_by_name(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| Error::MissingColumn(name.to_owned()))
    }

    fn typed<T>(
        &self,
        name: &str,
        cast: impl FnOnce(&'b dyn Array) -> Option<&'b T>,
    ) -> Result<&'b T> {
        let array = self.get(name)?;
        cast(array).ok_or_else(|| Error::ColumnType {
            column: name.to_owned(),
            found: array.data_type().to_string(),
        })
    }

    pub fn str(&self, name: &str) -> Result<&'b StringArray> {
        self.typed(name, |a| a.as_string_opt::<i32>())
    }
    pub fn time(&self, name: &str) -> Result<&'b TimestampNanosecondArray> {
        self.typed(name, |a| a.as_primitive_opt::<TimestampNanosecondType>())
    }
    pub fn u64(&self, name: &str) -> Result<&'b UInt64Array> {
        self.typed(name, |a| a.as_primitive_opt::<UInt64Type>())
    }
    pub fn i64(&self, name: &str) -> Result<&'b Int64Array> {
        self.typed(name, |a| a.as_primitive_opt::<Int64Type>())
    }
    pub fn u32(&self, name: &str) -> Result<&'b UInt32Array> {
        self.typed(name, |a| a.as_primitive_opt::<UInt32Type>())
    }
    pub fn bool(&self, name: &str) -> Result<&'b BooleanArray> {
        self.typed(name, |a| a.as_boolean_opt())
    }
    pub fn map(&self, name: &str) -> Result<&'b MapArray> {
        self.typed(name, |a| a.as_map_opt())
    }
}

fn opt<A: Array>(array: &A, i: usize) -> bool {
    array.is_valid(i)
}

/// The vector clock at row `i` of a `Map<Utf8, UInt64>` column.
pub fn vc_at(map: &MapArray, i: usize) -> Option<VectorClock> {
    if map.is_null(i) {
        return None;
    }
    let entries = map.value(i);
    let keys = entries.column(0).as_string_opt::<i32>()?;
    let values = entries.column(1).as_primitive_opt::<UInt64Type>()?;
    Some(
        (0..entries.len())
            .filter(|&j| values.is_valid(j))
            .map(|j| (keys.value(j), values.value(j)))
            .collect(),
    )
}

fn hlc_at(wall: &Int64Array, logical: &UInt32Array, i: usize) -> Option<Hlc> {
    opt(wall, i).then(|| {
        Hlc::new(
            wall.value(i),
            if logical.is_valid(i) {
                logical.value(i)
            } else {
                0
            },
        )
    })
}

fn lamport_at(a: &UInt64Array, i: usize) -> Option<u64> {
    a.is_valid(i).then(|| a.value(i))
}

/// Parses hex ids; `None` for ids that are not 32 / 16 hex digits.
pub fn parse_trace(s: &str) -> Option<u128> {
    (s.len() == 32)
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

/// Parses a 16-digit hex span id.
pub fn parse_span(s: &str) -> Option<u64> {
    (s.len() == 16)
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

/// A span link: (trace, span) of the linking span, then of the linked one.
pub(crate) type Link = ((u128, u64), (u128, u64));

/// A span event as read, before its span is known by index.
#[derive(Debug)]
struct Point {
    trace_id: u128,
    span_id: u64,
    index: u32,
    event: Event,
}

/// Builds a graph's spans and events from batches of the ingested tables,
/// one batch at a time, so a scan need not be held whole: what a batch
/// holds is copied into the graph's compact rows (ids parsed once, text and
/// clocks interned) and the batch can go.
#[derive(Debug, Default)]
pub struct Loader {
    g: Graph,
    node_ids: HashMap<Sym, u32>,
    /// The clocks of each span's start and end (rows `2i`, `2i + 1`), in
    /// the order read.
    bounds: EventClocks,
    /// Each span's parent id, if it has one.
    parent_ids: Vec<Option<u64>>,
    points: Vec<Point>,
    links: Vec<Link>,
}

impl Loader {
    /// Heap bytes of what was read so far.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.g.spans.capacity() * size_of::<Span>()
            + self.bounds.heap_bytes()
            + self.parent_ids.capacity() * size_of::<Option<u64>>()
            + self.points.capacity() * size_of::<Point>()
            + self.links.capacity() * size_of::<Link>()
            + self.g.symbols.heap_bytes()
            + self.g.clocks.heap_bytes()
    }

    fn node(&mut self, name: &str) -> u32 {
        let sym = self.g.symbols.intern(name);
        let next = self.g.nodes.len() as u32;
        let id = *self.node_ids.entry(sym).or_insert(next);
        if id == next {
            self.g.nodes.push(name.to_owned());
            self.g.node_syms.push(sym);
        }
        id
    }

    fn clock(&mut self, columns: &ClockColumns<'_>, i: usize) -> Option<VcId> {
        let map = columns.vc;
        if map.is_null(i) {
            return None;
        }
        let entries = map.value(i);
        let keys = entries.column(0).as_string_opt::<i32>()?;
        let values = entries.column(1).as_primitive_opt::<UInt64Type>()?;
        let symbols = &mut self.g.symbols;
        let clock: Vec<(Sym, u64)> = (0..entries.len())
            .filter(|&j| values.is_valid(j))
            .map(|j| (symbols.intern(keys.value(j)), values.value(j)))
            .collect();
        Some(self.g.clocks.push(clock))
    }

    /// Rows of `spans` with [`Input::SPAN_COLUMNS`] (more columns are ignored).
    pub fn spans(&mut self, batch: &RecordBatch) -> Result<()> {
        let c = Columns::new(batch);
        let (trace, span) = (c.str(col::TRACE_ID)?, c.str(col::SPAN_ID)?);
        let columns = SpanColumns::new(batch)?;
        for i in 0..batch.num_rows() {
            let (Some(trace_id), Some(span_id)) =
                (parse_trace(trace.value(i)), parse_span(span.value(i)))
            else {
                continue;
            };
            let index = self.g.spans.len() as u32;
            let node = self.node(columns.node.value(i));
            for clocks in [&columns.start_clocks, &columns.end_clocks] {
                let vc = self.clock(clocks, i);
                self.bounds.push(clocks.lamport(i), clocks.hlc(i), vc);
            }
            self.parent_ids.push(
                columns
                    .parent
                    .is_valid(i)
                    .then(|| parse_span(columns.parent.value(i)))
                    .flatten(),
            );
            let name = self.g.symbols.intern(columns.name.value(i));
            let msg_id = columns
                .msg
                .is_valid(i)
                .then(|| self.g.symbols.intern(columns.msg.value(i)));
            self.g.spans.push(Span {
                trace_id,
                span_id,
                start: columns.start.value(i),
                end: columns.end.value(i),
                parent: NO_PARENT,
                node,
                name,
                msg_id,
                start_event: 2 * index,
                kind: SpanKind::parse_lenient(columns.kind.value(i)),
                error: columns.status.value(i) == "ERROR",
            });
        }
        Ok(())
    }

    /// Rows of `span_events` with [`Input::EVENT_COLUMNS`].
    pub fn points(&mut self, batch: &RecordBatch) -> Result<()> {
        let c = Columns::new(batch);
        let (trace, span, index) = (
            c.str(col::TRACE_ID)?,
            c.str(col::SPAN_ID)?,
            c.u32(col::EVENT_INDEX)?,
        );
        let columns = EventColumns::new(batch)?;
        for i in 0..batch.num_rows() {
            let (Some(trace_id), Some(span_id)) =
                (parse_trace(trace.value(i)), parse_span(span.value(i)))
            else {
                continue;
            };
            let vc = self.clock(&columns.clocks, i);
            let mut event = Event::new(
                0,
                0,
                columns.time.value(i),
                EventType::Point(index.value(i)),
            )
            .with_clocks(columns.clocks.lamport(i), columns.clocks.hlc(i));
            event.vc = vc;
            event.name = Some(self.g.symbols.intern(columns.name.value(i)));
            event.msg_id = columns
                .msg
                .is_valid(i)
                .then(|| self.g.symbols.intern(columns.msg.value(i)));
            self.points.push(Point {
                trace_id,
                span_id,
                index: index.value(i),
                event,
            });
        }
        Ok(())
    }

    /// Rows of `span_links` with [`Input::LINK_COLUMNS`].
    pub fn links(&mut self, batch: &RecordBatch) -> Result<()> {
        let c = Columns::new(batch);
        let (trace, span, to_trace, to_span) = (
            c.str(col::TRACE_ID)?,
            c.str(col::SPAN_ID)?,
            c.str(col::LINKED_TRACE_ID)?,
            c.str(col::LINKED_SPAN_ID)?,
        );
        for i in 0..batch.num_rows() {
            let ids = |t: &StringArray, s: &StringArray| {
                parse_trace(t.value(i)).zip(parse_span(s.value(i)))
            };
            if let (Some(linking), Some(linked)) = (ids(trace, span), ids(to_trace, to_span)) {
                self.links.push((linking, linked));
            }
        }
        Ok(())
    }

    /// The graph: spans put in id order (event ids are then the same for
    /// the same data, whatever order the scan returned), copies dropped,
    /// parents and span events attached, then edges and derived clocks.
    pub fn finish(self) -> Graph {
        let Loader {
            mut g,
            bounds,
            parent_ids,
            mut points,
            links,
            ..
        } = self;
        let id = |s: &Span| (s.trace_id, s.span_id);
        let mut order: Vec<u32> = (0..g.spans.len() as u32).collect();
        order.sort_unstable_by_key(|&i| id(&g.spans[i as usize]));
        order.dedup_by_key(|&mut i| id(&g.spans[i as usize]));
        let old_spans = std::mem::take(&mut g.spans);
        g.spans.reserve_exact(order.len());
        for (new, &old) in order.iter().enumerate() {
            let mut span = old_spans[old as usize].clone();
            span.start_event = 2 * new as EventId;
            g.spans.push(span);
            g.event_clocks.push_row(&bounds, 2 * old as usize);
            g.event_clocks.push_row(&bounds, 2 * old as usize + 1);
        }
        drop((old_spans, bounds));
        renumber_nodes(&mut g);
        // Parents by id; those that were not ingested are gaps.
        let mut orphans = Vec::new();
        for (new, &old) in order.iter().enumerate() {
            let Some(parent_id) = parent_ids[old as usize] else {
                continue;
            };
            let trace = g.spans[new].trace_id;
            match g.span(trace, parent_id) {
                Some(p) => g.spans[new].parent = p,
                None => orphans.push((new as u32, parent_id)),
            }
        }
        drop((parent_ids, order));

        // Span events grouped by span in index order, each span's consecutive.
        let mut owned: Vec<(u32, u32, usize)> = points
            .iter()
            .enumerate()
            .filter_map(|(at, p)| {
                let owner = g.span(p.trace_id, p.span_id)?;
                Some((owner, p.index, at))
            })
            .collect();
        owned.sort_unstable();
        owned.dedup_by_key(|(owner, index, _)| (*owner, *index));
        g.points.reserve_exact(owned.len());
        for (owner, index, at) in owned {
            let event = &points[at].event;
            g.points.push(super::Point {
                span: owner,
                index,
                time: event.time,
                name: event.name.expect("a span event has a name"),
                msg_id: event.msg_id,
            });
            g.event_clocks.push(event.lamport(), event.hlc(), event.vc);
        }
        points.clear();
        points.shrink_to_fit();
        g.event_clocks.shrink();
        g.clocks.shrink();
        g.connect(&links, &orphans);
        g
    }
}

/// Numbers nodes in order of their first span in id order, as the spans
/// are: node numbers (and what is listed by node) then do not depend on the
/// order the scan returned rows in.
fn renumber_nodes(g: &mut Graph) {
    const UNSEEN: u32 = u32::MAX;
    let mut new_id = vec![UNSEEN; g.nodes.len()];
    let (mut nodes, mut syms) = (Vec::with_capacity(g.nodes.len()), Vec::new());
    for span in &mut g.spans {
        let old = span.node as usize;
        if new_id[old] == UNSEEN {
            new_id[old] = nodes.len() as u32;
            nodes.push(std::mem::take(&mut g.nodes[old]));
            syms.push(g.node_syms[old]);
        }
        span.node = new_id[old];
    }
    (g.nodes, g.node_syms) = (nodes, syms);
}

/// One set of clock columns (start, end or span event), looked up once
/// per batch.
struct ClockColumns<'b> {
    lamport: &'b UInt64Array,
    wall: &'b Int64Array,
    logical: &'b UInt32Array,
    vc: &'b MapArray,
}

impl<'b> ClockColumns<'b> {
    /// The columns named `[lamport, hlc wall, hlc logical, vector clock]`.
    fn new(c: &Columns<'b>, [lamport, wall, logical, vc]: [&str; 4]) -> Result<Self> {
        Ok(ClockColumns {
            lamport: c.u64(lamport)?,
            wall: c.i64(wall)?,
            logical: c.u32(logical)?,
            vc: c.map(vc)?,
        })
    }

    fn lamport(&self, i: usize) -> Option<u64> {
        lamport_at(self.lamport, i)
    }

    fn hlc(&self, i: usize) -> Option<Hlc> {
        hlc_at(self.wall, self.logical, i)
    }
}

const START_CLOCKS: [&str; 4] = [col::LAMPORT, col::HLC_WALL_NS, col::HLC_LOGICAL, col::VC];
const END_CLOCKS: [&str; 4] = [
    col::END_LAMPORT,
    col::END_HLC_WALL_NS,
    col::END_HLC_LOGICAL,
    col::END_VC,
];

/// The `spans` columns the graph reads, looked up once per batch.
struct SpanColumns<'b> {
    parent: &'b StringArray,
    kind: &'b StringArray,
    status: &'b StringArray,
    node: &'b StringArray,
    name: &'b StringArray,
    start: &'b TimestampNanosecondArray,
    end: &'b TimestampNanosecondArray,
    start_clocks: ClockColumns<'b>,
    end_clocks: ClockColumns<'b>,
    msg: &'b StringArray,
}

impl<'b> SpanColumns<'b> {
    fn new(batch: &'b RecordBatch) -> Result<Self> {
        let c = Columns::new(batch);
        Ok(SpanColumns {
            parent: c.str(col::PARENT_SPAN_ID)?,
            kind: c.str(col::KIND)?,
            status: c.str(col::STATUS_CODE)?,
            node: c.str(col::NODE)?,
            name: c.str(col::NAME)?,
            start: c.time(col::START_TIME)?,
            end: c.time(col::END_TIME)?,
            start_clocks: ClockColumns::new(&c, START_CLOCKS)?,
            end_clocks: ClockColumns::new(&c, END_CLOCKS)?,
            msg: c.str(col::MSG_ID)?,
        })
    }
}

/// The `span_events` columns the graph reads, looked up once per batch.
struct EventColumns<'b> {
    time: &'b TimestampNanosecondArray,
    name: &'b StringArray,
    clocks: ClockColumns<'b>,
    msg: &'b StringArray,
}

impl<'b> EventColumns<'b> {
    fn new(batch: &'b RecordBatch) -> Result<Self> {
        let c = Columns::new(batch);
        Ok(EventColumns {
            time: c.time(col::TIME)?,
            name: c.str(col::NAME)?,
            clocks: ClockColumns::new(&c, START_CLOCKS)?,
            msg: c.str(col::MSG_ID)?,
        })
    }
}
