//! The graph as Arrow tables: `causal_events`, `hb_edges` and the rows of
//! the table functions.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, MapBuilder, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use causet_schema::tables::{self, col, timestamp_type, vc_type};

use crate::error::Result;
use crate::graph::{EventId, Graph, span_hex, trace_hex};

/// The `event_id` of event `e` of the graph of window `window`: the
/// window in the high 32 bits, the event's index in that window's graph in
/// the low. A graph of the whole range is window 0, so its ids are its
/// indices.
pub fn event_id(window: u32, e: EventId) -> u64 {
    (u64::from(window) << 32) | u64::from(e)
}

/// The window and graph index of an `event_id`.
pub fn split_event_id(id: u64) -> (u32, EventId) {
    ((id >> 32) as u32, id as u32)
}

/// Names of the derived tables and of their own columns (the others are
/// named as in `causet_schema::tables::col`).
pub mod names {
    /// Table: one row per event.
    pub const CAUSAL_EVENTS: &str = "causal_events";
    /// Table: one row per happens-before edge.
    pub const HB_EDGES: &str = "hb_edges";
    /// Event id, the row's key in `causal_events` (see [`event_id`](super::event_id)).
    pub const EVENT_ID: &str = "event_id";
    /// `start`, `end` or `event`.
    pub const EVENT_TYPE: &str = "event_type";
    /// Span kind of the event's span.
    pub const SPAN_KIND: &str = "span_kind";
    /// Lamport number derived from the graph.
    pub const DERIVED_LAMPORT: &str = "derived_lamport";
    /// Vector clock derived from the graph, over chains.
    pub const DERIVED_VC: &str = "derived_vc";
    /// Chain of the derived vector clock the event lies on.
    pub const CHAIN: &str = "chain";
    /// Edge source.
    pub const SOURCE: &str = "source";
    /// Edge read from a wall clock rather than proven.
    pub const INFERRED: &str = "inferred";
    /// Edge between two nodes.
    pub const CROSS_NODE: &str = "cross_node";
    /// Step number along a path.
    pub const STEP: &str = "step";
    /// Prefix of the cause's columns in an edge row.
    pub const FROM: &str = "from_";
    /// Prefix of the effect's columns in an edge row.
    pub const TO: &str = "to_";
}

static EVENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        // Null only where no window numbers the event (see `crate::windowed`).
        Field::new(names::EVENT_ID, DataType::UInt64, true),
        Field::new(col::TRACE_ID, DataType::Utf8, false),
        Field::new(col::SPAN_ID, DataType::Utf8, false),
        Field::new(names::EVENT_TYPE, DataType::Utf8, false),
        Field::new(col::EVENT_INDEX, DataType::UInt32, true),
        Field::new(col::NAME, DataType::Utf8, false),
        Field::new(names::SPAN_KIND, DataType::Utf8, false),
        Field::new(col::NODE, DataType::Utf8, false),
        Field::new(col::TIME, timestamp_type(), false),
        Field::new(col::LAMPORT, DataType::UInt64, true),
        Field::new(col::HLC_WALL_NS, DataType::Int64, true),
        Field::new(col::HLC_LOGICAL, DataType::UInt32, true),
        Field::new(col::VC, vc_type(), true),
        Field::new(col::MSG_ID, DataType::Utf8, true),
        Field::new(names::DERIVED_LAMPORT, DataType::UInt64, true),
        Field::new(names::DERIVED_VC, vc_type(), true),
        Field::new(names::CHAIN, DataType::Utf8, true),
    ]))
});

fn endpoint_fields(prefix: &str) -> Vec<Field> {
    let f = |name: &str, ty: DataType| Field::new(format!("{prefix}{name}"), ty, false);
    vec![
        // Null only when the event lies where no window reads its span
        // (see `crate::windowed`).
        Field::new(
            format!("{prefix}{}", names::EVENT_ID),
            DataType::UInt64,
            true,
        ),
        f(col::TRACE_ID, DataType::Utf8),
        f(col::SPAN_ID, DataType::Utf8),
        f(names::EVENT_TYPE, DataType::Utf8),
        f(col::NAME, DataType::Utf8),
        f(col::NODE, DataType::Utf8),
        f(col::TIME, timestamp_type()),
    ]
}

