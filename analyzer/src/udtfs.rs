//! Table functions over the happens-before graph:
//!
//! - `causal_past(trace_id, span_id)` / `causal_past(event_id)`: the events
//!   that happen before the span's start (or the event), as `causal_events` rows.
//! - `causal_future(trace_id, span_id)` / `causal_future(event_id)`: the
//!   events that happen after it.
//! - `hb_path(trace_a, span_a, trace_b, span_b)` / `hb_path(event_a, event_b)`:
//!   the shortest chain of edges from A's start (or event A) to B's, one row
//!   per edge with its source; no rows when nothing collected orders A
//!   before B. That is not proof they are concurrent when spans were not
//!   collected: `causet why` says "unknown" then (see
//!   [`gaps`](crate::graph::gaps)), and so does `possible_concurrent_write`.
//! - `concurrent_writes(key)`: the pairs of writes to `key` that neither
//!   write's vector clock orders (what a self-join on `spans` with
//!   `vc_compare(a.vc, b.vc) = 'concurrent'` gives, without the join).
//! - `consistent_cut(time)`: the frontier of the consistent cut at `time`
//!   (RFC 3339 text, a timestamp or ns), one `causal_events` row per node:
//!   its last event in the largest happens-before-closed set of events none
//!   later than `time` on its node's offset-corrected clock (see
//!   [`crate::cut`]; `causet cut` adds key states and the snapshot's
//!   inconsistencies).

mod cone;
mod conflicts;
mod cut;
mod path;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

use crate::derived::GraphCache;
use crate::detect::{DetectConfig, offsets};
use crate::error::to_datafusion;
use crate::graph::load::{parse_span, parse_trace};
use crate::graph::search;
use crate::graph::{EventId, Graph};
use crate::rows::graph as rows;
use crate::rows::graph::split_event_id;

pub use cone::CausalCone;
pub use conflicts::ConcurrentWrites;
pub use cut::ConsistentCut;
pub use path::HbPath;

/// Registers the table functions on `ctx`.
pub fn register_all(ctx: &SessionContext, cache: &Arc<GraphCache>) {
    ctx.register_udtf(
        "causal_past",
        Arc::new(CausalCone::new(Arc::clone(cache), true)),
    );
    ctx.register_udtf(
        "causal_future",
        Arc::new(CausalCone::new(Arc::clone(cache), false)),
    );
    ctx.register_udtf("hb_path", Arc::new(HbPath::new(Arc::clone(cache))));
    ctx.register_udtf(
        "concurrent_writes",
        Arc::new(ConcurrentWrites::new(Arc::clone(cache))),
    );
    ctx.register_udtf(
        "consistent_cut",
        Arc::new(ConsistentCut::new(Arc::clone(cache))),
    );
}

/// What a table function computes.
#[derive(Debug, Clone)]
pub enum Function {
    /// `causal_past` (`past`) or `causal_future`.
    Cone {
        /// Whose past or future.
        target: Target,
        /// The past, else the future.
        past: bool,
    },
    /// `hb_path`.
    Path {
        /// Where the path starts.
        from: Target,
        /// Where it ends.
        to: Target,
    },
    /// `consistent_cut`.
    Cut {
        /// The cut's time, ns since the epoch.
        at: i64,
    },
}

impl Function {
    /// The schema of its rows.
    pub fn schema(&self) -> SchemaRef {
        match self {
            Function::Path { .. } => rows::path_schema(),
            _ => rows::events_schema(),
        }
    }

    /// Its rows in one graph of the whole range, whose ids are its indices.
    pub fn rows(&self, graph: &Graph, config: &DetectConfig) -> Result<RecordBatch> {
        let index = |e: EventId| Some(u64::from(e));
        let batch = match self {
            Function::Cone { target, past } => {
                let ids = search::cone(graph, target.resolve(graph)?, *past);
                rows::events_batch(graph, Some(&ids), index)
            }
            Function::Path { from, to } => {
                let edges = search::path(graph, from.resolve(graph)?, to.resolve(graph)?)
                    .unwrap_or_default();
                rows::edges_batch(graph, Some(&edges), true, index)
            }
            Function::Cut { at } => {
                let ids = cut_frontier(graph, config, *at);
                rows::events_batch(graph, Some(&ids), index)
            }
        };
        batch.map_err(to_datafusion)
    }
}

/// The frontier events of the consistent cut at `at` in `graph`.
pub(crate) fn cut_frontier(graph: &Graph, config: &DetectConfig, at: i64) -> Vec<EventId> {
    let (offsets, _) = offsets::estimate(graph, config);
    let cut = causet_engine::cut::cut(graph, None, &offsets, config.window_ns, at, &[]);
    cut.frontier.iter().filter_map(|f| f.event).collect()
}

/// An event named by its id, or a span (meaning its start) by its ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `causal_events.event_id`.
    Event(u64),
    /// `(trace_id, span_id)`.
    Span(String, String),
}

impl Target {
    /// Reads targets from literal arguments: one integer per event, or two
    /// strings per span.
    pub fn parse_all(function: &str, args: &[Expr], count: usize) -> Result<Vec<Target>> {
        let values: Vec<&ScalarValue> = args
            .iter()
            .map(|arg| match arg {
                Expr::Literal(value, _) => Ok(value),
                other => Err(DataFusionError::Plan(format!(
                    "{function}: arguments must be literals, got {other}"
                ))),
            })
            .collect::<Result<_>>()?;
        let usage = || {
            DataFusionError::Plan(format!(
                "{function} takes {count} event id(s) or {count} (trace_id, span_id) pair(s)"
            ))
        };
        if values.len() == count {
            values
                .iter()
                .map(|v| match v {
                    ScalarValue::Int64(Some(n)) => {
                        u64::try_from(*n).map(Target::Event).map_err(|_| usage())
                    }
                    ScalarValue::Int32(Some(n)) => {
                        u64::try_from(*n).map(Target::Event).map_err(|_| usage())
                    }
                    ScalarValue::UInt64(Some(n)) => Ok(Target::Event(*n)),
                    ScalarValue::UInt32(Some(n)) => Ok(Target::Event(u64::from(*n))),
                    _ => Err(usage()),
                })
                .collect()
        } else if values.len() == 2 * count {
            values
                .chunks(2)
                .map(|pair| match (pair[0].try_as_str(), pair[1].try_as_str()) {
                    (Some(Some(t)), Some(Some(s))) => Ok(Target::Span(t.to_owned(), s.to_owned())),
                    _ => Err(usage()),
                })
                .collect()
        } else {
            Err(usage())
        }
    }

    /// The event this target names in `graph`.
    pub fn resolve(&self, graph: &Graph) -> Result<EventId> {
        match self {
            Target::Event(id) => match split_event_id(*id) {
                (0, e) if (e as usize) < graph.event_count() => Ok(e),
                _ => Err(DataFusionError::Execution(format!(
                    "no event with event_id {id}"
                ))),
            },
            Target::Span(trace, span) => parse_trace(trace)
                .zip(parse_span(span))
                .and_then(|(t, s)| graph.span(t, s))
                .map(|i| graph.spans[i as usize].start_event)
                .ok_or_else(|| {
                    DataFusionError::Execution(format!("no span {span} in trace {trace}"))
                }),
        }
    }
}
