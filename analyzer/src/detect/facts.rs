//! What the detectors need beyond the graph: writes, retry and outcome
//! attributes, clock parse errors. Loaded by one query per table.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use causet_schema::attributes as key;
use causet_schema::tables::{SPAN_EVENTS, SPANS, col};
use datafusion::catalog::TableProvider;

use crate::detect::{DetectConfig, READ_OPERATIONS};
use crate::error::Result;
use crate::graph::load::{Columns, parse_span, parse_trace};
use crate::graph::{EventId, Graph};

// Names of the derived columns of the spans query.
/// The write key of a span: `causet.write.key`, else the configured
/// attributes joined with `/` when the span has them all and its
/// `db.operation.name` is not a read.
fn configured_write_key(config: &DetectConfig, attr: &dyn Fn(&str) -> String) -> String {
    let wk = col::WRITE_KEY;
    if config.write_key_attributes.is_empty() {
        return wk.to_owned();
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let parts: Vec<String> = config
        .write_key_attributes
        .iter()
        .map(|a| attr(&a.replace('\'', "''")))
        .collect();
    let all_present = parts
        .iter()
        .map(|p| format!("{p} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let reads = READ_OPERATIONS
        .iter()
        .map(|op| quote(op))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "coalesce({wk}, CASE WHEN {all_present} AND upper(coalesce({op}, '')) NOT IN ({reads}) \
         THEN concat_ws('/', {parts}) END)",
        op = attr(key::DB_OPERATION_NAME),
        parts = parts.join(", "),
    )
}

const METHOD: &str = "method";
const RPC: &str = "rpc";
const RPC_SERVICE: &str = "rpc_service";
const HTTP_STATUS: &str = "http_status";
const GRPC_STATUS: &str = "grpc_status";
const ERROR_TYPE: &str = "error_type";
const PEER: &str = "peer";
const ROUTE: &str = "route";

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
        config: &DetectConfig,
    ) -> Result<Facts> {
        let ctx = crate::derived::source_context(sources)?;
        let attr = |k: &str| format!("{}['{k}']", col::ATTRIBUTES);
        let write_key = configured_write_key(config, &attr);
        let spans_sql = format!(
            "SELECT {trace}, {span}, {kind}, {write_key} AS {wk}, {wv}, {ik}, {rp}, {ra}, {ce}, {sm}, \
             coalesce({http_method}, {rpc_method}) AS {METHOD}, {rpc_method} IS NOT NULL AND {http_method} IS NULL AS {RPC}, \
             {rpc_service} AS {RPC_SERVICE}, \
             TRY_CAST({http_status} AS BIGINT) AS {HTTP_STATUS}, TRY_CAST({grpc_status} AS BIGINT) AS {GRPC_STATUS}, \
             {error_type} AS {ERROR_TYPE}, coalesce({server}, {peer}) AS {PEER}, coalesce({route}, {template}) AS {ROUTE} \
             FROM {SPANS} WHERE {write_key} IS NOT NULL OR {ik} IS NOT NULL OR {ra} IS NOT NULL OR {ce} IS NOT NULL \
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
        Facts::from_batches(graph, &spans, &events)
    }

    fn from_batches(graph: &Graph, spans: &[RecordBatch], events: &[RecordBatch]) -> Result<Facts> {
        let mut facts = Facts::default();
        let find = |t: &str, s: &str| {
            parse_trace(t)
                .zip(parse_span(s))
                .and_then(|(t, s)| graph.span(t, s))
        };
        let text = |a: &StringArray, row: usize| a.is_valid(row).then(|| a.value(row).to_owned());
        let int = |a: &Int64Array, row: usize| a.is_valid(row).then(|| a.value(row));
        let flag = |a: &BooleanArray, row: usize| a.is_valid(row) && a.value(row);
        for batch in spans {
            let c = Columns::new(batch);
            let (trace, span_id) = (c.str(col::TRACE_ID)?, c.str(col::SPAN_ID)?);
            let (write_key, write_value) = (c.str(col::WRITE_KEY)?, c.str(col::WRITE_VALUE)?);
            let (idem, replayed, attempt) = (
                c.str(col::IDEMPOTENCY_KEY)?,
                c.bool(col::IDEMPOTENCY_REPLAYED)?,
                c.i64(col::RETRY_ATTEMPT)?,
            );
            let (clock_error, status_message) =
                (c.str(col::CLOCK_ERROR)?, c.str(col::STATUS_MESSAGE)?);
            let (method, rpc, rpc_service) = (c.str(METHOD)?, c.bool(RPC)?, c.str(RPC_SERVICE)?);
            let (http_status, grpc_status) = (c.i64(HTTP_STATUS)?, c.i64(GRPC_STATUS)?);
            let (error_type, peer, route) = (c.str(ERROR_TYPE)?, c.str(PEER)?, c.str(ROUTE)?);
            for row in 0..batch.num_rows() {
                let Some(span) = find(trace.value(row), span_id.value(row)) else {
                    continue;
                };
                let start = graph.spans[span as usize].start_event;
                if let Some(key) = text(write_key, row) {
                    facts.writes.push(Write {
                        event: start,
                        key,
                        value: text(write_value, row),
                    });
                }
                if let Some(error) = text(clock_error, row) {
                    facts.clock_errors.push((start, error));
                }
                let is_rpc = flag(rpc, row);
                let method = match (text(method, row), text(rpc_service, row)) {
                    (Some(m), Some(service)) if is_rpc => Some(format!("{service}/{m}")),
                    (m, _) => m,
                };
                facts.spans.insert(
                    span,
                    SpanFacts {
                        idempotency_key: text(idem, row),
                        replayed: flag(replayed, row),
                        attempt: int(attempt, row),
                        method,
                        rpc: is_rpc,
                        http_status: int(http_status, row),
                        grpc_status: int(grpc_status, row),
                        error_type: text(error_type, row),
                        peer: text(peer, row),
                        route: text(route, row),
                        status_message: text(status_message, row),
                    },
                );
            }
        }
        for batch in events {
            let c = Columns::new(batch);
            let (trace, span_id, index) = (
                c.str(col::TRACE_ID)?,
                c.str(col::SPAN_ID)?,
                c.u32(col::EVENT_INDEX)?,
            );
            let (write_key, write_value, clock_error) = (
                c.str(col::WRITE_KEY)?,
                c.str(col::WRITE_VALUE)?,
                c.str(col::CLOCK_ERROR)?,
            );
            for row in 0..batch.num_rows() {
                let event = find(trace.value(row), span_id.value(row))
                    .and_then(|span| graph.point(span, index.value(row)));
                let Some(event) = event else { continue };
                if let Some(key) = text(write_key, row) {
                    facts.writes.push(Write {
                        event,
                        key,
                        value: text(write_value, row),
                    });
                }
                if let Some(error) = text(clock_error, row) {
                    facts.clock_errors.push((event, error));
                }
            }
        }
        facts.writes.sort_by_key(|w| w.event);
        facts.clock_errors.sort();
        Ok(facts)
    }
}
