//! The report as one self-contained HTML page: inline CSS and SVG, no
//! scripts or fonts from anywhere else, so it opens from a mail attachment
//! or an air-gapped laptop.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use causet_schema::kinds::Verdict;

use super::{Bucket, Report, ns};

pub(crate) use crate::fmt::escape_html as esc;

const SEVERITIES: [(&str, &str); 4] = [
    ("high", "#c62828"),
    ("medium", "#ef6c00"),
    ("low", "#f9a825"),
    ("info", "#1565c0"),
];

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f5f5f5}\
.sev{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;font-size:.85em}\
.sev-high{background:#c62828}.sev-medium{background:#ef6c00}.sev-low{background:#f9a825;color:#222}.sev-info{background:#1565c0}\
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:12px}code{background:#f2f2f2;padding:0 .3em}\
.muted{color:#666}svg text{font:11px system-ui,sans-serif;fill:#333}.lead{font-size:1.15em}\
.warn{background:#fff3e0;border-left:4px solid #ef6c00;padding:.5em .8em}.incident{border-top:1px solid #ddd;margin-top:1em}\
.status{display:inline-block;padding:0 .4em;margin-left:.3em;border-radius:3px;font-size:.8em;border:1px solid #999}\
.status-new{background:#ffebee;border-color:#c62828}.diagram{overflow:auto;max-height:480px;border:1px solid #eee}";

/// A table of `headers` and `rows`, every cell escaped.
fn table(out: &mut String, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let _ = write!(out, "<table><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    let _ = write!(out, "</tr>");
    for row in rows {
        let _ = write!(out, "<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(&cell));
        }
        let _ = write!(out, "</tr>");
    }
    let _ = write!(out, "</table>");
}

/// Renders `report` as HTML: the incidents first (the list, then the
/// [`DETAILED`] worst with their best example, commands and best findings),
/// then the charts and the tables. Whatever the number of findings the page
/// stays small: every list is bounded and says what it left out.
pub fn to_html(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>causet report</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        out,
        "<h1>causet report</h1><p class=\"muted\">{} · {} · made {} · clocks held to ±{}</p>",
        esc(&super::range_text(report)),
        esc(&report.data_dir),
        esc(&report.generated_at),
        esc(&ns(Some(report.max_offset_ns)))
    );
    let _ = write!(
        out,
        "<p id=\"headline\" class=\"lead\">{}</p>",
        esc(&super::headline(report))
    );
    if let Some(health) = report.ingest.as_ref().filter(|h| !h.ok()) {
        let (headline, gaps) = super::ingest_lines(health);
        let _ = write!(
            out,
            "<p class=\"warn\"><strong>Ingest.</strong> {}",
            esc(&headline)
        );
        for gap in &gaps {
            let _ = write!(out, " {}", esc(gap));
        }
        let _ = write!(out, " The findings may miss what did not arrive.</p>");
    }

    incidents(&mut out, report);

    let _ = write!(
        out,
        "<h2>Findings over time</h2>{}",
        timeline_svg("timeline", &report.timeline)
    );
    if !report.history.is_empty() {
        let _ = write!(
            out,
            "<h2>Findings per hour, last reports</h2>{}",
            timeline_svg("history", &report.history)
        );
    }
    if let Some(trend) = report.trend.as_ref().filter(|t| !t.resolved.is_empty()) {
        let _ = write!(
            out,
            "<h2>Resolved since {}</h2>",
            esc(trend.previous_generated_at.as_deref().unwrap_or(""))
        );
        table(
            &mut out,
            &["severity then", "incident", "findings then", "last seen"],
            trend.resolved.iter().take(LISTED).map(|r| {
                vec![
                    r.severity.to_string(),
                    r.summary.clone(),
                    r.findings.to_string(),
                    r.last_seen.clone(),
                ]
            }),
        );
        more(&mut out, trend.resolved.len(), LISTED, "resolved incidents");
    }

    let _ = write!(
        out,
        "<h2>Summary</h2><table id=\"summary\"><tr><th>severity</th><th>findings</th></tr>"
    );
    for (severity, _) in SEVERITIES {
        let n = report
            .summary
            .by_severity
            .get(severity)
            .copied()
            .unwrap_or(0);
        let _ = write!(
            out,
            "<tr><td><span class=\"sev sev-{severity}\">{severity}</span></td><td>{n}</td></tr>"
        );
    }
    let _ = write!(
        out,
        "</table><table><tr><th>kind</th><th>findings</th></tr>"
    );
    for (kind, n) in &report.summary.by_kind {
        let _ = write!(out, "<tr><td>{}</td><td>{n}</td></tr>", esc(kind));
    }
    let _ = write!(out, "</table>");

    if !report.node_phi.is_empty() {
        let _ = write!(out, "<h2>Heartbeat suspicion (phi)</h2>{}", phi_svg(report));
    }
    let _ = write!(out, "<h2>Node clock offsets</h2>{}", offsets_svg(report));
    let off: Vec<&super::Offset> = super::offsets_to_list(report);
    if !off.is_empty() {
        let headers = [
            "window",
            "node",
            "against",
            "offset from",
            "offset to",
            "verdict",
            "RPC pairs",
        ];
        table(
            &mut out,
            &headers,
            off.iter().map(|o| {
                vec![
                    o.window_start.clone(),
                    o.node.clone(),
                    o.reference.clone(),
                    ns(o.lower_ns),
                    ns(o.upper_ns),
                    o.verdict.to_string(),
                    o.rpc_pairs.to_string(),
                ]
            }),
        );
    }
    let _ = write!(
        out,
        "<p class=\"muted\">{}</p>",
        esc(&super::offsets_note(report, off.len()))
    );

    let _ = write!(out, "<h2>Keys with conflicting writes</h2>");
    if report.conflict_keys.is_empty() {
        let _ = write!(out, "<p class=\"muted\">None.</p>");
    } else {
        let _ = write!(
            out,
            "<table><tr><th>key</th><th>concurrent writes</th><th>LWW inversions</th></tr>"
        );
        for k in &report.conflict_keys {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&k.key),
                k.concurrent_writes,
                k.lww_inversions
            );
        }
        let _ = write!(out, "</table>");
    }

    let _ = write!(out, "<h2>Retry verdicts</h2>");
    if report.retries.is_empty() {
        let _ = write!(out, "<p class=\"muted\">None.</p>");
    } else {
        table(
            &mut out,
            &["verdict", "requests"],
            report
                .retries
                .iter()
                .map(|(v, n)| vec![v.clone(), n.to_string()]),
        );
    }

    if let Some(health) = &report.ingest {
        let (headline, gaps) = super::ingest_lines(health);
        let _ = write!(
            out,
            "<h2>Ingest</h2><p id=\"ingest\">{}</p>",
            esc(&headline)
        );
        for gap in &gaps {
            let _ = write!(
                out,
                "<p class=\"gap\"><strong>Gap.</strong> {}</p>",
                esc(gap)
            );
        }
        if !health.per_hour.is_empty() {
            let _ = write!(
                out,
                "<details><summary>spans per hour and service</summary>"
            );
            table(
                &mut out,
                &["hour", "service", "spans"],
                health
                    .per_hour
                    .iter()
                    .take(LISTED)
                    .map(|h| vec![h.hour.clone(), h.service.clone(), h.spans.to_string()]),
            );
            more(&mut out, health.per_hour.len(), LISTED, "rows");
            let _ = write!(out, "</details>");
        }
    }
    let _ = writeln!(out, "</body></html>");
    out
}

/// Incidents drawn in full, with their example and best findings.
pub const DETAILED: usize = 20;
/// Incidents whose example trace is drawn.
pub const DRAWN: usize = 5;
/// Events of the largest example trace drawn inline.
pub const DRAWN_ROWS: usize = 400;
/// Rows of any list before the rest is only counted.
pub const LISTED: usize = 500;
/// Longest evidence or witness shown, bytes.
pub(crate) const CLIP: usize = 32 << 10;

fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = write!(
            out,
            "<p class=\"muted\">… and {} more {what}.</p>",
            total - shown
        );
    }
}

fn status_badge(incident: &super::ReportIncident) -> String {
    match incident.status {
        Some(status) => format!(
            " <span class=\"status status-{0}\">{0}</span>",
            super::status_word(status)
        ),
        None => String::new(),
    }
}

fn incidents(out: &mut String, report: &Report) {
    let _ = write!(out, "<h2 id=\"incidents\">Incidents</h2>");
    if report.incidents.is_empty() {
        let _ = write!(
            out,
            "<p class=\"muted\">No incidents: nothing was found in this range.</p>"
        );
        return;
    }
    let _ = write!(
        out,
        "<table id=\"incident-list\"><tr><th>#</th><th>severity</th><th>incident</th><th>findings</th><th>from</th><th>to</th></tr>"
    );
    for i in report.incidents.iter().take(LISTED) {
        let link = if i.rank <= DETAILED {
            format!("<a href=\"#incident-{}\">{}</a>", i.rank, esc(&i.summary))
        } else {
            esc(&i.summary)
        };
        let _ = write!(
            out,
            "<tr class=\"incident-row\"><td>{rank}</td><td><span class=\"sev sev-{sev}\">{sev}</span>{status}</td><td><strong>{cause}</strong> · <code>{anchor}</code><br>{link}</td><td>{n}</td><td>{first}</td><td>{last}</td></tr>",
            rank = i.rank,
            sev = i.severity,
            status = status_badge(i),
            cause = i.cause,
            anchor = esc(&i.anchor),
            n = i.findings,
            first = esc(&i.first_seen),
            last = esc(&i.last_seen),
        );
    }
    let _ = write!(out, "</table>");
    more(
        out,
        report.incidents.len(),
        LISTED,
        "incidents (SELECT * FROM incidents ORDER BY rank)",
    );

    for i in report.incidents.iter().take(DETAILED) {
        let e = &i.example;
        let _ = write!(
            out,
            "<section class=\"incident\" id=\"incident-{rank}\"><h3>#{rank} <span class=\"sev sev-{sev}\">{sev}</span>{status} {cause} · <code>{anchor}</code></h3><p>{summary}</p>\
             <p class=\"muted\">{first} to {last} · {counts}{nodes}{keys}</p>\
             <h4>Best example</h4><p>{example}</p>",
            rank = i.rank,
            sev = i.severity,
            status = status_badge(i),
            cause = i.cause,
            anchor = esc(&i.anchor),
            summary = esc(&i.summary),
            first = esc(&i.first_seen),
            last = esc(&i.last_seen),
            counts = esc(&super::counts(i)),
            nodes = if i.nodes.is_empty() {
                String::new()
            } else {
                format!(" · nodes {}", esc(&crate::fmt::some(&i.nodes, 20)))
            },
            keys = if i.keys.is_empty() {
                String::new()
            } else {
                format!(" · keys {}", esc(&crate::fmt::some(&i.keys, 20)))
            },
            example = esc(&e.summary),
        );
        if let Some(svg) = &i.diagram {
            let _ = write!(out, "<div class=\"diagram\">{svg}</div>");
        }
        let (evidence, witness) = i.example_json(CLIP);
        let _ = write!(out, "<p>Dig further: <code>{}</code>", esc(&e.explain));
        if let Some(why) = &e.why {
            let _ = write!(out, " · <code>{}</code>", esc(why));
        }
        let _ = write!(
            out,
            " · <code>{}</code></p><details><summary>evidence and witness</summary><pre>{}</pre><pre>{}</pre></details>",
            esc(&super::sql_command(&i.sql)),
            esc(&evidence),
            esc(&witness),
        );
        let shown = i.shown(report);
        let _ = write!(
            out,
            "<details class=\"findings\"><summary>{}</summary><table><tr><th>severity</th><th>kind</th><th>time</th><th>finding</th></tr>",
            i.findings_caption(shown.len())
        );
        for f in &shown {
            let _ = write!(
                out,
                "<tr class=\"finding\"><td><span class=\"sev sev-{sev}\">{sev}</span></td><td>{kind}</td><td>{time}</td><td>{summary}<div class=\"muted\">spans {spans} · <code>{explain}</code></div></td></tr>",
                sev = f.severity,
                kind = f.kind,
                time = esc(&f.time),
                summary = esc(&f.summary),
                spans = esc(&crate::fmt::some(&f.span_ids, 4)),
                explain = esc(&f.explain),
            );
        }
        let _ = write!(out, "</table>");
        more(
            out,
            i.findings,
            shown.len(),
            "findings: the query above lists them all",
        );
        let _ = write!(out, "</details></section>");
    }
    more(
        out,
        report.incidents.len(),
        DETAILED,
        "incidents, listed above without details",
    );
}

/// Stacked bars of findings per bucket, by severity.
fn timeline_svg(id: &str, buckets: &[Bucket]) -> String {
    let (w, h, left, bottom) = (900.0, 180.0, 40.0, 30.0);
    let mut svg = format!(
        "<svg id=\"{id}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"findings over time\">"
    );
    let max = buckets
        .iter()
        .map(|b| b.by_severity.values().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = buckets.len().max(1) as f64;
    let bar = ((w - left - 10.0) / n).min(40.0);
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#999\"/>",
        y = h - bottom,
        x2 = w - 10.0
    );
    let _ = write!(
        svg,
        "<text x=\"2\" y=\"12\">{max}</text><text x=\"2\" y=\"{}\">0</text>",
        h - bottom
    );
    for (i, b) in buckets.iter().enumerate() {
        let x = left + i as f64 * bar;
        let mut y = h - bottom;
        for (severity, color) in SEVERITIES.iter().rev() {
            let count = b.by_severity.get(*severity).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let height = (h - bottom - 15.0) * count as f64 / max;
            y -= height;
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"{color}\"><title>{} {severity}: {count}</title></rect>",
                (bar - 2.0).max(1.0),
                esc(&b.start)
            );
        }
    }
    for (i, label) in ticks(buckets, bar) {
        let _ = write!(
            svg,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{}\">{}</text>",
            left + i as f64 * bar,
            h - 8.0,
            esc(&label)
        );
    }
    if let Some(first) = buckets.first() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"12\" text-anchor=\"end\">UTC, from {}</text>",
            w - 10.0,
            esc(&first.start)
        );
    } else {
        let _ = write!(svg, "<text x=\"{left}\" y=\"80\">no findings</text>");
    }
    svg.push_str("</svg>");
    svg
}

