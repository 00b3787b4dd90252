//! `causal_events` and `hb_edges` of a range larger than one window: made
//! window by window (see [`crate::windows`]) and streamed, so a query over
//! them holds one window's graph at a time whatever the data's size, in the
//! memory limit like the rest of the query.
//!
//! Each row comes from one window:
//! - an event, from the window that keeps its span's start: that window
//!   reads the span, so it has all of the span's events;
//! - an edge, from the window that keeps the earlier of its two spans'
//!   starts when that window reads the later span too (it starts within the
//!   horizon), else from the window that keeps the later start, which reads
//!   the earlier span in its lead or while it runs. An edge between spans
//!   further apart than that (a message delivered more than a horizon after
//!   it was sent by a span that has ended) is in no window's graph, as the
//!   findings' relations beyond the horizon are not.
//!
//! Ids: an `event_id` is its window and its index in that window's graph
//! ([`event_id`]). An edge's endpoint in a span another window keeps is
//! numbered as that window numbers it, so `hb_edges` joins `causal_events`
//! on ids: a later window's number is looked up when that window is built
//! (the edge's rows wait for it), an earlier one's among the spans the
//! earlier window left for its successors to read.
//!
//! Time filters choose the windows: literal bounds on `time` of
//! `causal_events`, or on `from_time` and `to_time` of `hb_edges`, read
//! the windows that keep span starts from the longest span's length (and a
//! lead) before the lower bound up to as much after the upper bound (for
//! edges, a bound on `to_time` alone reaches back a horizon more, as a
//! message may arrive that long after its send), plus those the ids need.
//! The filters themselves still run on the rows.
//!
//! The table functions (see [`function_scan`]) number their rows the same
//! way. The derived clocks (`derived_lamport`, `derived_vc`, `chain`) are
//! computed in each window's graph, so they compare within a window.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array, UInt64Array};
use arrow::compute::{filter_record_batch, take_record_batch};
use arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use futures::TryStreamExt as _;
use hashbrown::HashMap;

use crate::derived::{Built, GraphCache, Which, rows_scan};
use crate::error::to_datafusion;
use crate::graph::load::{parse_span, parse_trace};
use crate::graph::{EventId, EventType, Graph, search};
use crate::rows::graph::{self as rows, event_id, names, split_event_id};
use crate::settings::{Reach, TimeRange};
use crate::udtfs::{Function, Target, cut_frontier};
use crate::windows::Window;
use causet_schema::tables::col;

/// What names an event in any window's graph: its span's trace and span
/// ids, and its type.
type Key = ((u128, u64), EventType);

/// Rows per batch the stream yields.
const CHUNK: usize = 64 * 1024;

/// `causal_events` or `hb_edges` over several windows, as a stream.
#[derive(Debug)]
pub struct WindowedRows {
    cache: Arc<GraphCache>,
    which: Which,
    windows: Arc<[Window]>,
    /// The windows whose rows the query's filters may want.
    selected: Range<usize>,
    schema: SchemaRef,
}

impl WindowedRows {
    /// The plan of a scan of `which` over `windows`, reading those that
    /// `filters` may want, given the longest span (ns).
    pub fn scan(
        cache: Arc<GraphCache>,
        which: Which,
        windows: Arc<[Window]>,
        (filters, longest): (&[Expr], i64),
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match which {
            Which::Edges => rows::edges_schema(),
            _ => rows::events_schema(),
        };
        // The span starts of the rows the filters may keep. An event's span
        // began at most the longest span's length before it. An edge is
        // kept by the window of one of its spans' starts: with its cause
        // bounded, no earlier than that span's length (and a lead, for a
        // clock that ran behind) before it; with only its effect bounded,
        // also no earlier than the cause may come before the effect (a
        // span's length, or a message's horizon). Above, only when both
        // ends are bounded.
        let settings = cache.settings();
        let lead = longest.saturating_add(settings.lead_ns());
        let starts = match which {
            Which::Edges => {
                let (from, to) = (
                    time_bounds(filters, "from_time"),
                    time_bounds(filters, "to_time"),
                );
                let back = lead.saturating_add(longest.max(settings.horizon_ns));
                let lower = [
                    from.from_ns.map(|t| t.saturating_sub(lead)),
                    to.from_ns.map(|t| t.saturating_sub(back)),
                ];
                let upper = [
                    from.to_ns.zip(to.to_ns).map(|(a, b)| a.max(b)),
                    from.to_ns.map(|t| t.saturating_add(lead)),
                    to.to_ns.map(|t| t.saturating_add(lead)),
                ];
                TimeRange {
                    from_ns: lower.into_iter().flatten().max(),
                    to_ns: upper.into_iter().flatten().min(),
                }
            }
            _ => time_bounds(filters, col::TIME).extended(lead, 0),
        };
        let selected = select(&windows, starts);
        tracing::debug!(
            table = ?which,
            windows = windows.len(),
            read = ?selected,
            "graph table in windows"
        );
        let rows = WindowedRows {
            cache,
            which,
            windows,
            selected,
            schema,
        };
        streamed(rows, projection, limit)
    }
}

