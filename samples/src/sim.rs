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
//! Time is simulated: one true clock advances as the run proceeds, each node
//! reads it with its own offset (skew, jumps), and spans carry those
//! readings as their timestamps, so a run is the same for the same seed.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use causet_schema::attributes as key;
use causet_schema::clocks::{Hlc, VectorClock};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

use crate::faults::Faults;
use crate::rng::Rng;
use crate::truth::Truth;
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
            if op == Op::Put && self.rng.chance(self.faults.concurrent_writes) {
                self.concurrent_puts(client, &key);
            } else {
                self.request(client, op, &key);
            }
            self.now += MS;
        }
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
        for p in pending {
            self.replicate(p.replica, &p.key, &p.value, &p.parent);
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
        for attempt in 0..3 {
            let fate = if attempt == 0 { fate } else { Fate::Ok };
            let t0 = self.now;
            let mut attrs = vec![
                KeyValue::new(key::HTTP_REQUEST_METHOD, op.method()),
                KeyValue::new(key::HTTP_ROUTE, ROUTE),
                KeyValue::new(key::SERVER_ADDRESS, self.replicas[replica].name.clone()),
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
            if fate != Fate::DropRequest {
                let value = format!("v{n}");
                self.serve(
                    replica,
                    op,
                    key,
                    &value,
                    idem.as_deref(),
                    ignore_key,
                    &carrier,
                    fate == Fate::Slow,
                    pending.as_deref_mut(),
                );
            }
            let span = call.span();
            if fate == Fate::Ok {
                self.now += MS;
                let code = if op == Op::Get { 200 } else { 201 };
                span.set_attribute(KeyValue::new(key::HTTP_RESPONSE_STATUS_CODE, code));
                self.end(&self.clients[client], &call);
                break;
            }
            // The client hears nothing and gives up at its timeout.
            let waited = self.now;
            self.now = t0 + TIMEOUT;
            span.set_status(Status::error("deadline exceeded"));
            span.set_attribute(KeyValue::new(key::ERROR_TYPE, "timeout"));
            self.end(&self.clients[client], &call);
            self.now = self.now.max(waited) + BACKOFF;
        }
        self.end(&self.clients[client], &parent);

        if op == Op::Post && fate != Fate::Ok {
            let subject = first_attempt.unwrap_or_default();
            let kind = match (fate, idem.is_some(), ignore_key) {
                (Fate::DropRequest, false, _) => Some(FindingKind::PossibleDuplicate),
                (Fate::DropRequest, true, _) => None,
                (_, false, _) | (_, true, true) => Some(FindingKind::DuplicateExecution),
                (_, true, false) => Some(FindingKind::Deduplicated),
            };
            if let Some(kind) = kind {
                self.truth.push(Truth {
                    kind,
                    spans: vec![subject.clone()],
                    subject,
                    required: true,
                    note: format!(
                        "POST {key} ({fate:?}, key {idem:?}, key ignored {ignore_key}), retried"
                    ),
                });
            }
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
    ) {
        let parent = self.propagator.extract(carrier);
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
                self.now += MS;
                self.end(&self.replicas[r], &cx);
                return;
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
        self.now += MS;
        if op != Op::Get {
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
    }

    /// Sends a write from replica `r` to every peer, one RPC each.
    fn replicate(&mut self, r: usize, k: &str, value: &str, parent: &Context) {
        for p in 0..self.replicas.len() {
            if p == r {
                continue;
            }
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
            self.now += MS / 2;
            self.end(&self.replicas[p], &apply);
            self.now += MS / 2;
            self.end(&self.replicas[r], &call);
        }
    }
}
