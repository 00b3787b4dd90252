//! OTLP trace requests to Arrow batches of `spans`, `span_events` and `span_links`.
//!
//! [`convert`] is a pure function, the one path every span takes whatever
//! it arrived by (gRPC, HTTP protobuf, HTTP JSON, `causet import`). Every OTLP
//! field is kept; the conventions' attributes are parsed into the causal
//! columns of [`causet_schema::tables`]. A malformed clock keeps its span: the
//! raw attribute stays in `attributes` and `clock_error` says what was wrong.
//! Spans whose ids or times cannot be stored are rejected one by one and
//! counted, for OTLP's partial success.

mod builders;
pub mod value;

use std::borrow::Cow;

use arrow::array::RecordBatch;
use causet_schema::attributes as key;
use causet_schema::clocks::{ClockKeys, SpanClocks};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{Span, span::Event};

use crate::error::Result;
use builders::{EventColumns, LinkColumns, SpanColumns};

/// The rows of one export.
#[derive(Debug, Clone)]
pub struct Converted {
    /// One row per accepted span.
    pub spans: RecordBatch,
    /// One row per event of an accepted span.
    pub span_events: RecordBatch,
    /// One row per link of an accepted span.
    pub span_links: RecordBatch,
    /// Spans that could not be stored.
    pub rejected: u64,
    /// Why, for the first rejected span (OTLP's `error_message`).
    pub error_message: Option<String>,
}

impl Converted {
    /// Spans accepted.
    pub fn accepted(&self) -> u64 {
        self.spans.num_rows() as u64
    }

    /// The three batches tagged with their table index, as the WAL stores them.
    pub fn tables(&self) -> [(u8, &RecordBatch); 3] {
        [
            (0, &self.spans),
            (1, &self.span_events),
            (2, &self.span_links),
        ]
    }
}

/// Facts shared by every span of one resource and scope.
#[derive(Debug, Default)]
pub(crate) struct Context<'a> {
    pub service_name: Option<&'a str>,
    pub default_node: Cow<'a, str>,
    pub resource_attributes: &'a [KeyValue],
    pub resource_dropped: u32,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: &'a [KeyValue],
    pub scope_dropped: u32,
    pub scope_schema_url: &'a str,
}

/// Converts one request. Only an internal Arrow error fails the whole request.
pub fn convert(request: &ExportTraceServiceRequest) -> Result<Converted> {
    let span_count: usize = request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum();
    let mut spans = SpanColumns::with_capacity(span_count);
    let mut events = EventColumns::default();
    let mut links = LinkColumns::default();
    let (mut rejected, mut error_message) = (0u64, None);

    for rs in &request.resource_spans {
        let (resource_attributes, resource_dropped) = rs
            .resource
            .as_ref()
            .map(|r| (r.attributes.as_slice(), r.dropped_attributes_count))
            .unwrap_or_default();
        let find = |k: &str| {
            resource_attributes
                .iter()
                .find(|kv| kv.key == k)
                .map(|kv| value::text(kv.value.as_ref()))
        };
        let service_name = resource_attributes
            .iter()
            .find(|kv| kv.key == key::SERVICE_NAME)
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                    Some(s.as_str())
                }
                _ => None,
            });
        let default_node = find(key::SERVICE_INSTANCE_ID)
            .filter(|n| !n.is_empty())
            .or_else(|| service_name.map(Cow::Borrowed))
            .unwrap_or(Cow::Borrowed("unknown_service"));
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref();
            let ctx = Context {
                service_name,
                default_node: default_node.clone(),
                resource_attributes,
                resource_dropped,
                resource_schema_url: &rs.schema_url,
                scope_name: scope.map_or("", |s| s.name.as_str()),
                scope_version: scope.map_or("", |s| s.version.as_str()),
                scope_attributes: scope.map_or(&[], |s| s.attributes.as_slice()),
                scope_dropped: scope.map_or(0, |s| s.dropped_attributes_count),
                scope_schema_url: &ss.schema_url,
            };
            for span in &ss.spans {
                if let Err(why) = validate(span) {
                    rejected += 1;
                    error_message.get_or_insert(why);
                    continue;
                }
                let node = span_node(&span.attributes).unwrap_or(Cow::Borrowed(&ctx.default_node));
                spans.push(span, &ctx, &node);
                for (index, event) in span.events.iter().enumerate() {
                    events.push(span, index, event, &node);
                }
                for (index, link) in span.links.iter().enumerate() {
                    links.push(span, index, link);
                }
            }
        }
    }
    let error_message = error_message.map(|first| {
        if rejected == 1 {
            format!("rejected 1 span: {first}")
        } else {
            format!("rejected {rejected} spans; the first: {first}")
        }
    });
    Ok(Converted {
        spans: spans.finish()?,
        span_events: events.finish()?,
        span_links: links.finish()?,
        rejected,
        error_message,
    })
}

