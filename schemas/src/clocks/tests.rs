//! Unit and property tests of the clock kernels.

use proptest::prelude::*;

use super::*;
use crate::error::ClockError;

fn vc(entries: &[(&str, u64)]) -> VectorClock {
    entries.iter().map(|&(n, c)| (n, c)).collect()
}

#[test]
fn compare_covers_every_relation() {
    let a = vc(&[("a", 1)]);
    let ab = vc(&[("a", 1), ("b", 1)]);
    let b = vc(&[("b", 1)]);
    assert_eq!(a.compare(&ab), CausalOrder::Before);
    assert_eq!(ab.compare(&a), CausalOrder::After);
    assert_eq!(a.compare(&b), CausalOrder::Concurrent);
    assert_eq!(ab.compare(&ab.clone()), CausalOrder::Equal);
    assert_eq!(VectorClock::new().compare(&a), CausalOrder::Before);
}

#[test]
fn missing_entry_is_zero() {
    let explicit: VectorClock = r#"{"a":2,"b":0}"#.parse().unwrap();
    assert_eq!(explicit, vc(&[("a", 2)]));
    assert_eq!(explicit.get("b"), 0);
    assert_eq!(explicit.to_json(), r#"{"a":2}"#);
}

#[test]
fn json_errors_carry_the_offending_text() {
    let err = "{not json".parse::<VectorClock>().unwrap_err();
    assert!(matches!(&err, ClockError::InvalidJson { text, .. } if text == "{not json"));
    assert!(err.to_string().contains("{not json"));

    let err = "[1,2]".parse::<VectorClock>().unwrap_err();
    assert!(matches!(err, ClockError::NotAnObject { .. }));

    let err = r#"{"a":-1}"#.parse::<VectorClock>().unwrap_err();
    assert!(
        matches!(&err, ClockError::InvalidCounter { node, text, .. } if node == "a" && text == "-1")
    );

    let err = r#"{"a":1.5}"#.parse::<VectorClock>().unwrap_err();
    assert!(matches!(err, ClockError::InvalidCounter { .. }));

    let err = r#"{"":1}"#.parse::<VectorClock>().unwrap_err();
    assert!(matches!(err, ClockError::EmptyNode { .. }));
}

#[test]
fn oversized_clock_is_refused() {
    let body: Vec<String> = (0..=MAX_VC_ENTRIES)
        .map(|i| format!("\"n{i}\":1"))
        .collect();
    let text = format!("{{{}}}", body.join(","));
    let err = text.parse::<VectorClock>().unwrap_err();
    assert!(matches!(err, ClockError::TooManyEntries { count, .. } if count == MAX_VC_ENTRIES + 1));
}

#[test]
fn long_offending_text_is_truncated() {
    let text = format!("{{\"a\":\"{}\"", "x".repeat(10_000));
    let err = text.parse::<VectorClock>().unwrap_err();
    assert!(err.to_string().len() < 1_000, "{}", err.to_string().len());
}

#[test]
fn counters_saturate_instead_of_wrapping() {
    let mut clock = vc(&[("a", u64::MAX)]);
    assert_eq!(clock.increment("a"), u64::MAX);
    let mut l = Lamport(u64::MAX);
    assert_eq!(l.tick(), Lamport(u64::MAX));
}

#[test]
fn hlc_logical_overflow_advances_wall() {
    let mut h = Hlc::new(10, u32::MAX);
    assert_eq!(h.tick(5), Hlc::new(11, 0));
}

#[test]
fn hlc_receive_follows_kulkarni() {
    // Physical time ahead of everything: restart the counter.
    assert_eq!(
        Hlc::new(5, 3).receive(Hlc::new(6, 9), 100),
        Hlc::new(100, 0)
    );
    // Message ahead: continue the message's counter.
    assert_eq!(Hlc::new(5, 3).receive(Hlc::new(6, 9), 1), Hlc::new(6, 10));
    // Local ahead: continue the local counter.
    assert_eq!(Hlc::new(7, 3).receive(Hlc::new(6, 9), 1), Hlc::new(7, 4));
    // Tie: the larger counter.
    assert_eq!(Hlc::new(6, 3).receive(Hlc::new(6, 9), 1), Hlc::new(6, 10));
}

#[test]
fn key_values_round_trip_through_the_parser() {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as PKeyValue, any_value};

    // What an OTel SDK exports for the attributes our helpers produce.
    fn to_proto(kv: &opentelemetry::KeyValue) -> PKeyValue {
        let value = match &kv.value {
            opentelemetry::Value::I64(n) => any_value::Value::IntValue(*n),
            opentelemetry::Value::String(s) => any_value::Value::StringValue(s.to_string()),
            other => panic!("unexpected {other:?}"),
        };
        PKeyValue {
            key: kv.key.to_string(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }
    let clock = vc(&[("n1", 4), ("n2", 9)]);
    let hlc = Hlc::new(1_700_000_000_123_456_789, 2);
    let lamport = Lamport(17);
    let mut attrs: Vec<PKeyValue> = clock.to_attributes().iter().map(to_proto).collect();
    attrs.extend(hlc.to_attributes().iter().map(to_proto));
    attrs.push(to_proto(&lamport.to_attribute()));
    let mut end: Vec<PKeyValue> = clock.to_end_attributes().iter().map(to_proto).collect();
    end.extend(hlc.to_end_attributes().iter().map(to_proto));
    end.push(to_proto(&lamport.to_end_attribute()));
    attrs.extend(end);

    for keys in [ClockKeys::START, ClockKeys::END] {
        let parsed = SpanClocks::from_attributes(&attrs, &keys);
        assert_eq!(parsed.vc.as_ref(), Some(&clock));
        assert_eq!(parsed.hlc, Some(hlc));
        assert_eq!(parsed.lamport, Some(lamport));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }
}

#[test]
fn attribute_parsing_keeps_going_after_an_error() {
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, KeyValue as PKeyValue, KeyValueList, any_value::Value,
    };
    fn kv(key: &str, value: Value) -> PKeyValue {
        PKeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }
    let kvlist = Value::KvlistValue(KeyValueList {
        values: vec![
            kv("a", Value::IntValue(3)),
            kv("b", Value::StringValue("1".into())),
        ],
    });
    let attrs = vec![
        kv("causet.vc", kvlist),
        kv("causet.lamport", Value::IntValue(-4)),
        kv("causet.hlc.logical", Value::IntValue(2)),
        kv("causet.end.vc", Value::DoubleValue(1.0)),
    ];
    let start = SpanClocks::from_attributes(&attrs, &ClockKeys::START);
    assert_eq!(start.vc, Some(vc(&[("a", 3), ("b", 1)])));
    assert_eq!(start.lamport, None);
    assert_eq!(start.hlc, None);
    assert_eq!(start.errors.len(), 2, "{:?}", start.errors);
    assert!(matches!(&start.errors[0], ClockError::OutOfRange { value, .. } if value == "-4"));
    assert!(matches!(start.errors[1], ClockError::Incomplete { .. }));

    let end = SpanClocks::from_attributes(&attrs, &ClockKeys::END);
    assert!(
        matches!(&end.errors[..], [ClockError::WrongType { found, .. }] if found == "double 1")
    );
}

fn arb_vc() -> impl Strategy<Value = VectorClock> {
    prop::collection::btree_map(
        prop::sample::select(vec!["a", "b", "c", "d"]),
        0u64..4,
        0..4,
    )
    .prop_map(|m| m.into_iter().collect())
}

/// JSON-ish text of a vector clock: mostly flat objects (about half of
/// them valid), with the pieces that send the reader to serde_json or to
/// an error mixed in.
fn arb_vc_text() -> impl Strategy<Value = String> {
    fn pick(usual: &[&'static str], odd: &[&'static str]) -> impl Strategy<Value = &'static str> {
        prop_oneof![
            12 => prop::sample::select(usual.to_vec()),
            1 => prop::sample::select(odd.to_vec()),
        ]
    }
    let ws = || pick(&["", "", "", " "], &["\n\t", "\r ", "x"]);
    let key = pick(
        &["\"a\"", "\"b\"", "\"node-1\"", "\"n\u{fc}d\""],
        &["\"\"", "\"a\\u0062\"", "\"a\\\"\"", "\"a\tb\"", "a", "\"a"],
    );
    let counter = pick(
        &["0", "1", "7", "42", "18446744073709551615"],
        &[
            "01",
            "00",
            "18446744073709551616",
            "1.5",
            "-3",
            "1e2",
            "\"3\"",
            "null",
            "",
        ],
    );
    let entry = (
        ws(),
        key,
        ws(),
        ws(),
        counter,
        ws(),
        pick(&[","], &[";", ""]),
    )
        .prop_map(|(a, k, b, c, n, d, s)| format!("{a}{k}{b}:{c}{n}{d}{s}"));
    let open = pick(&["{"], &["[", ""]);
    let close = pick(&["}"], &["]", "", "}}", "} x"]);
    let last_comma = pick(&[""], &[","]);
    (
        ws(),
        open,
        prop::collection::vec(entry, 0..6),
        last_comma,
        close,
        ws(),
    )
        .prop_map(|(a, open, entries, last_comma, close, b)| {
            let mut body = entries.concat();
            if body.ends_with(',') {
                body.pop();
            }
            format!("{a}{open}{body}{last_comma}{close}{b}")
        })
}

