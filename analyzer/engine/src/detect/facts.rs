//! What the detectors need beyond the graph: writes, retry and outcome
//! attributes, clock parse errors. Read from the same scan as the graph
//! ([`span_columns`] are added to its query), text interned.

use arrow::array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use causet_schema::attributes as key;
use causet_schema::tables::col;

use crate::detect::{DetectConfig, READ_OPERATIONS};
use crate::error::Result;
use crate::graph::load::{Columns, parse_span, parse_trace};
use crate::graph::{EventId, Graph, SpanKind, Sparse, Sym, Symbols};

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
const HEARTBEAT: &str = "heartbeat_from";

/// A write: the key and value written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Write {
    /// The event that wrote: a span event, or the span's start for a span that writes.
    pub event: EventId,
    /// The key, in [`Facts::text`].
    pub key: Sym,
    /// The value (or its digest), when recorded.
    pub value: Option<Sym>,
}

/// Facts about one span; text interned in [`Facts::text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanFacts {
    /// Idempotency key of the logical request.
    pub idempotency_key: Option<Sym>,
    /// The server answered from its deduplication cache.
    pub replayed: bool,
    /// The method is an RPC method (`rpc.method`), not an HTTP one.
    pub rpc: bool,
    /// Retry attempt number.
    pub attempt: Option<i64>,
    /// HTTP method, or RPC method (with `rpc` set).
    pub method: Option<Sym>,
    /// HTTP status code.
    pub http_status: Option<i64>,
    /// gRPC status code.
    pub grpc_status: Option<i64>,
    /// `error.type`.
    pub error_type: Option<Sym>,
    /// Server address or peer service.
    pub peer: Option<Sym>,
    /// Route or URL template.
    pub route: Option<Sym>,
    /// On a heartbeat span: the node whose heartbeat it is.
    pub heartbeat_from: Option<Sym>,
}

/// Span facts as sparse columns by graph span, one per field: a span
/// has a few of them, so each costs about two bits a span plus the values
/// present, where a row of every field would cost 104 bytes.
#[derive(Debug, Default)]
struct FactColumns {
    /// Set for the spans that have facts (even none of the fields), then
    /// `replayed`, then `rpc`.
    flags: [Sparse<()>; 3],
    /// `idempotency_key`, `method`, `error_type`, `peer`, `route`, `heartbeat_from`.
    text: [Sparse<Sym>; 6],
    /// `attempt`, `http_status`, `grpc_status`.
    numbers: [Sparse<i64>; 3],
}

impl FactColumns {
    fn push(&mut self, f: Option<&SpanFacts>) {
        let [has, replayed, rpc] = &mut self.flags;
        has.push(f.map(|_| ()));
        let f = f.copied().unwrap_or_default();
        replayed.push(f.replayed.then_some(()));
        rpc.push(f.rpc.then_some(()));
        let text = [
            f.idempotency_key,
            f.method,
            f.error_type,
            f.peer,
            f.route,
            f.heartbeat_from,
        ];
        for (column, value) in self.text.iter_mut().zip(text) {
            column.push(value);
        }
        let numbers = [f.attempt, f.http_status, f.grpc_status];
        for (column, value) in self.numbers.iter_mut().zip(numbers) {
            column.push(value);
        }
    }

    fn get(&self, row: usize) -> Option<SpanFacts> {
        let [has, replayed, rpc] = &self.flags;
        has.get(row)?;
        let [
            idempotency_key,
            method,
            error_type,
            peer,
            route,
            heartbeat_from,
        ] = self.text.each_ref().map(|c| c.get(row));
        let [attempt, http_status, grpc_status] = self.numbers.each_ref().map(|c| c.get(row));
        Some(SpanFacts {
            idempotency_key,
            replayed: replayed.get(row).is_some(),
            rpc: rpc.get(row).is_some(),
            attempt,
            method,
            http_status,
            grpc_status,
            error_type,
            peer,
            route,
            heartbeat_from,
        })
    }

    fn shrink(&mut self) {
        self.flags.iter_mut().for_each(Sparse::shrink);
        self.text.iter_mut().for_each(Sparse::shrink);
        self.numbers.iter_mut().for_each(Sparse::shrink);
    }

    fn heap_bytes(&self) -> usize {
        self.flags.iter().map(Sparse::heap_bytes).sum::<usize>()
            + self.text.iter().map(Sparse::heap_bytes).sum::<usize>()
            + self.numbers.iter().map(Sparse::heap_bytes).sum::<usize>()
    }
}

/// Everything the detectors read besides the graph.
#[derive(Debug, Default)]
pub struct Facts {
    /// Facts of each graph span that has any.
    spans: FactColumns,
    /// Writes of spans and span events, in event order.
    pub writes: Vec<Write>,
    /// Clock parse errors per event (a span's go on its start).
    pub clock_errors: Vec<(EventId, String)>,
    /// The text the facts name.
    pub text: Symbols,
}

