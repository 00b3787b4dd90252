//! `causet report`: the findings of a time range as JSON, Markdown or a
//! self-contained HTML page.
//!
//! [`Report`] is the model all three render; its JSON form is the stable
//! schema for pipelines (`"schema": "causet.report/1"`, documented on each
//! field below). Fields are only ever added within a schema version.

pub mod html;
mod markdown;
pub mod trend;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::derived::Detected;
use crate::detect::{Family, Finding, FindingKind, Severity};
use crate::fmt::rfc3339;
use crate::health::IngestHealth;
use crate::incidents::{self, Attribution};
use causet_schema::kinds::{Cause, Verdict};

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
    /// The phi threshold the heartbeat detector used.
    pub phi_threshold: f64,
    /// The data folder, as the user named it.
    pub data_dir: String,
    /// When the report was made, ns since the epoch.
    pub generated_at_ns: i64,
}

/// Findings shown per incident (HTML and Markdown always; JSON with
/// `--findings top`, see [`Report::with_top_findings`]).
pub const TOP: usize = 50;

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
    /// The findings grouped by cause, worst first: what to read first.
    pub incidents: Vec<ReportIncident>,
    /// Compared with an earlier report (`--compare-to`, `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<trend::Trend>,
    /// Findings per time bucket and severity, for the chart.
    pub timeline: Vec<Bucket>,
    /// Findings per hour and severity (what `--history` charts across
    /// reports).
    pub hourly: Vec<Bucket>,
    /// Findings per hour over this and the earlier reports of `--history`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Bucket>,
    /// Estimated clock offset of each node per window.
    pub node_offsets: Vec<Offset>,
    /// Each monitor's phi-accrual suspicion of each node it hears
    /// heartbeats from, at most [`PHI_POINTS`] points per pair (the highest
    /// of each stretch); absent without heartbeats.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_phi: Vec<PhiSeries>,
    /// The phi threshold of `suspected`.
    pub phi_threshold: f64,
    /// Keys with conflicting writes, most first (top 20).
    pub conflict_keys: Vec<KeyCount>,
    /// Retry findings by verdict.
    pub retries: BTreeMap<String, usize>,
    /// Every finding (or, with `--findings top`, each incident's best),
    /// most severe first, then by time.
    pub findings: Vec<ReportFinding>,
    /// Findings not in `findings` (`--findings top`).
    pub findings_omitted: usize,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// One monitor's suspicion of one node over time.
#[derive(Debug, Clone, Serialize)]
pub struct PhiSeries {
    /// The monitor.
    pub monitor: String,
    /// The node.
    pub node: String,
    /// The highest phi reached, at arrivals.
    pub max_phi: f64,
    /// (arrival time RFC 3339, phi just before it), in time order.
    pub points: Vec<(String, f64)>,
    /// The same times, ns (for the chart).
    #[serde(skip)]
    pub times_ns: Vec<i64>,
}

/// Points of one phi series in a report.
pub const PHI_POINTS: usize = 120;

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

/// An incident as reported: see [`incidents`] for how
/// findings are grouped.
#[derive(Debug, Clone, Serialize)]
pub struct ReportIncident {
    /// Rank, 1 the worst.
    pub rank: usize,
    /// `CAUSE:ANCHOR@FIRST_SEEN`, as in `findings.incident_id`.
    pub id: String,
    /// `CAUSE:ANCHOR`: the same cause in another report.
    pub fingerprint: String,
    /// The kind of cause.
    pub cause: Cause,
    /// What it is about: a node, two nodes, a key, or a client and request.
    pub anchor: String,
    /// How the anchor was found: `named`, `inferred` or `pair`.
    pub attribution: Attribution,
    /// Its worst finding's severity.
    pub severity: Severity,
    /// First finding (RFC 3339).
    pub first_seen: String,
    /// Last finding (RFC 3339).
    pub last_seen: String,
    /// How many findings it explains.
    pub findings: usize,
    /// Findings per kind.
    pub counts: BTreeMap<FindingKind, usize>,
    /// Nodes its findings name.
    pub nodes: Vec<String>,
    /// Keys its findings name.
    pub keys: Vec<String>,
    /// One sentence.
    pub summary: String,
    /// Its best witness.
    pub example: ReportFinding,
    /// `causet sql` selecting its findings.
    pub sql: String,
    /// Against the earlier report: `new` or `continuing` (absent when not
    /// compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<trend::Status>,
    /// Its best findings: indexes into the report's `findings`, at most
    /// [`TOP`] (for the renderers).
    #[serde(skip)]
    pub top: Vec<usize>,
    /// The example's trace drawn as SVG (for the HTML page; set by the
    /// caller, which holds the data).
    #[serde(skip)]
    pub diagram: Option<String>,
}

