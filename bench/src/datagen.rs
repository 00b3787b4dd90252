//! Analysis datasets, written straight to Parquet in the collector's layout
//! (through the same conversion and file writer as a flushed WAL segment).
//!
//! 300 nodes: 20 gateways call 100 API services, which call one of 20 auth
//! services and one of 100 backend services, which read or write a
//! key-value store of 12 shards x 5 replicas. Every span carries a Lamport
//! timestamp and an HLC; the store's replicas keep vector clocks over their
//! shard. Write keys follow a Zipf-like distribution over 100,000 keys, each
//! shard's writes going to its primary. Traces follow each other in time;
//! clocks agree within 100 µs except where an anomaly is injected:
//!
//! - one auth service's clock runs 2 s ahead (`skew_exceeds_max_offset`,
//!   and `causality_violation` on its replies);
//! - every 2,000th trace writes the key of its shard's last write at a
//!   lagging secondary replica, which has seen every write of the primary
//!   but that last one (`concurrent_write`); the primary merges it on its
//!   next write, so each injection makes exactly one concurrent pair;
//! - every 500th trace is a POST that times out and is retried without an
//!   idempotency key, alternately after the server executed it
//!   (`duplicate_execution`) and after the request was lost on the way
//!   (`possible_duplicate`); both may also be reported as `unsafe_retry`.
//!
//! - failures of nodes and links, at shares of the spans written so every
//!   size has them: `monitor-0` receives a heartbeat from every kv replica
//!   each second, and kv-07-2's heartbeats stall from 30% to 45% of the
//!   run (`suspected`); auth-13 is down from 40% to 50%, every call to it
//!   lost (`node_unreachable`); gateways gw-00..gw-09 cannot reach
//!   api-000..api-019 from 60% to 80% (`partition`); svc-042 serves 50 ms
//!   slower and svc-077 answers 20% of its POST /items with HTTP 500
//!   throughout (`gray_failure`). The retry and conflict injections are
//!   routed around all four, so each is scored on its own. Each is required when the run gave a detector the
//!   evidence it documents (a run of lost calls, enough heartbeats or
//!   requests per window), else only allowed.
//!
//! What was injected is returned as the demo's truth items, so findings
//! are scored for precision and recall the same way.

use std::collections::HashMap;
use std::path::Path;

use causet_collector::convert::convert;
use causet_collector::store::write_records;
use causet_schema::attributes as key;
use causet_schema::clocks::{Hlc, VectorClock};
use causet_schema::kinds::FindingKind;
use causet_schema::wal::WalRecord;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};

use causet_demo::rng::Rng;
use causet_demo::truth::Truth;

use crate::workload::kv;

/// Spans converted and written per Parquet file by default.
pub const SPANS_PER_FILE: usize = 100_000;
/// The node whose clock runs ahead.
pub const SKEWED_NODE: &str = "auth-07";
const SKEW_NS: i64 = 2_000_000_000;
const KEYS: u64 = 100_000;
const SHARDS: usize = 12;
const REPLICAS: usize = 5;
/// 2026-11-25T00:00:00Z.
const EPOCH_NS: i64 = 1_795_564_800_000_000_000;
/// The node that receives heartbeats, and how often each kv replica sends one.
const MONITOR: &str = "monitor-0";
const HEARTBEAT_NS: i64 = 1_000_000_000;
/// The replica whose heartbeats stall, and when (shares of the spans written).
const STALLED: &str = "kv-07-2";
const STALL: (f64, f64) = (0.30, 0.45);
/// The auth service that is down, and when.
const DOWN: &str = "auth-13";
const DOWN_AT: (f64, f64) = (0.40, 0.50);
/// The partition: gateways 0..10 against APIs 0..20, and when.
const CUT_GATEWAYS: usize = 10;
const CUT_APIS: usize = 20;
const CUT_AT: (f64, f64) = (0.60, 0.80);
/// The backend that serves slowly, by how much; the one that fails POSTs, how often.
const SLOW_BACKEND: &str = "svc-042";
const SLOW_NS: i64 = 50_000_000;
const FAILING_BACKEND: &str = "svc-077";
const FAIL_RATE: f64 = 0.2;
/// The width of the gray-failure detector's windows.
const MINUTE: i64 = 60_000_000_000;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Spans written.
    pub spans: u64,
    /// Traces written.
    pub traces: u64,
    /// What was injected.
    pub truth: Vec<Truth>,
}