impl Facts {
    /// The facts of span `span`, if any.
    pub fn of(&self, span: u32) -> Option<SpanFacts> {
        self.spans.get(span as usize)
    }

    /// The text of an interned fact.
    pub fn str(&self, sym: Option<Sym>) -> Option<&str> {
        sym.map(|s| self.text.resolve(s))
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.spans.heap_bytes()
            + self.writes.capacity() * std::mem::size_of::<Write>()
            + self
                .clock_errors
                .iter()
                .map(|(_, e)| e.capacity() + 32)
                .sum::<usize>()
            + self.text.heap_bytes()
    }
}

/// The expressions over `spans` the facts need, each `AS` its column name:
/// added to the graph's columns so one scan feeds both.
pub fn span_columns(config: &DetectConfig) -> Vec<String> {
    let attr = |k: &str| format!("{}['{k}']", col::ATTRIBUTES);
    let write_key = configured_write_key(config, &attr);
    let (http_method, rpc_method) = (attr(key::HTTP_REQUEST_METHOD), attr(key::RPC_METHOD));
    vec![
        format!("{write_key} AS {}", col::WRITE_KEY),
        col::WRITE_VALUE.to_owned(),
        col::IDEMPOTENCY_KEY.to_owned(),
        col::IDEMPOTENCY_REPLAYED.to_owned(),
        col::RETRY_ATTEMPT.to_owned(),
        col::CLOCK_ERROR.to_owned(),
        format!("coalesce({http_method}, {rpc_method}) AS {METHOD}"),
        format!("{rpc_method} IS NOT NULL AND {http_method} IS NULL AS {RPC}"),
        format!("{} AS {RPC_SERVICE}", attr(key::RPC_SERVICE)),
        format!(
            "TRY_CAST({} AS BIGINT) AS {HTTP_STATUS}",
            attr(key::HTTP_RESPONSE_STATUS_CODE)
        ),
        format!(
            "TRY_CAST({} AS BIGINT) AS {GRPC_STATUS}",
            attr(key::RPC_GRPC_STATUS_CODE)
        ),
        format!("{} AS {ERROR_TYPE}", attr(key::ERROR_TYPE)),
        format!(
            "coalesce({}, {}) AS {PEER}",
            attr(key::SERVER_ADDRESS),
            attr(key::PEER_SERVICE)
        ),
        format!(
            "coalesce({}, {}) AS {ROUTE}",
            attr(key::HTTP_ROUTE),
            attr(key::URL_TEMPLATE)
        ),
        format!("{} AS {HEARTBEAT}", attr(key::HEARTBEAT_FROM)),
    ]
}

/// The columns of `span_events` the facts need.
pub const EVENT_COLUMNS: &[&str] = &[col::WRITE_KEY, col::WRITE_VALUE, col::CLOCK_ERROR];

/// Ids of a span, or of a span event (with its index).
type Owner = (u128, u64, Option<u32>);

/// Collects facts from the same batches the graph is loaded from (with
/// [`span_columns`] and [`EVENT_COLUMNS`] added), by span id; [`finish`]
/// places them on the graph's spans and events.
///
/// [`finish`]: FactsLoader::finish
#[derive(Debug, Default)]
pub struct FactsLoader {
    text: Symbols,
    /// The ids of the spans with facts, and their facts in the same rows.
    ids: Vec<(u128, u64)>,
    spans: FactColumns,
    writes: Vec<(Owner, Sym, Option<Sym>)>,
    clock_errors: Vec<(Owner, String)>,
}

