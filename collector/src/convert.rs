//! OTLP trace requests to Arrow batches of `spans`, `span_events` and `span_links`.
//!
//! Two ways in, one way out. [`convert_protobuf`] walks OTLP/protobuf bytes
//! in place (no `ExportTraceServiceRequest`, no owned strings: each string
//! is checked for UTF-8 once and copied once, into its column); [`convert`]
//! takes prost structs, which is how OTLP/JSON arrives (serde decodes into
//! them) and the oracle the walker is tested against. Both fill the same
//! span parts and hand them to the same builders, so the rows cannot
//! drift apart. Every OTLP field is kept; the conventions' attributes are
//! parsed into the causal columns of [`causet_schema::tables`]. A malformed
//! clock keeps its span: the raw attribute stays in `attributes` and
//! `clock_error` says what was wrong. Spans whose ids or times cannot be
//! stored are rejected one by one and counted, for OTLP's partial success.

mod builders;
mod protobuf;
mod structs;
pub mod value;

use std::borrow::Cow;

use arrow::array::RecordBatch;
use causet_schema::attributes as key;
use causet_schema::clocks::{ClockKeys, SpanClocks};
use causet_schema::otlp::{Attr, Value};

use crate::error::Result;
use builders::{EventColumns, LinkColumns, SpanColumns};
pub use protobuf::convert_protobuf;
pub use structs::{Batch, convert};

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
    pub resource_attributes: &'a [Attr<'a>],
    pub resource_dropped: u32,
    pub resource_schema_url: &'a str,
    pub scope_name: &'a str,
    pub scope_version: &'a str,
    pub scope_attributes: &'a [Attr<'a>],
    pub scope_dropped: u32,
    pub scope_schema_url: &'a str,
}

/// What a resource's attributes say about its spans: the service name (a
/// string `service.name`), and the node its spans run on unless they say
/// otherwise (`service.instance.id`, else the service, else
/// `unknown_service`).
pub(crate) fn resource_identity<'a>(attributes: &[Attr<'a>]) -> (Option<&'a str>, Cow<'a, str>) {
    let find = |k: &str| attributes.iter().find(|a| a.key == k).map(|a| a.value);
    let service_name = match find(key::SERVICE_NAME) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    let default_node = find(key::SERVICE_INSTANCE_ID)
        .map(value::text)
        .filter(|n| !n.is_empty())
        .or_else(|| service_name.map(Cow::Borrowed))
        .unwrap_or(Cow::Borrowed("unknown_service"));
    (service_name, default_node)
}

/// One span as it arrived, borrowed from the request.
#[derive(Debug, Default)]
pub(crate) struct SpanParts<'a> {
    pub trace_id: &'a [u8],
    pub span_id: &'a [u8],
    pub parent_span_id: &'a [u8],
    pub trace_state: &'a str,
    pub flags: u32,
    pub name: &'a str,
    pub kind: i32,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: Vec<Attr<'a>>,
    pub dropped_attributes_count: u32,
    /// Filled slots of `event_slots`; the slots beyond are kept for reuse.
    pub events_len: usize,
    pub event_slots: Vec<EventParts<'a>>,
    pub dropped_events_count: u32,
    pub links_len: usize,
    pub link_slots: Vec<LinkParts<'a>>,
    pub dropped_links_count: u32,
    pub status_code: i32,
    pub status_message: &'a str,
    /// The attributes of the conventions (`causet.*`, `http.request.*`),
    /// picked out of `attributes` by [`SpanParts::annotate`].
    pub annotations: Vec<Attr<'a>>,
}

/// One span event, borrowed from the request.
#[derive(Debug, Default)]
pub(crate) struct EventParts<'a> {
    pub time_unix_nano: u64,
    pub name: &'a str,
    pub attributes: Vec<Attr<'a>>,
    pub dropped_attributes_count: u32,
}

/// One span link, borrowed from the request.
#[derive(Debug, Default)]
pub(crate) struct LinkParts<'a> {
    pub trace_id: &'a [u8],
    pub span_id: &'a [u8],
    pub trace_state: &'a str,
    pub flags: u32,
    pub attributes: Vec<Attr<'a>>,
    pub dropped_attributes_count: u32,
}

impl<'a> SpanParts<'a> {
    /// Empties it for the next span, keeping every allocation.
    pub fn clear(&mut self) {
        let mut attributes = std::mem::take(&mut self.attributes);
        let mut annotations = std::mem::take(&mut self.annotations);
        let event_slots = std::mem::take(&mut self.event_slots);
        let link_slots = std::mem::take(&mut self.link_slots);
        attributes.clear();
        annotations.clear();
        *self = SpanParts {
            attributes,
            annotations,
            event_slots,
            link_slots,
            ..SpanParts::default()
        };
    }