/// A plan of one partition, `rows`' stream.
fn streamed(
    rows: impl PartitionStream + 'static,
    projection: Option<&Vec<usize>>,
    limit: Option<usize>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = Arc::clone(rows.schema());
    Ok(Arc::new(StreamingTableExec::try_new(
        schema,
        vec![Arc::new(rows)],
        projection,
        Vec::new(),
        false,
        limit,
    )?))
}

impl PartitionStream for WindowedRows {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _: Arc<TaskContext>) -> SendableRecordBatchStream {
        let walk = Walk {
            cache: Arc::clone(&self.cache),
            which: self.which,
            windows: Arc::clone(&self.windows),
            selected: self.selected.clone(),
            // Edges need the ids of spans earlier windows kept.
            next: if self.which == Which::Edges {
                first_to_build(&self.windows, self.selected.start)
            } else {
                self.selected.start
            },
            current: None,
            ready: Vec::new(),
            waiting: Vec::new(),
            left_running: HashMap::new(),
        };
        let stream = futures::stream::try_unfold(walk, |mut walk| async move {
            Ok(walk.next_batch().await?.map(|batch| (batch, walk)))
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
}

/// The ids of one span's events in the window that keeps it, and its times.
#[derive(Debug, Clone)]
struct SpanIds {
    window: u32,
    start: EventId,
    end: EventId,
    /// Its span events' indices in the span, and their first id.
    points: (EventId, Box<[u32]>),
    times: (i64, i64),
}

impl SpanIds {
    fn of(g: &Graph, span: u32, window: u32) -> SpanIds {
        let s = &g.spans[span as usize];
        let points = g.points(span);
        let indices = points
            .clone()
            .filter_map(|e| match g.event(e).ty {
                EventType::Point(i) => Some(i),
                _ => None,
            })
            .collect();
        SpanIds {
            window,
            start: s.start_event,
            end: s.end_event(),
            points: (points.start, indices),
            times: (s.start, s.end),
        }
    }

    fn id(&self, ty: EventType) -> Option<u64> {
        let e = match ty {
            EventType::Start => self.start,
            EventType::End => self.end,
            EventType::Point(i) => {
                let at = self.points.1.iter().position(|&x| x == i)?;
                self.points.0 + at as EventId
            }
        };
        Some(event_id(self.window, e))
    }
}

/// Which id column of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `event_id` of `causal_events` rows.
    Event,
    /// `from_event_id` of `hb_edges` rows.
    From,
    /// `to_event_id`.
    To,
}

impl Side {
    fn column(self) -> String {
        match self {
            Side::Event => names::EVENT_ID.to_owned(),
            Side::From => format!("{}{}", names::FROM, names::EVENT_ID),
            Side::To => format!("{}{}", names::TO, names::EVENT_ID),
        }
    }
}

/// An event of a row, numbered by a window not yet built.
#[derive(Debug, Clone, Copy)]
struct Hole {
    row: u32,
    side: Side,
    span: (u128, u64),
    ty: EventType,
    /// The window that keeps its span.
    owner: usize,
}

/// Rows waiting for the ids of other windows.
#[derive(Debug)]
struct Waiting {
    batch: RecordBatch,
    holes: Vec<Hole>,
    ids: Vec<(Hole, Option<u64>)>,
}

/// The window being emitted: its graph, the window that keeps each of its
/// spans, and its rows (events or edges) not yet emitted.
struct Current {
    window: usize,
    built: Built,
    owner: Vec<usize>,
    rows: Vec<u32>,
    at: usize,
}

/// The walk over the windows: the window being emitted, the edges waiting
/// for later ids, and the spans earlier windows left running.
struct Walk {
    cache: Arc<GraphCache>,
    which: Which,
    windows: Arc<[Window]>,
    selected: Range<usize>,
    next: usize,
    current: Option<Current>,
    ready: Vec<RecordBatch>,
    waiting: Vec<Waiting>,
    left_running: HashMap<(u128, u64), SpanIds>,
}

impl Walk {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop() {
                return Ok(Some(batch));
            }
            if let Some(current) = self.current.take() {
                self.emit(current)?;
                continue;
            }
            // Past the selection, windows are built only for the ids of
            // the rows still waiting.
            let wanted = self.next < self.selected.end
                || (self.which == Which::Edges && !self.waiting.is_empty());
            if !wanted || self.next >= self.windows.len() {
                // What no window numbered stays null.
                for w in std::mem::take(&mut self.waiting) {
                    self.ready.push(w.patched()?);
                }
                if self.ready.is_empty() {
                    return Ok(None);
                }
                continue;
            }
            let i = self.next;
            self.next += 1;
            let built = self
                .cache
                .analyse(self.windows[i].reach)
                .await
                .map_err(to_datafusion)?;
            self.start(i, built)?;
        }
    }

    /// Builds window `i`'s rows list and numbers what waited for it.
    fn start(&mut self, i: usize, built: Built) -> Result<()> {
        let g = &built.graph;
        let owner: Vec<usize> = g
            .spans
            .iter()
            .map(|s| owner_of(&self.windows, s.start))
            .collect();
        let rows: Vec<u32> = if !self.selected.contains(&i) {
            Vec::new()
        } else if self.which == Which::Edges {
            (0..g.edge_count() as u32)
                .filter(|&x| self.owns_edge(i, g, &owner, x))
                .collect()
        } else {
            (0..g.event_count() as EventId)
                .filter(|&e| owner[g.span_of(e) as usize] == i)
                .collect()
        };
        if self.which == Which::Edges {
            self.number_waiting(i, g)?;
        }
        self.current = Some(Current {
            window: i,
            built,
            owner,
            rows,
            at: 0,
        });
        Ok(())
    }

    /// Whether window `i` emits edge `x` of its graph (see the module's
    /// docs).
    fn owns_edge(&self, i: usize, g: &Graph, owner: &[usize], x: u32) -> bool {
        let edge = g.edge(x);
        let (a, b) = (g.span_of(edge.from) as usize, g.span_of(edge.to) as usize);
        let (lo, hi) = if g.spans[a].start <= g.spans[b].start {
            (a, b)
        } else {
            (b, a)
        };
        let later = &g.spans[hi];
        owner[lo] == i
            || (owner[hi] == i && !self.windows[owner[lo]].reach.reads(later.start, later.end))
    }

    /// Gives the rows waiting for window `i` its ids.
    fn number_waiting(&mut self, i: usize, g: &Graph) -> Result<()> {
        let mut k = 0;
        while k < self.waiting.len() {
            let waiting = &mut self.waiting[k];
            for hole in waiting.holes.iter().filter(|h| h.owner == i) {
                let id = lookup(g, hole.span, hole.ty).map(|e| event_id(i as u32, e));
                waiting.ids.push((*hole, id));
            }
            waiting.holes.retain(|h| h.owner != i);
            if waiting.holes.is_empty() {
                let done = self.waiting.remove(k);
                self.ready.push(done.patched()?);
            } else {
                k += 1;
            }
        }
        Ok(())
    }

    /// The next chunk of the current window's rows; at its end, the spans
    /// it leaves its successor.
    fn emit(&mut self, mut current: Current) -> Result<()> {
        let (i, g) = (current.window, &current.built.graph);
        let chunk = &current.rows[current.at..(current.at + CHUNK).min(current.rows.len())];
        current.at += chunk.len();
        if !chunk.is_empty() {
            match self.which {
                Which::Edges => self.edges(i, g, &current.owner, chunk)?,
                _ => self.ready.push(
                    rows::events_batch(g, Some(chunk), |e| Some(event_id(i as u32, e)))
                        .map_err(to_datafusion)?,
                ),
            }
        }
        if current.at < current.rows.len() {
            self.current = Some(current);
            return Ok(());
        }
        if self.which == Which::Edges
            && let Some(next) = self.windows.get(i + 1)
        {
            // Kept while the next window may read the span: reaches only
            // move later, so one that does not never will.
            self.left_running
                .retain(|_, ids| next.reach.reads(ids.times.0, ids.times.1));
            for (x, s) in g.spans.iter().enumerate() {
                if current.owner[x] == i && next.reach.reads(s.start, s.end) {
                    self.left_running
                        .insert((s.trace_id, s.span_id), SpanIds::of(g, x as u32, i as u32));
                }
            }
        }
        Ok(())
    }

    /// Rows of the edges `chunk` of window `i`: those whose ids are known
    /// now, and those waiting for a later window's set aside.
    fn edges(&mut self, i: usize, g: &Graph, owner: &[usize], chunk: &[u32]) -> Result<()> {
        let w = i as u32;
        let batch = rows::edges_batch(g, Some(chunk), false, |e| {
            let span = g.span_of(e);
            let s = &g.spans[span as usize];
            match owner[span as usize] {
                o if o == i => Some(event_id(w, e)),
                o if o < i => self
                    .left_running
                    .get(&(s.trace_id, s.span_id))
                    .and_then(|ids| ids.id(g.event(e).ty)),
                _ => None,
            }
        })
        .map_err(to_datafusion)?;
        let mut holes = Vec::new();
        for (row, &x) in chunk.iter().enumerate() {
            let edge = g.edge(x);
            for (side, e) in [(Side::From, edge.from), (Side::To, edge.to)] {
                let span = g.span_of(e) as usize;
                if owner[span] > i {
                    let s = &g.spans[span];
                    holes.push(Hole {
                        row: row as u32,
                        side,
                        span: (s.trace_id, s.span_id),
                        ty: g.event(e).ty,
                        owner: owner[span],
                    });
                }
            }
        }
        if holes.is_empty() {
            self.ready.push(batch);
            return Ok(());
        }
        // The rows without holes now; the others wait.
        let mut waits = vec![false; batch.num_rows()];
        for h in &holes {
            waits[h.row as usize] = true;
        }
        let now = BooleanArray::from_iter(waits.iter().map(|&x| Some(!x)));
        self.ready.push(filter_record_batch(&batch, &now)?);
        let rows: Vec<u32> = (0..waits.len() as u32)
            .filter(|&r| waits[r as usize])
            .collect();
        let mut renumber = vec![0u32; waits.len()];
        for (new, &old) in rows.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        for h in &mut holes {
            h.row = renumber[h.row as usize];
        }
        let rows = take_record_batch(&batch, &UInt32Array::from(rows))?;
        self.waiting.push(Waiting::new(rows, holes));
        Ok(())
    }
}