/// A finding as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    /// The incident it belongs to (`incidents[].id`).
    pub incident_id: String,
    /// Kind.
    pub kind: FindingKind,
    /// Severity.
    pub severity: &'static str,
    /// When (RFC 3339).
    pub time: String,
    /// When, ns since the epoch.
    #[serde(skip)]
    pub time_ns: i64,
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

    let grouped = incidents::group(&findings, &detected.offsets, incidents::DEFAULT_GAP_NS);
    let of = incidents::of_findings(&grouped, findings.len());
    let listed: Vec<ReportFinding> = findings
        .iter()
        .zip(&of)
        .map(|(f, &n)| report_finding(f, &grouped[n as usize].id))
        .collect();
    let incidents = grouped
        .iter()
        .enumerate()
        .map(|(rank, incident)| ReportIncident {
            rank: rank + 1,
            id: incident.id.clone(),
            fingerprint: incident.fingerprint(),
            cause: incident.cause,
            anchor: incident.anchor.clone(),
            attribution: incident.attribution,
            severity: incident.severity,
            first_seen: rfc3339(incident.first_ns),
            last_seen: rfc3339(incident.last_ns),
            findings: incident.findings.len(),
            counts: incident.counts.clone(),
            nodes: incident.nodes.clone(),
            keys: incident.keys.clone(),
            summary: incident.summary.clone(),
            example: report_finding(findings[incident.best()], &incident.id),
            sql: format!(
                "SELECT time, kind, severity, summary FROM findings WHERE incident_id = '{}' ORDER BY time",
                incident.id.replace('\'', "''")
            ),
            status: None,
            top: incident.findings.iter().take(TOP).copied().collect(),
            diagram: None,
        })
        .collect();
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
        incidents,
        trend: None,
        timeline: timeline(&findings),
        hourly: buckets(&findings, 3600, false),
        history: Vec::new(),
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
        node_phi: phi_series(detected, options),
        phi_threshold: options.phi_threshold,
        conflict_keys,
        retries,
        findings: listed,
        findings_omitted: 0,
        ingest: None,
    }
}

fn report_finding(f: &Finding, incident_id: &str) -> ReportFinding {
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
        incident_id: incident_id.to_owned(),
        kind: f.kind,
        severity: f.severity.as_str(),
        time: rfc3339(f.time),
        time_ns: f.time,
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

/// Each (monitor, node)'s phi in range, the highest of each of at most
/// [`PHI_POINTS`] equal runs of arrivals; the most suspicious pair first.
fn phi_series(detected: &Detected, options: &ReportOptions) -> Vec<PhiSeries> {
    let mut by_pair: BTreeMap<(&str, &str), Vec<(i64, f64)>> = BTreeMap::new();
    for p in detected.phi.iter().filter(|p| in_range(p.at, options)) {
        by_pair
            .entry((p.monitor.as_str(), p.node.as_str()))
            .or_default()
            .push((p.at, p.phi));
    }
    let mut series: Vec<PhiSeries> = by_pair
        .into_iter()
        .map(|((monitor, node), mut points)| {
            points.sort_by_key(|p| p.0);
            let run = points.len().div_ceil(PHI_POINTS).max(1);
            let kept: Vec<(i64, f64)> = points
                .chunks(run)
                .filter_map(|c| c.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)))
                .collect();
            PhiSeries {
                monitor: monitor.to_owned(),
                node: node.to_owned(),
                max_phi: kept.iter().map(|p| p.1).fold(0.0, f64::max),
                points: kept.iter().map(|&(t, phi)| (rfc3339(t), phi)).collect(),
                times_ns: kept.iter().map(|p| p.0).collect(),
            }
        })
        .collect();
    series.sort_by(|a, b| b.max_phi.total_cmp(&a.max_phi).then(a.node.cmp(&b.node)));
    series
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
    buckets(findings, width, true)
}

