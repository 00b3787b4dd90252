//! The `lamport-seed` sample encodes Lamport's classic message exchange; these
//! tests read it with opentelemetry-proto's OTLP JSON types and replay it with
//! the crate's clocks.

use std::collections::HashMap;
use std::path::PathBuf;

use causet_schema::attributes;
use causet_schema::clocks::{CausalOrder, ClockKeys, Lamport, SpanClocks, VectorClock};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

fn sample(name: &str) -> ExportTraceServiceRequest {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One span event of the sample with the clocks it carries.
#[derive(Debug)]
struct Event {
    node: String,
    name: String,
    time: u64,
    msg: Option<String>,
    lamport: Lamport,
    vc: VectorClock,
}

fn events() -> Vec<Event> {
    let request = sample("lamport-seed.otlp.json");
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let node = span
                    .attributes
                    .iter()
                    .find(|kv| kv.key == attributes::NODE)
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                    .expect("every process span names its node");
                for ev in &span.events {
                    let clocks = SpanClocks::from_attributes(&ev.attributes, &ClockKeys::START);
                    assert!(clocks.errors.is_empty(), "{:?}", clocks.errors);
                    let msg = ev
                        .attributes
                        .iter()
                        .find(|kv| kv.key == attributes::MSG_ID)
                        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                            Value::StringValue(s) => Some(s.clone()),
                            _ => None,
                        });
                    out.push(Event {
                        node: node.clone(),
                        name: ev.name.clone(),
                        time: ev.time_unix_nano,
                        msg,
                        lamport: clocks.lamport.expect("lamport"),
                        vc: clocks.vc.expect("vc"),
                    });
                }
            }
        }
    }
    out.sort_by_key(|e| e.time);
    out
}

#[test]
fn lamport_seed_matches_the_classic_exchange() {
    let events = events();
    let lamports: Vec<(&str, u64)> = events
        .iter()
        .map(|e| (e.node.as_str(), e.lamport.0))
        .collect();
    // A sends m1 (1) received by B as 2; B sends m2 (3) received by C as 5
    // after C's four own events; A sends m3 (2) received by B as 6; B sends
    // m4 (7) received by C as 8.
    let mut by_node: HashMap<&str, Vec<u64>> = HashMap::new();
    for (node, l) in lamports {
        by_node.entry(node).or_default().push(l);
    }
    assert_eq!(by_node["A"], [1, 2]);
    assert_eq!(by_node["B"], [2, 3, 4, 5, 6, 7]);
    assert_eq!(by_node["C"], [1, 2, 3, 4, 5, 8]);
}

#[test]
fn replaying_the_sample_reproduces_its_clocks() {
    let events = events();
    let mut lamport: HashMap<&str, Lamport> = HashMap::new();
    let mut vc: HashMap<&str, VectorClock> = HashMap::new();
    let mut in_flight: HashMap<&str, (Lamport, VectorClock)> = HashMap::new();
    for e in &events {
        let node = e.node.as_str();
        let l = lamport.entry(node).or_default();
        let v = vc.entry(node).or_default();
        match e.name.as_str() {
            attributes::EVENT_SEND => {
                let stamp = (l.tick(), v.on_send(node));
                in_flight.insert(e.msg.as_deref().expect("send has msg id"), stamp);
            }
            attributes::EVENT_RECEIVE => {
                let (ml, mv) = in_flight
                    .remove(e.msg.as_deref().expect("receive has msg id"))
                    .expect("every receive follows its send in time");
                l.receive(ml);
                v.on_receive(node, &mv);
            }
            _ => {
                l.tick();
                v.increment(node);
            }
        }
        assert_eq!(*l, e.lamport, "lamport of {e:?}");
        assert_eq!(*v, e.vc, "vector clock of {e:?}");
    }
    assert!(
        in_flight.is_empty(),
        "unreceived messages: {:?}",
        in_flight.keys()
    );
}

#[test]
fn vector_clocks_order_the_classic_pairs() {
    let events = events();
    let find = |node: &str, lamport: u64| {
        events
            .iter()
            .find(|e| e.node == node && e.lamport.0 == lamport)
            .unwrap_or_else(|| panic!("{node}:{lamport}"))
    };
    // A's first send happens before C's last receive (through B).
    assert_eq!(
        find("A", 1).vc.compare(&find("C", 8).vc),
        CausalOrder::Before
    );
    // A's second send and C's receive of m2 are concurrent, although their
    // Lamport times (2 < 5) suggest an order.
    assert_eq!(
        find("A", 2).vc.compare(&find("C", 5).vc),
        CausalOrder::Concurrent
    );
    // Every pair is ordered by Lamport time when the vector clocks order it.
    for e in &events {
        for f in &events {
            if e.vc.compare(&f.vc) == CausalOrder::Before {
                assert!(e.lamport < f.lamport, "{e:?} -> {f:?}");
            }
        }
    }
}