impl Waiting {
    fn new(batch: RecordBatch, holes: Vec<Hole>) -> Waiting {
        Waiting {
            batch,
            holes,
            ids: Vec::new(),
        }
    }

    /// The rows with the ids found for them (null where none was).
    fn patched(self) -> Result<RecordBatch> {
        let schema = self.batch.schema();
        let mut columns: Vec<ArrayRef> = self.batch.columns().to_vec();
        for side in [Side::Event, Side::From, Side::To] {
            let holes = self.holes.iter().filter(|h| h.side == side);
            let found = self.ids.iter().filter(|(h, _)| h.side == side);
            if holes.clone().next().is_none() && found.clone().next().is_none() {
                continue;
            }
            let name = side.column();
            let at = schema.index_of(&name)?;
            let old = columns[at]
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| DataFusionError::Internal(format!("{name} is not u64")))?;
            let mut values: Vec<Option<u64>> = old.iter().collect();
            for h in holes {
                values[h.row as usize] = None;
            }
            for (h, id) in found {
                values[h.row as usize] = *id;
            }
            columns[at] = Arc::new(UInt64Array::from(values));
        }
        Ok(RecordBatch::try_new(schema, columns)?)
    }

    /// Numbers the holes by building the windows that keep their spans,
    /// one at a time, in the memory limit.
    async fn numbered(mut self, cache: &GraphCache, windows: &[Window]) -> Result<RecordBatch> {
        let mut owners: Vec<usize> = self.holes.iter().map(|h| h.owner).collect();
        owners.sort_unstable();
        owners.dedup();
        for o in owners {
            let built = cache
                .analyse(windows[o].reach)
                .await
                .map_err(to_datafusion)?;
            let g = &built.graph;
            for hole in self.holes.iter().filter(|h| h.owner == o) {
                let id = lookup(g, hole.span, hole.ty).map(|e| event_id(o as u32, e));
                self.ids.push((*hole, id));
            }
        }
        self.holes.clear();
        self.patched()
    }
}

