//! Phi-accrual suspicion from heartbeats: `suspected`.
//!
//! A heartbeat is a span carrying `causet.heartbeat.from` (the node whose
//! heartbeat it is), or a span named by `--heartbeat-span NAME` (a
//! heartbeat RPC's server span: the node of its parent, the call that sent
//! it, is the node whose heartbeat it is); the span's own node is the
//! monitor that received it, and its start is the arrival. For each (monitor, monitored) pair the
//! detector replays the arrivals as a phi-accrual failure detector would
//! (Hayashibara et al.; as in Cassandra and Akka): after each arrival, the
//! suspicion of the next one grows as
//! `phi(t) = -log10(P(the next heartbeat comes later than t))`, with the
//! inter-arrival times of the last [`WINDOW`] heartbeats as a normal
//! distribution (Akka's logistic approximation of its tail; the standard
//! deviation is at least a tenth of the mean, so a perfectly regular sender
//! is not suspected for a millisecond of jitter). When the silence lasts
//! past the moment phi reaches `--phi-threshold` (default 8: a one in 10^8
//! chance of a heartbeat that late), the node is suspected, from that moment:
//!
//! - until the next heartbeat, when one came: a false suspicion, the node
//!   was slow or paused, not dead (medium);
//! - to the end of the monitor's data read (its last event, by its own
//!   clock), when none came: it never came back (high). In a report
//!   window, whose horizon ends before the data does, the finding says the
//!   silence lasted at least that long and may have ended later
//!   (`came_back` is null).
//!
//! Nothing is judged before [`MIN_INTERVALS`] intervals are known.

use std::collections::{BTreeMap, VecDeque};

use serde_json::json;

use super::{DetectConfig, Facts, Finding, FindingKind, Severity, event_json};
use crate::fmt::human_ns;
use crate::graph::{EventId, Graph, Span, Sym};

/// A monitor's suspicion of a node as a heartbeat arrived: the peak of
/// the silence it ends (a row of `node_phi`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhiSample {
    /// The monitor.
    pub monitor: String,
    /// The node whose heartbeat it is.
    pub node: String,
    /// When the heartbeat arrived, ns.
    pub at: i64,
    /// Phi just before it arrived.
    pub phi: f64,
}

/// Intervals a monitor remembers per node.
pub const WINDOW: usize = 100;
/// Intervals needed before a node is judged.
pub const MIN_INTERVALS: usize = 5;

/// `phi` of a silence `y` standard deviations past the mean (Akka's
/// logistic approximation of the normal tail), written so that a long
/// silence gives a large finite phi rather than the log of an underflow.
fn phi(y: f64) -> f64 {
    // P(later) = e / (1 + e) with e = exp(-x).
    let x = y * (1.5976 + 0.070566 * y * y);
    x / std::f64::consts::LN_10 + (-x).exp().ln_1p() / std::f64::consts::LN_10
}