/// Uniform in `[lo, hi)`.
fn range(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + rng.below((hi - lo).max(1) as usize) as i64
}

/// A key rank with a heavy head: rank r has weight about 1/r.
fn zipf(rng: &mut Rng, n: u64) -> u64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    ((n as f64).powf(u) as u64).saturating_sub(1).min(n - 1)
}

/// A node's clocks.
struct Node {
    name: String,
    offset_ns: i64,
    lamport: u64,
    hlc: Hlc,
}

impl Node {
    fn new(name: String, offset_ns: i64) -> Node {
        Node {
            name,
            offset_ns,
            lamport: 0,
            hlc: Hlc::new(0, 0),
        }
    }

    /// A local event at true time `t`: its wall time, Lamport and HLC.
    fn tick(&mut self, t: i64) -> (i64, u64, Hlc) {
        let wall = t + self.offset_ns;
        self.lamport += 1;
        (wall, self.lamport, self.hlc.tick(wall))
    }

    /// Receiving a message stamped `(lamport, hlc)` at true time `t`.
    fn receive(&mut self, t: i64, lamport: u64, hlc: Hlc) -> (i64, u64, Hlc) {
        let wall = t + self.offset_ns;
        self.lamport = self.lamport.max(lamport) + 1;
        (wall, self.lamport, self.hlc.receive(hlc, wall))
    }
}

/// Indices of the node tiers in `World::nodes`.
struct Tiers {
    gateways: std::ops::Range<usize>,
    apis: std::ops::Range<usize>,
    auths: std::ops::Range<usize>,
    backends: std::ops::Range<usize>,
    /// `kv[shard * REPLICAS + replica]`.
    kv: std::ops::Range<usize>,
}

struct World {
    nodes: Vec<Node>,
    tiers: Tiers,
    /// A replica's vector clock, by kv index.
    vcs: Vec<VectorClock>,
    /// Per shard: a secondary's clock the primary must merge on its next write.
    pending_merge: Vec<Option<(VectorClock, Hlc)>>,
    /// Per shard: the key of the primary's last write, for conflicts on a
    /// key with history.
    recent: Vec<u64>,
    /// Per shard: the span of the primary's last write.
    recent_write: Vec<Option<String>>,
    /// Per shard: the primary's vector clock before its last write, which
    /// is what a lagging secondary has seen.
    before_last: Vec<VectorClock>,
    rng: Rng,
    next_span: u64,
    spans: Vec<Span>,
    truth: Vec<Truth>,
    /// Spans asked for, and written before the ones in `spans`.
    target: u64,
    written: u64,
    /// True time of the next heartbeat round, and of the heartbeats' traces.
    next_beat: i64,
    beats: u64,
    /// Heartbeats of the stalled replica: sent before the stall, and missed.
    stalled_beats: (u64, u64),
    /// Calls lost to the down node and to the partition: (caller, callee).
    lost: Vec<(usize, usize)>,
    /// Per minute and method: requests the slow backend served, and the
    /// failing one's POSTs served and refused.
    slow_served: HashMap<(i64, &'static str), usize>,
    failing_served: HashMap<i64, (usize, usize)>,
}

/// A span being built: ids, times, kind, attributes.
struct SpanBuilder {
    span: Span,
}

impl SpanBuilder {
    fn attr(mut self, k: &str, v: Value) -> Self {
        self.span.attributes.push(kv(k, v));
        self
    }

    fn text(self, k: &str, v: &str) -> Self {
        self.attr(k, Value::StringValue(v.to_owned()))
    }

    fn int(self, k: &str, v: i64) -> Self {
        self.attr(k, Value::IntValue(v))
    }

