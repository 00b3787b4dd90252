//! The simulated leaderless key-value store.
//!
//! Replicas keep vector clocks and HLCs and replicate every write to every
//! peer over (simulated) RPCs; clients send GET, PUT and POST (a
//! non-idempotent append) with timeouts and retries, most POSTs with an
//! idempotency key. Every RPC is a CLIENT span and a SERVER span made with
//! the OpenTelemetry SDK, trace context crossing the "network" as W3C
//! traceparent headers through the SDK's propagator, annotated as
//! `schemas/CONVENTIONS.md` says.
//!
//! Replicas send each other a heartbeat every [`HEARTBEAT`] (a SERVER span
//! on the receiver with `causet.heartbeat.from`), emitted at its own time
//! even when a request in between took longer. A partition or a pause
//! loses the calls it cuts (the client times out); a replication it cuts
//! is handed off when the link is back. A gray replica serves slower or
//! refuses a share of requests with 503 before executing them.
//!
//! Time is simulated: one true clock advances as the run proceeds, each node
//! reads it with its own offset (skew, jumps), and spans carry those
//! readings as their timestamps, so a run is the same for the same seed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use causet_schema::attributes as key;
use causet_schema::clocks::{Hlc, VectorClock};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

use crate::faults::{Faults, Gray};
use crate::rng::Rng;
use crate::truth::Truth;
use causet_analyzer::detect::gray::MIN_SAMPLES;
use causet_analyzer::detect::reach::MIN_FAILED;
use causet_schema::kinds::FindingKind;

const MS: i64 = 1_000_000;
/// Client timeout.
const TIMEOUT: i64 = 100 * MS;
/// How long a slow server takes.
const SLOW: i64 = 150 * MS;
/// Pause before a retry.
const BACKOFF: i64 = 60 * MS;
/// The store's one HTTP route.
const ROUTE: &str = "/kv/{key}";
/// How far a jumping clock steps back.
pub const JUMP: i64 = 2_000 * MS;
/// How often each replica sends every peer a heartbeat.
pub const HEARTBEAT: i64 = 100 * MS;

/// A simulated process.
#[derive(Debug)]
pub struct Node {
    /// Its name (`service.instance.id`).
    pub name: String,
    tracer: SdkTracer,
    /// Its clock's offset from true time at the start of the run, ns.
    pub offset: i64,
    /// How fast its clock gains (positive) or loses, in parts per million.
    pub drift_ppm: i64,
    vc: VectorClock,
    hlc: Hlc,
    /// Idempotency key -> answer already given.
    dedup: HashMap<String, String>,
}

impl Node {
    /// A node named `name` whose spans go to `tracer`.
    pub fn new(name: String, tracer: SdkTracer, offset: i64, drift_ppm: i64) -> Self {
        Node {
            name,
            tracer,
            offset,
            drift_ppm,
            vc: VectorClock::new(),
            hlc: Hlc::default(),
            dedup: HashMap::new(),
        }
    }
}

/// An operation of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Read a key.
    Get,
    /// Overwrite a key (idempotent).
    Put,
    /// Append to a key (not idempotent).
    Post,
}

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::Get => "GET",
            Op::Put => "PUT",
            Op::Post => "POST",
        }
    }
}

/// What happens to a request's first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Ok,
    DropRequest,
    DropReply,
    Slow,
}

/// What a server did with a request that reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    /// Executed it.
    Executed,
    /// Answered it from its deduplication cache.
    Replayed,
    /// Refused it with 503 before executing (a gray node).
    Rejected,
}

/// One attempt as it really went.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// What the server did, if the request reached it.
    served: Option<Served>,
    /// The client cannot tell whether it executed (a timeout or a 503).
    uncertain: bool,
}

/// A replication that could not be sent, to send when the link is back
/// (hinted handoff).
#[derive(Debug)]
struct Handoff {
    from: usize,
    to: usize,
    key: String,
    value: String,
    parent: Context,
}

