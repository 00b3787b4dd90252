//! Ambiguous partial-failure retries.
//!
//! Client attempts of one logical request are grouped by idempotency key,
//! by (parent span, peer, method, route) among siblings of which some carry
//! a retry attempt number, and by links from a retry to an earlier attempt.
//! Each attempt is ok, fail (a definite rejection: the server did not
//! execute it) or unknown (timeout, unavailable, reset, 5xx: it may have
//! executed). An unknown attempt is never assumed not to have run.

use hashbrown::HashMap;

use serde_json::json;

use super::facts::SpanFacts;
use super::{DetectConfig, Facts, Finding, FindingKind, Severity, UnionFind, event_json};
use crate::graph::{EdgeSource, Graph, SpanKind, Sym};
use crate::grouped::Grouped;

/// What the client learned from one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with success.
    Ok,
    /// The server refused it before executing.
    Fail,
    /// Nobody knows whether it executed.
    Unknown,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
        }
    }
}

/// gRPC codes that mean the server refused the call without executing it.
const DEFINITE_GRPC: [i64; 9] = [3, 5, 6, 7, 8, 9, 11, 12, 16];

/// Classifies a client attempt.
pub fn outcome(error: bool, facts: Option<&SpanFacts>) -> Outcome {
    if let Some(code) = facts.and_then(|f| f.http_status) {
        return match code {
            200..=399 => Outcome::Ok,
            408 => Outcome::Unknown,
            400..=499 => Outcome::Fail,
            _ => Outcome::Unknown,
        };
    }
    if let Some(code) = facts.and_then(|f| f.grpc_status) {
        return match code {
            0 => Outcome::Ok,
            c if DEFINITE_GRPC.contains(&c) => Outcome::Fail,
            _ => Outcome::Unknown,
        };
    }
    if error { Outcome::Unknown } else { Outcome::Ok }
}

/// `Some(false)` for methods safe to repeat, `Some(true)` for those that are
/// not, `None` when unknown.
fn non_idempotent(facts: &Facts, span: &SpanFacts, config: &DetectConfig) -> Option<bool> {
    let method = facts.str(span.method)?;
    if span.rpc {
        let short = method.rsplit('/').next().unwrap_or(method);
        return Some(
            config
                .non_idempotent_rpc
                .iter()
                .any(|m| m == method || m == short),
        );
    }
    match method.to_ascii_uppercase().as_str() {
        "POST" | "PATCH" => Some(true),
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE" => Some(false),
        _ => None,
    }
}

/// Attempts of one call: same parent span, peer, method and route.
type CallKey = (u32, Option<Sym>, Option<Sym>, Option<Sym>);

pub fn detect(g: &Graph, facts: &Facts, config: &DetectConfig) -> Vec<Finding> {
    let clients: Vec<u32> = (0..g.spans.len() as u32)
        .filter(|&s| g.spans[s as usize].kind == SpanKind::Client && facts.of(s).is_some())
        .collect();
    let index: HashMap<u32, u32> = clients
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, i as u32))
        .collect();
    let mut groups = UnionFind::new(clients.len());

    // Same idempotency key.
    let mut by_key: HashMap<Sym, u32> = HashMap::new();
    // Same parent, peer, method and route, when some sibling says it is a retry.
    let mut by_call: Vec<(CallKey, u32)> = Vec::new();
    for (i, &s) in clients.iter().enumerate() {
        let f = facts.of(s).expect("clients have facts");
        if let Some(key) = f.idempotency_key {
            match by_key.get(&key) {
                Some(&first) => groups.union(first, i as u32),
                None => {
                    by_key.insert(key, i as u32);
                }
            }
        }
        if let Some(parent) = g.spans[s as usize].parent() {
            by_call.push(((parent, f.peer, f.method, f.route), i as u32));
        }
    }
    let mut members: Vec<u32> = Vec::new();
    for (_, call) in Grouped::new(by_call).groups() {
        members.clear();
        members.extend(call);
        let retried = members.iter().any(|&i| {
            facts
                .of(clients[i as usize])
                .and_then(|f| f.attempt)
                .is_some_and(|a| a > 0)
        });
        if retried {
            for &m in &members[1..] {
                groups.union(members[0], m);
            }
        }
    }
    // A retry in a new trace, linked to the attempt it retries.
    for edge in g.edges() {
        if edge.source != EdgeSource::Link {
            continue;
        }
        let (from, to) = (g.span_of(edge.from), g.span_of(edge.to));
        if let (Some(&a), Some(&b)) = (index.get(&from), index.get(&to)) {
            groups.union(a, b);
        }
    }

    // The attempts of each logical request: client spans by their group's root.
    let requests = Grouped::new(
        (0..clients.len() as u32)
            .map(|i| (groups.find(i), clients[i as usize]))
            .collect(),
    );
    // Server spans by idempotency key, for executions outside the attempts' traces.
    let (mut servers_by_key, mut children) = (Vec::new(), Vec::new());
    for (s, span) in g.spans.iter().enumerate() {
        if span.kind != SpanKind::Server {
            continue;
        }
        if let Some(p) = span.parent() {
            children.push((p, s as u32));
        }
        if let Some(key) = facts.of(s as u32).and_then(|f| f.idempotency_key) {
            servers_by_key.push((key, s as u32));
        }
    }

    let (children, servers_by_key) = (Grouped::new(children), Grouped::new(servers_by_key));
    let mut findings = Vec::new();
    let mut attempts: Vec<u32> = Vec::new();
    for (_, group) in requests.groups() {
        attempts.clear();
        attempts.extend(group);
        attempts.sort_by_key(|&s| (g.spans[s as usize].start, s));
        findings.extend(judge(
            g,
            facts,
            config,
            &attempts,
            &children,
            &servers_by_key,
        ));
    }
    findings
}