    /// The next event slot, emptied.
    pub fn next_event(&mut self) -> &mut EventParts<'a> {
        if self.events_len == self.event_slots.len() {
            self.event_slots.push(EventParts::default());
        }
        let event = &mut self.event_slots[self.events_len];
        self.events_len += 1;
        event.attributes.clear();
        event.time_unix_nano = 0;
        event.name = "";
        event.dropped_attributes_count = 0;
        event
    }

    /// The next link slot, emptied.
    pub fn next_link(&mut self) -> &mut LinkParts<'a> {
        if self.links_len == self.link_slots.len() {
            self.link_slots.push(LinkParts::default());
        }
        let link = &mut self.link_slots[self.links_len];
        self.links_len += 1;
        link.attributes.clear();
        link.trace_id = &[];
        link.span_id = &[];
        link.trace_state = "";
        link.flags = 0;
        link.dropped_attributes_count = 0;
        link
    }

    pub fn events(&self) -> &[EventParts<'a>] {
        &self.event_slots[..self.events_len]
    }

    pub fn links(&self) -> &[LinkParts<'a>] {
        &self.link_slots[..self.links_len]
    }

    /// Picks the conventions' attributes out of `attributes`, so the node,
    /// clock and causal lookups read a handful instead of all of them.
    pub fn annotate(&mut self) {
        self.annotations.clear();
        self.annotations.extend(
            self.attributes
                .iter()
                .filter(|a| a.key.starts_with(key::PREFIX) || a.key.starts_with("http.request.")),
        );
    }
}

/// The rows of one or more requests as they are built.
#[derive(Debug)]
pub(crate) struct Rows {
    spans: SpanColumns,
    events: EventColumns,
    links: LinkColumns,
    rejected: u64,
    first_rejection: Option<String>,
}

impl Rows {
    /// Builders with room for about `spans` spans.
    pub fn with_capacity(spans: usize) -> Self {
        Rows {
            spans: SpanColumns::with_capacity(spans),
            events: EventColumns::default(),
            links: LinkColumns::default(),
            rejected: 0,
            first_rejection: None,
        }
    }

    /// Adds a span (annotated), its events and links, or counts it rejected.
    pub fn push(&mut self, span: &SpanParts<'_>, ctx: &Context<'_>) {
        if let Err(why) = validate(span) {
            self.rejected += 1;
            self.first_rejection.get_or_insert(why);
            return;
        }
        let node = span_node(&span.annotations).unwrap_or(Cow::Borrowed(&ctx.default_node));
        self.spans.push(span, ctx, &node);
        for (index, event) in span.events().iter().enumerate() {
            self.events.push(span, index, event, &node);
        }
        for (index, link) in span.links().iter().enumerate() {
            self.links.push(span, index, link);
        }
    }

    pub fn finish(self) -> Result<Converted> {
        let rejected = self.rejected;
        let error_message = self.first_rejection.map(|first| {
            if rejected == 1 {
                format!("rejected 1 span: {first}")
            } else {
                format!("rejected {rejected} spans; the first: {first}")
            }
        });
        Ok(Converted {
            spans: self.spans.finish()?,
            span_events: self.events.finish()?,
            span_links: self.links.finish()?,
            rejected,
            error_message,
        })
    }
}

/// Why a span cannot be stored, if it cannot.
fn validate(span: &SpanParts<'_>) -> std::result::Result<(), String> {
    let id = |bytes: &[u8], len: usize, what: &str| {
        if bytes.len() != len {
            Err(format!("{what} has {} bytes, expected {len}", bytes.len()))
        } else if bytes.iter().all(|&b| b == 0) {
            Err(format!("{what} is all zeros"))
        } else {
            Ok(())
        }
    };
    id(span.trace_id, 16, "trace_id")?;
    id(span.span_id, 8, "span_id")?;
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
    span.events()
        .iter()
        .try_for_each(|e| time(e.time_unix_nano, "event time_unix_nano"))
}

/// The span's own `causet.node`, when it names one.
fn span_node<'a>(annotations: &[Attr<'a>]) -> Option<Cow<'a, str>> {
    annotations
        .iter()
        .find(|a| a.key == key::NODE)
        .map(|a| value::text(a.value))
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
    pub fn scan(attributes: &[Attr<'a>]) -> Self {
        let mut c = Causal::default();
        for &Attr { key: k, value: v } in attributes {
            if !k.starts_with(key::PREFIX) && !k.starts_with("http.request.") {
                continue;
            }
            match k {
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
pub(crate) fn span_clocks(attributes: &[Attr<'_>]) -> (SpanClocks, SpanClocks, Option<String>) {
    let start = SpanClocks::from_attrs(attributes, &ClockKeys::START);
    let end = SpanClocks::from_attrs(attributes, &ClockKeys::END);
    let error = join_errors(start.errors.iter().chain(&end.errors));
    (start, end, error)
}

/// Clocks of a span event.
pub(crate) fn event_clocks(event: &EventParts<'_>) -> (SpanClocks, Option<String>) {
    let clocks = SpanClocks::from_attrs(&event.attributes, &ClockKeys::START);
    let error = join_errors(clocks.errors.iter());
    (clocks, error)
}

fn join_errors<'e>(errors: impl Iterator<Item = &'e causet_schema::ClockError>) -> Option<String> {
    let joined = errors.map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests;