/// Findings per bucket of `width_s` and severity; with `fill`, the empty
/// buckets between the first and the last too.
fn buckets(findings: &[&Finding], width_s: i64, fill: bool) -> Vec<Bucket> {
    let width_ns = width_s * 1_000_000_000;
    let mut buckets: BTreeMap<i64, BTreeMap<String, usize>> = BTreeMap::new();
    if fill
        && let (Some(min), Some(max)) = (
            findings.iter().map(|f| f.time).min(),
            findings.iter().map(|f| f.time).max(),
        )
    {
        for b in min.div_euclid(width_ns)..=max.div_euclid(width_ns) {
            buckets.insert(b, BTreeMap::new());
        }
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
            width_s,
            by_severity,
        })
        .collect()
}

impl Report {
    /// The same report listing only each incident's best findings (what
    /// `--findings top` gives, and what `--history` keeps).
    pub fn with_top_findings(&self) -> Report {
        let mut kept = vec![usize::MAX; self.findings.len()];
        for i in &self.incidents {
            for &n in &i.top {
                if let Some(k) = kept.get_mut(n) {
                    *k = 0;
                }
            }
        }
        let mut findings = Vec::new();
        for (n, f) in self.findings.iter().enumerate() {
            if kept[n] != usize::MAX {
                kept[n] = findings.len();
                findings.push(f.clone());
            }
        }
        let mut report = self.clone();
        report.findings_omitted = self.findings_omitted + self.findings.len() - findings.len();
        report.findings = findings;
        for i in &mut report.incidents {
            i.top = i.top.iter().filter_map(|&n| kept.get(n).copied()).collect();
        }
        report
    }
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
    n.map(crate::fmt::human_ns)
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

/// The range in words: `all data`, or `FROM to TO`.
pub(crate) fn range_text(report: &Report) -> String {
    match (&report.range.from, &report.range.to) {
        (None, None) => "all data".to_owned(),
        (from, to) => format!(
            "{} to {}",
            from.as_deref().unwrap_or("the beginning"),
            to.as_deref().unwrap_or("now")
        ),
    }
}

/// The first sentence a reader sees: how many incidents, how bad, and
/// what changed since the earlier report.
pub(crate) fn headline(report: &Report) -> String {
    let findings = crate::fmt::thousands(report.summary.findings as u64);
    let mut text = if report.incidents.is_empty() {
        "No findings.".to_owned()
    } else {
        let mut by: BTreeMap<Severity, usize> = BTreeMap::new();
        for i in &report.incidents {
            *by.entry(i.severity).or_default() += 1;
        }
        let by: Vec<String> = by.iter().rev().map(|(s, n)| format!("{n} {s}")).collect();
        format!(
            "{} incident{} ({}) from {findings} finding{}.",
            report.incidents.len(),
            if report.incidents.len() == 1 { "" } else { "s" },
            by.join(", "),
            if report.summary.findings == 1 {
                ""
            } else {
                "s"
            },
        )
    };
    if let Some(t) = &report.trend {
        match &t.previous_generated_at {
            Some(at) => text.push_str(&format!(
                " Since the report of {at}: {} new, {} continuing, {} resolved.",
                t.new,
                t.continuing,
                t.resolved.len()
            )),
            None => text.push_str(" No earlier report to compare with: every incident is new."),
        }
    }
    text
}

impl ReportIncident {
    /// Its best findings listed in `report`.
    pub(crate) fn shown<'r>(&self, report: &'r Report) -> Vec<&'r ReportFinding> {
        self.top
            .iter()
            .filter_map(|&n| report.findings.get(n))
            .collect()
    }

    /// `12 findings`, or `1,234 findings, the 50 best shown`.
    pub(crate) fn findings_caption(&self, shown: usize) -> String {
        let total = crate::fmt::thousands(self.findings as u64);
        if shown < self.findings {
            format!("{total} findings, the {shown} best shown")
        } else {
            format!("{total} findings")
        }
    }

    /// Its example's evidence and witness as pretty JSON, each cut to
    /// `max` bytes.
    pub(crate) fn example_json(&self, max: usize) -> (String, String) {
        let pretty = |v: &Value| clip(&serde_json::to_string_pretty(v).unwrap_or_default(), max);
        (
            pretty(&self.example.evidence),
            pretty(&self.example.witness),
        )
    }
}

/// `new` or `continuing`.
pub(crate) fn status_word(status: trend::Status) -> &'static str {
    match status {
        trend::Status::New => "new",
        trend::Status::Continuing => "continuing",
    }
}

/// An incident's findings per kind, most first.
pub(crate) fn counts(incident: &ReportIncident) -> String {
    incidents::counts_text(&incident.counts)
}