proptest! {
    #[test]
    fn compare_is_reflexive(a in arb_vc()) {
        prop_assert_eq!(a.compare(&a), CausalOrder::Equal);
    }

    #[test]
    fn compare_is_antisymmetric(a in arb_vc(), b in arb_vc()) {
        prop_assert_eq!(a.compare(&b), b.compare(&a).reverse());
        if a.compare(&b) == CausalOrder::Equal {
            prop_assert_eq!(&a, &b);
        }
    }

    #[test]
    fn compare_is_transitive(a in arb_vc(), b in arb_vc(), c in arb_vc()) {
        let le = |x: &VectorClock, y: &VectorClock| matches!(x.compare(y), CausalOrder::Before | CausalOrder::Equal);
        if le(&a, &b) && le(&b, &c) {
            prop_assert!(le(&a, &c));
        }
    }

    #[test]
    fn merge_is_the_least_upper_bound(a in arb_vc(), b in arb_vc(), c in arb_vc()) {
        let m = a.merged(&b);
        let le = |x: &VectorClock, y: &VectorClock| matches!(x.compare(y), CausalOrder::Before | CausalOrder::Equal);
        prop_assert!(le(&a, &m) && le(&b, &m));
        // Any upper bound of a and b is at or above the merge.
        if le(&a, &c) && le(&b, &c) {
            prop_assert!(le(&m, &c));
        }
        prop_assert_eq!(m, b.merged(&a));
    }

    #[test]
    fn json_round_trips(a in arb_vc()) {
        prop_assert_eq!(&a.to_json().parse::<VectorClock>().unwrap(), &a);
        // The canonical form is the one read without serde.
        prop_assert_eq!(VectorClock::parse_flat(&a.to_json()), Some(a));
    }

    /// The hand-read path gives what serde_json gives, clock or error, on
    /// objects near the usual form: repeats, zeros, escapes, other number
    /// forms, stray whitespace and separators.
    #[test]
    fn flat_objects_read_as_serde_reads_them(text in arb_vc_text()) {
        let fast = VectorClock::parse_json("causet.vc", &text);
        let serde = VectorClock::parse_json_value("causet.vc", &text);
        prop_assert_eq!(format!("{fast:?}"), format!("{serde:?}"));
    }

    #[test]
    fn clocks_respect_happens_before(actions in prop::collection::vec((0usize..3, 0u8..3, any::<u16>(), -50i64..50), 1..60)) {
        simulate(&actions)?;
    }
}

