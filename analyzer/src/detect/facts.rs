//! What the detectors need beyond the graph: writes, retry and outcome
//! attributes, clock parse errors. Loaded by one query per table.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, UInt32Type};
use causet_schema::attributes as key;
use causet_schema::tables::{SPAN_EVENTS, SPANS, col};
use datafusion::catalog::TableProvider;

use crate::error::Result;
use crate::graph::load::{parse_span, parse_trace};
use crate::graph::{EventId, EventType, Graph};

/// A write: the key and value written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The event that wrote: a span event, or the span's start for a span that writes.
    pub event: EventId,
    /// The key.
    pub key: String,
    /// The value (or its digest), when recorded.
    pub value: Option<String>,
}

/// Facts about one span.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanFacts {
    /// Idempotency key of the logical request.
    pub idempotency_key: Option<String>,
    /// The server answered from its deduplication cache.
    pub replayed: bool,
    /// Retry attempt number.
    pub attempt: Option<i64>,
    /// HTTP method, or RPC method (with `rpc` set).
    pub method: Option<String>,
    /// The method is an RPC method (`rpc.method`), not an HTTP one.
    pub rpc: bool,
    /// HTTP status code.
    pub http_status: Option<i64>,
    /// gRPC status code.
    pub grpc_status: Option<i64>,
    /// `error.type`.
    pub error_type: Option<String>,
    /// Server address or peer service.
    pub peer: Option<String>,
    /// Route or URL template.
    pub route: Option<String>,
    /// Status message.
    pub status_message: Option<String>,
}

/// Everything the detectors read besides the graph.
#[derive(Debug, Default)]
pub struct Facts {
    /// Facts per span (graph span index), for spans that have any.
    pub spans: HashMap<u32, SpanFacts>,
    /// Writes of spans and span events, in event order.
    pub writes: Vec<Write>,
    /// Clock parse errors per event (a span's go on its start).
    pub clock_errors: Vec<(EventId, String)>,
}

impl Facts {
    /// The facts of span `span`, if any.
    pub fn of(&self, span: u32) -> Option<&SpanFacts> {
        self.spans.get(&span)
    }