/// Width of one character of the chart's labels, generously (12 px sans-serif).
const CHAR_PX: f64 = 7.5;

/// The buckets that get a time label, and their labels: every `step`-th
/// bucket, so that no two labels overlap, written for the bucket width
/// (`10:04:05` for seconds, `10:04` for minutes and hours, `2026-11-25`
/// for days and weeks).
fn ticks(buckets: &[Bucket], bar: f64) -> Vec<(usize, String)> {
    let Some(first) = buckets.first() else {
        return Vec::new();
    };
    let format = match first.width_s {
        w if w < 60 => "%H:%M:%S",
        w if w < 86_400 => "%H:%M",
        _ => "%Y-%m-%d",
    };
    let label = |b: &Bucket| {
        chrono::DateTime::parse_from_rfc3339(&b.start)
            .map(|t| t.format(format).to_string())
            .unwrap_or_else(|_| b.start.clone())
    };
    let widest = CHAR_PX * label(first).chars().count() as f64 + 12.0;
    let step = (widest / bar.max(1.0)).ceil().max(1.0) as usize;
    buckets
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, b)| (i, label(b)))
        .collect()
}

/// Each node's offset interval per window, against the ±max-offset band.
fn offsets_svg(report: &Report) -> String {
    let (w, row, left) = (900.0, 34.0, 140.0);
    let mut nodes: BTreeMap<&str, Vec<super::Offset>> = BTreeMap::new();
    for o in &report.node_offsets {
        nodes.entry(&o.node).or_default().push(o.clone());
    }
    // Bounded: the least healthy nodes first, each with its windows merged
    // into at most DRAWN_WINDOWS intervals.
    let hidden = nodes.len().saturating_sub(DRAWN_NODES);
    if hidden > 0 {
        let mut worst: Vec<(&str, bool)> = nodes
            .iter()
            .map(|(n, w)| (*n, w.iter().any(|o| o.verdict == Verdict::Unhealthy)))
            .collect();
        worst.sort_by_key(|(n, bad)| (!bad, *n));
        let keep: Vec<&str> = worst.iter().take(DRAWN_NODES).map(|(n, _)| *n).collect();
        nodes.retain(|n, _| keep.contains(n));
    }
    for windows in nodes.values_mut() {
        if windows.len() > DRAWN_WINDOWS {
            *windows = merged(windows, windows.len().div_ceil(DRAWN_WINDOWS));
        }
    }
    let h = 40.0 + row * nodes.len().max(1) as f64;
    let mut svg = format!(
        "<svg id=\"offsets\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"node clock offsets\">"
    );
    let max = report.max_offset_ns as f64;
    // The scale covers the band and every finite bound, clamped to 20x the band.
    let extent = report
        .node_offsets
        .iter()
        .flat_map(|o| [o.lower_ns, o.upper_ns])
        .flatten()
        .map(|v| (v as f64).abs())
        .fold(max * 2.0, f64::max)
        .min(max * 20.0);
    let x =
        |v: f64| left + (w - left - 20.0) * (v.clamp(-extent, extent) + extent) / (2.0 * extent);
    let _ = write!(
        svg,
        "<rect x=\"{:.1}\" y=\"20\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e8f5e9\"><title>±max-offset</title></rect>",
        x(-max),
        x(max) - x(-max),
        h - 30.0
    );
    let _ = write!(
        svg,
        "<line x1=\"{c:.1}\" y1=\"20\" x2=\"{c:.1}\" y2=\"{}\" stroke=\"#999\" stroke-dasharray=\"3,3\"/>",
        h - 10.0,
        c = x(0.0)
    );
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"14\">-{}</text><text x=\"{:.1}\" y=\"14\">+{}</text>",
        x(-max) - 30.0,
        esc(&ns(Some(report.max_offset_ns))),
        x(max),
        esc(&ns(Some(report.max_offset_ns)))
    );
    for (i, (node, windows)) in nodes.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{:.1}\">{}</text>",
            y + 14.0,
            esc(node)
        );
        let step = (row - 8.0) / windows.len().max(1) as f64;
        for (j, o) in windows.iter().enumerate() {
            let lo = o.lower_ns.map(|v| v as f64).unwrap_or(-extent);
            let hi = o.upper_ns.map(|v| v as f64).unwrap_or(extent);
            let color = match o.verdict {
                Verdict::Healthy => "#2e7d32",
                Verdict::Unhealthy => "#c62828",
                Verdict::Ambiguous => "#ef6c00",
                Verdict::Unknown => "#9e9e9e",
            };
            let _ = write!(
                svg,
                "<rect class=\"interval\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{} {}: {} to {} ({})</title></rect>",
                x(lo),
                y + j as f64 * step,
                (x(hi) - x(lo)).max(2.0),
                step.max(2.0) - 1.0,
                esc(node),
                esc(&o.window_start),
                esc(&ns(o.lower_ns)),
                esc(&ns(o.upper_ns)),
                o.verdict
            );
        }
    }
    if nodes.is_empty() {
        let _ = write!(
            svg,
            "<text x=\"{left}\" y=\"34\">no cross-node RPCs to estimate offsets from</text>"
        );
    }
    svg.push_str("</svg>");
    if hidden > 0 {
        let _ = write!(
            svg,
            "<p class=\"muted\">{hidden} more nodes not drawn (SELECT * FROM node_offsets).</p>"
        );
    }
    svg
}

