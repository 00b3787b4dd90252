//! One instance worse than its peers at one operation: `gray_failure`.
//!
//! Health checks ask "are you up?"; a gray failure answers yes while one
//! operation is slow or failing for its callers ("differential
//! observability"). The detector compares each instance with its peers:
//! the nodes that served SERVER spans of the same name in the same window
//! (`--window`, default 1 minute), when at least three of them served
//! [`MIN_SAMPLES`] or more.
//!
//! - **Latency**: at the median and at p99, the instance's quantile is more
//!   than [`RATIO`] times the peers' median of that quantile, and the
//!   share of its requests slower than that bar is larger than the peers'
//!   share by a one-sided binomial test at [`ALPHA`] (with at least
//!   [`MIN_BAD`] such requests). One slow request, or a slowdown of every
//!   instance alike, is no gray failure.
//! - **Errors** (status ERROR, or HTTP 5xx): its error count against the
//!   peers' pooled error rate, by the same test.
//!
//! The peers' rate is estimated as `(bad + 1) / (n + 2)`, so peers that
//! never failed still give a rate the test can use. The finding says
//! what the instance kept doing well meanwhile: its heartbeats, and the
//! other operations it was compared on without a finding.

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};
use serde_json::json;

use super::{DetectConfig, Facts, Finding, FindingKind, Severity, event_json};
use crate::fmt::human_ns;
use crate::graph::{Graph, SpanKind, Sym};

/// Requests an instance must have served in a window to be compared.
pub const MIN_SAMPLES: usize = 20;
/// How many times the peers' latency an instance's must be.
pub const RATIO: f64 = 5.0;
/// Significance of the binomial test.
pub const ALPHA: f64 = 1e-6;
/// Fewest slow or failed requests a finding rests on.
pub const MIN_BAD: usize = 3;
/// Spans a witness shows.
const WITNESS_SPANS: usize = 3;