    /// Loads the facts of `graph`'s spans from the ingested tables.
    pub async fn load(
        graph: &Graph,
        sources: &[(&'static str, Arc<dyn TableProvider>)],
    ) -> Result<Facts> {
        let ctx = crate::derived::source_context(sources)?;
        let attr = |k: &str| format!("{}['{k}']", col::ATTRIBUTES);
        let spans_sql = format!(
            "SELECT {trace}, {span}, {kind}, {wk}, {wv}, {ik}, {rp}, {ra}, {ce}, {sm}, \
             coalesce({http_method}, {rpc_method}) AS method, {rpc_method} IS NOT NULL AND {http_method} IS NULL AS rpc, \
             {rpc_service} AS rpc_service, \
             TRY_CAST({http_status} AS BIGINT) AS http_status, TRY_CAST({grpc_status} AS BIGINT) AS grpc_status, \
             {error_type} AS error_type, coalesce({server}, {peer}) AS peer, coalesce({route}, {template}) AS route \
             FROM {SPANS} WHERE {wk} IS NOT NULL OR {ik} IS NOT NULL OR {ra} IS NOT NULL OR {ce} IS NOT NULL \
             OR {rp} IS NOT NULL OR {kind} IN ('CLIENT', 'SERVER')",
            trace = col::TRACE_ID,
            span = col::SPAN_ID,
            kind = col::KIND,
            wk = col::WRITE_KEY,
            wv = col::WRITE_VALUE,
            ik = col::IDEMPOTENCY_KEY,
            rp = col::IDEMPOTENCY_REPLAYED,
            ra = col::RETRY_ATTEMPT,
            ce = col::CLOCK_ERROR,
            sm = col::STATUS_MESSAGE,
            http_method = attr(key::HTTP_REQUEST_METHOD),
            rpc_method = attr(key::RPC_METHOD),
            rpc_service = attr(key::RPC_SERVICE),
            http_status = attr(key::HTTP_RESPONSE_STATUS_CODE),
            grpc_status = attr(key::RPC_GRPC_STATUS_CODE),
            error_type = attr(key::ERROR_TYPE),
            server = attr(key::SERVER_ADDRESS),
            peer = attr(key::PEER_SERVICE),
            route = attr(key::HTTP_ROUTE),
            template = attr(key::URL_TEMPLATE),
        );
        let events_sql = format!(
            "SELECT {trace}, {span}, {index}, {wk}, {wv}, {ce} FROM {SPAN_EVENTS} WHERE {wk} IS NOT NULL OR {ce} IS NOT NULL",
            trace = col::TRACE_ID,
            span = col::SPAN_ID,
            index = col::EVENT_INDEX,
            wk = col::WRITE_KEY,
            wv = col::WRITE_VALUE,
            ce = col::CLOCK_ERROR,
        );
        let spans = ctx.sql(&spans_sql).await?.collect().await?;
        let events = ctx.sql(&events_sql).await?.collect().await?;
        Ok(Facts::from_batches(graph, &spans, &events))
    }

    fn from_batches(graph: &Graph, spans: &[RecordBatch], events: &[RecordBatch]) -> Facts {
        let mut facts = Facts::default();
        let find = |t: &str, s: &str| {
            parse_trace(t)
                .zip(parse_span(s))
                .and_then(|(t, s)| graph.span(t, s))
        };
        for batch in spans {
            let s = |i: usize| batch.column(i).as_string::<i32>();
            let n = |i: usize| batch.column(i).as_primitive::<Int64Type>();
            let text =
                |i: usize, row: usize| s(i).is_valid(row).then(|| s(i).value(row).to_owned());
            let int = |i: usize, row: usize| n(i).is_valid(row).then(|| n(i).value(row));
            let replayed = batch.column(6).as_boolean();
            let rpc = batch.column(11).as_boolean();
            for row in 0..batch.num_rows() {
                let Some(span) = find(s(0).value(row), s(1).value(row)) else {
                    continue;
                };
                let start = graph.spans[span as usize].start_event;
                if let Some(key) = text(3, row) {
                    facts.writes.push(Write {
                        event: start,
                        key,
                        value: text(4, row),
                    });
                }
                if let Some(error) = text(8, row) {
                    facts.clock_errors.push((start, error));
                }
                let is_rpc = rpc.is_valid(row) && rpc.value(row);
                let method = match (text(10, row), text(12, row)) {
                    (Some(m), Some(service)) if is_rpc => Some(format!("{service}/{m}")),
                    (m, _) => m,
                };
                facts.spans.insert(
                    span,
                    SpanFacts {
                        idempotency_key: text(5, row),
                        replayed: replayed.is_valid(row) && replayed.value(row),
                        attempt: int(7, row),
                        method,
                        rpc: is_rpc,
                        http_status: int(13, row),
                        grpc_status: int(14, row),
                        error_type: text(15, row),
                        peer: text(16, row),
                        route: text(17, row),
                        status_message: text(9, row),
                    },
                );
            }
        }
        let mut point: HashMap<(u32, u32), EventId> = HashMap::new();
        for (id, ev) in graph.events.iter().enumerate() {
            if let EventType::Point(index) = ev.ty {
                point.insert((ev.span, index), id as EventId);
            }
        }
        for batch in events {
            let s = |i: usize| batch.column(i).as_string::<i32>();
            let index = batch.column(2).as_primitive::<UInt32Type>();
            for row in 0..batch.num_rows() {
                let event = find(s(0).value(row), s(1).value(row))
                    .and_then(|span| point.get(&(span, index.value(row))));
                let Some(&event) = event else { continue };
                if s(3).is_valid(row) {
                    facts.writes.push(Write {
                        event,
                        key: s(3).value(row).to_owned(),
                        value: s(4).is_valid(row).then(|| s(4).value(row).to_owned()),
                    });
                }
                if s(5).is_valid(row) {
                    facts.clock_errors.push((event, s(5).value(row).to_owned()));
                }
            }
        }
        facts.writes.sort_by_key(|w| w.event);
        facts.clock_errors.sort();
        facts
    }
}