impl FactsLoader {
    /// Heap bytes of what was read so far.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.ids.capacity() * size_of::<(u128, u64)>()
            + self.spans.heap_bytes()
            + self.writes.capacity() * size_of::<(Owner, Sym, Option<Sym>)>()
            + self.clock_errors.capacity() * size_of::<(Owner, String)>()
            + self.text.heap_bytes()
    }

    /// Facts of a batch of `spans` rows.
    pub fn spans(&mut self, batch: &RecordBatch) -> Result<()> {
        let c = Columns::new(batch);
        let (trace, span_id, kind) = (
            c.str(col::TRACE_ID)?,
            c.str(col::SPAN_ID)?,
            c.str(col::KIND)?,
        );
        let (write_key, write_value) = (c.str(col::WRITE_KEY)?, c.str(col::WRITE_VALUE)?);
        let (idem, replayed, attempt) = (
            c.str(col::IDEMPOTENCY_KEY)?,
            c.bool(col::IDEMPOTENCY_REPLAYED)?,
            c.i64(col::RETRY_ATTEMPT)?,
        );
        let clock_error = c.str(col::CLOCK_ERROR)?;
        let (method, rpc, rpc_service) = (c.str(METHOD)?, c.bool(RPC)?, c.str(RPC_SERVICE)?);
        let (http_status, grpc_status) = (c.i64(HTTP_STATUS)?, c.i64(GRPC_STATUS)?);
        let (error_type, peer, route) = (c.str(ERROR_TYPE)?, c.str(PEER)?, c.str(ROUTE)?);
        let heartbeat = c.str(HEARTBEAT)?;
        let int = |a: &Int64Array, row: usize| a.is_valid(row).then(|| a.value(row));
        let flag = |a: &BooleanArray, row: usize| a.is_valid(row) && a.value(row);
        for row in 0..batch.num_rows() {
            let (Some(t), Some(s)) = (
                parse_trace(trace.value(row)),
                parse_span(span_id.value(row)),
            ) else {
                continue;
            };
            let text = &mut self.text;
            let mut sym = |a: &StringArray| a.is_valid(row).then(|| text.intern(a.value(row)));
            if let Some(key) = sym(write_key) {
                let value = sym(write_value);
                self.writes.push(((t, s, None), key, value));
            }
            if clock_error.is_valid(row) {
                let error = clock_error.value(row).to_owned();
                self.clock_errors.push(((t, s, None), error));
            }
            let rpc_call = flag(rpc, row);
            let relevant = write_key.is_valid(row)
                || idem.is_valid(row)
                || attempt.is_valid(row)
                || clock_error.is_valid(row)
                || replayed.is_valid(row)
                || heartbeat.is_valid(row)
                || matches!(
                    SpanKind::parse_lenient(kind.value(row)),
                    SpanKind::Client | SpanKind::Server
                );
            if !relevant {
                continue;
            }
            let method = match (method.is_valid(row), rpc_service.is_valid(row)) {
                (true, true) if rpc_call => Some(self.text.intern(&format!(
                    "{}/{}",
                    rpc_service.value(row),
                    method.value(row)
                ))),
                (true, _) => Some(self.text.intern(method.value(row))),
                _ => None,
            };
            let text = &mut self.text;
            let mut sym = |a: &StringArray| a.is_valid(row).then(|| text.intern(a.value(row)));
            let facts = SpanFacts {
                idempotency_key: sym(idem),
                replayed: flag(replayed, row),
                rpc: rpc_call,
                attempt: int(attempt, row),
                method,
                http_status: int(http_status, row),
                grpc_status: int(grpc_status, row),
                error_type: sym(error_type),
                peer: sym(peer),
                route: sym(route),
                heartbeat_from: sym(heartbeat),
            };
            self.ids.push((t, s));
            self.spans.push(Some(&facts));
        }
        Ok(())
    }

    /// Facts of a batch of `span_events` rows.
    pub fn points(&mut self, batch: &RecordBatch) -> Result<()> {
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
            if !write_key.is_valid(row) && !clock_error.is_valid(row) {
                continue;
            }
            let (Some(t), Some(s)) = (
                parse_trace(trace.value(row)),
                parse_span(span_id.value(row)),
            ) else {
                continue;
            };
            let owner = (t, s, Some(index.value(row)));
            if write_key.is_valid(row) {
                let key = self.text.intern(write_key.value(row));
                let value = write_value
                    .is_valid(row)
                    .then(|| self.text.intern(write_value.value(row)));
                self.writes.push((owner, key, value));
            }
            if clock_error.is_valid(row) {
                let error = clock_error.value(row).to_owned();
                self.clock_errors.push((owner, error));
            }
        }
        Ok(())
    }

    /// The facts, on `graph`'s spans and events. Facts of spans the graph
    /// does not hold (ids it could not read) are dropped with them; copies
    /// of one span (exporter retries) count once.
    pub fn finish(self, graph: &Graph) -> Facts {
        let event = |(t, s, index): Owner| {
            let span = graph.span(t, s)?;
            match index {
                None => Some(graph.spans[span as usize].start_event),
                Some(i) => graph.point(span, i),
            }
        };
        // (graph span, row read), the first copy of each span.
        let mut rows: Vec<(u32, u32)> = self
            .ids
            .iter()
            .enumerate()
            .filter_map(|(row, &(t, s))| Some((graph.span(t, s)?, row as u32)))
            .collect();
        rows.sort_unstable();
        rows.dedup_by_key(|(span, _)| *span);
        let mut columns = FactColumns::default();
        let mut next = rows.iter().peekable();
        for span in 0..graph.spans.len() as u32 {
            let row = next.next_if(|(s, _)| *s == span).map(|&(_, row)| row);
            columns.push(row.and_then(|row| self.spans.get(row as usize)).as_ref());
        }
        columns.shrink();
        drop(rows);
        let mut writes: Vec<Write> = self
            .writes
            .into_iter()
            .filter_map(|(owner, key, value)| {
                Some(Write {
                    event: event(owner)?,
                    key,
                    value,
                })
            })
            .collect();
        writes.sort_by_key(|w| w.event);
        writes.dedup_by_key(|w| w.event);
        let mut clock_errors: Vec<(EventId, String)> = self
            .clock_errors
            .into_iter()
            .filter_map(|(owner, error)| Some((event(owner)?, error)))
            .collect();
        clock_errors.sort();
        clock_errors.dedup_by_key(|(e, _)| *e);
        Facts {
            spans: columns,
            writes,
            clock_errors,
            text: self.text,
        }
    }
}
