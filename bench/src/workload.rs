//! The ingest workload: OTLP export requests shaped like production ones,
//! and never the same span twice.
//!
//! [`otlp_request`] builds one export of one service instance: traces of 2
//! to 16 spans with random 128-bit trace ids and 64-bit span ids, server,
//! client and internal spans with varied names, durations and outcomes, 20
//! attributes each (HTTP semantic conventions, Lamport, HLC and vector
//! clock annotations, a write key on a Zipf-like key space, tenants,
//! versions, a request id and an idempotency key), one send event each and
//! a link on every eighth span.
//!
//! Encoding requests takes more CPU than a collector spends ingesting them,
//! so a load generator cannot build each one as it sends. [`Template`]
//! instead encodes a request once and remembers where its ids and
//! per-request tokens are in the bytes; [`Template::render`] copies the
//! bytes and rewrites those places with a key drawn for that send (ids
//! XORed with it, tokens rewritten as their value XORed with it), which
//! keeps parents, links and trace membership intact while no id or token
//! repeats across sends.

use causet_demo::rng::Rng;
use causet_schema::otlp::wire::{self, Fields};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span, status,
};
use prost::Message as _;

/// Spans per request, as the OpenTelemetry SDKs' batch processors send.
pub const SPANS_PER_REQUEST: usize = 512;

/// An attribute.
pub fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn string(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, Value::StringValue(value.into()))
}

/// Services, their routes and downstream peers.
const SERVICES: [(&str, &[&str]); 6] = [
    (
        "gateway",
        &[
            "GET /v1/carts/{id}",
            "POST /v1/orders",
            "GET /v1/users/{id}",
        ],
    ),
    (
        "users",
        &["GET /v1/users/{id}", "PUT /v1/users/{id}", "POST /v1/users"],
    ),
    ("orders", &["POST /v1/orders", "GET /v1/orders/{id}"]),
    ("carts", &["GET /v1/carts/{id}", "PATCH /v1/carts/{id}"]),
    ("payments", &["POST /v1/payments", "GET /v1/payments/{id}"]),
    (
        "inventory",
        &["GET /v1/stock/{sku}", "POST /v1/reservations"],
    ),
];

/// Attributes whose values are unique per span: the part after the last
/// `-` is 16 hex digits, rewritten on every send.
const TOKENS: [&str; 3] = ["causet.idempotency_key", "app.request_id", "causet.msg.id"];

fn token(prefix: &str, rng: &mut Rng) -> String {
    format!("{prefix}-{:016x}", rng.next_u64())
}