/// One served request.
#[derive(Debug, Clone, Copy)]
struct Sample {
    op: Sym,
    window: i64,
    node: u32,
    latency: i64,
    span: u32,
    error: bool,
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`, summed in log space from `k` up
/// until the terms stop mattering.
pub fn binomial_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut ln_choose = 0.0;
    for i in 0..k {
        ln_choose += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    let mut ln_term = ln_choose + k as f64 * ln_p + (n - k) as f64 * ln_q;
    let mut sum = 0.0f64;
    for j in k..=n {
        let term = ln_term.exp();
        sum += term;
        if j as f64 > n as f64 * p && term < sum * 1e-15 {
            break;
        }
        ln_term += ((n - j) as f64).ln() - ((j + 1) as f64).ln() + ln_p - ln_q;
    }
    sum.min(1.0)
}

/// The index of the `q` quantile of `len` sorted values (nearest rank).
fn quantile_at(len: usize, q: f64) -> usize {
    ((q * len as f64).ceil() as usize).clamp(1, len) - 1
}

/// The `q` quantile latency of samples in latency order.
fn quantile(sorted: &[Sample], q: f64) -> i64 {
    sorted[quantile_at(sorted.len(), q)].latency
}

/// How many of samples in latency order are slower than `bar`.
fn slower(sorted: &[Sample], bar: i64) -> usize {
    sorted.len() - sorted.partition_point(|s| s.latency <= bar)
}

fn median(mut values: Vec<i64>) -> i64 {
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// What made an instance stand out.
#[derive(Debug)]
enum Worse {
    Latency {
        quantile: f64,
        value: i64,
        peers: i64,
        bar: i64,
        slow: usize,
        peers_slow: usize,
        p_value: f64,
    },
    Errors {
        errors: usize,
        peers_errors: usize,
        p_value: f64,
    },
}

/// A finding-to-be: an instance, an operation, a window.
struct Candidate<'a> {
    op: Sym,
    window: i64,
    node: u32,
    samples: &'a [Sample],
    peers: usize,
    peers_n: usize,
    worse: Vec<Worse>,
}

/// `gray_failure` findings.
pub fn detect(g: &Graph, facts: &Facts, config: &DetectConfig) -> Vec<Finding> {
    let width = config.window_ns.max(1);
    let mut samples: Vec<Sample> = g
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == SpanKind::Server)
        .map(|(i, s)| Sample {
            op: s.name,
            window: s.start.div_euclid(width),
            node: s.node,
            latency: s.end - s.start,
            span: i as u32,
            error: s.error
                || facts
                    .of(i as u32)
                    .and_then(|f| f.http_status)
                    .is_some_and(|c| c >= 500),
        })
        .collect();
    samples.sort_unstable_by_key(|s| (s.op, s.window, s.node, s.latency, s.span));

    let mut candidates = Vec::new();
    // Requests served per node and window, of the operations it was
    // compared on: what else it did as well as its peers.
    let mut served: HashMap<(u32, i64), BTreeMap<Sym, usize>> = HashMap::new();
    for op in samples.chunk_by(|a, b| (a.op, a.window) == (b.op, b.window)) {
        let compared: Vec<&[Sample]> = op
            .chunk_by(|a, b| a.node == b.node)
            .filter(|i| i.len() >= MIN_SAMPLES)
            .collect();
        if compared.len() < 3 {
            continue;
        }
        for i in &compared {
            served
                .entry((i[0].node, i[0].window))
                .or_default()
                .insert(i[0].op, i.len());
        }
        for (at, mine) in compared.iter().enumerate() {
            let peers: Vec<&[Sample]> = compared
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != at)
                .map(|(_, p)| *p)
                .collect();
            if let Some(c) = judge(mine, &peers) {
                candidates.push(c);
            }
        }
    }

    if candidates.is_empty() {
        return Vec::new();
    }
    // Heartbeats each node sent, per window.
    let mut heartbeats: HashMap<(&str, i64), usize> = HashMap::new();
    for (span, from) in super::heartbeats::received(g, facts, config) {
        *heartbeats
            .entry((from, span.start.div_euclid(width)))
            .or_default() += 1;
    }
    let flagged: HashSet<(u32, i64, Sym)> = candidates
        .iter()
        .map(|c| (c.node, c.window, c.op))
        .collect();
    candidates
        .iter()
        .map(|c| {
            let node = g.nodes[c.node as usize].as_str();
            let fine: Vec<(&str, usize)> = served
                .get(&(c.node, c.window))
                .into_iter()
                .flatten()
                .filter(|(op, _)| !flagged.contains(&(c.node, c.window, **op)))
                .map(|(op, n)| (g.symbols.resolve(*op), *n))
                .collect();
            let beats = heartbeats.get(&(node, c.window)).copied().unwrap_or(0);
            finding(g, c, width, &fine, beats)
        })
        .collect()
}

/// Whether `mine` stands out from `peers`, and how.
fn judge<'a>(mine: &'a [Sample], peers: &[&[Sample]]) -> Option<Candidate<'a>> {
    let n = mine.len();
    let peers_n: usize = peers.iter().map(|p| p.len()).sum();
    let mut worse = Vec::new();
    let mut best: Option<Worse> = None;
    for q in [0.5, 0.99] {
        let value = quantile(mine, q);
        let peers_q = median(peers.iter().map(|p| quantile(p, q)).collect()).max(1);
        let bar = (peers_q as f64 * RATIO) as i64;
        if value <= bar {
            continue;
        }
        let slow = slower(mine, bar);
        let peers_slow: usize = peers.iter().map(|p| slower(p, bar)).sum();
        let rate = (peers_slow as f64 + 1.0) / (peers_n as f64 + 2.0);
        let p_value = binomial_tail(n, slow, rate);
        if slow >= MIN_BAD && p_value < ALPHA {
            let ratio = value as f64 / peers_q as f64;
            let better = match &best {
                Some(Worse::Latency { value, peers, .. }) => ratio > *value as f64 / *peers as f64,
                _ => true,
            };
            if better {
                best = Some(Worse::Latency {
                    quantile: q,
                    value,
                    peers: peers_q,
                    bar,
                    slow,
                    peers_slow,
                    p_value,
                });
            }
        }
    }
    worse.extend(best);
    let errors = mine.iter().filter(|s| s.error).count();
    let peers_errors: usize = peers
        .iter()
        .map(|p| p.iter().filter(|s| s.error).count())
        .sum();
    let rate = (peers_errors as f64 + 1.0) / (peers_n as f64 + 2.0);
    let p_value = binomial_tail(n, errors, rate);
    if errors >= MIN_BAD && p_value < ALPHA {
        worse.push(Worse::Errors {
            errors,
            peers_errors,
            p_value,
        });
    }
    (!worse.is_empty()).then(|| Candidate {
        op: mine[0].op,
        window: mine[0].window,
        node: mine[0].node,
        samples: mine,
        peers: peers.len(),
        peers_n,
        worse,
    })
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

fn finding(
    g: &Graph,
    c: &Candidate<'_>,
    width: i64,
    fine: &[(&str, usize)],
    heartbeats: usize,
) -> Finding {
    let n = c.samples.len();
    // The witness: the slowest requests, or the failed ones.
    let mut shown: Vec<&Sample> = match c.worse[0] {
        Worse::Latency { .. } => c.samples.iter().rev().take(WITNESS_SPANS).collect(),
        Worse::Errors { .. } => c
            .samples
            .iter()
            .filter(|s| s.error)
            .take(WITNESS_SPANS)
            .collect(),
    };
    shown.sort_by_key(|s| g.spans[s.span as usize].start);
    let events: Vec<_> = shown
        .iter()
        .map(|s| g.spans[s.span as usize].start_event)
        .collect();
    let mut f = Finding::about(g, FindingKind::GrayFailure, Severity::Medium, &events);
    let node = &g.nodes[c.node as usize];
    let op = g.symbols.resolve(c.op);
    let (from, to) = (c.window * width, (c.window + 1) * width);
    f.time = from;
    f.key = Some(op.to_owned());
    let at = crate::fmt::rfc3339;
    let peers = format!(
        "its {} peers ({} requests)",
        c.peers,
        crate::fmt::thousands(c.peers_n as u64)
    );
    let mut what = Vec::new();
    let mut bad = 0;
    for w in &c.worse {
        match *w {
            Worse::Latency {
                quantile,
                value,
                peers: peers_q,
                bar,
                slow,
                peers_slow,
                ..
            } => {
                bad = bad.max(slow);
                what.push(format!(
                    "served {op} {:.0}x slower at {} ({} against a peer median of {}; {slow} of its {n} requests over {}, against {} at {peers})",
                    value as f64 / peers_q as f64,
                    if quantile < 0.9 { "the median" } else { "p99" },
                    human_ns(value),
                    human_ns(peers_q),
                    human_ns(bar),
                    percent(peers_slow, c.peers_n),
                ));
            }
            Worse::Errors {
                errors,
                peers_errors,
                ..
            } => {
                bad = bad.max(errors);
                what.push(format!(
                    "failed {errors} of its {n} {op} requests ({}, against {} at {peers})",
                    percent(errors, n),
                    percent(peers_errors, c.peers_n),
                ));
            }
        }
    }
    let meanwhile = match (heartbeats, fine.is_empty()) {
        (0, true) => "; it served nothing else and sent no heartbeat in that window".to_owned(),
        _ => {
            let mut parts = Vec::new();
            if heartbeats > 0 {
                parts.push(format!("its heartbeats kept arriving ({heartbeats})"));
            }
            if !fine.is_empty() {
                let ops: Vec<String> = fine
                    .iter()
                    .take(3)
                    .map(|(op, k)| format!("{op} ({k})"))
                    .collect();
                parts.push(format!("it served {} normally", ops.join(", ")));
            }
            format!(", while {}", parts.join(" and "))
        }
    };
    f.magnitude = Some(bad as i64);
    f.summary = format!(
        "{node} {} from {} to {}{meanwhile}.",
        what.join(" and "),
        at(from),
        at(to),
    );
    let worse: Vec<serde_json::Value> = c
        .worse
        .iter()
        .map(|w| match *w {
            Worse::Latency {
                quantile,
                value,
                peers,
                bar,
                slow,
                peers_slow,
                p_value,
            } => json!({
                "measure": "latency",
                "quantile": quantile,
                "value_ns": value,
                "peers_median_ns": peers,
                "ratio": value as f64 / peers as f64,
                "bar_ns": bar,
                "slow": slow,
                "peers_slow": peers_slow,
                "p_value": p_value,
            }),
            Worse::Errors {
                errors,
                peers_errors,
                p_value,
            } => json!({
                "measure": "errors",
                "errors": errors,
                "peers_errors": peers_errors,
                "p_value": p_value,
            }),
        })
        .collect();
    f.evidence = json!({
        "node": node,
        "operation": op,
        "window_start_ns": from,
        "window_end_ns": to,
        "requests": n,
        "peers": c.peers,
        "peers_requests": c.peers_n,
        "worse": worse,
        "heartbeats_sent": heartbeats,
        "other_operations": fine.iter().map(|(op, k)| json!({"operation": op, "requests": k})).collect::<Vec<_>>(),
    });
    f.witness = json!({
        "requests": shown.iter().map(|s| {
            let mut e = event_json(g, g.spans[s.span as usize].start_event);
            e["latency_ns"] = s.latency.into();
            e["error"] = s.error.into();
            e
        }).collect::<Vec<_>>(),
    });
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tail_matches_exact_sums() {
        // P(X >= 2), n = 4, p = 0.5: (6 + 4 + 1) / 16.
        assert!((binomial_tail(4, 2, 0.5) - 11.0 / 16.0).abs() < 1e-12);
        assert_eq!(binomial_tail(10, 0, 0.1), 1.0);
        assert_eq!(binomial_tail(10, 11, 0.1), 0.0);
        // Three of 24 at a 2% rate is chance (about 1.4%), not a finding.
        let p = binomial_tail(24, 3, 0.02);
        assert!(p > 0.01 && p < 0.02, "{p}");
        // Ten of 200 against a rate of 1 in 800: far below ALPHA.
        assert!(binomial_tail(200, 10, 1.0 / 800.0) < 1e-9);
        // Large n stays finite and bounded.
        let big = binomial_tail(1_000_000, 1_100, 0.001);
        assert!(big > 0.0 && big < 0.01, "{big}");
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        // Of 1..=100, the median is 50 and p99 is 99: indexes 49 and 98.
        assert_eq!(quantile_at(100, 0.5), 49);
        assert_eq!(quantile_at(100, 0.99), 98);
        assert_eq!(quantile_at(1, 0.99), 0);
        assert_eq!(quantile_at(40, 0.99), 39);
    }
}
