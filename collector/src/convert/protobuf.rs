//! OTLP/protobuf bytes straight into the Arrow builders.
//!
//! The walk follows `ExportTraceServiceRequest` down to each span, reads
//! the span into [`SpanParts`] that point into the request bytes, and hands
//! it to the builders; nothing is decoded into owned structs and nothing is
//! freed afterwards but a few reused vectors. It accepts what prost
//! accepts and refuses what prost refuses (wrong wire types, truncated
//! fields, strings that are not UTF-8) and, like prost, reads a message
//! sent twice (a scope, a status) as the two merged, with two deliberate
//! differences: attribute values nested deeper than
//! [`MAX_VALUE_DEPTH`](causet_schema::otlp::wire::MAX_VALUE_DEPTH) are
//! refused, and an attribute whose value is sent twice keeps the last
//! where prost would merge two arrays into one. No exporter does either.

use causet_schema::otlp::Attr;
use causet_schema::otlp::wire::{self, Fields, WireError};

use super::{Context, Converted, Rows, SpanParts, resource_identity};
use crate::error::{Error, Result};

/// Converts one OTLP/protobuf `ExportTraceServiceRequest`. Malformed bytes
/// refuse the whole request ([`Error::Decode`]); spans whose ids or times
/// cannot be stored are counted as rejected.
pub fn convert_protobuf(body: &[u8]) -> Result<Converted> {
    // Spans of real exports take 500 to 1,000 bytes; a guess only sizes
    // the builders, which grow past it.
    let mut rows = Rows::with_capacity(body.len() / 512);
    let mut walk = Walk::default();
    walk.request(body, &mut rows)
        .map_err(|e| Error::Decode(format!("invalid OTLP/protobuf: {e}")))?;
    rows.finish()
}

/// Vectors reused from one resource, scope and span to the next.
#[derive(Default)]
struct Walk<'a> {
    resource_attributes: Vec<Attr<'a>>,
    scope_attributes: Vec<Attr<'a>>,
    scope_spans: Vec<&'a [u8]>,
    spans: Vec<&'a [u8]>,
    span: SpanParts<'a>,
}

type Walked = std::result::Result<(), WireError>;

impl<'a> Walk<'a> {
    fn request(&mut self, bytes: &'a [u8], rows: &mut Rows) -> Walked {
        for field in Fields::new(bytes) {
            let (number, field) = field?;
            if number == 1 {
                self.resource_spans(field.bytes(number)?, rows)?;
            }
        }
        Ok(())
    }

    fn resource_spans(&mut self, bytes: &'a [u8], rows: &mut Rows) -> Walked {
        self.resource_attributes.clear();
        self.scope_spans.clear();
        let (mut resource_dropped, mut resource_schema_url) = (0, "");
        for field in Fields::new(bytes) {
            let (number, field) = field?;
            match number {
                1 => {
                    for field in Fields::new(field.bytes(number)?) {
                        let (number, field) = field?;
                        match number {
                            1 => self
                                .resource_attributes
                                .push(wire::key_value(field.bytes(number)?, 0)?),
                            2 => resource_dropped = field.varint(number)? as u32,
                            _ => {}
                        }
                    }
                }
                2 => self.scope_spans.push(field.bytes(number)?),
                3 => resource_schema_url = field.str(number)?,
                _ => {}
            }
        }
        let (service_name, default_node) = resource_identity(&self.resource_attributes);
        let scope_spans = std::mem::take(&mut self.scope_spans);
        for &bytes in &scope_spans {
            self.scope_attributes.clear();
            self.spans.clear();
            let (mut name, mut version, mut dropped, mut schema_url) = ("", "", 0, "");
            for field in Fields::new(bytes) {
                let (number, field) = field?;
                match number {
                    1 => {
                        for field in Fields::new(field.bytes(number)?) {
                            let (number, field) = field?;
                            match number {
                                1 => name = field.str(number)?,
                                2 => version = field.str(number)?,
                                3 => self
                                    .scope_attributes
                                    .push(wire::key_value(field.bytes(number)?, 0)?),
                                4 => dropped = field.varint(number)? as u32,
                                _ => {}
                            }
                        }
                    }
                    2 => self.spans.push(field.bytes(number)?),
                    3 => schema_url = field.str(number)?,
                    _ => {}
                }
            }
            let ctx = Context {
                service_name,
                default_node: default_node.clone(),
                resource_attributes: &self.resource_attributes,
                resource_dropped,
                resource_schema_url,
                scope_name: name,
                scope_version: version,
                scope_attributes: &self.scope_attributes,
                scope_dropped: dropped,
                scope_schema_url: schema_url,
            };
            for &bytes in &self.spans {
                read_span(&mut self.span, bytes)?;
                rows.push(&self.span, &ctx);
            }
        }
        self.scope_spans = scope_spans;
        Ok(())
    }
}

/// Reads a `Span` message into `span`.
fn read_span<'a>(span: &mut SpanParts<'a>, bytes: &'a [u8]) -> Walked {
    span.clear();
    for field in Fields::new(bytes) {
        let (number, field) = field?;
        match number {
            1 => span.trace_id = field.bytes(number)?,
            2 => span.span_id = field.bytes(number)?,
            3 => span.trace_state = field.str(number)?,
            4 => span.parent_span_id = field.bytes(number)?,
            5 => span.name = field.str(number)?,
            6 => span.kind = field.varint(number)? as i32,
            7 => span.start_time_unix_nano = field.fixed64(number)?,
            8 => span.end_time_unix_nano = field.fixed64(number)?,
            9 => span
                .attributes
                .push(wire::key_value(field.bytes(number)?, 0)?),
            10 => span.dropped_attributes_count = field.varint(number)? as u32,
            11 => read_event(span, field.bytes(number)?)?,
            12 => span.dropped_events_count = field.varint(number)? as u32,
            13 => read_link(span, field.bytes(number)?)?,
            14 => span.dropped_links_count = field.varint(number)? as u32,
            15 => {
                for field in Fields::new(field.bytes(number)?) {
                    let (number, field) = field?;
                    match number {
                        2 => span.status_message = field.str(number)?,
                        3 => span.status_code = field.varint(number)? as i32,
                        _ => {}
                    }
                }
            }
            16 => span.flags = field.fixed32(number)?,
            _ => {}
        }
    }
    span.annotate();
    Ok(())
}

fn read_event<'a>(span: &mut SpanParts<'a>, bytes: &'a [u8]) -> Walked {
    let event = span.next_event();
    for field in Fields::new(bytes) {
        let (number, field) = field?;
        match number {
            1 => event.time_unix_nano = field.fixed64(number)?,
            2 => event.name = field.str(number)?,
            3 => event
                .attributes
                .push(wire::key_value(field.bytes(number)?, 0)?),
            4 => event.dropped_attributes_count = field.varint(number)? as u32,
            _ => {}
        }
    }
    Ok(())
}

fn read_link<'a>(span: &mut SpanParts<'a>, bytes: &'a [u8]) -> Walked {
    let link = span.next_link();
    for field in Fields::new(bytes) {
        let (number, field) = field?;
        match number {
            1 => link.trace_id = field.bytes(number)?,
            2 => link.span_id = field.bytes(number)?,
            3 => link.trace_state = field.str(number)?,
            4 => link
                .attributes
                .push(wire::key_value(field.bytes(number)?, 0)?),
            5 => link.dropped_attributes_count = field.varint(number)? as u32,
            6 => link.flags = field.fixed32(number)?,
            _ => {}
        }
    }
    Ok(())
}