/// Event `ty` of the span `span` names, in `g`.
fn lookup(g: &Graph, span: (u128, u64), ty: EventType) -> Option<EventId> {
    let s = g.span(span.0, span.1)?;
    match ty {
        EventType::Start => Some(g.spans[s as usize].start_event),
        EventType::End => Some(g.spans[s as usize].end_event()),
        EventType::Point(index) => g.point(s, index),
    }
}

/// What names event `e` of `g` in any graph: its span's ids and its type.
fn key(g: &Graph, e: EventId) -> Key {
    let ev = g.event(e);
    let s = &g.spans[ev.span as usize];
    ((s.trace_id, s.span_id), ev.ty)
}

/// The plan of a table function over several windows (see the module's
/// docs): a cone streams its walk over the windows from its target's; a
/// path is searched in the window of its start, a cut in the spans a
/// horizon either side of its time. Every row is numbered as
/// `causal_events` numbers it.
pub async fn function_scan(
    cache: Arc<GraphCache>,
    windows: Arc<[Window]>,
    function: &Function,
    (state, projection, filters, limit): (
        &dyn Session,
        Option<&Vec<usize>>,
        &[Expr],
        Option<usize>,
    ),
) -> Result<Arc<dyn ExecutionPlan>> {
    let batch = match function {
        Function::Cone { target, past } => {
            let rows = ConeRows {
                cache,
                windows,
                target: target.clone(),
                past: *past,
            };
            return streamed(rows, projection, limit);
        }
        Function::Path { from, to } => path(&cache, &windows, from, to).await?,
        Function::Cut { at } => cut(&cache, &windows, *at).await?,
    };
    rows_scan(batch, state, projection, filters, limit).await
}

