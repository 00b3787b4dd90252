//! prost's `ExportTraceServiceRequest` into rows: the path of OTLP/JSON
//! (serde decodes into prost structs) and the oracle the protobuf walker is
//! tested against.

use causet_schema::otlp::Attr;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::{Context, Converted, Rows, SpanParts, resource_identity};
use crate::error::Result;

/// Converts one decoded request. Only an internal Arrow error fails the whole request.
pub fn convert(request: &ExportTraceServiceRequest) -> Result<Converted> {
    let mut batch = Batch::with_capacity(span_count(request));
    batch.push(request);
    batch.finish()
}

fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum()
}

/// The rows of many decoded requests in one set of batches: how `causet
/// import` turns many small requests into one WAL record and one write per
/// Parquet file, instead of one of each per request.
#[derive(Debug)]
pub struct Batch {
    rows: Rows,
}

impl Batch {
    /// An empty batch with room for about `spans` spans.
    pub fn with_capacity(spans: usize) -> Self {
        Batch {
            rows: Rows::with_capacity(spans),
        }
    }

    /// Adds the spans of `request`.
    pub fn push(&mut self, request: &ExportTraceServiceRequest) {
        push_request(&mut self.rows, request);
    }

    /// The rows of every request pushed.
    pub fn finish(self) -> Result<Converted> {
        self.rows.finish()
    }
}

fn push_request(rows: &mut Rows, request: &ExportTraceServiceRequest) {
    let mut parts = SpanParts::default();
    for rs in &request.resource_spans {
        let resource = rs.resource.as_ref();
        let resource_attributes = attrs(resource.map_or(&[], |r| &r.attributes));
        let (service_name, default_node) = resource_identity(&resource_attributes);
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref();
            let scope_attributes = attrs(scope.map_or(&[], |s| &s.attributes));
            let ctx = Context {
                service_name,
                default_node: default_node.clone(),
                resource_attributes: &resource_attributes,
                resource_dropped: resource.map_or(0, |r| r.dropped_attributes_count),
                resource_schema_url: &rs.schema_url,
                scope_name: scope.map_or("", |s| &s.name),
                scope_version: scope.map_or("", |s| &s.version),
                scope_attributes: &scope_attributes,
                scope_dropped: scope.map_or(0, |s| s.dropped_attributes_count),
                scope_schema_url: &ss.schema_url,
            };
            for span in &ss.spans {
                fill(&mut parts, span);
                rows.push(&parts, &ctx);
            }
        }
    }
}

fn attrs(attributes: &[KeyValue]) -> Vec<Attr<'_>> {
    attributes.iter().map(Attr::from).collect()
}

fn fill<'a>(parts: &mut SpanParts<'a>, span: &'a Span) {
    parts.clear();
    parts.trace_id = &span.trace_id;
    parts.span_id = &span.span_id;
    parts.parent_span_id = &span.parent_span_id;
    parts.trace_state = &span.trace_state;
    parts.flags = span.flags;
    parts.name = &span.name;
    parts.kind = span.kind;
    parts.start_time_unix_nano = span.start_time_unix_nano;
    parts.end_time_unix_nano = span.end_time_unix_nano;
    parts
        .attributes
        .extend(span.attributes.iter().map(Attr::from));
    parts.dropped_attributes_count = span.dropped_attributes_count;
    for event in &span.events {
        let slot = parts.next_event();
        slot.time_unix_nano = event.time_unix_nano;
        slot.name = &event.name;
        slot.attributes
            .extend(event.attributes.iter().map(Attr::from));
        slot.dropped_attributes_count = event.dropped_attributes_count;
    }
    parts.dropped_events_count = span.dropped_events_count;
    for link in &span.links {
        let slot = parts.next_link();
        slot.trace_id = &link.trace_id;
        slot.span_id = &link.span_id;
        slot.trace_state = &link.trace_state;
        slot.flags = link.flags;
        slot.attributes
            .extend(link.attributes.iter().map(Attr::from));
        slot.dropped_attributes_count = link.dropped_attributes_count;
    }
    parts.dropped_links_count = span.dropped_links_count;
    if let Some(status) = &span.status {
        parts.status_code = status.code;
        parts.status_message = &status.message;
    }
    parts.annotate();
}