/// One event of a simulated run: its clocks and its direct causal predecessors.
struct Stamped {
    vc: VectorClock,
    hlc: Hlc,
    lamport: Lamport,
    preds: Vec<usize>,
}

/// Runs three processes through `actions` (process, local/send/receive, which
/// in-flight message, physical clock jitter), then checks that for every pair
/// e -> f (by reachability over program order and messages) all three clocks
/// order e before f, and that vector clocks order nothing else.
fn simulate(actions: &[(usize, u8, u16, i64)]) -> Result<(), TestCaseError> {
    const NODES: [&str; 3] = ["p0", "p1", "p2"];
    let mut vcs = vec![VectorClock::new(); 3];
    let mut hlcs = [Hlc::default(); 3];
    let mut lamports = [Lamport::default(); 3];
    let mut last_event: [Option<usize>; 3] = [None; 3];
    let mut in_flight: Vec<(usize, VectorClock, Hlc, Lamport)> = Vec::new();
    let mut events: Vec<Stamped> = Vec::new();

    for (step, &(p, action, pick, jitter)) in actions.iter().enumerate() {
        // Physical clocks advance but disagree with each other and jitter.
        let now = (step as i64) * 10 + (p as i64) * 7 + jitter;
        let mut preds: Vec<usize> = last_event[p].into_iter().collect();
        match action {
            1 => {
                in_flight.push((
                    events.len(),
                    vcs[p].on_send(NODES[p]),
                    hlcs[p].tick(now),
                    lamports[p].tick(),
                ));
            }
            2 if !in_flight.is_empty() => {
                let (sender, vc, hlc, lamport) =
                    in_flight.swap_remove(pick as usize % in_flight.len());
                vcs[p].on_receive(NODES[p], &vc);
                hlcs[p].receive(hlc, now);
                lamports[p].receive(lamport);
                preds.push(sender);
            }
            _ => {
                vcs[p].increment(NODES[p]);
                hlcs[p].tick(now);
                lamports[p].tick();
            }
        }
        last_event[p] = Some(events.len());
        events.push(Stamped {
            vc: vcs[p].clone(),
            hlc: hlcs[p],
            lamport: lamports[p],
            preds,
        });
    }

    // ancestors[i][j]: event j happens before event i.
    let n = events.len();
    let mut ancestors = vec![vec![false; n]; n];
    for i in 0..n {
        for &pred in &events[i].preds {
            ancestors[i][pred] = true;
            let (done, rest) = ancestors.split_at_mut(i);
            for (j, &is) in done[pred].iter().enumerate() {
                rest[0][j] |= is;
            }
        }
    }
    for f in 0..n {
        for e in 0..n {
            let (ev, fv) = (&events[e], &events[f]);
            if ancestors[f][e] {
                prop_assert_eq!(ev.vc.compare(&fv.vc), CausalOrder::Before);
                prop_assert!(ev.hlc < fv.hlc, "hlc {} !< {}", ev.hlc, fv.hlc);
                prop_assert!(ev.lamport < fv.lamport);
            } else if e != f && !ancestors[e][f] {
                prop_assert_eq!(ev.vc.compare(&fv.vc), CausalOrder::Concurrent);
            }
        }
    }
    Ok(())
}
