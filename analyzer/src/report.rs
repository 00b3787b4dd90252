//! `causet report`: the findings of a time range as JSON, Markdown or a
//! self-contained HTML page.
//!
//! [`Report`] is the model all three render; its JSON form is the stable
//! schema for pipelines (`"schema": "causet.report/1"`, documented on each
//! field below). Fields are only ever added within a schema version.

pub(crate) mod html;
mod markdown;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::derived::Detected;
use crate::detect::{Family, Finding, FindingKind, Severity};
use crate::health::IngestHealth;
use causet_schema::kinds::Verdict;

pub use html::to_html;
pub use markdown::to_markdown;

/// Schema name and version of the JSON report.
pub const SCHEMA: &str = "causet.report/1";

/// What the report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Only findings at or after this time, ns since the epoch.
    pub from_ns: Option<i64>,
    /// Only findings before this time, ns since the epoch.
    pub to_ns: Option<i64>,
    /// The max-offset the detectors used, ns.
    pub max_offset_ns: i64,
    /// The data folder, as the user named it.
    pub data_dir: String,
    /// When the report was made, ns since the epoch.
    pub generated_at_ns: i64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// The data folder analysed.
    pub data_dir: String,
    /// The time range covered; open ends are null.
    pub range: Range,
    /// The max-offset clocks were held to, ns.
    pub max_offset_ns: i64,
    /// Counts.
    pub summary: Summary,
    /// Findings per time bucket and severity, for the chart.
    pub timeline: Vec<Bucket>,
    /// Estimated clock offset of each node per window.
    pub node_offsets: Vec<Offset>,
    /// Keys with conflicting writes, most first (top 20).
    pub conflict_keys: Vec<KeyCount>,
    /// Retry findings by verdict.
    pub retries: BTreeMap<String, usize>,
    /// Every finding, most severe first, then by time.
    pub findings: Vec<ReportFinding>,
    /// Whether the range's spans arrived: counts per hour and service, and
    /// the gaps (absent when not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingest: Option<IngestHealth>,
}

/// A time range (RFC 3339, UTC).
#[derive(Debug, Clone, Serialize)]
pub struct Range {
    /// Start, inclusive.
    pub from: Option<String>,
    /// End, exclusive.
    pub to: Option<String>,
}

/// Counts of findings.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// All findings.
    pub findings: usize,
    /// By severity (`info`, `low`, `medium`, `high`).
    pub by_severity: BTreeMap<String, usize>,
    /// By kind.
    pub by_kind: BTreeMap<String, usize>,
    /// The highest severity found, if any.
    pub max_severity: Option<String>,
}

/// One bucket of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Bucket start (RFC 3339).
    pub start: String,
    /// Bucket width, seconds.
    pub width_s: i64,
    /// Findings in the bucket by severity.
    pub by_severity: BTreeMap<String, usize>,
}

/// A node's estimated offset in one window.
#[derive(Debug, Clone, Serialize)]
pub struct Offset {
    /// Window start (RFC 3339).
    pub window_start: String,
    /// The node.
    pub node: String,
    /// The reference node.
    pub reference: String,
    /// Lower bound of node clock minus reference clock, ns (null: unbounded).
    pub lower_ns: Option<i64>,
    /// Upper bound, ns (null: unbounded).
    pub upper_ns: Option<i64>,
    /// `healthy`, `unhealthy`, `ambiguous` or `unknown`.
    pub verdict: Verdict,
    /// RPC pairs behind the estimate.
    pub rpc_pairs: u64,
}

/// Conflicts on one key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyCount {
    /// The key.
    pub key: String,
    /// `concurrent_write` findings.
    pub concurrent_writes: usize,
    /// `lww_inversion` findings.
    pub lww_inversions: usize,
}

/// A finding as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    /// Kind.
    pub kind: FindingKind,
    /// Severity.
    pub severity: &'static str,
    /// When (RFC 3339).
    pub time: String,
    /// Traces.
    pub trace_ids: Vec<String>,
    /// Spans.
    pub span_ids: Vec<String>,
    /// Nodes.
    pub nodes: Vec<String>,
    /// Key, for writes and keyed retries.
    pub key: Option<String>,
    /// Nanoseconds for clock findings, a count otherwise.
    pub magnitude: Option<i64>,
    /// One sentence.
    pub summary: String,
    /// Evidence.
    pub evidence: Value,
    /// Witness.
    pub witness: Value,
    /// The command that draws the first trace concerned.
    pub explain: String,
    /// The command that shows how the first two spans relate, if two.
    pub why: Option<String>,
}

/// RFC 3339 of ns since the epoch, in UTC.
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| ns.to_string())
}

fn in_range(t: i64, options: &ReportOptions) -> bool {
    options.from_ns.is_none_or(|f| t >= f) && options.to_ns.is_none_or(|to| t < to)
}