fn judge(
    g: &Graph,
    facts: &Facts,
    config: &DetectConfig,
    attempts: &[u32],
    children: &Grouped<u32, u32>,
    servers_by_key: &Grouped<Sym, u32>,
) -> Option<Finding> {
    let first = facts.of(attempts[0])?;
    let key = attempts
        .iter()
        .find_map(|&s| facts.of(s).and_then(|f| f.idempotency_key));
    let non_idempotent = non_idempotent(facts, &first, config);
    // Server spans of this request: children of its attempts, and spans with its key.
    let mut servers: Vec<u32> = attempts.iter().flat_map(|&a| children.get(a)).collect();
    if let Some(k) = key {
        servers.extend(servers_by_key.get(k));
    }
    servers.sort_unstable();
    servers.dedup();
    let replayed = servers
        .iter()
        .any(|&s| facts.of(s).is_some_and(|f| f.replayed));
    let executions: Vec<u32> = servers
        .iter()
        .copied()
        .filter(|&s| !g.spans[s as usize].error && !facts.of(s).is_some_and(|f| f.replayed))
        .collect();
    let outcomes: Vec<Outcome> = attempts
        .iter()
        .map(|&s| outcome(g.spans[s as usize].error, facts.of(s).as_ref()))
        .collect();
    let unknown_without_evidence = attempts[..attempts.len() - 1]
        .iter()
        .zip(&outcomes)
        .any(|(a, o)| *o == Outcome::Unknown && !children.contains(*a));
    let earlier_unknown = outcomes[..outcomes.len() - 1].contains(&Outcome::Unknown);
    let retried = attempts.len() > 1;

    let (kind, severity) = if non_idempotent == Some(true) && executions.len() >= 2 {
        (FindingKind::DuplicateExecution, Severity::High)
    } else if key.is_some() && replayed && retried {
        (FindingKind::Deduplicated, Severity::Info)
    } else if non_idempotent == Some(true) && key.is_none() && retried && unknown_without_evidence {
        (FindingKind::PossibleDuplicate, Severity::Medium)
    } else if non_idempotent == Some(true) && key.is_none() && retried && earlier_unknown {
        (FindingKind::UnsafeRetry, Severity::Low)
    } else {
        return None;
    };

    let mut events: Vec<_> = attempts
        .iter()
        .map(|&s| g.spans[s as usize].start_event)
        .collect();
    if kind == FindingKind::DuplicateExecution {
        events.extend(executions.iter().map(|&s| g.spans[s as usize].start_event));
    }
    let mut f = Finding::about(g, kind, severity, &events);
    let key = facts.str(key);
    f.key = key.map(str::to_owned);
    let method = facts.str(first.method).unwrap_or("?");
    let target = facts
        .str(first.route)
        .or(facts.str(first.peer))
        .unwrap_or("");
    let request = format!("{method} {target}").trim().to_owned();
    f.magnitude = Some(if kind == FindingKind::DuplicateExecution {
        executions.len()
    } else {
        attempts.len()
    } as i64);
    f.summary = match kind {
        FindingKind::DuplicateExecution => format!(
            "{request} executed {} times on the server for one logical request ({} attempts, {}).",
            executions.len(),
            attempts.len(),
            if key.is_some() {
                "its idempotency key was not honoured"
            } else {
                "no idempotency key"
            }
        ),
        FindingKind::Deduplicated => format!(
            "{request} was retried with idempotency key {} and the server answered the retry from its cache.",
            key.unwrap_or("")
        ),
        FindingKind::PossibleDuplicate => format!(
            "{request} timed out or failed without a server answer and was retried without an idempotency key: it may have executed twice."
        ),
        _ => format!(
            "{request} is not idempotent and was retried after an uncertain outcome without an idempotency key."
        ),
    };
    f.evidence = json!({
        "method": facts.str(first.method),
        "request": request,
        "non_idempotent": non_idempotent,
        "idempotency_key": key,
        "attempts": attempts.iter().zip(&outcomes).map(|(&s, o)| {
            let text = |sym| facts.str(sym);
            let facts = facts.of(s);
            json!({
                "span_id": crate::graph::span_hex(g.spans[s as usize].span_id),
                "outcome": o.as_str(),
                "attempt": facts.and_then(|f| f.attempt),
                "http_status": facts.and_then(|f| f.http_status),
                "grpc_status": facts.and_then(|f| f.grpc_status),
                "error_type": facts.and_then(|f| text(f.error_type)),
                "server_spans": children.get(s).count(),
            })
        }).collect::<Vec<_>>(),
        "server_executions": executions.len(),
        "server_replayed": replayed,
    });
    f.witness = json!({
        "attempts": attempts.iter().map(|&s| event_json(g, g.spans[s as usize].start_event)).collect::<Vec<_>>(),
        "executions": executions.iter().map(|&s| event_json(g, g.spans[s as usize].start_event)).collect::<Vec<_>>(),
    });
    Some(f)
}