    fn clocks(self, node: &str, lamport: u64, hlc: Hlc) -> Self {
        self.text(key::NODE, node)
            .int(key::LAMPORT, lamport as i64)
            .int(key::HLC_WALL_NS, hlc.wall_ns)
            .int(key::HLC_LOGICAL, i64::from(hlc.logical))
    }

    fn error(mut self, message: &str) -> Self {
        self.span.status = Some(Status {
            code: status::StatusCode::Error as i32,
            message: message.into(),
        });
        self
    }
}

/// `(kind as OTLP int)`.
const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let mut nodes = Vec::new();
        let mut tier = |nodes: &mut Vec<Node>, names: Vec<String>| {
            let start = nodes.len();
            for name in names {
                let offset = if name == SKEWED_NODE {
                    SKEW_NS
                } else {
                    range(&mut rng, -50_000, 50_000)
                };
                nodes.push(Node::new(name, offset));
            }
            start..nodes.len()
        };
        let gateways = tier(&mut nodes, (0..20).map(|i| format!("gw-{i:02}")).collect());
        let apis = tier(
            &mut nodes,
            (0..100).map(|i| format!("api-{i:03}")).collect(),
        );
        let auths = tier(
            &mut nodes,
            (0..20).map(|i| format!("auth-{i:02}")).collect(),
        );
        let backends = tier(
            &mut nodes,
            (0..100).map(|i| format!("svc-{i:03}")).collect(),
        );
        let kv = tier(
            &mut nodes,
            (0..SHARDS * REPLICAS)
                .map(|i| format!("kv-{:02}-{}", i / REPLICAS, i % REPLICAS))
                .collect(),
        );
        World {
            vcs: vec![VectorClock::new(); kv.len()],
            pending_merge: vec![None; SHARDS],
            recent: vec![u64::MAX; SHARDS],
            recent_write: vec![None; SHARDS],
            before_last: vec![VectorClock::new(); SHARDS],
            tiers: Tiers {
                gateways,
                apis,
                auths,
                backends,
                kv,
            },
            nodes,
            rng,
            next_span: 1,
            spans: Vec::new(),
            truth: Vec::new(),
            target: 0,
            written: 0,
            next_beat: EPOCH_NS,
            beats: 0,
            stalled_beats: (0, 0),
            lost: Vec::new(),
            slow_served: HashMap::new(),
            failing_served: HashMap::new(),
        }
    }

    /// Whether the run is within `(from, to)`, as shares of the spans asked for.
    fn during(&self, (from, to): (f64, f64)) -> bool {
        let at = (self.written + self.spans.len() as u64) as f64 / self.target.max(1) as f64;
        (from..to).contains(&at)
    }

    fn named(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .expect("a node of the world")
    }

    /// Whether a call from `caller` to `callee` is lost now.
    fn cut(&self, caller: usize, callee: usize) -> bool {
        let (gateways, apis) = (&self.tiers.gateways, &self.tiers.apis);
        (self.nodes[callee].name == DOWN && self.during(DOWN_AT))
            || (self.during(CUT_AT)
                && (gateways.start..gateways.start + CUT_GATEWAYS).contains(&caller)
                && (apis.start..apis.start + CUT_APIS).contains(&callee))
    }

    /// The heartbeats due by true time `t`: one span on the monitor per kv
    /// replica and second, but the stalled replica's during its stall.
    fn heartbeats(&mut self, t: i64) {
        while self.next_beat <= t {
            let at = self.next_beat;
            for i in self.tiers.kv.clone() {
                let from = self.nodes[i].name.clone();
                if from == STALLED {
                    if self.during(STALL) {
                        self.stalled_beats.1 += 1;
                        continue;
                    }
                    if self.stalled_beats.1 == 0 {
                        self.stalled_beats.0 += 1;
                    }
                }
                let mut trace = [0u8; 16];
                trace[..8].copy_from_slice(&0x00be_a700_u64.to_be_bytes());
                trace[8..].copy_from_slice(&self.beats.to_be_bytes());
                self.beats += 1;
                let beat = self
                    .span(trace, None, "heartbeat", SERVER)
                    .text(key::NODE, MONITOR)
                    .text(key::HEARTBEAT_FROM, &from);
                self.finish(beat, at, at + 20_000);
            }
            self.next_beat += HEARTBEAT_NS;
        }
    }

    fn pick(&mut self, range: std::ops::Range<usize>) -> usize {
        range.start + self.rng.below(range.len())
    }

    fn span(
        &mut self,
        trace: [u8; 16],
        parent: Option<[u8; 8]>,
        name: &str,
        kind: i32,
    ) -> SpanBuilder {
        let id = self.next_span.to_be_bytes();
        self.next_span += 1;
        SpanBuilder {
            span: Span {
                trace_id: trace.to_vec(),
                span_id: id.to_vec(),
                parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
                name: name.into(),
                kind,
                ..Default::default()
            },
        }
    }

    fn finish(&mut self, mut built: SpanBuilder, start: i64, end: i64) -> [u8; 8] {
        built.span.start_time_unix_nano = start as u64;
        built.span.end_time_unix_nano = end.max(start) as u64;
        let id: [u8; 8] = built.span.span_id[..].try_into().expect("8 bytes");
        self.spans.push(built.span);
        id
    }

    /// A client call from `caller` to `callee` starting at true time `t`:
    /// the client span, and the server span unless the request is lost; the
    /// server's own work (`serve`, given the server span's id and node) runs
    /// between. Returns the true time the call ends and the client span id.
    fn call(&mut self, ctx: &Ctx, call: Call<'_>, serve: &mut Serve<'_>) -> (i64, [u8; 8]) {
        let Call {
            parent,
            caller,
            callee,
            method,
            route,
            t,
            attempt,
            outcome,
        } = call;
        let (c_wall, c_lamport, c_hlc) = self.nodes[caller].tick(t);
        let caller_name = self.nodes[caller].name.clone();
        let callee_name = self.nodes[callee].name.clone();
        let name = format!("{method} {route}");
        let mut client = self
            .span(ctx.trace, Some(parent), &name, CLIENT)
            .clocks(&caller_name, c_lamport, c_hlc)
            .text(key::HTTP_REQUEST_METHOD, method)
            .text(key::URL_TEMPLATE, route)
            .text(key::SERVER_ADDRESS, &callee_name);
        if let Some(attempt) = attempt {
            client = client.int(key::HTTP_RESEND_COUNT, attempt);
        }
        let client_id: [u8; 8] = client.span.span_id[..].try_into().expect("8 bytes");
        let latency = range(&mut self.rng, 200_000, 800_000);
        let arrive = t + latency;
        let mut reply = arrive;
        let outcome = if self.cut(caller, callee) {
            self.lost.push((caller, callee));
            CallOutcome::Lost
        } else {
            outcome
        };
        let mut refused = false;
        if outcome != CallOutcome::Lost {
            let (s_wall, s_lamport, s_hlc) = self.nodes[callee].receive(arrive, c_lamport, c_hlc);
            let mut server = self
                .span(ctx.trace, Some(client_id), &name, SERVER)
                .clocks(&callee_name, s_lamport, s_hlc)
                .text(key::HTTP_REQUEST_METHOD, method)
                .text(key::HTTP_ROUTE, route);
            let server_id: [u8; 8] = server.span.span_id[..].try_into().expect("8 bytes");
            let (done, extra) = serve(self, server_id, callee, arrive + 50_000);
            let end = done + range(&mut self.rng, 20_000, 100_000);
            for (k, v) in extra.attributes {
                server = server.attr(k, v);
            }
            refused = extra.refused;
            server = if refused {
                server
                    .int(key::HTTP_RESPONSE_STATUS_CODE, 500)
                    .error("internal error")
            } else {
                server.int(key::HTTP_RESPONSE_STATUS_CODE, 200)
            };
            self.nodes[callee].tick(end);
            let offset = self.nodes[callee].offset_ns;
            self.finish(server, s_wall, end + offset);
            reply = end + latency;
        }
        let (end, client) = match outcome {
            CallOutcome::Ok if refused => (
                reply,
                client
                    .int(key::HTTP_RESPONSE_STATUS_CODE, 500)
                    .error("internal error"),
            ),
            CallOutcome::Ok => (reply, client.int(key::HTTP_RESPONSE_STATUS_CODE, 200)),
            CallOutcome::TimedOut | CallOutcome::Lost => (
                t + 30_000_000,
                client
                    .text(key::ERROR_TYPE, "timeout")
                    .error("deadline exceeded"),
            ),
        };
        self.nodes[caller].tick(end);
        let offset = self.nodes[caller].offset_ns;
        self.finish(client, c_wall, end + offset);
        (end, client_id)
    }

    /// A store operation at kv replica `replica` of `shard`: a write of
    /// `key` carries the replica's vector clock.
    fn store_op(&mut self, shard: usize, replica: usize, key: u64) -> SpanExtra {
        let index = shard * REPLICAS + replica;
        let node = self.tiers.kv.start + index;
        if replica == 0
            && let Some((vc, hlc)) = self.pending_merge[shard].take()
        {
            // Anti-entropy: the primary learns the secondary's write.
            self.vcs[index].merge(&vc);
            let wall = self.nodes[node].hlc.wall_ns;
            self.nodes[node].hlc.receive(hlc, wall);
        }
        if replica == 0 {
            self.before_last[shard] = self.vcs[index].clone();
        } else {
            // A lagging secondary: it has seen everything but the primary's last write.
            let seen = self.before_last[shard].clone();
            self.vcs[index].merge(&seen);
        }
        let name = self.nodes[node].name.clone();
        self.vcs[index].increment(&name);
        let value = self.rng.next_u64();
        SpanExtra {
            attributes: vec![
                (key::WRITE_KEY, Value::StringValue(format!("key-{key}"))),
                (key::WRITE_VALUE, Value::StringValue(format!("{value:x}"))),
                (key::VC, Value::StringValue(self.vcs[index].to_json())),
            ],
            refused: false,
        }
    }

    /// Trace `n`, starting at true time `t`; returns when it ends.
    fn trace(&mut self, n: u64, t: i64) -> i64 {
        let mut trace = [0u8; 16];
        trace[..8].copy_from_slice(&0x00ca_05e7_u64.to_be_bytes());
        trace[8..].copy_from_slice(&n.to_be_bytes());
        let retry = n % 500 == 250;
        let conflict = n % 2_000 == 1_000;
        let ctx = Ctx {
            trace,
            write: retry || conflict || self.rng.below(10) < 3,
            conflict,
            routed_around: retry || conflict,
        };
        self.heartbeats(t);
        let gateway = self.pick(self.tiers.gateways.clone());
        let mut api = self.pick(self.tiers.apis.clone());
        if ctx.routed_around && self.cut(gateway, api) {
            // The other injections are scored on their own: routed around the cut.
            api =
                self.tiers.apis.start + CUT_APIS + self.rng.below(self.tiers.apis.len() - CUT_APIS);
        }
        let (g_wall, g_lamport, g_hlc) = self.nodes[gateway].tick(t);
        let gw_name = self.nodes[gateway].name.clone();
        let root = self
            .span(trace, None, "checkout", INTERNAL)
            .clocks(&gw_name, g_lamport, g_hlc);
        let root_id: [u8; 8] = root.span.span_id[..].try_into().expect("8 bytes");
        let method = if ctx.write { "POST" } else { "GET" };
        let attempt = |t: i64, attempt: Option<i64>, outcome: CallOutcome| Call {
            parent: root_id,
            caller: gateway,
            callee: api,
            method,
            route: "/api/orders",
            t,
            attempt,
            outcome,
        };
        let mut serve = |w: &mut World, server: [u8; 8], node: usize, t: i64| {
            w.serve_api(&ctx, server, node, t)
        };
        let end = if retry {
            // The first attempt times out; the retry carries no idempotency key.
            let executed = (n / 500).is_multiple_of(2);
            let outcome = if executed {
                CallOutcome::TimedOut
            } else {
                CallOutcome::Lost
            };
            let (after, first) = self.call(&ctx, attempt(t + 10_000, None, outcome), &mut serve);
            let (end, _) = self.call(
                &ctx,
                attempt(after + 100_000, Some(1), CallOutcome::Ok),
                &mut serve,
            );
            let first = hex(&first);
            let (kind, note) = if executed {
                (
                    FindingKind::DuplicateExecution,
                    "the first attempt executed, timed out and was retried without a key",
                )
            } else {
                (
                    FindingKind::PossibleDuplicate,
                    "the first attempt was lost on the way and retried without a key",
                )
            };
            self.truth.push(Truth {
                kind,
                subject: first.clone(),
                spans: vec![first.clone()],
                required: true,
                note: note.into(),
            });
            self.truth.push(Truth {
                kind: FindingKind::UnsafeRetry,
                subject: first,
                spans: Vec::new(),
                required: false,
                note: "a POST retried without an idempotency key".into(),
            });
            end
        } else {
            self.call(&ctx, attempt(t + 10_000, None, CallOutcome::Ok), &mut serve)
                .0
        };
        let end = end + 20_000;
        self.nodes[gateway].tick(end);
        let offset = self.nodes[gateway].offset_ns;
        self.finish(root, g_wall, end + offset);
        end
    }

    /// The API service's work: maybe an auth check, then a backend call.
    fn serve_api(
        &mut self,
        ctx: &Ctx,
        server: [u8; 8],
        api: usize,
        mut t: i64,
    ) -> (i64, SpanExtra) {
        if self.rng.below(2) == 0 {
            let mut auth = self.pick(self.tiers.auths.clone());
            while ctx.routed_around && self.nodes[auth].name == DOWN {
                auth = self.pick(self.tiers.auths.clone());
            }
            let check = Call::new(server, api, auth, "GET", "/auth/check", t);
            let mut work = |w: &mut World, _: [u8; 8], _: usize, t: i64| {
                (
                    t + range(&mut w.rng, 100_000, 400_000),
                    SpanExtra::default(),
                )
            };
            t = self.call(ctx, check, &mut work).0;
        }
        let mut backend = self.pick(self.tiers.backends.clone());
        while ctx.routed_around
            && [SLOW_BACKEND, FAILING_BACKEND].contains(&self.nodes[backend].name.as_str())
        {
            backend = self.pick(self.tiers.backends.clone());
        }
        let method = if ctx.write { "POST" } else { "GET" };
        let items = Call::new(server, api, backend, method, "/items", t + 20_000);
        let mut work = |w: &mut World, server: [u8; 8], node: usize, t: i64| {
            w.serve_backend(ctx, server, node, t)
        };
        (self.call(ctx, items, &mut work).0, SpanExtra::default())
    }

    /// The backend's work: one read or write on the key's shard.
    fn serve_backend(
        &mut self,
        ctx: &Ctx,
        server: [u8; 8],
        backend: usize,
        t: i64,
    ) -> (i64, SpanExtra) {
        let name = self.nodes[backend].name.as_str();
        let minute = t.div_euclid(MINUTE);
        let method = if ctx.write { "POST" } else { "GET" };
        if name == SLOW_BACKEND {
            *self.slow_served.entry((minute, method)).or_default() += 1;
        }
        let t = if name == SLOW_BACKEND { t + SLOW_NS } else { t };
        if name == FAILING_BACKEND && ctx.write {
            let refuse = self.rng.chance(FAIL_RATE);
            let served = self.failing_served.entry(minute).or_default();
            served.0 += 1;
            if refuse {
                served.1 += 1;
                return (
                    t + 100_000,
                    SpanExtra {
                        refused: true,
                        ..SpanExtra::default()
                    },
                );
            }
        }
        let mut key = zipf(&mut self.rng, KEYS);
        let mut shard = (key % SHARDS as u64) as usize;
        let mut replica = 0;
        let conflict = ctx.write
            && ctx.conflict
            && self.recent[shard] != u64::MAX
            && self.pending_merge[shard].is_none();
        if conflict {
            // A secondary takes a write of the key the primary wrote last,
            // without having seen that write.
            key = self.recent[shard];
            shard = (key % SHARDS as u64) as usize;
            replica = 1 + self.rng.below(REPLICAS - 1);
        }
        let index = shard * REPLICAS + replica;
        let kv_node = self.tiers.kv.start + index;
        let (method, write) = if ctx.write {
            ("PUT", true)
        } else {
            ("GET", false)
        };
        let op = Call::new(server, backend, kv_node, method, "/kv/{key}", t);
        // The kv server span that carries the write.
        let mut written = None;
        let mut work = |w: &mut World, span: [u8; 8], _: usize, t: i64| {
            let extra = if write {
                written = Some(span);
                w.store_op(shard, replica, key)
            } else {
                SpanExtra::default()
            };
            (t + range(&mut w.rng, 50_000, 300_000), extra)
        };
        let (t, _) = self.call(ctx, op, &mut work);
        let written = written.map(|span| hex(&span));
        if write && conflict {
            let hlc = self.nodes[kv_node].hlc;
            self.pending_merge[shard] = Some((self.vcs[index].clone(), hlc));
            // The pair: the primary's last write of the key, and this one.
            let spans = self.recent_write[shard]
                .iter()
                .chain(&written)
                .cloned()
                .collect();
            self.truth.push(Truth {
                kind: FindingKind::ConcurrentWrite,
                subject: format!("key-{key}"),
                spans,
                required: true,
                note: format!(
                    "{} wrote it without seeing the primary's last write",
                    self.nodes[kv_node].name
                ),
            });
        } else if write {
            self.recent[shard] = key;
            self.recent_write[shard] = written;
        }
        (t, SpanExtra::default())
    }

    /// Takes the spans built so far as one OTLP request.
    fn take_request(&mut self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv(key::SERVICE_NAME, Value::StringValue("datagen".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: std::mem::take(&mut self.spans),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }
}

/// A server's work on a call: given the server span's id, its node and the
/// true time the request arrived, returns when it is done and what it adds
/// to its span.
type Serve<'a> = dyn FnMut(&mut World, [u8; 8], usize, i64) -> (i64, SpanExtra) + 'a;

/// What one trace is about.
struct Ctx {
    trace: [u8; 16],
    write: bool,
    /// Inject a concurrent write in this trace.
    conflict: bool,
    /// The trace carries an injection scored on its own (a retry, a
    /// conflict): it is routed around the partition, the down node and the
    /// gray backends, whose delays would otherwise reorder a timed-out
    /// attempt's server work after its retry's.
    routed_around: bool,
}

/// One client call.
struct Call<'a> {
    parent: [u8; 8],
    caller: usize,
    callee: usize,
    method: &'a str,
    route: &'a str,
    t: i64,
    attempt: Option<i64>,
    outcome: CallOutcome,
}