/// `causet sql "…"`, quoted for a POSIX shell.
pub(crate) fn sql_command(sql: &str) -> String {
    let mut quoted = String::with_capacity(sql.len() + 2);
    for c in sql.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    format!("causet sql \"{quoted}\"")
}

/// `text` cut to at most `max` bytes (at a character boundary), saying so.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes: see the JSON report)",
        &text[..end],
        text.len() - end
    )
}

/// Offset rows a page lists: those not judged healthy, at most
/// [`html::LISTED`].
pub(crate) fn offsets_to_list(report: &Report) -> Vec<&Offset> {
    report
        .node_offsets
        .iter()
        .filter(|o| o.verdict != Verdict::Healthy)
        .take(html::LISTED)
        .collect()
}

/// What the offset table left out.
pub(crate) fn offsets_note(report: &Report, listed: usize) -> String {
    format!(
        "{} node-window estimates, {listed} listed (those not judged healthy, at most {}); all of them: SELECT * FROM node_offsets.",
        report.node_offsets.len(),
        html::LISTED
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::offsets::NodeOffset;

    /// 100k findings (conflicts on 1,000 keys, each with a long witness,
    /// and skew between 60 nodes) and a day of offsets for 60 nodes: the
    /// pages stay under 5 MB, lead with the incidents, and say what they
    /// left out; the JSON keeps every finding unless asked for the top.
    #[test]
    fn pages_stay_small_whatever_the_number_of_findings() {
        let t0 = 1_795_600_800_000_000_000i64;
        let witness: Value = serde_json::json!({"path": vec!["x".repeat(100); 10]});
        let findings: Vec<Finding> = (0..100_000i64)
            .map(|i| {
                let (kind, key, nodes) = if i % 2 == 0 {
                    (
                        FindingKind::ConcurrentWrite,
                        Some(format!("key-{}", i % 2_000)),
                        vec![format!("r-{}", i % 7), format!("r-{}", i % 11 + 7)],
                    )
                } else {
                    (
                        FindingKind::CausalityViolation,
                        None,
                        vec![format!("n-{}", i % 60), "web-1".to_owned()],
                    )
                };
                Finding {
                    kind,
                    severity: Severity::High,
                    time: t0 + i * 800_000_000,
                    trace_ids: vec![format!("{i:032x}")],
                    span_ids: vec![format!("{i:016x}"), format!("{:016x}", i + 1)],
                    nodes,
                    key,
                    magnitude: Some(i),
                    summary: format!("finding number {i} of a long night, with its explanation"),
                    evidence: serde_json::json!({"i": i}),
                    witness: witness.clone(),
                    events: Vec::new(),
                }
            })
            .collect();
        let offsets: Vec<NodeOffset> = (0..60 * 1_440)
            .map(|i| NodeOffset {
                window_start: t0 + (i / 60) * 60_000_000_000,
                node: format!("n-{}", i % 60),
                reference: "web-1".into(),
                lower_ns: Some(-1_000_000),
                upper_ns: Some(300_000_000),
                verdict: if i % 3 == 0 {
                    Verdict::Unhealthy
                } else {
                    Verdict::Ambiguous
                },
                rpc_pairs: 3,
            })
            .collect();
        let detected = Detected::new(
            findings,
            crate::detect::Estimates {
                offsets,
                phi: Vec::new(),
            },
        );
        let report = build(&detected, &ReportOptions::default());
        assert_eq!(report.findings.len(), 100_000);
        assert!(report.incidents.len() > 1_000, "{}", report.incidents.len());

        let html = to_html(&report);
        let md = to_markdown(&report);
        for (name, page) in [("html", &html), ("markdown", &md)] {
            // The figure BENCHMARKS.md quotes (`-- --nocapture`).
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{name}: {} bytes", page.len());
            }
            assert!(page.len() < 5 << 20, "{name}: {} bytes", page.len());
            assert!(
                page.contains("more incidents"),
                "{name} counts what it left out"
            );
        }
        let incidents = html.find("id=\"incidents\"").unwrap();
        assert!(incidents < html.find("id=\"timeline\"").unwrap());
        assert!(incidents < html.find("id=\"offsets\"").unwrap());

        let top = report.with_top_findings();
        let total = report.incidents.iter().map(|i| i.top.len()).sum::<usize>();
        assert_eq!(top.findings.len(), total);
        assert_eq!(top.findings_omitted, 100_000 - total);
        for i in &top.incidents {
            for &n in &i.top {
                assert_eq!(top.findings[n].incident_id, i.id);
            }
        }
    }
}