/// The retry finding a request's attempts call for, by what really
/// happened: executed twice; answered from the cache; retried without a key
/// after an attempt that never reached the server, or after one whose
/// outcome the client could not know.
fn retry_kind(op: Op, keyed: bool, attempts: &[Attempt]) -> Option<FindingKind> {
    let executions = attempts
        .iter()
        .filter(|a| a.served == Some(Served::Executed))
        .count();
    let retried = attempts.len() > 1;
    let earlier = &attempts[..attempts.len().saturating_sub(1)];
    let post = op == Op::Post;
    if post && executions >= 2 {
        Some(FindingKind::DuplicateExecution)
    } else if keyed && retried && attempts.iter().any(|a| a.served == Some(Served::Replayed)) {
        Some(FindingKind::Deduplicated)
    } else if post && !keyed && earlier.iter().any(|a| a.uncertain && a.served.is_none()) {
        Some(FindingKind::PossibleDuplicate)
    } else if post && !keyed && earlier.iter().any(|a| a.uncertain) {
        Some(FindingKind::UnsafeRetry)
    } else {
        None
    }
}

/// A call lost to a scheduled fault: true time, caller, callee.
#[derive(Debug)]
struct Lost {
    at: i64,
    caller: String,
    callee: String,
}

/// A write not yet replicated (concurrent-writes fault).
#[derive(Debug)]
struct Pending {
    replica: usize,
    key: String,
    value: String,
    parent: Context,
}

/// The store and its clients.
#[derive(Debug)]
pub struct Sim {
    rng: Rng,
    faults: Faults,
    /// True time, ns since the epoch.
    now: i64,
    /// When the run started, true time.
    start: i64,
    /// Replica nodes.
    pub replicas: Vec<Node>,
    /// Client nodes.
    pub clients: Vec<Node>,
    store: HashMap<String, String>,
    /// What was injected.
    pub truth: Vec<Truth>,
    propagator: TraceContextPropagator,
    requests: usize,
    /// True time of the next heartbeat round.
    next_heartbeat: i64,
    /// Replications waiting for their link.
    handoffs: Vec<Handoff>,
    /// Calls lost to partitions and pauses.
    lost: Vec<Lost>,
    /// Writes executed: true time, replica, key.
    writes: Vec<(i64, usize, String)>,
    /// Replications cut off: true time, key.
    cut_off: Vec<(i64, String)>,
    /// Requests each gray node served and refused, per operation.
    gray_served: HashMap<(usize, String), (usize, usize)>,
}

fn at(ns: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64)
}

impl Sim {
    /// A store of `replicas` and `clients` starting at `start_ns`.
    pub fn new(
        seed: u64,
        faults: Faults,
        start_ns: i64,
        replicas: Vec<Node>,
        clients: Vec<Node>,
    ) -> Self {
        Sim {
            rng: Rng::new(seed),
            faults,
            now: start_ns,
            start: start_ns,
            replicas,
            clients,
            store: HashMap::new(),
            truth: Vec::new(),
            propagator: TraceContextPropagator::new(),
            requests: 0,
            next_heartbeat: start_ns + HEARTBEAT,
            handoffs: Vec::new(),
            lost: Vec::new(),
            writes: Vec::new(),
            cut_off: Vec::new(),
            gray_served: HashMap::new(),
        }
    }

    /// Whether `node` is paused now.
    fn paused(&self, node: &str) -> bool {
        let t = self.now - self.start;
        self.faults
            .pauses
            .iter()
            .any(|p| p.node == node && (p.from..p.to).contains(&t))
    }

    /// Whether a call from `from` to `to` is lost now: a partition cuts
    /// them, or either is paused.
    fn cut(&self, from: &str, to: &str) -> bool {
        let t = self.now - self.start;
        self.paused(from)
            || self.paused(to)
            || self.faults.partitions.iter().any(|p| p.cuts(from, to, t))
    }

    /// Whether any partition or pause is on now.
    fn disrupted(&self) -> bool {
        let t = self.now - self.start;
        self.faults
            .partitions
            .iter()
            .any(|p| (p.from..p.to).contains(&t))
            || self
                .faults
                .pauses
                .iter()
                .any(|p| (p.from..p.to).contains(&t))
    }

