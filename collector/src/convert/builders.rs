//! Arrow builders for the three ingested tables, one column per schema field.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, MapBuilder, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow::datatypes::SchemaRef;
use causet_schema::clocks::{SpanClocks, VectorClock};
use causet_schema::otlp::Attr;
use causet_schema::tables::{self, col};

use super::{Causal, Context, EventParts, LinkParts, SpanParts, event_clocks, span_clocks, value};
use crate::error::{Error, Result};

type AttrMap = MapBuilder<StringBuilder, StringBuilder>;
type VcMap = MapBuilder<StringBuilder, UInt64Builder>;

fn attr_map() -> AttrMap {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())
}

fn vc_map() -> VcMap {
    MapBuilder::new(None, StringBuilder::new(), UInt64Builder::new())
}

fn timestamps() -> TimestampNanosecondBuilder {
    TimestampNanosecondBuilder::new().with_timezone(tables::UTC)
}

fn push_attrs(builder: &mut AttrMap, attributes: &[Attr<'_>]) {
    for attr in attributes {
        builder.keys().append_value(attr.key);
        value::append_text(builder.values(), attr.value);
    }
    builder
        .append(true)
        .expect("keys and values have equal length");
}

fn push_vc(builder: &mut VcMap, vc: Option<&VectorClock>) {
    let Some(vc) = vc else {
        builder
            .append(false)
            .expect("keys and values have equal length");
        return;
    };
    for (node, counter) in vc.iter() {
        builder.keys().append_value(node);
        builder.values().append_value(counter);
    }
    builder
        .append(true)
        .expect("keys and values have equal length");
}

/// Lowercase hex of an id, without allocating per call.
fn hex<'b>(bytes: &[u8], buf: &'b mut [u8; 64]) -> &'b str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let n = bytes.len().min(32);
    for (i, b) in bytes[..n].iter().enumerate() {
        buf[2 * i] = DIGITS[usize::from(b >> 4)];
        buf[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    std::str::from_utf8(&buf[..2 * n]).unwrap_or_default()
}

fn push_id(builder: &mut StringBuilder, bytes: &[u8]) {
    if bytes.len() > 32 {
        // Only a malformed link id is this long; keep all of it.
        let long: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        builder.append_value(long);
        return;
    }
    let mut buf = [0u8; 64];
    builder.append_value(hex(bytes, &mut buf));
}

/// Span kind names, as in OTLP's `SPAN_KIND_*` without the prefix; a
/// number OTLP does not define is kept as that number.
fn kind_name(kind: i32) -> std::borrow::Cow<'static, str> {
    match causet_schema::kinds::SpanKind::from_otlp(kind) {
        causet_schema::kinds::SpanKind::Unspecified if kind != 0 => kind.to_string().into(),
        known => known.as_str().into(),
    }
}

/// Status code names, as in OTLP's `STATUS_CODE_*` without the prefix.
fn status_name(code: i32) -> std::borrow::Cow<'static, str> {
    match code {
        0 => "UNSET".into(),
        1 => "OK".into(),
        2 => "ERROR".into(),
        other => other.to_string().into(),
    }
}