/// Series drawn in the phi chart.
const DRAWN_SERIES: usize = 12;

/// Each monitor's phi of each node over time, the most suspicious first,
/// clipped at twice the threshold, with the threshold drawn.
fn phi_svg(report: &Report) -> String {
    const COLORS: [&str; 6] = [
        "#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f",
    ];
    let (w, h, left, top, bottom) = (900.0, 200.0, 40.0, 20.0, 24.0);
    let series = &report.node_phi[..report.node_phi.len().min(DRAWN_SERIES)];
    let times = series.iter().flat_map(|s| s.times_ns.iter().copied());
    let (t0, t1) = times.fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    let span = (t1 - t0).max(1) as f64;
    let top_phi = report.phi_threshold * 2.0;
    let x = |t: i64| left + (w - left - 160.0) * (t - t0) as f64 / span;
    let y = |phi: f64| top + (h - top - bottom) * (1.0 - phi.min(top_phi) / top_phi);
    let mut svg = format!(
        "<svg id=\"phi\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"phi over time\">\
         <line x1=\"{left}\" y1=\"{ty:.1}\" x2=\"{x2:.1}\" y2=\"{ty:.1}\" stroke=\"#999\" stroke-dasharray=\"4,3\"><title>--phi-threshold</title></line>\
         <text x=\"2\" y=\"{lt:.1}\">{th}</text><text x=\"2\" y=\"{zy:.1}\">0</text>",
        ty = y(report.phi_threshold),
        x2 = w - 160.0,
        lt = y(report.phi_threshold) + 4.0,
        th = report.phi_threshold,
        zy = y(0.0),
    );
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = s
            .times_ns
            .iter()
            .zip(&s.points)
            .map(|(&t, p)| format!("{:.1},{:.1}", x(t), y(p.1)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"phi\" points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"><title>{} on {}: highest phi {:.1}</title></polyline>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{color}\">{} ← {}</text>",
            points.join(" "),
            esc(&s.node),
            esc(&s.monitor),
            s.max_phi,
            w - 150.0,
            top + 14.0 * i as f64 + 4.0,
            esc(&s.node),
            esc(&s.monitor)
        );
    }
    if let (Some(first), Some(last)) = (
        series
            .iter()
            .filter_map(|s| s.points.first())
            .min_by(|a, b| a.0.cmp(&b.0)),
        series
            .iter()
            .filter_map(|s| s.points.last())
            .max_by(|a, b| a.0.cmp(&b.0)),
    ) {
        let _ = write!(
            svg,
            "<text x=\"{left}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            h - 6.0,
            esc(&first.0),
            w - 160.0,
            h - 6.0,
            esc(&last.0)
        );
    }
    svg.push_str("</svg>");
    if report.node_phi.len() > DRAWN_SERIES {
        let _ = write!(
            svg,
            "<p class=\"muted\">{} more monitor/node pairs not drawn (SELECT * FROM node_phi).</p>",
            report.node_phi.len() - DRAWN_SERIES
        );
    }
    svg
}