    /// How a replica is gray, if it is.
    fn gray(&self, replica: usize) -> Option<Gray> {
        let name = &self.replicas[replica].name;
        self.faults
            .gray
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, how)| how)
    }

    /// How long `replica` takes for work that takes `ns` on a healthy one.
    fn service(&self, replica: usize, ns: i64) -> i64 {
        match self.gray(replica) {
            Some(Gray::Slow(factor)) => (ns as f64 * factor) as i64,
            _ => ns,
        }
    }

    /// Sends the heartbeats due by now, each at its own time, and the
    /// replications whose link is back.
    fn catch_up(&mut self) {
        let now = self.now;
        while self.next_heartbeat <= now {
            self.now = self.next_heartbeat;
            for from in 0..self.replicas.len() {
                for to in 0..self.replicas.len() {
                    let (a, b) = (&self.replicas[from].name, &self.replicas[to].name);
                    if from == to || self.cut(a, b) {
                        continue;
                    }
                    let cx = self.start(
                        &self.replicas[to],
                        "heartbeat".into(),
                        SpanKind::Server,
                        &Context::new(),
                        vec![KeyValue::new(key::HEARTBEAT_FROM, a.clone())],
                    );
                    self.end(&self.replicas[to], &cx);
                }
            }
            self.next_heartbeat += HEARTBEAT;
        }
        self.now = now;
        let waiting = std::mem::take(&mut self.handoffs);
        for h in waiting {
            let (a, b) = (&self.replicas[h.from].name, &self.replicas[h.to].name);
            if self.cut(a, b) {
                self.handoffs.push(h);
            } else {
                self.replicate_to(h.from, h.to, &h.key, &h.value, &h.parent);
            }
        }
    }

    fn clock(&self, node: &Node) -> i64 {
        let elapsed = self.now - self.start;
        self.now + node.offset + elapsed / 1_000_000 * node.drift_ppm
    }

    fn start(
        &self,
        node: &Node,
        name: String,
        kind: SpanKind,
        parent: &Context,
        attrs: Vec<KeyValue>,
    ) -> Context {
        let span = node
            .tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(at(self.clock(node)))
            .with_attributes(attrs)
            .start_with_context(&node.tracer, parent);
        parent.with_span(span)
    }

    fn end(&self, node: &Node, cx: &Context) {
        cx.span().end_with_timestamp(at(self.clock(node)));
    }

    fn inject(&self, cx: &Context) -> HashMap<String, String> {
        let mut carrier = HashMap::new();
        self.propagator.inject_context(cx, &mut carrier);
        carrier
    }

    /// Runs `requests` client requests.
    pub fn run(&mut self, requests: usize) {
        let jump_at = requests / 2;
        for i in 0..requests {
            self.catch_up();
            if i == jump_at && self.faults.clock_jump {
                let j = 1 % self.replicas.len();
                self.replicas[j].offset -= JUMP;
            }
            let op = match self.rng.below(10) {
                0..=4 => Op::Get,
                5..=7 => Op::Put,
                _ => Op::Post,
            };
            let key = format!("user:{}", self.rng.below(20));
            let client = self.rng.below(self.clients.len());
            // Two writes that must meet on purpose are not sent into a
            // partition or pause, where either could be lost.
            if op == Op::Put && self.rng.chance(self.faults.concurrent_writes) && !self.disrupted()
            {
                self.concurrent_puts(client, &key);
            } else {
                self.request(client, op, &key);
            }
            self.now += MS;
        }
        self.catch_up();
        let truth = self.scheduled_truth();
        self.truth.extend(truth);
    }

    /// Two clients write one key through two replicas before either write
    /// reaches the other replica.
    fn concurrent_puts(&mut self, client: usize, key: &str) {
        let mut pending = Vec::new();
        let first = self.rng.below(self.replicas.len());
        let second = (first + 1 + self.rng.below(self.replicas.len() - 1)) % self.replicas.len();
        self.request_at(client, Op::Put, key, Some(first), Some(&mut pending));
        let other = (client + 1) % self.clients.len();
        self.request_at(other, Op::Put, key, Some(second), Some(&mut pending));
        // The two write spans: the finding must name this pair.
        let spans = pending
            .iter()
            .map(|p| p.parent.span().span_context().span_id().to_string())
            .collect();
        let met = pending.len() == 2;
        for p in pending {
            self.replicate(p.replica, &p.key, &p.value, &p.parent);
        }
        if !met {
            // One write was refused three times (a gray node): no pair.
            return;
        }
        self.truth.push(Truth {
            kind: FindingKind::ConcurrentWrite,
            subject: key.to_owned(),
            spans,
            required: true,
            note: format!(
                "PUT {key} through {} and {} before replicating",
                self.replicas[first].name, self.replicas[second].name
            ),
        });
    }

    fn request(&mut self, client: usize, op: Op, key: &str) {
        self.request_at(client, op, key, None, None);
    }

    fn request_at(
        &mut self,
        client: usize,
        op: Op,
        key: &str,
        replica: Option<usize>,
        mut pending: Option<&mut Vec<Pending>>,
    ) {
        self.requests += 1;
        let n = self.requests;
        let replica = replica.unwrap_or_else(|| self.rng.below(self.replicas.len()));
        let idem = (op == Op::Post && !self.rng.chance(self.faults.no_idem_key))
            .then(|| format!("req-{n}"));
        let ignore_key = idem.is_some() && self.rng.chance(self.faults.ignore_idem_key);
        let fate = if pending.is_some() {
            Fate::Ok
        } else if self.rng.chance(self.faults.drop_request) {
            Fate::DropRequest
        } else if self.rng.chance(self.faults.drop_reply) {
            Fate::DropReply
        } else if self.rng.chance(self.faults.slow_node) {
            Fate::Slow
        } else {
            Fate::Ok
        };
        let parent = self.start(
            &self.clients[client],
            format!("{} {key}", op.method().to_lowercase()),
            SpanKind::Internal,
            &Context::new(),
            vec![],
        );
        let mut first_attempt = None;
        let mut attempts: Vec<Attempt> = Vec::new();
        let (caller, callee) = (
            self.clients[client].name.clone(),
            self.replicas[replica].name.clone(),
        );
        for attempt in 0..3 {
            let cut = self.cut(&caller, &callee);
            let fate = match (cut, attempt) {
                (true, _) => Fate::DropRequest,
                (false, 0) => fate,
                _ => Fate::Ok,
            };
            let t0 = self.now;
            let mut attrs = vec![
                KeyValue::new(key::HTTP_REQUEST_METHOD, op.method()),
                KeyValue::new(key::HTTP_ROUTE, ROUTE),
                KeyValue::new(key::SERVER_ADDRESS, callee.clone()),
            ];
            if attempt > 0 {
                attrs.push(KeyValue::new(key::HTTP_RESEND_COUNT, attempt as i64));
            }
            if let Some(k) = &idem {
                attrs.push(KeyValue::new(key::IDEMPOTENCY_KEY, k.clone()));
            }
            let call = self.start(
                &self.clients[client],
                format!("{} {ROUTE}", op.method()),
                SpanKind::Client,
                &parent,
                attrs,
            );
            first_attempt.get_or_insert_with(|| call.span().span_context().span_id().to_string());
            let carrier = self.inject(&call);
            self.now += MS;
            let served = if fate == Fate::DropRequest {
                if cut {
                    self.lost.push(Lost {
                        at: t0,
                        caller: caller.clone(),
                        callee: callee.clone(),
                    });
                }
                None
            } else {
                let value = format!("v{n}");
                Some(self.serve(
                    replica,
                    op,
                    key,
                    &value,
                    idem.as_deref(),
                    ignore_key,
                    &carrier,
                    fate == Fate::Slow,
                    pending.as_deref_mut(),
                ))
            };
            let span = call.span();
            if served == Some(Served::Rejected) {
                self.now += MS;
                span.set_status(Status::error("service unavailable"));
                span.set_attribute(KeyValue::new(key::HTTP_RESPONSE_STATUS_CODE, 503));
                span.set_attribute(KeyValue::new(key::ERROR_TYPE, "503"));
                self.end(&self.clients[client], &call);
                attempts.push(Attempt {
                    served,
                    uncertain: true,
                });
                self.now += BACKOFF;
                continue;
            }
            if fate == Fate::Ok {
                self.now += MS;
                let code = if op == Op::Get { 200 } else { 201 };
                span.set_attribute(KeyValue::new(key::HTTP_RESPONSE_STATUS_CODE, code));
                self.end(&self.clients[client], &call);
                attempts.push(Attempt {
                    served,
                    uncertain: false,
                });
                break;
            }
            // The client hears nothing and gives up at its timeout.
            let waited = self.now;
            self.now = t0 + TIMEOUT;
            span.set_status(Status::error("deadline exceeded"));
            span.set_attribute(KeyValue::new(key::ERROR_TYPE, "timeout"));
            self.end(&self.clients[client], &call);
            attempts.push(Attempt {
                served,
                uncertain: true,
            });
            self.now = self.now.max(waited) + BACKOFF;
        }
        self.end(&self.clients[client], &parent);

        if let Some(kind) = retry_kind(op, idem.is_some(), &attempts) {
            let subject = first_attempt.unwrap_or_default();
            self.truth.push(Truth {
                kind,
                spans: vec![subject.clone()],
                subject,
                required: true,
                note: format!(
                    "{} {key} (first attempt {fate:?}, then {attempts:?}; key {idem:?}, key ignored {ignore_key})",
                    op.method()
                ),
            });
        }
    }

    /// The coordinator handles a request: answers a replay from its cache,
    /// or executes, writes and replicates.
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &mut self,
        r: usize,
        op: Op,
        k: &str,
        value: &str,
        idem: Option<&str>,
        ignore_key: bool,
        carrier: &HashMap<String, String>,
        slow: bool,
        pending: Option<&mut Vec<Pending>>,
    ) -> Served {
        let parent = self.propagator.extract(carrier);
        if let Some(gray) = self.gray(r) {
            let reject = matches!(gray, Gray::Fail(rate) if self.rng.chance(rate));
            let count = self
                .gray_served
                .entry((r, format!("{} {ROUTE}", op.method())))
                .or_default();
            count.0 += 1;
            if reject {
                count.1 += 1;
                let cx = self.start(
                    &self.replicas[r],
                    format!("{} {ROUTE}", op.method()),
                    SpanKind::Server,
                    &parent,
                    vec![
                        KeyValue::new(key::HTTP_REQUEST_METHOD, op.method()),
                        KeyValue::new(key::HTTP_ROUTE, ROUTE),
                        KeyValue::new(key::HTTP_RESPONSE_STATUS_CODE, 503),
                    ],
                );
                cx.span().set_status(Status::error("service unavailable"));
                self.now += MS;
                self.end(&self.replicas[r], &cx);
                return Served::Rejected;
            }
        }
        let now = self.clock(&self.replicas[r]);
        let node = &mut self.replicas[r];
        let name = node.name.clone();
        node.vc.increment(&name);
        node.hlc.tick(now);
        let mut attrs = vec![
            KeyValue::new(key::HTTP_REQUEST_METHOD, op.method()),
            KeyValue::new(key::HTTP_ROUTE, ROUTE),
        ];
        attrs.extend(node.vc.to_attributes());
        attrs.extend(node.hlc.to_attributes());
        if let Some(idem) = idem {
            attrs.push(KeyValue::new(key::IDEMPOTENCY_KEY, idem.to_owned()));
            if !ignore_key && node.dedup.contains_key(idem) {
                attrs.push(KeyValue::new(key::IDEMPOTENCY_REPLAYED, true));
                let cx = self.start(
                    &self.replicas[r],
                    format!("{} {ROUTE}", op.method()),
                    SpanKind::Server,
                    &parent,
                    attrs,
                );
                self.now += self.service(r, MS);
                self.end(&self.replicas[r], &cx);
                return Served::Replayed;
            }
        }
        match op {
            Op::Get => attrs.push(KeyValue::new(key::READ_KEY, k.to_owned())),
            Op::Put | Op::Post => {
                attrs.push(KeyValue::new(key::WRITE_KEY, k.to_owned()));
                attrs.push(KeyValue::new(key::WRITE_VALUE, value.to_owned()));
            }
        }
        let cx = self.start(
            &self.replicas[r],
            format!("{} {ROUTE}", op.method()),
            SpanKind::Server,
            &parent,
            attrs,
        );
        self.now += self.service(r, MS);
        if op != Op::Get {
            self.writes.push((self.now, r, k.to_owned()));
            self.store.insert(k.to_owned(), value.to_owned());
            if let Some(idem) = idem {
                self.replicas[r]
                    .dedup
                    .insert(idem.to_owned(), value.to_owned());
            }
            match pending {
                Some(pending) => pending.push(Pending {
                    replica: r,
                    key: k.to_owned(),
                    value: value.to_owned(),
                    parent: cx.clone(),
                }),
                None => self.replicate(r, k, value, &cx),
            }
        }
        if slow {
            self.now += SLOW;
        }
        self.end(&self.replicas[r], &cx);
        Served::Executed
    }

    /// Sends a write from replica `r` to every peer, one RPC each; a peer
    /// cut off gets it when the link is back.
    fn replicate(&mut self, r: usize, k: &str, value: &str, parent: &Context) {
        for p in 0..self.replicas.len() {
            if p != r {
                self.replicate_to(r, p, k, value, parent);
            }
        }
    }

    /// One replication RPC from `r` to `p`: applied, or, when a fault cuts
    /// them, timed out and kept for a handoff.
    fn replicate_to(&mut self, r: usize, p: usize, k: &str, value: &str, parent: &Context) {
        let now = self.clock(&self.replicas[r]);
        let sender = &mut self.replicas[r];
        let name = sender.name.clone();
        let vc = sender.vc.on_send(&name);
        let hlc = sender.hlc.tick(now);
        let mut attrs = vec![KeyValue::new(
            key::SERVER_ADDRESS,
            self.replicas[p].name.clone(),
        )];
        attrs.extend(vc.to_attributes());
        attrs.extend(hlc.to_attributes());
        let call = self.start(
            &self.replicas[r],
            "replicate".into(),
            SpanKind::Client,
            parent,
            attrs,
        );
        if self.cut(&self.replicas[r].name, &self.replicas[p].name) {
            // Sent asynchronously: the sender moves on and the call times
            // out on its own.
            self.lost.push(Lost {
                at: self.now,
                caller: self.replicas[r].name.clone(),
                callee: self.replicas[p].name.clone(),
            });
            let now = self.now;
            self.now += TIMEOUT;
            call.span().set_status(Status::error("deadline exceeded"));
            call.span()
                .set_attribute(KeyValue::new(key::ERROR_TYPE, "timeout"));
            self.end(&self.replicas[r], &call);
            self.now = now;
            self.cut_off.push((self.now, k.to_owned()));
            self.handoffs.push(Handoff {
                from: r,
                to: p,
                key: k.to_owned(),
                value: value.to_owned(),
                parent: parent.clone(),
            });
            return;
        }
        let carrier = self.inject(&call);
        self.now += MS / 2;
        let now = self.clock(&self.replicas[p]);
        let peer = &mut self.replicas[p];
        let peer_name = peer.name.clone();
        peer.vc.on_receive(&peer_name, &vc);
        peer.hlc.receive(hlc, now);
        let mut attrs = vec![
            KeyValue::new("kv.key", k.to_owned()),
            KeyValue::new("kv.value", value.to_owned()),
        ];
        attrs.extend(peer.vc.to_attributes());
        attrs.extend(peer.hlc.to_attributes());
        let parent_cx = self.propagator.extract(&carrier);
        let apply = self.start(
            &self.replicas[p],
            "apply".into(),
            SpanKind::Server,
            &parent_cx,
            attrs,
        );
        self.now += self.service(p, MS / 2);
        self.end(&self.replicas[p], &apply);
        self.now += MS / 2;
        self.end(&self.replicas[r], &call);
    }

    /// The truth about partitions, pauses and gray nodes, from what the
    /// run did: calls lost, writes made, requests refused.
    fn scheduled_truth(&self) -> Vec<Truth> {
        let mut truth = Vec::new();
        let ran = self.now - self.start;
        let item = Truth::about;
        let ms = |ns: i64| ns / MS;
        // Runs of lost calls long enough to be seen, per link, in a span of time.
        let links = |from: i64, to: i64| {
            let mut per: BTreeMap<(&str, &str), usize> = BTreeMap::new();
            for l in &self.lost {
                if (from..to).contains(&(l.at - self.start)) {
                    *per.entry((&l.caller, &l.callee)).or_default() += 1;
                }
            }
            per.retain(|_, n| *n >= MIN_FAILED);
            per
        };
        for p in &self.faults.pauses {
            let note = format!(
                "{} paused from {} ms to {} ms",
                p.node,
                ms(p.from),
                ms(p.to)
            );
            let heard = p.to - p.from >= 3 * HEARTBEAT
                && p.from >= 10 * HEARTBEAT
                && ran >= p.from + 3 * HEARTBEAT;
            truth.push(item(FindingKind::Suspected, &p.node, heard, &note));
            // Silent, so one caller's run of failures says it is the node.
            let seen = links(p.from, p.to)
                .keys()
                .any(|(_, callee)| *callee == p.node);
            truth.push(item(FindingKind::NodeUnreachable, &p.node, seen, &note));
        }
        for p in &self.faults.partitions {
            let note = format!(
                "partition from {} ms to {} ms between {} and {}",
                ms(p.from),
                ms(p.to),
                p.a.join(","),
                p.b.join(",")
            );
            let seen = !links(p.from, p.to).is_empty();
            truth.push(item(FindingKind::Partition, &p.a[0], seen, &note));
            for node in p.a.iter().chain(&p.b) {
                for kind in [
                    FindingKind::Partition,
                    FindingKind::NodeUnreachable,
                    FindingKind::Suspected,
                ] {
                    truth.push(item(kind, node, false, &note));
                }
            }
            // A key written on both sides meanwhile, or whose write was cut
            // off from the other side (one just before the split included):
            // its writes may be concurrent.
            let during = |at: i64| (p.from..p.to).contains(&(at - self.start));
            let mut sides: BTreeMap<&str, [bool; 2]> = BTreeMap::new();
            for (at, r, key) in &self.writes {
                let name = &self.replicas[*r].name;
                if during(*at) {
                    let entry = sides.entry(key).or_default();
                    entry[0] |= p.a.contains(name);
                    entry[1] |= p.b.contains(name);
                }
            }
            let mut keys: BTreeSet<&str> = sides
                .iter()
                .filter(|(_, s)| s[0] && s[1])
                .map(|(k, _)| *k)
                .collect();
            keys.extend(
                self.cut_off
                    .iter()
                    .filter(|(at, _)| during(*at))
                    .map(|(_, k)| k.as_str()),
            );
            for key in keys {
                for kind in [
                    FindingKind::ConcurrentWrite,
                    FindingKind::PossibleConcurrentWrite,
                    FindingKind::LwwInversion,
                ] {
                    truth.push(item(
                        kind,
                        key,
                        false,
                        &format!("{note}: {key} written on both sides"),
                    ));
                }
            }
        }
        for (node, how) in &self.faults.gray {
            let Some(r) = self.replicas.iter().position(|n| &n.name == node) else {
                continue;
            };
            let note = format!("{node} gray: {how:?}");
            let seen = self.gray_served.iter().filter(|((g, _), _)| *g == r).any(
                |(_, &(served, refused))| match how {
                    Gray::Slow(_) => served >= 2 * MIN_SAMPLES,
                    Gray::Fail(_) => served >= 2 * MIN_SAMPLES && refused >= 10,
                },
            );
            truth.push(item(FindingKind::GrayFailure, node, seen, &note));
        }
        truth
    }
}