/// `hb_path(from, to)`'s rows.
async fn path(
    cache: &GraphCache,
    windows: &[Window],
    from: &Target,
    to: &Target,
) -> Result<RecordBatch> {
    let to_key = locate(cache, windows, to).await?.key;
    let mut start = locate(cache, windows, from).await?;
    let (from_key, w) = (start.key, start.owner);
    let built = start.window(cache, windows).await?;
    drop(start);
    let g = &built.graph;
    // A path to an event this window does not read is beyond the
    // horizon: no rows, as when nothing orders the two.
    let edges = match (
        lookup(g, from_key.0, from_key.1),
        lookup(g, to_key.0, to_key.1),
    ) {
        (Some(a), Some(b)) => search::path(g, a, b).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut events = Vec::new();
    for &x in &edges {
        let edge = g.edge(x);
        events.push((Side::From, edge.from));
        events.push((Side::To, edge.to));
    }
    let (holes, number) = numbering(windows, g, Some(w), &events);
    let batch = rows::edges_batch(g, Some(&edges), true, number).map_err(to_datafusion)?;
    drop(built);
    Waiting::new(batch, holes).numbered(cache, windows).await
}

/// `consistent_cut(at)`'s rows.
async fn cut(cache: &GraphCache, windows: &[Window], at: i64) -> Result<RecordBatch> {
    let settings = cache.settings();
    let from = at.saturating_sub(settings.horizon_ns);
    let reach = Reach {
        starts: TimeRange {
            from_ns: Some(from),
            // Node offsets are estimated from the whole offset
            // window around the cut, and more.
            to_ns: Some(at.saturating_add(settings.horizon_ns)),
        },
        running_since: Some(from.saturating_sub(settings.horizon_ns)),
        trace: None,
    };
    let built = cache.analyse(reach).await.map_err(to_datafusion)?;
    let g = &built.graph;
    let ids = cut_frontier(g, &settings.detect, at);
    let events: Vec<(Side, EventId)> = ids.iter().map(|&e| (Side::Event, e)).collect();
    let (holes, number) = numbering(windows, g, None, &events);
    let batch = rows::events_batch(g, Some(&ids), number).map_err(to_datafusion)?;
    drop(built);
    Waiting::new(batch, holes).numbered(cache, windows).await
}

/// Numbers the events of rows (`events`, row by row: one per row, or a
/// `from_` and a `to_` per row) made from `g`, the graph of window `own`
/// (or of no window): those whose span `own` keeps by index, the others
/// as holes for their window.
fn numbering(
    windows: &[Window],
    g: &Graph,
    own: Option<usize>,
    events: &[(Side, EventId)],
) -> (Vec<Hole>, impl Fn(EventId) -> Option<u64> + use<>) {
    let per_row = if events.iter().any(|(side, _)| *side == Side::To) {
        2
    } else {
        1
    };
    let mut holes = Vec::new();
    for (k, &(side, e)) in events.iter().enumerate() {
        let o = owner_of(windows, g.spans[g.span_of(e) as usize].start);
        if Some(o) != own {
            let (span, ty) = key(g, e);
            holes.push(Hole {
                row: (k / per_row) as u32,
                side,
                span,
                ty,
                owner: o,
            });
        }
    }
    let own = own.map(|o| o as u32);
    (holes, move |e| own.map(|o| event_id(o, e)))
}

/// A table function's target: what names it, the window that keeps its
/// span, and its span's start and end; and that window's graph, when
/// finding the target built it (an event id), for the caller to use
/// instead of building it again.
struct Located {
    key: Key,
    owner: usize,
    span: (i64, i64),
    built: Option<Built>,
}

impl Located {
    /// The graph of the target's window.
    async fn window(&mut self, cache: &GraphCache, windows: &[Window]) -> Result<Built> {
        match self.built.take() {
            Some(built) => Ok(built),
            None => cache
                .analyse(windows[self.owner].reach)
                .await
                .map_err(to_datafusion),
        }
    }
}

/// Where a table function's target is.
async fn locate(cache: &GraphCache, windows: &[Window], target: &Target) -> Result<Located> {
    match target {
        Target::Event(id) => {
            let (w, e) = split_event_id(*id);
            let missing = || DataFusionError::Execution(format!("no event with event_id {id}"));
            let window = windows.get(w as usize).ok_or_else(missing)?;
            let built = cache.analyse(window.reach).await.map_err(to_datafusion)?;
            let g = &built.graph;
            if e as usize >= g.event_count() {
                return Err(missing());
            }
            let span = &g.spans[g.span_of(e) as usize];
            Ok(Located {
                key: key(g, e),
                owner: w as usize,
                span: (span.start, span.end),
                built: Some(built),
            })
        }
        Target::Span(trace, span) => {
            let missing = || DataFusionError::Execution(format!("no span {span} in trace {trace}"));
            let (t, s) = parse_trace(trace)
                .zip(parse_span(span))
                .ok_or_else(missing)?;
            let built = cache
                .analyse(Reach {
                    starts: cache.settings().range,
                    running_since: None,
                    trace: Some(t),
                })
                .await
                .map_err(to_datafusion)?;
            let g = &built.graph;
            let x = g.span(t, s).ok_or_else(missing)?;
            let span = &g.spans[x as usize];
            Ok(Located {
                key: ((t, s), EventType::Start),
                owner: owner_of(windows, span.start),
                span: (span.start, span.end),
                built: None,
            })
        }
    }
}

/// An event a cone walk found.
#[derive(Debug, Clone, Copy)]
struct Found {
    /// Its span's start and end.
    span: (i64, i64),
    owner: usize,
    /// Given a row (or the target, which has none).
    done: bool,
}

/// `causal_past` (`past`) or `causal_future` of `target`, as a stream:
/// walking the windows from the target's towards the start (past) or the
/// end. In each window the cone is followed from every event found so far
/// whose span the window reads (a path may leave one window's graph and
/// come back in another's), and gives the rows of the events whose spans
/// it keeps. An event found after its window was walked (a path through
/// spans only an earlier window reads) is numbered by building that window
/// again. One window's graph and rows are held at a time.
#[derive(Debug)]
struct ConeRows {
    cache: Arc<GraphCache>,
    windows: Arc<[Window]>,
    target: Target,
    past: bool,
}

impl PartitionStream for ConeRows {
    fn schema(&self) -> &SchemaRef {
        static SCHEMA: std::sync::LazyLock<SchemaRef> =
            std::sync::LazyLock::new(rows::events_schema);
        &SCHEMA
    }

    fn execute(&self, _: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (cache, windows) = (Arc::clone(&self.cache), Arc::clone(&self.windows));
        let (target, past) = (self.target.clone(), self.past);
        let walk = futures::stream::once(async move {
            let start = locate(&cache, &windows, &target).await?;
            Ok::<_, DataFusionError>(ConeWalk::new(cache, windows, start, past))
        });
        let batches = walk
            .map_ok(|walk| {
                futures::stream::try_unfold(walk, |mut walk| async move {
                    Ok::<_, DataFusionError>(walk.step().await?.map(|batches| (batches, walk)))
                })
            })
            .try_flatten()
            .map_ok(|batches| {
                futures::stream::iter(batches.into_iter().map(Ok::<_, DataFusionError>))
            })
            .try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(
            rows::events_schema(),
            batches,
        ))
    }
}