/// One export of one service instance: `spans` spans, every id and token
/// drawn from `seed`.
pub fn otlp_request(seed: u64, spans: usize) -> ExportTraceServiceRequest {
    let mut rng = Rng::new(seed);
    let (service, routes) = SERVICES[rng.below(SERVICES.len())];
    let instance = format!("{service}-{}", rng.below(4));
    let base_ns: u64 = 1_795_600_800_000_000_000 + (rng.next_u64() % 3_600_000_000_000);
    let mut lamport = rng.next_u64() % 1_000_000;
    let mut out = Vec::with_capacity(spans);
    while out.len() < spans {
        // One trace's part in this service: a server span and its children.
        let trace_id = [rng.next_u64().to_be_bytes(), rng.next_u64().to_be_bytes()].concat();
        let members = (2 + rng.below(15)).min(spans - out.len());
        let start = base_ns + (rng.next_u64() % 10_000_000_000);
        let root_id = rng.next_u64().max(1).to_be_bytes().to_vec();
        let route = routes[rng.below(routes.len())];
        for m in 0..members {
            let span_id = if m == 0 {
                root_id.clone()
            } else {
                rng.next_u64().max(1).to_be_bytes().to_vec()
            };
            let kind = match m {
                0 => 2,
                _ if rng.chance(0.7) => 3,
                _ => 1,
            };
            let begin = start + (m as u64) * 200_000 + rng.next_u64() % 100_000;
            let duration = 50_000 + rng.next_u64() % 20_000_000;
            lamport += 1 + rng.next_u64() % 3;
            let error = rng.chance(0.02);
            let status_code = if error {
                503
            } else {
                [200, 200, 200, 201, 204, 404][rng.below(6)]
            };
            let (request_id, idempotency_key) = (token("req", &mut rng), token("idem", &mut rng));
            let mut attributes = vec![
                string("causet.node", instance.clone()),
                kv("causet.lamport", Value::IntValue(lamport as i64)),
                kv("causet.hlc.wall_ns", Value::IntValue(begin as i64)),
                kv("causet.hlc.logical", Value::IntValue(rng.below(3) as i64)),
                string(
                    "causet.vc",
                    format!(
                        r#"{{"{instance}":{lamport},"{service}-peer":{},"store-{}":{}}}"#,
                        rng.next_u64() % 100_000,
                        rng.below(12),
                        rng.next_u64() % 1_000_000
                    ),
                ),
                string(
                    "http.request.method",
                    route.split(' ').next().unwrap_or("GET"),
                ),
                string("http.route", route.split(' ').nth(1).unwrap_or("/")),
                kv("http.response.status_code", Value::IntValue(status_code)),
                string("server.address", format!("{service}.internal")),
                kv("server.port", Value::IntValue(8080)),
                string("network.protocol.version", ["1.1", "2"][rng.below(2)]),
                string(
                    "user_agent.original",
                    ["okhttp/4.12", "Go-http-client/2.0", "python-requests/2.32"][rng.below(3)],
                ),
                string("app.tenant", format!("tenant-{}", rng.below(50))),
                string(
                    "app.version",
                    format!("1.{}.{}", rng.below(4), rng.below(10)),
                ),
                string(
                    "app.region",
                    ["eu-west-1", "us-east-1", "ap-south-1"][rng.below(3)],
                ),
                string("app.request_id", request_id),
                string("causet.idempotency_key", idempotency_key),
            ];
            if rng.chance(0.3) {
                // Zipf-like: small keys far more often.
                let k = (rng.next_u64() % 100_000) * (rng.next_u64() % 100_000) / 100_000;
                attributes.push(string("causet.write.key", format!("user:{k}")));
            }
            while attributes.len() < 20 {
                let n = attributes.len();
                attributes.push(string(
                    &format!("app.attr.{n}"),
                    format!("v{}", rng.below(20)),
                ));
            }
            let parent_span_id = if m == 0 {
                // A caller in another service, or none at the edge.
                if service == "gateway" {
                    Vec::new()
                } else {
                    rng.next_u64().max(1).to_be_bytes().to_vec()
                }
            } else {
                root_id.clone()
            };
            let links = if out.len() % 8 == 7 {
                let earlier: &Span = &out[rng.below(out.len())];
                vec![span::Link {
                    trace_id: earlier.trace_id.clone(),
                    span_id: earlier.span_id.clone(),
                    ..Default::default()
                }]
            } else {
                Vec::new()
            };
            out.push(Span {
                trace_id: trace_id.clone(),
                span_id,
                parent_span_id,
                name: if m == 0 {
                    route.to_owned()
                } else {
                    format!(
                        "{} {}",
                        ["SELECT", "GET", "PUT"][rng.below(3)],
                        ["users", "carts", "stock"][rng.below(3)]
                    )
                },
                kind,
                start_time_unix_nano: begin,
                end_time_unix_nano: begin + duration,
                attributes,
                events: vec![span::Event {
                    time_unix_nano: begin + duration / 3,
                    name: "causet.send".into(),
                    attributes: vec![string("causet.msg.id", token("m", &mut rng))],
                    ..Default::default()
                }],
                links,
                status: error.then(|| Status {
                    code: status::StatusCode::Error as i32,
                    message: "upstream unavailable".into(),
                }),
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", service),
                    string("service.instance.id", instance),
                    string("deployment.environment.name", "bench"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: out,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// An encoded request and where in it each send's fresh ids and tokens go.
#[derive(Debug, Clone)]
pub struct Template {
    bytes: Vec<u8>,
    /// Offsets of 16-byte trace ids (spans' and links').
    trace_ids: Vec<usize>,
    /// Offsets of 8-byte span ids (spans', parents', links').
    span_ids: Vec<usize>,
    /// Offsets of 16-hex-digit tokens, with the value they hold.
    tokens: Vec<(usize, u64)>,
}

impl Template {
    /// Encodes `request` and finds its ids and tokens.
    pub fn new(request: &ExportTraceServiceRequest) -> Self {
        let bytes = request.encode_to_vec();
        let mut template = Template {
            bytes: Vec::new(),
            trace_ids: Vec::new(),
            span_ids: Vec::new(),
            tokens: Vec::new(),
        };
        template.find(&bytes);
        template.bytes = bytes;
        template
    }

    /// The encoded request as built.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The request with every id and token rewritten by `key`: distinct
    /// keys give requests that share no id or token.
    pub fn render(&self, key: [u64; 2]) -> Vec<u8> {
        let mut out = self.bytes.clone();
        let key_bytes = [key[0].to_be_bytes(), key[1].to_be_bytes()].concat();
        for &at in &self.trace_ids {
            for (b, k) in out[at..at + 16].iter_mut().zip(&key_bytes) {
                *b ^= k;
            }
        }
        for &at in &self.span_ids {
            for (b, k) in out[at..at + 8].iter_mut().zip(&key_bytes[8..]) {
                *b ^= k;
            }
        }
        for &(at, value) in &self.tokens {
            let hex = format!("{:016x}", value ^ key[0]);
            out[at..at + 16].copy_from_slice(hex.as_bytes());
        }
        out
    }

    fn find(&mut self, request: &[u8]) {
        let base = request.as_ptr() as usize;
        let at = |slice: &[u8]| slice.as_ptr() as usize - base;
        for rs in wire::repeated(request, 1) {
            for ss in wire::repeated(rs, 2) {
                for span in wire::repeated(ss, 2) {
                    for (number, field) in Fields::new(span).map_while(Result::ok) {
                        let wire::Field::Bytes(b) = field else {
                            continue;
                        };
                        match (number, b.len()) {
                            (1, 16) => self.trace_ids.push(at(b)),
                            (2 | 4, 8) => self.span_ids.push(at(b)),
                            (9, _) => self.token(b, at(b)),
                            (11, _) => {
                                for attr in wire::repeated(b, 3) {
                                    self.token(attr, at(attr));
                                }
                            }
                            (13, _) => {
                                for (n, f) in Fields::new(b).map_while(Result::ok) {
                                    match (n, f) {
                                        (1, wire::Field::Bytes(id)) if id.len() == 16 => {
                                            self.trace_ids.push(at(id))
                                        }
                                        (2, wire::Field::Bytes(id)) if id.len() == 8 => {
                                            self.span_ids.push(at(id))
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Records the token in the `KeyValue` message `kv` at offset `offset`.
    fn token(&mut self, kv: &[u8], offset: usize) {
        let Ok(attr) = wire::key_value(kv, 0) else {
            return;
        };
        let causet_schema::otlp::Value::Str(text) = attr.value else {
            return;
        };
        if !TOKENS.contains(&attr.key) || text.len() < 17 {
            return;
        }
        let digits = &text[text.len() - 16..];
        if let Ok(value) = u64::from_str_radix(digits, 16) {
            let kv_start = kv.as_ptr() as usize;
            let at = offset + (digits.as_ptr() as usize - kv_start);
            self.tokens.push((at, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn renders_share_no_id_and_keep_their_structure() {
        let template = Template::new(&otlp_request(7, 64));
        let a = ExportTraceServiceRequest::decode(template.render([1, 2]).as_slice()).unwrap();
        let b = ExportTraceServiceRequest::decode(template.render([3, 4]).as_slice()).unwrap();
        let spans = |r: &ExportTraceServiceRequest| -> Vec<Span> {
            r.resource_spans[0].scope_spans[0].spans.clone()
        };
        let (a, b) = (spans(&a), spans(&b));
        assert_eq!(a.len(), 64);
        let ids: HashSet<_> = a.iter().chain(&b).map(|s| s.span_id.clone()).collect();
        assert_eq!(ids.len(), 128, "no span id repeats across renders");
        let tokens: HashSet<String> = a
            .iter()
            .chain(&b)
            .flat_map(|s| &s.attributes)
            .filter(|kv| kv.key == "causet.idempotency_key")
            .map(|kv| format!("{:?}", kv.value))
            .collect();
        assert_eq!(tokens.len(), 128, "no idempotency key repeats");
        // Children still point at their root, in the same trace.
        for s in &a {
            if let Some(parent) = a.iter().find(|p| p.span_id == s.parent_span_id) {
                assert_eq!(parent.trace_id, s.trace_id);
            }
        }
        let with_parent = a
            .iter()
            .filter(|s| a.iter().any(|p| p.span_id == s.parent_span_id))
            .count();
        assert!(
            with_parent > 32,
            "{with_parent} of 64 spans have their parent in the request"
        );
    }
}