/// How many standard deviations past the mean phi reaches `threshold`.
fn deviations_at(threshold: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0, 60.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if phi(mid) < threshold {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The detector's state for one monitored node.
struct History {
    intervals: VecDeque<f64>,
}

impl History {
    /// The mean and standard deviation of the intervals, once judged.
    fn stats(&self) -> Option<(f64, f64)> {
        if self.intervals.len() < MIN_INTERVALS {
            return None;
        }
        let n = self.intervals.len() as f64;
        let mean = self.intervals.iter().sum::<f64>() / n;
        let var = self
            .intervals
            .iter()
            .map(|x| (x - mean).powi(2))
            .sum::<f64>()
            / n;
        Some((mean, var.sqrt().max(mean / 10.0)))
    }

    /// When the silence after `last` becomes a suspicion, if judged yet;
    /// with the mean and standard deviation used.
    fn deadline(&self, last: i64, deviations: f64) -> Option<(i64, f64, f64)> {
        let (mean, sd) = self.stats()?;
        Some((last + (mean + deviations * sd) as i64, mean, sd))
    }

    /// Phi after a silence of `silence` ns, if judged yet.
    fn phi_after(&self, silence: i64) -> Option<f64> {
        let (mean, sd) = self.stats()?;
        Some(phi((silence as f64 - mean) / sd))
    }

    fn push(&mut self, interval: i64) {
        if self.intervals.len() == WINDOW {
            self.intervals.pop_front();
        }
        self.intervals.push_back(interval as f64);
    }
}

/// The heartbeats received: each heartbeat span with the node whose
/// heartbeat it is.
pub fn received<'a>(
    g: &'a Graph,
    facts: &'a Facts,
    config: &DetectConfig,
) -> impl Iterator<Item = (&'a Span, &'a str)> {
    let named: Vec<Sym> = config
        .heartbeat_spans
        .iter()
        .filter_map(|n| g.symbols.get(n))
        .collect();
    g.spans.iter().enumerate().filter_map(move |(i, span)| {
        let from = match facts.of(i as u32).and_then(|f| f.heartbeat_from) {
            Some(from) => facts.str(Some(from)),
            // A span of a --heartbeat-span name: the heartbeat of the
            // node its parent (the call that sent it) ran on.
            None if named.contains(&span.name) => span
                .parent()
                .map(|p| g.nodes[g.spans[p as usize].node as usize].as_str()),
            None => None,
        };
        from.map(|from| (span, from))
    })
}

/// The suspicions, and phi at each heartbeat's arrival.
pub fn detect(g: &Graph, facts: &Facts, config: &DetectConfig) -> (Vec<Finding>, Vec<PhiSample>) {
    let mut beats: BTreeMap<(u32, &str), Vec<(i64, EventId)>> = BTreeMap::new();
    for (span, from) in received(g, facts, config) {
        beats
            .entry((span.node, from))
            .or_default()
            .push((span.start, span.start_event));
    }
    // The end of what each monitor recorded, by its own clock: a silence
    // runs to there, not to a node whose clock is ahead.
    let mut ends = vec![i64::MIN; g.nodes.len()];
    for e in 0..g.event_count() as EventId {
        let end = &mut ends[g.node_of(e) as usize];
        *end = (*end).max(g.time_of(e));
    }
    let mut samples = Vec::new();
    let deviations = deviations_at(config.phi_threshold);
    let mut out = Vec::new();
    for ((monitor, from), mut arrivals) in beats {
        let end = ends[monitor as usize];
        arrivals.sort_unstable();
        arrivals.dedup_by_key(|a| a.0);
        let mut history = History {
            intervals: VecDeque::new(),
        };
        for pair in arrivals.windows(2) {
            let (last, next) = (pair[0], pair[1]);
            if let Some(phi) = history.phi_after(next.0 - last.0) {
                samples.push(PhiSample {
                    monitor: g.nodes[monitor as usize].clone(),
                    node: from.to_owned(),
                    at: next.0,
                    phi,
                });
            }
            if let Some(judged) = history.deadline(last.0, deviations)
                && next.0 > judged.0
            {
                out.push(finding(
                    g,
                    config,
                    (monitor, from),
                    last,
                    Some(next),
                    judged,
                    end,
                ));
            }
            history.push(next.0 - last.0);
        }
        if let Some(&last) = arrivals.last()
            && let Some(judged) = history.deadline(last.0, deviations)
            && end > judged.0
        {
            out.push(finding(g, config, (monitor, from), last, None, judged, end));
        }
    }
    (out, samples)
}

/// The finding of a suspicion: `from`'s silence after `last` as its
/// `monitor` judged it, until `next` or the data's `end`.
fn finding(
    g: &Graph,
    config: &DetectConfig,
    (monitor, from): (u32, &str),
    last: (i64, EventId),
    next: Option<(i64, EventId)>,
    (suspected_at, mean, sd): (i64, f64, f64),
    end: i64,
) -> Finding {
    let came_back = next.is_some();
    let severity = if came_back {
        Severity::Medium
    } else {
        Severity::High
    };
    // The silence reached the end of what this analysis read, and more
    // data follows (a report window): it may have ended later.
    let open = next.is_none() && config.read_until.is_some();
    let events: Vec<EventId> = [Some(last.1), next.map(|n| n.1)]
        .into_iter()
        .flatten()
        .collect();
    let mut f = Finding::about(g, FindingKind::Suspected, severity, &events);
    let monitor = &g.nodes[monitor as usize];
    f.nodes = vec![from.to_owned(), monitor.clone()];
    f.time = suspected_at;
    let silent = next.map_or(end, |n| n.0) - last.0;
    f.magnitude = Some(silent);
    let at = crate::fmt::rfc3339;
    let head = format!(
        "{monitor} suspected {from} from {} (phi over {} after {} without a heartbeat; usually one every {})",
        at(suspected_at),
        config.phi_threshold,
        human_ns(suspected_at - last.0),
        human_ns(mean as i64),
    );
    f.summary = match next {
        Some(n) => format!(
            "{head}: {from} was silent for {}, then came back at {}: slow or paused, not dead.",
            human_ns(silent),
            at(n.0)
        ),
        None if open => format!(
            "{head}: no heartbeat came after {} for at least {}, to the end of what this window read with its horizon; later data was not read with it, so {from} may have come back after.",
            at(last.0),
            human_ns(silent)
        ),
        None => format!(
            "{head}: no heartbeat came after {} up to the end of the data read, {} later.",
            at(last.0),
            human_ns(silent)
        ),
    };
    f.evidence = json!({
        "monitor": monitor,
        "monitored": from,
        "phi_threshold": config.phi_threshold,
        "mean_interval_ns": mean as i64,
        "stddev_ns": sd as i64,
        "suspected_at_ns": suspected_at,
        "silent_ns": silent,
        "came_back": if open { serde_json::Value::Null } else { came_back.into() },
    });
    f.witness = json!({
        "last_heartbeat": event_json(g, last.1),
        "next_heartbeat": next.map(|n| event_json(g, n.1)),
    });
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_grows_with_silence_and_crosses_eight_near_five_deviations() {
        assert!(phi(0.0) > 0.29 && phi(0.0) < 0.31, "{}", phi(0.0));
        assert!(phi(1.0) < phi(2.0) && phi(2.0) < phi(3.0));
        let y = deviations_at(8.0);
        assert!((phi(y) - 8.0).abs() < 1e-6);
        assert!(y > 5.0 && y < 6.0, "{y}");
        // A long silence: large and finite.
        assert!(phi(70.0).is_finite() && phi(70.0) > 1e4);
    }
}