/// The state of a cone's walk over the windows.
struct ConeWalk {
    cache: Arc<GraphCache>,
    windows: Arc<[Window]>,
    past: bool,
    /// The windows in the walk's order, and the next one's place in it.
    order: Vec<usize>,
    next: usize,
    found: HashMap<Key, Found>,
    late: Vec<Waiting>,
    /// The first window's graph, if finding the target built it.
    first: Option<Built>,
}

impl ConeWalk {
    fn new(cache: Arc<GraphCache>, windows: Arc<[Window]>, start: Located, past: bool) -> Self {
        let order: Vec<usize> = if past {
            (0..=start.owner).rev().collect()
        } else {
            (start.owner..windows.len()).collect()
        };
        let mut found = HashMap::new();
        found.insert(
            start.key,
            Found {
                span: start.span,
                owner: start.owner,
                done: true,
            },
        );
        ConeWalk {
            cache,
            windows,
            past,
            order,
            next: 0,
            found,
            late: Vec::new(),
            first: start.built,
        }
    }

    /// Whether window `owner` was walked already when at window `w`.
    fn walked(&self, owner: usize, w: usize) -> bool {
        if self.past { owner > w } else { owner < w }
    }

    /// The rows of the next window of the walk (possibly none), then those
    /// numbered late; `None` at the end.
    async fn step(&mut self) -> Result<Option<Vec<RecordBatch>>> {
        let Some(&w) = self.order.get(self.next) else {
            let Some(waiting) = self.late.pop() else {
                return Ok(None);
            };
            return Ok(Some(vec![
                waiting.numbered(&self.cache, &self.windows).await?,
            ]));
        };
        self.next += 1;
        let reach = self.windows[w].reach;
        let wanted = self
            .found
            .values()
            .any(|f| (!f.done && !self.walked(f.owner, w)) || reach.reads(f.span.0, f.span.1));
        if !wanted {
            // Nothing found can be read further on.
            self.next = self.order.len();
            return Ok(Some(Vec::new()));
        }
        let built = match self.first.take() {
            Some(built) => built,
            None => self.cache.analyse(reach).await.map_err(to_datafusion)?,
        };
        let g = &built.graph;
        let seeds: Vec<EventId> = self
            .found
            .iter()
            .filter(|(_, f)| reach.reads(f.span.0, f.span.1))
            .filter_map(|(k, _)| lookup(g, k.0, k.1))
            .collect();
        let mut reached = search::cone_of(g, &seeds, self.past);
        reached.extend(&seeds);
        let (mut own, mut elsewhere) = (Vec::new(), Vec::new());
        for e in reached {
            let span = &g.spans[g.span_of(e) as usize];
            let owner = owner_of(&self.windows, span.start);
            let walked = self.walked(owner, w);
            let f = self.found.entry(key(g, e)).or_insert(Found {
                span: (span.start, span.end),
                owner,
                done: false,
            });
            if f.done {
                continue;
            }
            if owner == w {
                own.push(e);
                f.done = true;
            } else if walked {
                elsewhere.push(e);
                f.done = true;
            }
        }
        own.sort_unstable();
        let mut batches = Vec::new();
        for chunk in own.chunks(CHUNK) {
            batches.push(
                rows::events_batch(g, Some(chunk), |e| Some(event_id(w as u32, e)))
                    .map_err(to_datafusion)?,
            );
        }
        if !elsewhere.is_empty() {
            let events: Vec<(Side, EventId)> =
                elsewhere.iter().map(|&e| (Side::Event, e)).collect();
            let (holes, number) = numbering(&self.windows, g, None, &events);
            let batch = rows::events_batch(g, Some(&elsewhere), number).map_err(to_datafusion)?;
            self.late.push(Waiting::new(batch, holes));
        }
        // What the rest of the walk will not read and has its row is done.
        if let Some(&next) = self.order.get(self.next) {
            let reach = self.windows[next].reach;
            self.found
                .retain(|_, f| !f.done || reach.reads(f.span.0, f.span.1));
        }
        Ok(Some(batches))
    }
}