/// Builds the report of `detected` within `options`' range.
pub fn build(detected: &Detected, options: &ReportOptions) -> Report {
    let mut findings: Vec<&Finding> = detected
        .findings
        .iter()
        .filter(|f| in_range(f.time, options))
        .collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.time.cmp(&b.time))
            .then(a.kind.as_str().cmp(b.kind.as_str()))
    });

    let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut retries: BTreeMap<String, usize> = BTreeMap::new();
    let mut keys: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for f in &findings {
        *by_severity.entry(f.severity.as_str().into()).or_default() += 1;
        *by_kind.entry(f.kind.as_str().into()).or_default() += 1;
        if f.kind.family() == Family::Retry {
            *retries.entry(f.kind.as_str().into()).or_default() += 1;
        }
        if let Some(key) = &f.key {
            match f.kind {
                FindingKind::ConcurrentWrite => keys.entry(key.clone()).or_default().0 += 1,
                FindingKind::LwwInversion => keys.entry(key.clone()).or_default().1 += 1,
                _ => {}
            }
        }
    }
    let mut conflict_keys: Vec<KeyCount> = keys
        .into_iter()
        .map(|(key, (c, i))| KeyCount {
            key,
            concurrent_writes: c,
            lww_inversions: i,
        })
        .collect();
    conflict_keys.sort_by(|a, b| {
        (b.concurrent_writes + b.lww_inversions)
            .cmp(&(a.concurrent_writes + a.lww_inversions))
            .then(a.key.cmp(&b.key))
    });
    conflict_keys.truncate(20);

    let max_severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .map(|s| s.as_str().to_owned());
    Report {
        schema: SCHEMA,
        generated_at: rfc3339(options.generated_at_ns),
        data_dir: options.data_dir.clone(),
        range: Range {
            from: options.from_ns.map(rfc3339),
            to: options.to_ns.map(rfc3339),
        },
        max_offset_ns: options.max_offset_ns,
        summary: Summary {
            findings: findings.len(),
            by_severity,
            by_kind,
            max_severity,
        },
        timeline: timeline(&findings),
        node_offsets: detected
            .offsets
            .iter()
            .filter(|o| in_range(o.window_start, options))
            .map(|o| Offset {
                window_start: rfc3339(o.window_start),
                node: o.node.clone(),
                reference: o.reference.clone(),
                lower_ns: o.lower_ns,
                upper_ns: o.upper_ns,
                verdict: o.verdict,
                rpc_pairs: o.rpc_pairs,
            })
            .collect(),
        conflict_keys,
        retries,
        findings: findings.iter().map(|f| report_finding(f)).collect(),
        ingest: None,
    }
}

fn report_finding(f: &Finding) -> ReportFinding {
    let explain = f
        .trace_ids
        .first()
        .map(|t| format!("causet explain {t}"))
        .unwrap_or_default();
    let why = match (&f.span_ids[..], &f.trace_ids[..]) {
        ([a, b, ..], [ta, rest @ ..]) => {
            let tb = rest.first().unwrap_or(ta);
            Some(format!("causet why {ta}:{a} {tb}:{b}"))
        }
        _ => None,
    };
    ReportFinding {
        kind: f.kind,
        severity: f.severity.as_str(),
        time: rfc3339(f.time),
        trace_ids: f.trace_ids.clone(),
        span_ids: f.span_ids.clone(),
        nodes: f.nodes.clone(),
        key: f.key.clone(),
        magnitude: f.magnitude,
        summary: f.summary.clone(),
        evidence: f.evidence.clone(),
        witness: f.witness.clone(),
        explain,
        why,
    }
}

/// Buckets of a width that gives at most 48 of them.
fn timeline(findings: &[&Finding]) -> Vec<Bucket> {
    let (Some(min), Some(max)) = (
        findings.iter().map(|f| f.time).min(),
        findings.iter().map(|f| f.time).max(),
    ) else {
        return Vec::new();
    };
    const WIDTHS_S: [i64; 12] = [
        1,
        5,
        10,
        30,
        60,
        300,
        600,
        1800,
        3600,
        6 * 3600,
        86400,
        7 * 86400,
    ];
    let span_s = (max - min) / 1_000_000_000 + 1;
    let width = WIDTHS_S
        .iter()
        .copied()
        .find(|w| span_s / w < 48)
        .unwrap_or(7 * 86400);
    let width_ns = width * 1_000_000_000;
    let mut buckets: BTreeMap<i64, BTreeMap<String, usize>> = BTreeMap::new();
    let first = min.div_euclid(width_ns);
    for b in first..=max.div_euclid(width_ns) {
        buckets.insert(b, BTreeMap::new());
    }
    for f in findings {
        *buckets
            .entry(f.time.div_euclid(width_ns))
            .or_default()
            .entry(f.severity.as_str().into())
            .or_default() += 1;
    }
    buckets
        .into_iter()
        .map(|(b, by_severity)| Bucket {
            start: rfc3339(b * width_ns),
            width_s: width,
            by_severity,
        })
        .collect()
}

/// The pretty JSON form.
pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// Whether any finding reaches `threshold`.
pub fn reaches(report: &Report, threshold: Severity) -> bool {
    report
        .summary
        .max_severity
        .as_deref()
        .and_then(|s| s.parse::<Severity>().ok())
        .is_some_and(|max| max >= threshold)
}

/// Formats ns for people (re-exported for the renderers).
pub(crate) fn ns(n: Option<i64>) -> String {
    n.map(crate::detect::human_ns)
        .unwrap_or_else(|| "unbounded".into())
}

/// The ingest health in one sentence, and one line per gap, for the
/// renderers.
pub(crate) fn ingest_lines(health: &IngestHealth) -> (String, Vec<String>) {
    let headline = match (&health.first, &health.last, health.newest_age_s) {
        (Some(first), Some(last), Some(age)) => format!(
            "{} spans from {first} to {last}; the newest is {} old.",
            health.spans,
            ns(Some(age.saturating_mul(1_000_000_000)))
        ),
        _ => "No spans in this range: nothing was analysed.".to_owned(),
    };
    let gaps = health
        .gaps
        .iter()
        .map(|g| {
            format!(
                "No spans from {} to {} ({}).",
                g.from,
                g.to,
                ns(Some(g.seconds.saturating_mul(1_000_000_000)))
            )
        })
        .collect();
    (headline, gaps)
}