fn opt_str(builder: &mut StringBuilder, value: Option<&str>) {
    builder.append_option(value);
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Orders `columns` as `schema` says, so no builder depends on field order.
fn assemble(schema: SchemaRef, mut columns: Vec<(&'static str, ArrayRef)>) -> Result<RecordBatch> {
    let mut ordered = Vec::with_capacity(columns.len());
    for field in schema.fields() {
        let at = columns
            .iter()
            .position(|(name, _)| name == field.name())
            .ok_or_else(|| Error::Internal(format!("no builder for column {}", field.name())))?;
        ordered.push(columns.swap_remove(at).1);
    }
    if let Some((extra, _)) = columns.first() {
        return Err(Error::Internal(format!(
            "column {extra} is not in the schema"
        )));
    }
    Ok(RecordBatch::try_new(schema, ordered)?)
}

/// Clock columns at one position.
#[derive(Debug)]
struct ClockColumns {
    lamport: UInt64Builder,
    hlc_wall: Int64Builder,
    hlc_logical: UInt32Builder,
    vc: VcMap,
}

impl ClockColumns {
    fn new() -> Self {
        ClockColumns {
            lamport: UInt64Builder::new(),
            hlc_wall: Int64Builder::new(),
            hlc_logical: UInt32Builder::new(),
            vc: vc_map(),
        }
    }

    fn push(&mut self, clocks: &SpanClocks) {
        self.lamport.append_option(clocks.lamport.map(|l| l.0));
        self.hlc_wall.append_option(clocks.hlc.map(|h| h.wall_ns));
        self.hlc_logical
            .append_option(clocks.hlc.map(|h| h.logical));
        push_vc(&mut self.vc, clocks.vc.as_ref());
    }

    fn finish(mut self, names: [&'static str; 4], out: &mut Vec<(&'static str, ArrayRef)>) {
        out.push((names[0], Arc::new(self.lamport.finish())));
        out.push((names[1], Arc::new(self.hlc_wall.finish())));
        out.push((names[2], Arc::new(self.hlc_logical.finish())));
        out.push((names[3], Arc::new(self.vc.finish())));
    }
}

/// Write/read/message columns, shared by spans and events.
#[derive(Debug)]
struct AccessColumns {
    write_key: StringBuilder,
    write_value: StringBuilder,
    read_key: StringBuilder,
    read_value: StringBuilder,
    msg_id: StringBuilder,
}

impl AccessColumns {
    fn new() -> Self {
        AccessColumns {
            write_key: StringBuilder::new(),
            write_value: StringBuilder::new(),
            read_key: StringBuilder::new(),
            read_value: StringBuilder::new(),
            msg_id: StringBuilder::new(),
        }
    }

    fn push(&mut self, c: &Causal<'_>) {
        opt_str(&mut self.write_key, c.write_key.as_deref());
        opt_str(&mut self.write_value, c.write_value.as_deref());
        opt_str(&mut self.read_key, c.read_key.as_deref());
        opt_str(&mut self.read_value, c.read_value.as_deref());
        opt_str(&mut self.msg_id, c.msg_id.as_deref());
    }

    fn finish(mut self, out: &mut Vec<(&'static str, ArrayRef)>) {
        out.push((col::WRITE_KEY, Arc::new(self.write_key.finish())));
        out.push((col::WRITE_VALUE, Arc::new(self.write_value.finish())));
        out.push((col::READ_KEY, Arc::new(self.read_key.finish())));
        out.push((col::READ_VALUE, Arc::new(self.read_value.finish())));
        out.push((col::MSG_ID, Arc::new(self.msg_id.finish())));
    }
}

/// Builders for `spans`.
#[derive(Debug)]
pub(crate) struct SpanColumns {
    trace_id: StringBuilder,
    span_id: StringBuilder,
    parent_span_id: StringBuilder,
    trace_state: StringBuilder,
    flags: UInt32Builder,
    name: StringBuilder,
    kind: StringBuilder,
    start: TimestampNanosecondBuilder,
    end: TimestampNanosecondBuilder,
    status_code: StringBuilder,
    status_message: StringBuilder,
    attributes: AttrMap,
    dropped_attributes: UInt32Builder,
    dropped_events: UInt32Builder,
    dropped_links: UInt32Builder,
    service_name: StringBuilder,
    resource_attributes: AttrMap,
    resource_dropped: UInt32Builder,
    resource_schema_url: StringBuilder,
    scope_name: StringBuilder,
    scope_version: StringBuilder,
    scope_attributes: AttrMap,
    scope_dropped: UInt32Builder,
    scope_schema_url: StringBuilder,
    node: StringBuilder,
    start_clocks: ClockColumns,
    end_clocks: ClockColumns,
    access: AccessColumns,
    idempotency_key: StringBuilder,
    replayed: BooleanBuilder,
    retry_attempt: Int64Builder,
    clock_error: StringBuilder,
}

impl SpanColumns {
    pub fn with_capacity(n: usize) -> Self {
        let strings = || StringBuilder::with_capacity(n, n * 16);
        SpanColumns {
            trace_id: StringBuilder::with_capacity(n, n * 32),
            span_id: StringBuilder::with_capacity(n, n * 16),
            parent_span_id: StringBuilder::with_capacity(n, n * 16),
            trace_state: strings(),
            flags: UInt32Builder::with_capacity(n),
            name: strings(),
            kind: strings(),
            start: timestamps(),
            end: timestamps(),
            status_code: strings(),
            status_message: strings(),
            attributes: attr_map(),
            dropped_attributes: UInt32Builder::with_capacity(n),
            dropped_events: UInt32Builder::with_capacity(n),
            dropped_links: UInt32Builder::with_capacity(n),
            service_name: strings(),
            resource_attributes: attr_map(),
            resource_dropped: UInt32Builder::with_capacity(n),
            resource_schema_url: strings(),
            scope_name: strings(),
            scope_version: strings(),
            scope_attributes: attr_map(),
            scope_dropped: UInt32Builder::with_capacity(n),
            scope_schema_url: strings(),
            node: strings(),
            start_clocks: ClockColumns::new(),
            end_clocks: ClockColumns::new(),
            access: AccessColumns::new(),
            idempotency_key: strings(),
            replayed: BooleanBuilder::with_capacity(n),
            retry_attempt: Int64Builder::with_capacity(n),
            clock_error: strings(),
        }
    }

    /// Appends a validated span (ids of the right length, times in range).
    pub fn push(&mut self, span: &SpanParts<'_>, ctx: &Context<'_>, node: &str) {
        push_id(&mut self.trace_id, span.trace_id);
        push_id(&mut self.span_id, span.span_id);
        if span.parent_span_id.is_empty() || span.parent_span_id.iter().all(|&b| b == 0) {
            self.parent_span_id.append_null();
        } else {
            push_id(&mut self.parent_span_id, span.parent_span_id);
        }
        opt_str(&mut self.trace_state, non_empty(span.trace_state));
        self.flags.append_value(span.flags);
        self.name.append_value(span.name);
        self.kind.append_value(kind_name(span.kind));
        // validate() checked both fit in i64.
        self.start.append_value(span.start_time_unix_nano as i64);
        self.end.append_value(span.end_time_unix_nano as i64);
        self.status_code.append_value(status_name(span.status_code));
        opt_str(&mut self.status_message, non_empty(span.status_message));
        push_attrs(&mut self.attributes, &span.attributes);
        self.dropped_attributes
            .append_value(span.dropped_attributes_count);
        self.dropped_events.append_value(span.dropped_events_count);
        self.dropped_links.append_value(span.dropped_links_count);
        opt_str(&mut self.service_name, ctx.service_name);
        push_attrs(&mut self.resource_attributes, ctx.resource_attributes);
        self.resource_dropped.append_value(ctx.resource_dropped);
        opt_str(
            &mut self.resource_schema_url,
            non_empty(ctx.resource_schema_url),
        );
        opt_str(&mut self.scope_name, non_empty(ctx.scope_name));
        opt_str(&mut self.scope_version, non_empty(ctx.scope_version));
        push_attrs(&mut self.scope_attributes, ctx.scope_attributes);
        self.scope_dropped.append_value(ctx.scope_dropped);
        opt_str(&mut self.scope_schema_url, non_empty(ctx.scope_schema_url));
        self.node.append_value(node);

        let (start, end, clock_error) = span_clocks(&span.annotations);
        self.start_clocks.push(&start);
        self.end_clocks.push(&end);
        let causal = Causal::scan(&span.annotations);
        self.access.push(&causal);
        opt_str(&mut self.idempotency_key, causal.idempotency_key());
        self.replayed.append_option(causal.replayed);
        self.retry_attempt.append_option(causal.attempt());
        opt_str(&mut self.clock_error, clock_error.as_deref());
    }

    pub fn finish(mut self) -> Result<RecordBatch> {
        let mut c: Vec<(&'static str, ArrayRef)> = vec![
            (col::TRACE_ID, Arc::new(self.trace_id.finish())),
            (col::SPAN_ID, Arc::new(self.span_id.finish())),
            (col::PARENT_SPAN_ID, Arc::new(self.parent_span_id.finish())),
            (col::TRACE_STATE, Arc::new(self.trace_state.finish())),
            (col::FLAGS, Arc::new(self.flags.finish())),
            (col::NAME, Arc::new(self.name.finish())),
            (col::KIND, Arc::new(self.kind.finish())),
            (col::START_TIME, Arc::new(self.start.finish())),
            (col::END_TIME, Arc::new(self.end.finish())),
            (col::STATUS_CODE, Arc::new(self.status_code.finish())),
            (col::STATUS_MESSAGE, Arc::new(self.status_message.finish())),
            (col::ATTRIBUTES, Arc::new(self.attributes.finish())),
            (
                col::DROPPED_ATTRIBUTES_COUNT,
                Arc::new(self.dropped_attributes.finish()),
            ),
            (
                col::DROPPED_EVENTS_COUNT,
                Arc::new(self.dropped_events.finish()),
            ),
            (
                col::DROPPED_LINKS_COUNT,
                Arc::new(self.dropped_links.finish()),
            ),
            (col::SERVICE_NAME, Arc::new(self.service_name.finish())),
            (
                col::RESOURCE_ATTRIBUTES,
                Arc::new(self.resource_attributes.finish()),
            ),
            (
                col::RESOURCE_DROPPED_ATTRIBUTES_COUNT,
                Arc::new(self.resource_dropped.finish()),
            ),
            (
                col::RESOURCE_SCHEMA_URL,
                Arc::new(self.resource_schema_url.finish()),
            ),
            (col::SCOPE_NAME, Arc::new(self.scope_name.finish())),
            (col::SCOPE_VERSION, Arc::new(self.scope_version.finish())),
            (
                col::SCOPE_ATTRIBUTES,
                Arc::new(self.scope_attributes.finish()),
            ),
            (
                col::SCOPE_DROPPED_ATTRIBUTES_COUNT,
                Arc::new(self.scope_dropped.finish()),
            ),
            (
                col::SCOPE_SCHEMA_URL,
                Arc::new(self.scope_schema_url.finish()),
            ),
            (col::NODE, Arc::new(self.node.finish())),
            (
                col::IDEMPOTENCY_KEY,
                Arc::new(self.idempotency_key.finish()),
            ),
            (col::IDEMPOTENCY_REPLAYED, Arc::new(self.replayed.finish())),
            (col::RETRY_ATTEMPT, Arc::new(self.retry_attempt.finish())),
            (col::CLOCK_ERROR, Arc::new(self.clock_error.finish())),
        ];
        self.start_clocks.finish(
            [col::LAMPORT, col::HLC_WALL_NS, col::HLC_LOGICAL, col::VC],
            &mut c,
        );
        self.end_clocks.finish(
            [
                col::END_LAMPORT,
                col::END_HLC_WALL_NS,
                col::END_HLC_LOGICAL,
                col::END_VC,
            ],
            &mut c,
        );
        self.access.finish(&mut c);
        assemble(tables::spans_schema(), c)
    }
}

/// Builders for `span_events`.
#[derive(Debug)]
pub(crate) struct EventColumns {
    trace_id: StringBuilder,
    span_id: StringBuilder,
    index: UInt32Builder,
    time: TimestampNanosecondBuilder,
    name: StringBuilder,
    attributes: AttrMap,
    dropped: UInt32Builder,
    node: StringBuilder,
    clocks: ClockColumns,
    access: AccessColumns,
    clock_error: StringBuilder,
}

impl Default for EventColumns {
    fn default() -> Self {
        EventColumns {
            trace_id: StringBuilder::new(),
            span_id: StringBuilder::new(),
            index: UInt32Builder::new(),
            time: timestamps(),
            name: StringBuilder::new(),
            attributes: attr_map(),
            dropped: UInt32Builder::new(),
            node: StringBuilder::new(),
            clocks: ClockColumns::new(),
            access: AccessColumns::new(),
            clock_error: StringBuilder::new(),
        }
    }
}

impl EventColumns {
    pub fn push(&mut self, span: &SpanParts<'_>, index: usize, event: &EventParts<'_>, node: &str) {
        push_id(&mut self.trace_id, span.trace_id);
        push_id(&mut self.span_id, span.span_id);
        self.index
            .append_value(u32::try_from(index).unwrap_or(u32::MAX));
        self.time.append_value(event.time_unix_nano as i64);
        self.name.append_value(event.name);
        push_attrs(&mut self.attributes, &event.attributes);
        self.dropped.append_value(event.dropped_attributes_count);
        self.node.append_value(node);
        let (clocks, clock_error) = event_clocks(event);
        self.clocks.push(&clocks);
        self.access.push(&Causal::scan(&event.attributes));
        opt_str(&mut self.clock_error, clock_error.as_deref());
    }

    pub fn finish(mut self) -> Result<RecordBatch> {
        let mut c: Vec<(&'static str, ArrayRef)> = vec![
            (col::TRACE_ID, Arc::new(self.trace_id.finish())),
            (col::SPAN_ID, Arc::new(self.span_id.finish())),
            (col::EVENT_INDEX, Arc::new(self.index.finish())),
            (col::TIME, Arc::new(self.time.finish())),
            (col::NAME, Arc::new(self.name.finish())),
            (col::ATTRIBUTES, Arc::new(self.attributes.finish())),
            (
                col::DROPPED_ATTRIBUTES_COUNT,
                Arc::new(self.dropped.finish()),
            ),
            (col::NODE, Arc::new(self.node.finish())),
            (col::CLOCK_ERROR, Arc::new(self.clock_error.finish())),
        ];
        self.clocks.finish(
            [col::LAMPORT, col::HLC_WALL_NS, col::HLC_LOGICAL, col::VC],
            &mut c,
        );
        self.access.finish(&mut c);
        assemble(tables::span_events_schema(), c)
    }
}

/// Builders for `span_links`.
#[derive(Debug)]
pub(crate) struct LinkColumns {
    trace_id: StringBuilder,
    span_id: StringBuilder,
    index: UInt32Builder,
    linked_trace_id: StringBuilder,
    linked_span_id: StringBuilder,
    trace_state: StringBuilder,
    flags: UInt32Builder,
    attributes: AttrMap,
    dropped: UInt32Builder,
}

impl Default for LinkColumns {
    fn default() -> Self {
        LinkColumns {
            trace_id: StringBuilder::new(),
            span_id: StringBuilder::new(),
            index: UInt32Builder::new(),
            linked_trace_id: StringBuilder::new(),
            linked_span_id: StringBuilder::new(),
            trace_state: StringBuilder::new(),
            flags: UInt32Builder::new(),
            attributes: attr_map(),
            dropped: UInt32Builder::new(),
        }
    }
}

impl LinkColumns {
    /// Links are kept whatever their ids: the linked span may be malformed,
    /// but the link is still what the exporter said.
    pub fn push(&mut self, span: &SpanParts<'_>, index: usize, link: &LinkParts<'_>) {
        push_id(&mut self.trace_id, span.trace_id);
        push_id(&mut self.span_id, span.span_id);
        self.index
            .append_value(u32::try_from(index).unwrap_or(u32::MAX));
        push_id(&mut self.linked_trace_id, link.trace_id);
        push_id(&mut self.linked_span_id, link.span_id);
        opt_str(&mut self.trace_state, non_empty(link.trace_state));
        self.flags.append_value(link.flags);
        push_attrs(&mut self.attributes, &link.attributes);
        self.dropped.append_value(link.dropped_attributes_count);
    }

    pub fn finish(mut self) -> Result<RecordBatch> {
        let c: Vec<(&'static str, ArrayRef)> = vec![
            (col::TRACE_ID, Arc::new(self.trace_id.finish())),
            (col::SPAN_ID, Arc::new(self.span_id.finish())),
            (col::LINK_INDEX, Arc::new(self.index.finish())),
            (
                col::LINKED_TRACE_ID,
                Arc::new(self.linked_trace_id.finish()),
            ),
            (col::LINKED_SPAN_ID, Arc::new(self.linked_span_id.finish())),
            (col::TRACE_STATE, Arc::new(self.trace_state.finish())),
            (col::FLAGS, Arc::new(self.flags.finish())),
            (col::ATTRIBUTES, Arc::new(self.attributes.finish())),
            (
                col::DROPPED_ATTRIBUTES_COUNT,
                Arc::new(self.dropped.finish()),
            ),
        ];
        assemble(tables::span_links_schema(), c)
    }
}