/// The window that keeps instant `t` (windows keep consecutive ranges, the
/// first everything before it and the last everything after).
fn owner_of(windows: &[Window], t: i64) -> usize {
    windows.partition_point(|w| w.bounds.keep.to_ns.is_some_and(|to| to <= t))
}

/// The windows that keep some instant of `starts`.
fn select(windows: &[Window], starts: TimeRange) -> Range<usize> {
    let from = starts.from_ns.map_or(0, |f| owner_of(windows, f));
    let to = starts
        .to_ns
        .map_or(windows.len(), |t| owner_of(windows, t) + 1);
    from..to.min(windows.len()).max(from)
}

/// The first window to build for a selection starting at `first`: the
/// earliest that keeps a span `first` reads, so the ids of the spans it
/// left running are known.
fn first_to_build(windows: &[Window], first: usize) -> usize {
    match windows.get(first).and_then(|w| w.reach.outer().from_ns) {
        Some(from) if first > 0 => owner_of(windows, from).min(first),
        _ => first,
    }
}

/// The instants `filters` bound `column` to (literal bounds on it, joined
/// by AND at the top); unbounded where they say nothing.
fn time_bounds(filters: &[Expr], column: &str) -> TimeRange {
    let mut range = TimeRange::default();
    let mut narrow = |op: Operator, ns: i64| match op {
        Operator::Gt | Operator::GtEq => {
            range.from_ns = Some(range.from_ns.map_or(ns, |f| f.max(ns)));
        }
        Operator::Lt => range.to_ns = Some(range.to_ns.map_or(ns, |t| t.min(ns))),
        Operator::LtEq => {
            let ns = ns.saturating_add(1);
            range.to_ns = Some(range.to_ns.map_or(ns, |t| t.min(ns)));
        }
        Operator::Eq => {
            range.from_ns = Some(range.from_ns.map_or(ns, |f| f.max(ns)));
            let end = ns.saturating_add(1);
            range.to_ns = Some(range.to_ns.map_or(end, |t| t.min(end)));
        }
        _ => {}
    };
    let mut stack: Vec<&Expr> = filters.iter().collect();
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                if *op == Operator::And {
                    stack.push(left);
                    stack.push(right);
                } else if let (Some(()), Some(ns)) = (is_column(left, column), literal_ns(right)) {
                    narrow(*op, ns);
                } else if let (Some(ns), Some(()), Some(op)) =
                    (literal_ns(left), is_column(right, column), op.swap())
                {
                    narrow(op, ns);
                }
            }
            Expr::Between(between)
                if !between.negated && is_column(&between.expr, column).is_some() =>
            {
                if let Some(low) = literal_ns(&between.low) {
                    narrow(Operator::GtEq, low);
                }
                if let Some(high) = literal_ns(&between.high) {
                    narrow(Operator::LtEq, high);
                }
            }
            _ => {}
        }
    }
    range
}