/// Nodes drawn in the offsets chart.
const DRAWN_NODES: usize = 50;
/// Intervals drawn per node.
const DRAWN_WINDOWS: usize = 60;

/// Every `n` consecutive windows as one: the widest bounds, the worst verdict.
fn merged(windows: &[super::Offset], n: usize) -> Vec<super::Offset> {
    let badness = |v: Verdict| match v {
        Verdict::Healthy => 0,
        Verdict::Unknown => 1,
        Verdict::Ambiguous => 2,
        Verdict::Unhealthy => 3,
    };
    windows
        .chunks(n.max(1))
        .map(|chunk| {
            let mut out = chunk[0].clone();
            for o in &chunk[1..] {
                out.lower_ns = out.lower_ns.zip(o.lower_ns).map(|(a, b)| a.min(b));
                out.upper_ns = out.upper_ns.zip(o.upper_ns).map(|(a, b)| a.max(b));
                if badness(o.verdict) > badness(out.verdict) {
                    out.verdict = o.verdict;
                }
                out.rpc_pairs += o.rpc_pairs;
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(start_s: i64, width_s: i64, n: i64) -> Vec<Bucket> {
        (0..n)
            .map(|i| Bucket {
                start: crate::fmt::rfc3339((start_s + i * width_s) * 1_000_000_000),
                width_s,
                by_severity: BTreeMap::new(),
            })
            .collect()
    }

    /// A minute, a day and a month of findings: labels in the unit of the
    /// range, never closer than their own width.
    #[test]
    fn time_labels_fit_the_range_and_never_overlap() {
        let start = 1_795_600_800; // 2026-11-25T10:00:00Z
        for (width_s, n, first) in [
            (1, 48, "10:00:00"),
            (1800, 48, "10:00"),
            (86_400, 30, "2026-11-25"),
        ] {
            let b = buckets(start, width_s, n);
            let bar = ((900.0 - 40.0 - 10.0) / n as f64).min(40.0);
            let ticks = ticks(&b, bar);
            assert_eq!(ticks[0], (0, first.to_owned()), "width {width_s}");
            assert!(ticks.len() >= 3, "width {width_s}: {ticks:?}");
            for pair in ticks.windows(2) {
                let gap = (pair[1].0 - pair[0].0) as f64 * bar;
                let needed = CHAR_PX * pair[0].1.len() as f64;
                assert!(gap >= needed, "width {width_s}: {pair:?} overlap");
            }
        }
        assert!(ticks(&[], 10.0).is_empty());
    }
}