fn edge_fields() -> Vec<Field> {
    let mut fields = vec![
        Field::new(names::SOURCE, DataType::Utf8, false),
        Field::new(names::INFERRED, DataType::Boolean, false),
        Field::new(names::CROSS_NODE, DataType::Boolean, false),
    ];
    fields.extend(endpoint_fields(names::FROM));
    fields.extend(endpoint_fields(names::TO));
    fields
}

static EDGES_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| Arc::new(Schema::new(edge_fields())));

static PATH_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![Field::new(names::STEP, DataType::UInt32, false)];
    fields.extend(edge_fields());
    Arc::new(Schema::new(fields))
});

/// Schema of `causal_events` (and of `causal_past` / `causal_future`).
pub fn events_schema() -> SchemaRef {
    Arc::clone(&EVENTS_SCHEMA)
}

/// Schema of `hb_edges`.
pub fn edges_schema() -> SchemaRef {
    Arc::clone(&EDGES_SCHEMA)
}

/// Schema of `hb_path`: `step`, then the columns of `hb_edges`.
pub fn path_schema() -> SchemaRef {
    Arc::clone(&PATH_SCHEMA)
}

fn vc_builder() -> MapBuilder<StringBuilder, UInt64Builder> {
    MapBuilder::new(None, StringBuilder::new(), UInt64Builder::new())
}

fn append_map<'a>(
    b: &mut MapBuilder<StringBuilder, UInt64Builder>,
    entries: Option<impl Iterator<Item = (&'a str, u64)>>,
) -> Result<()> {
    match entries {
        Some(entries) => {
            for (k, v) in entries {
                b.keys().append_value(k);
                b.values().append_value(v);
            }
            b.append(true)?;
        }
        None => b.append(false)?,
    }
    Ok(())
}

/// Rows of `causal_events` for `ids` (all events when `None`), numbered by
/// `number` (null where it gives none).
pub fn events_batch(
    g: &Graph,
    ids: Option<&[EventId]>,
    number: impl Fn(EventId) -> Option<u64>,
) -> Result<RecordBatch> {
    let all: Vec<EventId>;
    let ids = match ids {
        Some(ids) => ids,
        None => {
            all = (0..g.event_count() as EventId).collect();
            &all
        }
    };
    let mut id = UInt64Builder::with_capacity(ids.len());
    let (mut trace, mut span, mut ty, mut name, mut kind, mut node, mut msg, mut chain) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut index = UInt32Builder::new();
    let mut time = TimestampNanosecondBuilder::new().with_timezone(tables::UTC);
    let (mut lamport, mut dlamport) = (UInt64Builder::new(), UInt64Builder::new());
    let mut wall = Int64Builder::new();
    let mut logical = UInt32Builder::new();
    let (mut vc, mut dvc) = (vc_builder(), vc_builder());
    for &e in ids {
        let ev = g.event(e);
        let sp = &g.spans[ev.span as usize];
        id.append_option(number(e));
        trace.append_value(trace_hex(sp.trace_id));
        span.append_value(span_hex(sp.span_id));
        ty.append_value(ev.ty.as_str());
        index.append_option(match ev.ty {
            crate::graph::EventType::Point(i) => Some(i),
            _ => None,
        });
        name.append_value(g.event_name(e));
        kind.append_value(sp.kind.as_str());
        node.append_value(&g.nodes[ev.node as usize]);
        time.append_value(ev.time);
        lamport.append_option(ev.lamport());
        wall.append_option(ev.hlc().map(|h| h.wall_ns));
        logical.append_option(ev.hlc().map(|h| h.logical));
        let clock = g.vc(e).map(|v| {
            let mut entries: Vec<(&str, u64)> = v.iter().map(|(k, c)| (g.text(k), c)).collect();
            entries.sort_unstable();
            entries
        });
        append_map(&mut vc, clock.map(Vec::into_iter))?;
        msg.append_option(ev.msg_id.map(|m| g.text(m)));
        let derived = g.lamport(e);
        dlamport.append_option(derived);
        append_map(
            &mut dvc,
            g.dvc(e).map(|entries| {
                entries
                    .iter()
                    .map(|&(c, p)| (g.chain_names[c as usize].as_str(), u64::from(p)))
            }),
        )?;
        chain.append_option(
            derived.map(|_| g.chain_names[g.position[e as usize].chain as usize].as_str()),
        );
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(trace.finish()),
        Arc::new(span.finish()),
        Arc::new(ty.finish()),
        Arc::new(index.finish()),
        Arc::new(name.finish()),
        Arc::new(kind.finish()),
        Arc::new(node.finish()),
        Arc::new(time.finish()),
        Arc::new(lamport.finish()),
        Arc::new(wall.finish()),
        Arc::new(logical.finish()),
        Arc::new(vc.finish()),
        Arc::new(msg.finish()),
        Arc::new(dlamport.finish()),
        Arc::new(dvc.finish()),
        Arc::new(chain.finish()),
    ];
    Ok(RecordBatch::try_new(events_schema(), columns)?)
}