fn is_column(expr: &Expr, column: &str) -> Option<()> {
    match expr {
        Expr::Column(c) if c.name == column => Some(()),
        Expr::Cast(cast) => is_column(&cast.expr, column),
        _ => None,
    }
}

/// A literal instant, in ns since the epoch.
fn literal_ns(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampNanosecond(Some(n), _) => Some(*n),
        ScalarValue::TimestampMicrosecond(Some(n), _) => n.checked_mul(1_000),
        ScalarValue::TimestampMillisecond(Some(n), _) => n.checked_mul(1_000_000),
        ScalarValue::TimestampSecond(Some(n), _) => n.checked_mul(1_000_000_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col as column, lit};

    fn window(from: Option<i64>, to: Option<i64>) -> Window {
        Window {
            reach: Reach::default(),
            bounds: causet_engine::window::Bounds {
                keep: TimeRange {
                    from_ns: from,
                    to_ns: to,
                },
                end: to.unwrap_or(i64::MAX),
                read_until: None,
            },
        }
    }

    #[test]
    fn every_instant_has_one_owner_and_bounds_select_their_windows() {
        let windows = [
            window(None, Some(100)),
            window(Some(100), Some(200)),
            window(Some(200), None),
        ];
        assert_eq!(owner_of(&windows, -5), 0);
        assert_eq!(owner_of(&windows, 99), 0);
        assert_eq!(owner_of(&windows, 100), 1);
        assert_eq!(owner_of(&windows, 250), 2);
        let range = |from, to| TimeRange {
            from_ns: from,
            to_ns: to,
        };
        assert_eq!(select(&windows, range(None, None)), 0..3);
        assert_eq!(select(&windows, range(Some(150), Some(160))), 1..2);
        assert_eq!(select(&windows, range(Some(150), None)), 1..3);
        assert_eq!(select(&windows, range(None, Some(50))), 0..1);
    }

    #[test]
    fn literal_bounds_on_the_time_columns_are_read() {
        let ts = |n: i64| lit(ScalarValue::TimestampNanosecond(Some(n), None));
        let filters = [
            column("time")
                .gt_eq(ts(100))
                .and(column("time").lt(ts(200))),
            column("node").eq(lit("a")),
        ];
        assert_eq!(
            time_bounds(&filters, "time"),
            TimeRange {
                from_ns: Some(100),
                to_ns: Some(200)
            }
        );
        // Other columns, ORs and non-literals say nothing.
        let or = [column("time").gt(ts(5)).or(column("time").lt(ts(1)))];
        assert_eq!(time_bounds(&or, "time"), TimeRange::default());
        let flipped = [ts(300).gt_eq(column("to_time"))];
        assert_eq!(time_bounds(&flipped, "to_time").to_ns, Some(301));
        assert_eq!(time_bounds(&flipped, "from_time"), TimeRange::default());
    }
}
