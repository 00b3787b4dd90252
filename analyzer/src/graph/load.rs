//! Ingested rows (Arrow) into the graph's spans and events.

use std::collections::HashMap;

use arrow::array::{
    Array, AsArray, BooleanArray, Int64Array, MapArray, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use arrow::datatypes::{Int64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use causet_schema::clocks::{Hlc, VectorClock};
use causet_schema::tables::col;

use super::{Event, EventId, EventType, Graph, Span, SpanKind};
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
            .ok_or_else(|| Error::Usage(format!("column {name} is missing")))
    }

    fn typed<T>(
        &self,
        name: &str,
        cast: impl FnOnce(&'b dyn Array) -> Option<&'b T>,
    ) -> Result<&'b T> {
        let array = self.get(name)?;
        cast(array)
            .ok_or_else(|| Error::Usage(format!("column {name} has type {}", array.data_type())))
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
pub(crate) fn vc_at(map: &MapArray, i: usize) -> Option<VectorClock> {
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
pub(crate) fn parse_trace(s: &str) -> Option<u128> {
    (s.len() == 32)
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

pub(crate) fn parse_span(s: &str) -> Option<u64> {
    (s.len() == 16)
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
}

/// Spans and their start/end events, then span events.
pub(super) fn load(input: &Input) -> Result<Graph> {
    let mut g = Graph::default();
    let mut node_ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |name: &str, nodes: &mut Vec<String>| -> u32 {
        if let Some(&id) = node_ids.get(name) {
            return id;
        }
        let id = nodes.len() as u32;
        nodes.push(name.to_owned());
        node_ids.insert(name.to_owned(), id);
        id
    };

    // Spans in id order, then each span's events in index order: event ids
    // are the same for the same data, whatever order the scan returned.
    let mut order: Vec<(u128, u64, usize, usize)> = Vec::new();
    for (b, batch) in input.spans.iter().enumerate() {
        let c = Columns::new(batch);
        let (trace, span) = (c.str(col::TRACE_ID)?, c.str(col::SPAN_ID)?);
        for i in 0..batch.num_rows() {
            if let (Some(t), Some(s)) = (parse_trace(trace.value(i)), parse_span(span.value(i))) {
                order.push((t, s, b, i));
            }
        }
    }
    order.sort_unstable();
    order.dedup_by_key(|(t, s, _, _)| (*t, *s));
    let span_columns = input
        .spans
        .iter()
        .map(SpanColumns::new)
        .collect::<Result<Vec<_>>>()?;
    for (trace_id, span_id, b, i) in order {
        let c = &span_columns[b];
        let index = g.spans.len() as u32;
        let node_id = intern(c.node.value(i), &mut g.nodes);
        let start_event = g.events.len() as u32;
        g.events.push(Event {
            span: index,
            ty: EventType::Start,
            node: node_id,
            time: c.start.value(i),
            name: None,
            lamport: c.start_clocks.lamport(i),
            hlc: c.start_clocks.hlc(i),
            vc: c.start_clocks.vc(i),
            msg_id: None,
        });
        g.events.push(Event {
            span: index,
            ty: EventType::End,
            node: node_id,
            time: c.end.value(i),
            name: None,
            lamport: c.end_clocks.lamport(i),
            hlc: c.end_clocks.hlc(i),
            vc: c.end_clocks.vc(i),
            msg_id: None,
        });
        g.spans.push(Span {
            trace_id,
            span_id,
            parent_id: c
                .parent
                .is_valid(i)
                .then(|| parse_span(c.parent.value(i)))
                .flatten(),
            parent: None,
            kind: SpanKind::parse(c.kind.value(i)),
            error: c.status.value(i) == "ERROR",
            node: node_id,
            name: c.name.value(i).to_owned(),
            start: c.start.value(i),
            end: c.end.value(i),
            msg_id: c.msg.is_valid(i).then(|| c.msg.value(i).to_owned()),
            start_event,
            end_event: start_event + 1,
            points: 0..0,
        });
        g.span_index.insert((trace_id, span_id), index);
    }
    for i in 0..g.spans.len() {
        let s = &g.spans[i];
        let parent = s
            .parent_id
            .and_then(|p| g.span_index.get(&(s.trace_id, p)).copied());
        g.spans[i].parent = parent;
    }

    let mut points: Vec<(u32, u32, usize, usize)> = Vec::new();
    for (b, batch) in input.events.iter().enumerate() {
        let c = Columns::new(batch);
        let (trace, span, index) = (
            c.str(col::TRACE_ID)?,
            c.str(col::SPAN_ID)?,
            c.u32(col::EVENT_INDEX)?,
        );
        for i in 0..batch.num_rows() {
            let owner = parse_trace(trace.value(i))
                .zip(parse_span(span.value(i)))
                .and_then(|key| g.span_index.get(&key).copied());
            if let Some(owner) = owner {
                points.push((owner, index.value(i), b, i));
            }
        }
    }
    points.sort_unstable();
    points.dedup_by_key(|(owner, index, _, _)| (*owner, *index));
    let event_columns = input
        .events
        .iter()
        .map(EventColumns::new)
        .collect::<Result<Vec<_>>>()?;
    for (owner, index, b, i) in points {
        // Points arrive grouped by span, so each span's are consecutive.
        let id = g.events.len() as EventId;
        let range = &mut g.spans[owner as usize].points;
        if range.end != id {
            *range = id..id;
        }
        range.end = id + 1;
        let c = &event_columns[b];
        g.events.push(Event {
            span: owner,
            ty: EventType::Point(index),
            node: g.spans[owner as usize].node,
            time: c.time.value(i),
            name: Some(c.name.value(i).into()),
            lamport: c.clocks.lamport(i),
            hlc: c.clocks.hlc(i),
            vc: c.clocks.vc(i),
            msg_id: c.msg.is_valid(i).then(|| c.msg.value(i).into()),
        });
    }
    Ok(g)
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

    fn vc(&self, i: usize) -> Option<VectorClock> {
        vc_at(self.vc, i)
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
