//! The edge rules, one scenario each, on spans converted by the collector.

use causet_collector::convert::convert;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, span,
};

use super::*;

const T: u64 = 1_795_600_800_000_000_000;

/// Span `id` of trace 1 on `node`, from `start` to `end` (µs after T).
fn span(id: u8, parent: Option<u8>, kind: i32, node: &str, start: u64, end: u64) -> OtlpSpan {
    OtlpSpan {
        trace_id: vec![1; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("s{id}"),
        kind,
        start_time_unix_nano: T + start * 1_000,
        end_time_unix_nano: T + end * 1_000,
        attributes: vec![KeyValue {
            key: "causet.node".into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(node.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn with_attr(mut s: OtlpSpan, key: &str, value: Value) -> OtlpSpan {
    s.attributes.push(KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    });
    s
}

fn graph(spans: Vec<OtlpSpan>) -> Graph {
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let rows = convert(&request).unwrap();
    Graph::build(&Input {
        spans: vec![rows.spans],
        events: vec![rows.span_events],
        links: vec![rows.span_links],
    })
    .unwrap()
}

/// Edges as (from span, from type, to span, to type, source, inferred).
fn edges(
    g: &Graph,
) -> Vec<(
    String,
    &'static str,
    String,
    &'static str,
    &'static str,
    bool,
)> {
    let describe = |e: EventId| {
        let ev = g.event(e);
        (
            g.text(g.spans[ev.span as usize].name).to_owned(),
            ev.ty.as_str(),
        )
    };
    let mut out: Vec<_> = g
        .edges()
        .map(|e| {
            let (fs, ft) = describe(e.from);
            let (ts, tt) = describe(e.to);
            (fs, ft, ts, tt, e.source.as_str(), e.inferred)
        })
        .collect();
    out.sort();
    out
}

fn has(g: &Graph, from: &str, from_ty: &str, to: &str, to_ty: &str, source: &str) -> bool {
    edges(g)
        .iter()
        .any(|e| e.0 == from && e.1 == from_ty && e.2 == to && e.3 == to_ty && e.4 == source)
}

const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;

#[test]
fn rpc_gives_request_and_reply_edges() {
    let g = graph(vec![
        span(1, None, CLIENT, "web", 0, 100),
        span(2, Some(1), SERVER, "db", 10, 90),
    ]);
    assert!(has(&g, "s1", "start", "s2", "start", "rpc_request"));
    assert!(has(&g, "s2", "end", "s1", "end", "rpc_reply"));
    assert_eq!(g.lamport(g.spans[1].start_event), Some(1));
    assert!(g.happens_before(g.spans[0].start_event, g.spans[1].end_event()));
}

#[test]
fn a_client_that_gave_up_gets_no_reply_edge() {
    let mut client = span(1, None, CLIENT, "web", 0, 50);
    client.status = Some(Status {
        code: 2,
        message: "deadline exceeded".into(),
    });
    let g = graph(vec![client, span(2, Some(1), SERVER, "db", 10, 90)]);
    assert!(has(&g, "s1", "start", "s2", "start", "rpc_request"));
    assert!(!has(&g, "s2", "end", "s1", "end", "rpc_reply"));
    // The server's end and the client's end are concurrent.
    let (c_end, s_end) = (g.spans[0].end_event(), g.spans[1].end_event());
    assert!(!g.happens_before(s_end, c_end) && !g.happens_before(c_end, s_end));
}

#[test]
fn asynchronous_children_get_no_end_edge() {
    let g = graph(vec![
        span(1, None, PRODUCER, "api", 0, 10),
        span(2, Some(1), CONSUMER, "worker", 20, 80),
        span(3, None, INTERNAL, "api", 0, 10),
        span(4, Some(3), INTERNAL, "api", 5, 30),
    ]);
    assert!(has(&g, "s1", "start", "s2", "start", "messaging"));
    assert!(
        !edges(&g).iter().any(|e| e.0 == "s2" && e.1 == "end"),
        "{:?}",
        edges(&g)
    );
    // A child that outlives its parent: parent -> child start only.
    assert!(has(&g, "s3", "start", "s4", "start", "parent_child"));
    assert!(!has(&g, "s4", "end", "s3", "end", "parent_child"));
}

#[test]
fn sequential_siblings_on_one_node_are_inferred_from_its_wall_clock() {
    let g = graph(vec![
        span(1, None, SERVER, "api", 0, 100),
        span(2, Some(1), CLIENT, "api", 10, 20),
        span(3, Some(1), CLIENT, "api", 30, 40),
        span(4, Some(1), CLIENT, "other", 45, 50),
    ]);
    let inferred: Vec<_> = edges(&g).into_iter().filter(|e| e.5).collect();
    assert_eq!(
        inferred,
        [(
            "s2".into(),
            "end",
            "s3".into(),
            "start",
            "program_order",
            true
        )]
    );
}

#[test]
fn links_and_message_ids_cross_traces() {
    let mut linking = span(2, None, CONSUMER, "worker", 50, 60);
    linking.trace_id = vec![2; 16];
    linking.links = vec![span::Link {
        trace_id: vec![1; 16],
        span_id: vec![1; 8],
        ..Default::default()
    }];
    let producer = with_attr(
        span(3, None, PRODUCER, "api", 0, 5),
        "causet.msg.id",
        Value::StringValue("m".into()),
    );
    let mut consumer = with_attr(
        span(4, None, CONSUMER, "worker", 70, 80),
        "causet.msg.id",
        Value::StringValue("m".into()),
    );
    consumer.trace_id = vec![3; 16];
    let g = graph(vec![
        span(1, None, INTERNAL, "api", 0, 10),
        linking,
        producer,
        consumer,
    ]);
    assert!(has(&g, "s1", "start", "s2", "start", "link"));
    assert!(has(&g, "s3", "start", "s4", "start", "messaging"));
}

#[test]
fn contradictory_clocks_are_a_cycle_not_a_hang() {
    // s2 is s1's child (s1 start -> s2 start), but the node's Lamport clock
    // puts s2's start first: the graph has a cycle, reported, not looped on.
    let g = graph(vec![
        with_attr(
            span(1, None, INTERNAL, "n", 0, 10),
            "causet.lamport",
            Value::IntValue(5),
        ),
        with_attr(
            span(2, Some(1), INTERNAL, "n", 1, 9),
            "causet.lamport",
            Value::IntValue(2),
        ),
    ]);
    assert!(!g.cyclic.is_empty());
    let start = g.spans[0].start_event;
    assert_eq!(g.lamport(start), None);
}

#[test]
fn derived_vector_clocks_agree_with_reachability() {
    let g = graph(vec![
        span(1, None, CLIENT, "web", 0, 100),
        span(2, Some(1), SERVER, "db", 10, 90),
        span(3, Some(2), INTERNAL, "db", 20, 30),
        span(4, Some(2), INTERNAL, "db", 40, 50),
        span(5, None, INTERNAL, "cron", 0, 5),
    ]);
    let n = g.event_count() as EventId;
    for e in 0..n {
        for f in 0..n {
            let by_path = e != f && search::path(&g, e, f).is_some();
            assert_eq!(g.happens_before(e, f), by_path, "{e} -> {f}");
        }
    }
}

#[test]
fn too_wide_clocks_fall_back_to_search() {
    // 70 independent producers on their own nodes feed one consumer: its
    // derived clock would have 71 entries, more than is kept.
    let mut spans: Vec<OtlpSpan> = (1..=70u8)
        .map(|i| {
            let mut s = with_attr(
                span(i, None, PRODUCER, &format!("p{i}"), 0, 5),
                "causet.msg.id",
                Value::StringValue(format!("m{i}")),
            );
            s.trace_id = vec![i; 16];
            s
        })
        .collect();
    let mut consumer = span(200, None, CONSUMER, "c", 10, 20);
    consumer.events = (1..=70u8)
        .map(|i| span::Event {
            time_unix_nano: T + 11_000 + u64::from(i),
            name: "causet.receive".into(),
            attributes: vec![KeyValue {
                key: "causet.msg.id".into(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(format!("m{i}"))),
                }),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    spans.push(consumer);
    let g = graph(spans);
    let consumer = g
        .spans
        .iter()
        .find(|s| s.kind == SpanKind::Consumer)
        .unwrap();
    let end = consumer.end_event();
    assert!(
        g.dvc(end).is_none(),
        "too wide to keep: {:?}",
        g.dvc(end).map(<[_]>::len)
    );
    assert!(g.dvc(consumer.start_event).is_some());
    for s in g.spans.iter().filter(|s| s.kind == SpanKind::Producer) {
        assert!(g.happens_before(s.start_event, end));
        assert!(!g.happens_before(end, s.start_event));
        assert!(
            !g.happens_before(s.end_event(), end),
            "a producer's end is concurrent with the consumer"
        );
    }
}

/// A witness path keeps its ends and counts what it leaves out between.
#[test]
fn a_long_witness_path_keeps_its_ends() {
    use crate::detect::{PATH_ENDS, path_json};
    let nested = |n: u8| {
        let spans = (1..=n)
            .map(|id| {
                span(
                    id,
                    (id > 1).then(|| id - 1),
                    1,
                    "a",
                    u64::from(id),
                    1_000 - u64::from(id),
                )
            })
            .collect();
        let g = graph(spans);
        let (first, last) = (
            g.span(u128::from_be_bytes([1; 16]), u64::from_be_bytes([1; 8])),
            g.span(u128::from_be_bytes([1; 16]), u64::from_be_bytes([n; 8])),
        );
        let (first, last) = (first.unwrap(), last.unwrap());
        let path = search::path(
            &g,
            g.spans[first as usize].start_event,
            g.spans[last as usize].start_event,
        )
        .unwrap();
        (path.len(), path_json(&g, &path))
    };
    let (len, short) = nested(5);
    assert_eq!(len, 4);
    assert_eq!(short.as_array().unwrap().len(), 4);

    let (len, long) = nested(40);
    assert_eq!(len, 39);
    let items = long.as_array().unwrap();
    assert_eq!(items.len(), 2 * PATH_ENDS + 1);
    assert_eq!(items[PATH_ENDS]["elided"], 39 - 2 * PATH_ENDS);
    assert_eq!(items[0]["from"]["name"], "s1");
    assert_eq!(items[2 * PATH_ENDS]["to"]["name"], "s40");
}