impl<'a> Call<'a> {
    fn new(
        parent: [u8; 8],
        caller: usize,
        callee: usize,
        method: &'a str,
        route: &'a str,
        t: i64,
    ) -> Self {
        Call {
            parent,
            caller,
            callee,
            method,
            route,
            t,
            attempt: None,
            outcome: CallOutcome::Ok,
        }
    }
}

/// How a call ends for its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallOutcome {
    /// Answered.
    Ok,
    /// Executed, but the reply came too late.
    TimedOut,
    /// The request never reached the server.
    Lost,
}

/// Attributes the server's work adds to its span, and whether it refused
/// the request (HTTP 500).
#[derive(Default)]
struct SpanExtra {
    attributes: Vec<(&'static str, Value)>,
    refused: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the spans of one export request to Parquet under `data_dir`, as
/// the collector flushes WAL segment `seq`.
pub fn write_request(
    data_dir: &Path,
    seq: u64,
    request: &ExportTraceServiceRequest,
) -> anyhow::Result<()> {
    let rows = convert(request)?;
    let record = WalRecord {
        batches: rows
            .tables()
            .into_iter()
            .map(|(table, batch)| (table, batch.clone()))
            .collect(),
    };
    write_records(data_dir, seq, &[record])?;
    Ok(())
}

/// Writes about `spans` spans (whole traces) to Parquet under `data_dir`,
/// about `spans_per_file` to a file (as the collector's flushes would).
pub fn generate(
    data_dir: &Path,
    spans: u64,
    seed: u64,
    spans_per_file: usize,
) -> anyhow::Result<Generated> {
    let mut world = World::new(seed);
    world.target = spans;
    let mut t = EPOCH_NS;
    let mut generated = Generated::default();
    let mut seq = 1;
    while generated.spans < spans {
        t = world.trace(generated.traces, t) + range(&mut world.rng, 10_000, 200_000);
        generated.traces += 1;
        if world.spans.len() >= spans_per_file.max(1)
            || generated.spans + world.spans.len() as u64 >= spans
        {
            generated.spans += world.spans.len() as u64;
            world.written = generated.spans;
            write_request(data_dir, seq, &world.take_request())?;
            seq += 1;
        }
    }
    world.truth.push(Truth {
        kind: FindingKind::SkewExceedsMaxOffset,
        subject: SKEWED_NODE.into(),
        spans: Vec::new(),
        required: true,
        note: "its clock runs 2 s ahead".into(),
    });
    world.truth.push(Truth {
        kind: FindingKind::CausalityViolation,
        subject: SKEWED_NODE.into(),
        spans: Vec::new(),
        required: true,
        note: "its replies end after its callers received them".into(),
    });
    let failures = world.failure_truth();
    generated.truth = world.truth;
    generated.truth.extend(failures);
    Ok(generated)
}

impl World {
    /// The truth about the stall, the down node, the partition and the gray
    /// backends, required when the run gave the detectors their evidence.
    fn failure_truth(&self) -> Vec<Truth> {
        use causet_analyzer::detect::gray::MIN_SAMPLES;
        use causet_analyzer::detect::heartbeats::MIN_INTERVALS;
        use causet_analyzer::detect::reach::MIN_FAILED;
        let item = Truth::about;
        let mut per_link: HashMap<(usize, usize), usize> = HashMap::new();
        for &link in &self.lost {
            *per_link.entry(link).or_default() += 1;
        }
        let down = self.named(DOWN);
        let down_callers = per_link
            .keys()
            .filter(|(_, callee)| *callee == down)
            .count();
        let down_lost: usize = per_link
            .iter()
            .filter(|((_, callee), _)| *callee == down)
            .map(|(_, n)| n)
            .sum();
        let cut_runs = per_link
            .iter()
            .any(|(&(_, callee), &n)| callee != down && n >= MIN_FAILED);
        let (before, missed) = self.stalled_beats;
        let mut truth = vec![
            item(
                FindingKind::Suspected,
                STALLED,
                before > MIN_INTERVALS as u64 && missed >= 2,
                "its heartbeats stall",
            ),
            item(
                FindingKind::NodeUnreachable,
                DOWN,
                down_callers >= 2 && down_lost >= MIN_FAILED,
                "down: every call to it lost",
            ),
            item(
                FindingKind::GrayFailure,
                SLOW_BACKEND,
                self.slow_served.values().any(|&n| n >= 2 * MIN_SAMPLES),
                "serves 50 ms slower than its peers",
            ),
            item(
                FindingKind::GrayFailure,
                FAILING_BACKEND,
                self.failing_served
                    .values()
                    .any(|&(served, refused)| served >= 2 * MIN_SAMPLES && refused >= 10),
                "answers 20% of its POSTs with HTTP 500",
            ),
        ];
        let gateways =
            (0..CUT_GATEWAYS).map(|i| self.nodes[self.tiers.gateways.start + i].name.clone());
        let apis = (0..CUT_APIS).map(|i| self.nodes[self.tiers.apis.start + i].name.clone());
        let note = "gateways gw-00..gw-09 cannot reach api-000..api-019";
        truth.push(item(FindingKind::Partition, "gw-00", cut_runs, note));
        for node in gateways.chain(apis) {
            truth.push(item(FindingKind::Partition, &node, false, note));
            truth.push(item(FindingKind::NodeUnreachable, &node, false, note));
        }
        truth
    }
}