/// Builders for one side of an edge row.
struct Endpoint {
    id: UInt64Builder,
    trace: StringBuilder,
    span: StringBuilder,
    ty: StringBuilder,
    name: StringBuilder,
    node: StringBuilder,
    time: TimestampNanosecondBuilder,
}

impl Endpoint {
    fn new() -> Self {
        Endpoint {
            id: UInt64Builder::new(),
            trace: StringBuilder::new(),
            span: StringBuilder::new(),
            ty: StringBuilder::new(),
            name: StringBuilder::new(),
            node: StringBuilder::new(),
            time: TimestampNanosecondBuilder::new().with_timezone(tables::UTC),
        }
    }

    fn push(&mut self, g: &Graph, e: EventId, id: Option<u64>) {
        let ev = g.event(e);
        let sp = &g.spans[ev.span as usize];
        self.id.append_option(id);
        self.trace.append_value(trace_hex(sp.trace_id));
        self.span.append_value(span_hex(sp.span_id));
        self.ty.append_value(ev.ty.as_str());
        self.name.append_value(g.event_name(e));
        self.node.append_value(&g.nodes[ev.node as usize]);
        self.time.append_value(ev.time);
    }

    fn finish(mut self, out: &mut Vec<ArrayRef>) {
        out.push(Arc::new(self.id.finish()));
        out.push(Arc::new(self.trace.finish()));
        out.push(Arc::new(self.span.finish()));
        out.push(Arc::new(self.ty.finish()));
        out.push(Arc::new(self.name.finish()));
        out.push(Arc::new(self.node.finish()));
        out.push(Arc::new(self.time.finish()));
    }
}

/// Rows of `hb_edges` for the edges `edges` (all when `None`), with a
/// leading `step` column when `steps` is set, their endpoints numbered by
/// `id` (null where it gives none).
pub fn edges_batch(
    g: &Graph,
    edges: Option<&[u32]>,
    steps: bool,
    id: impl Fn(EventId) -> Option<u64>,
) -> Result<RecordBatch> {
    let all: Vec<u32>;
    let edges = match edges {
        Some(edges) => edges,
        None => {
            all = (0..g.edge_count() as u32).collect();
            &all
        }
    };
    let mut step = UInt32Builder::new();
    let mut source = StringBuilder::new();
    let mut inferred = BooleanBuilder::new();
    let mut cross = BooleanBuilder::new();
    let (mut from, mut to) = (Endpoint::new(), Endpoint::new());
    for (i, &edge) in edges.iter().enumerate() {
        let edge = g.edge(edge);
        step.append_value(i as u32 + 1);
        source.append_value(edge.source.as_str());
        inferred.append_value(edge.inferred);
        cross.append_value(g.node_of(edge.from) != g.node_of(edge.to));
        from.push(g, edge.from, id(edge.from));
        to.push(g, edge.to, id(edge.to));
    }
    let mut columns: Vec<ArrayRef> = Vec::new();
    if steps {
        columns.push(Arc::new(step.finish()));
    }
    columns.push(Arc::new(source.finish()));
    columns.push(Arc::new(inferred.finish()));
    columns.push(Arc::new(cross.finish()));
    from.finish(&mut columns);
    to.finish(&mut columns);
    let schema = if steps { path_schema() } else { edges_schema() };
    Ok(RecordBatch::try_new(schema, columns)?)
}