/// Why a span cannot be stored, if it cannot.
fn validate(span: &Span) -> std::result::Result<(), String> {
    let id = |bytes: &[u8], len: usize, what: &str| {
        if bytes.len() != len {
            Err(format!("{what} has {} bytes, expected {len}", bytes.len()))
        } else if bytes.iter().all(|&b| b == 0) {
            Err(format!("{what} is all zeros"))
        } else {
            Ok(())
        }
    };
    id(&span.trace_id, 16, "trace_id")?;
    id(&span.span_id, 8, "span_id")?;
    if !span.parent_span_id.is_empty() && span.parent_span_id.len() != 8 {
        return Err(format!(
            "parent_span_id has {} bytes, expected 8 or none",
            span.parent_span_id.len()
        ));
    }
    let time = |t: u64, what: &str| {
        if i64::try_from(t).is_ok() {
            Ok(())
        } else {
            Err(format!(
                "{what} {t} is after 2262-04-11, beyond nanosecond timestamps"
            ))
        }
    };
    time(span.start_time_unix_nano, "start_time_unix_nano")?;
    time(span.end_time_unix_nano, "end_time_unix_nano")?;
    span.events
        .iter()
        .try_for_each(|e| time(e.time_unix_nano, "event time_unix_nano"))
}

/// The span's own `causet.node`, when it names one.
fn span_node(attributes: &[KeyValue]) -> Option<Cow<'_, str>> {
    attributes
        .iter()
        .find(|kv| kv.key == key::NODE)
        .map(|kv| value::text(kv.value.as_ref()))
        .filter(|n| !n.is_empty())
}

/// The causal attributes of a span or span event other than its clocks.
#[derive(Debug, Default)]
pub(crate) struct Causal<'a> {
    pub write_key: Option<Cow<'a, str>>,
    pub write_value: Option<Cow<'a, str>>,
    pub read_key: Option<Cow<'a, str>>,
    pub read_value: Option<Cow<'a, str>>,
    pub msg_id: Option<Cow<'a, str>>,
    pub idempotency_key: Option<Cow<'a, str>>,
    pub http_idempotency_key: Option<Cow<'a, str>>,
    pub replayed: Option<bool>,
    pub retry_attempt: Option<i64>,
    pub resend_count: Option<i64>,
}

impl<'a> Causal<'a> {
    /// One pass over `attributes`.
    pub fn scan(attributes: &'a [KeyValue]) -> Self {
        let mut c = Causal::default();
        for kv in attributes {
            if !kv.key.starts_with(key::PREFIX) && !kv.key.starts_with("http.request.") {
                continue;
            }
            let v = kv.value.as_ref();
            match kv.key.as_str() {
                key::WRITE_KEY => c.write_key = Some(value::text(v)),
                key::WRITE_VALUE => c.write_value = Some(value::text(v)),
                key::READ_KEY => c.read_key = Some(value::text(v)),
                key::READ_VALUE => c.read_value = Some(value::text(v)),
                key::MSG_ID => c.msg_id = Some(value::text(v)),
                key::IDEMPOTENCY_KEY => c.idempotency_key = Some(value::text(v)),
                key::HTTP_IDEMPOTENCY_KEY_HEADER => c.http_idempotency_key = value::first_string(v),
                key::IDEMPOTENCY_REPLAYED => c.replayed = value::bool(v),
                key::RETRY_ATTEMPT => c.retry_attempt = value::int(v),
                key::HTTP_RESEND_COUNT => c.resend_count = value::int(v),
                _ => {}
            }
        }
        c
    }

    /// The idempotency key: causet's attribute, else the HTTP header.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key
            .as_deref()
            .or(self.http_idempotency_key.as_deref())
            .filter(|k| !k.is_empty())
    }

    /// The attempt number: causet's attribute, else the HTTP resend count.
    pub fn attempt(&self) -> Option<i64> {
        self.retry_attempt.or(self.resend_count)
    }
}

/// Start and end clocks of a span, with every parse error joined.
pub(crate) fn span_clocks(attributes: &[KeyValue]) -> (SpanClocks, SpanClocks, Option<String>) {
    let start = SpanClocks::from_attributes(attributes, &ClockKeys::START);
    let end = SpanClocks::from_attributes(attributes, &ClockKeys::END);
    let error = join_errors(start.errors.iter().chain(&end.errors));
    (start, end, error)
}

/// Clocks of a span event.
pub(crate) fn event_clocks(event: &Event) -> (SpanClocks, Option<String>) {
    let clocks = SpanClocks::from_attributes(&event.attributes, &ClockKeys::START);
    let error = join_errors(clocks.errors.iter());
    (clocks, error)
}

fn join_errors<'e>(errors: impl Iterator<Item = &'e causet_schema::ClockError>) -> Option<String> {
    let joined = errors.map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests;
