//! `causet explain TRACE_ID`: a space-time diagram of a trace.
//!
//! One lane per node, one row per event in a linear extension of
//! happens-before (derived Lamport number, then wall time), wall times
//! alongside, arrows for the edges that cross lanes (requests, replies,
//! messages, links), findings marked on the events they concern, and, when
//! asked, the critical path. Rendered as text for a terminal, or as SVG /
//! HTML with hover text.
//!
//! The critical path is the chain of events that bounded the trace's
//! end-to-end latency: from the trace's last event, each step goes back to
//! the cause that happened last (the dependency the event waited for),
//! through every happens-before edge, not only the parent tree, so a reply
//! that came back through a message queue is followed through the queue.
//! It reads wall times, so a skewed clock can bend it; the findings say
//! when one is.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::detect::{Finding, FindingKind};
use crate::error::{Error, Result};
use crate::fmt::escape_html as esc;
use crate::graph::load::parse_trace;
use crate::graph::{EdgeSource, EventId, EventType, Graph, span_hex, trace_hex};

/// One event of the diagram.
#[derive(Debug, Clone)]
pub struct Row {
    /// The event.
    pub event: EventId,
    /// Its lane.
    pub lane: usize,
    /// Wall time, ns.
    pub time: i64,
    /// What happened.
    pub label: String,
    /// `S` span start, `E` span end, `*` span event.
    pub glyph: char,
    /// Finding kinds that concern the event's span.
    pub findings: Vec<FindingKind>,
    /// Hover text: ids and clocks.
    pub detail: String,
}

/// An edge across lanes.
#[derive(Debug, Clone)]
pub struct Arrow {
    /// Row of the cause.
    pub from: usize,
    /// Row of the effect.
    pub to: usize,
    /// Edge source.
    pub source: &'static str,
}

/// The diagram of one trace (or of the traces linked to it).
#[derive(Debug, Clone)]
pub struct Diagram {
    /// Traces drawn.
    pub traces: Vec<String>,
    /// Node names, one per lane.
    pub lanes: Vec<String>,
    /// Events, in order.
    pub rows: Vec<Row>,
    /// Cross-lane edges.
    pub arrows: Vec<Arrow>,
    /// The critical path, as rows in order (empty unless
    /// [`Diagram::with_critical_path`]).
    pub critical: Vec<usize>,
}

impl Diagram {
    /// The diagram with its critical path marked.
    pub fn with_critical_path(mut self, graph: &Graph) -> Diagram {
        let row_of: HashMap<EventId, usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.event, i))
            .collect();
        let latest = |rows: &mut dyn Iterator<Item = usize>| {
            rows.max_by_key(|&r| (self.rows[r].time, std::cmp::Reverse(r)))
        };
        let Some(mut at) = latest(&mut (0..self.rows.len())) else {
            return self;
        };
        let mut path = vec![at];
        let mut seen: std::collections::HashSet<usize> = std::collections::HashSet::from([at]);
        while let Some(cause) = latest(
            &mut graph
                .in_of(self.rows[at].event)
                .filter_map(|from| row_of.get(&from).copied()),
        ) {
            if !seen.insert(cause) {
                break;
            }
            path.push(cause);
            at = cause;
        }
        path.reverse();
        self.critical = path;
        self
    }

    /// The critical path in one sentence, with its longest waits.
    pub fn critical_summary(&self) -> Option<String> {
        let (&first, &last) = (self.critical.first()?, self.critical.last()?);
        let what = |r: usize| {
            format!(
                "{} on {}",
                self.rows[r].label, self.lanes[self.rows[r].lane]
            )
        };
        let mut steps: Vec<(i64, usize, usize)> = self
            .critical
            .windows(2)
            .map(|p| (self.rows[p[1]].time - self.rows[p[0]].time, p[0], p[1]))
            .collect();
        steps.sort_by_key(|&(d, a, _)| (std::cmp::Reverse(d), a));
        let longest: Vec<String> = steps
            .iter()
            .take(3)
            .map(|&(d, a, b)| {
                format!(
                    "{} from {} to {}",
                    crate::fmt::human_ns(d),
                    what(a),
                    what(b)
                )
            })
            .collect();
        Some(format!(
            "critical path: {} events, {} from {} to {}; longest waits: {}",
            self.critical.len(),
            crate::fmt::human_ns(self.rows[last].time - self.rows[first].time),
            what(first),
            what(last),
            if longest.is_empty() {
                "none".to_owned()
            } else {
                longest.join("; ")
            }
        ))
    }
}

/// Builds the diagram of `trace_id`; with `follow_links`, of every trace
/// reachable from it through cross-trace edges too.
pub fn diagram(
    graph: &Graph,
    trace_id: &str,
    follow_links: bool,
    findings: &[Finding],
) -> Result<Diagram> {
    let trace = parse_trace(trace_id)
        .ok_or_else(|| Error::Usage(format!("{trace_id:?} is not a trace id (32 hex digits)")))?;
    let mut traces: BTreeSet<u128> = BTreeSet::from([trace]);
    if !graph.spans.iter().any(|s| s.trace_id == trace) {
        return Err(Error::Usage(format!("no trace {trace_id}")));
    }
    if follow_links {
        loop {
            let before = traces.len();
            for e in graph.edges() {
                let (a, b) = (
                    graph.spans[graph.span_of(e.from) as usize].trace_id,
                    graph.spans[graph.span_of(e.to) as usize].trace_id,
                );
                if traces.contains(&a) || traces.contains(&b) {
                    traces.insert(a);
                    traces.insert(b);
                }
            }
            if traces.len() == before {
                break;
            }
        }
    }
    let mut events: Vec<EventId> = (0..graph.event_count() as EventId)
        .filter(|&e| traces.contains(&graph.spans[graph.span_of(e) as usize].trace_id))
        .collect();
    events.sort_by_key(|&e| (graph.lamport(e).unwrap_or(u64::MAX), graph.time_of(e), e));

    let mut lanes: Vec<String> = Vec::new();
    let mut lane_of: HashMap<u32, usize> = HashMap::new();
    let mut marks: HashMap<String, Vec<FindingKind>> = HashMap::new();
    for f in findings {
        for s in &f.span_ids {
            let kinds = marks.entry(s.clone()).or_default();
            if !kinds.contains(&f.kind) {
                kinds.push(f.kind);
            }
        }
    }
    let mut row_of: HashMap<EventId, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for &e in &events {
        let ev = graph.event(e);
        let span = &graph.spans[ev.span as usize];
        let lane = *lane_of.entry(ev.node).or_insert_with(|| {
            lanes.push(graph.nodes[ev.node as usize].clone());
            lanes.len() - 1
        });
        let (glyph, label) = match ev.ty {
            EventType::Start => (
                'S',
                format!(
                    "start {} ({})",
                    graph.text(span.name),
                    span.kind.as_str().to_lowercase()
                ),
            ),
            EventType::End => ('E', format!("end {}", graph.text(span.name))),
            EventType::Point(_) => (
                '*',
                format!("{} [{}]", graph.event_name(e), graph.text(span.name)),
            ),
        };
        let findings = if matches!(ev.ty, EventType::Point(_))
            && marks.contains_key(&span_hex(span.span_id))
            && !concerns_point(findings, e)
        {
            Vec::new()
        } else {
            marks
                .get(&span_hex(span.span_id))
                .cloned()
                .unwrap_or_default()
        };
        row_of.insert(e, rows.len());
        rows.push(Row {
            event: e,
            lane,
            time: ev.time,
            label,
            glyph,
            findings,
            detail: crate::why::describe(graph, e),
        });
    }
    let mut arrows = Vec::new();
    for edge in graph.edges() {
        if edge.source == EdgeSource::ProgramOrder {
            continue;
        }
        if let (Some(&from), Some(&to)) = (row_of.get(&edge.from), row_of.get(&edge.to))
            && rows[from].lane != rows[to].lane
        {
            arrows.push(Arrow {
                from,
                to,
                source: edge.source.as_str(),
            });
        }
    }
    arrows.sort_by_key(|a| (a.to, a.from));
    Ok(Diagram {
        traces: traces.into_iter().map(trace_hex).collect(),
        lanes,
        rows,
        arrows,
        critical: Vec::new(),
    })
}

/// Findings name spans; mark a span event only when a finding is about it.
fn concerns_point(findings: &[Finding], e: EventId) -> bool {
    findings.iter().any(|f| f.events.contains(&e))
}

/// `HH:MM:SS.ffffff` (UTC).
fn clock_time(ns: i64) -> String {
    chrono::DateTime::from_timestamp(
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) as u32,
    )
    .map(|t| t.format("%H:%M:%S%.6f").to_string())
    .unwrap_or_else(|| ns.to_string())
}

/// The diagram as text for a terminal.
pub fn to_text(d: &Diagram) -> String {
    let width = d
        .lanes
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(6, 16)
        + 2;
    let time_width = d
        .rows
        .iter()
        .map(|r| clock_time(r.time).len())
        .max()
        .unwrap_or(8);
    let mut out = String::new();
    let _ = writeln!(out, "trace {}", d.traces.join(", "));
    let _ = write!(out, "{:time_width$}  ", "");
    for lane in &d.lanes {
        let name: String = lane.chars().take(width - 2).collect();
        let _ = write!(out, "{name:^width$}");
    }
    out.push('\n');
    let incoming: BTreeMap<usize, Vec<&Arrow>> =
        d.arrows.iter().fold(BTreeMap::new(), |mut m, a| {
            m.entry(a.to).or_default().push(a);
            m
        });
    let critical: std::collections::HashSet<usize> = d.critical.iter().copied().collect();
    for (i, row) in d.rows.iter().enumerate() {
        let mut cells: Vec<char> = vec![' '; width * d.lanes.len()];
        for lane in 0..d.lanes.len() {
            cells[lane * width + width / 2] = '|';
        }
        let mut notes = Vec::new();
        for arrow in incoming.get(&i).into_iter().flatten() {
            let from = d.rows[arrow.from].lane * width + width / 2;
            let to = row.lane * width + width / 2;
            let (lo, hi) = (from.min(to), from.max(to));
            for c in &mut cells[lo + 1..hi] {
                *c = '-';
            }
            cells[from] = '+';
            if to > from {
                cells[to - 1] = '>';
            } else {
                cells[to + 1] = '<';
            }
            notes.push(format!(
                "<- {} from {}",
                arrow.source, d.lanes[d.rows[arrow.from].lane]
            ));
        }
        cells[row.lane * width + width / 2] = if row.findings.is_empty() {
            row.glyph
        } else {
            '!'
        };
        let line: String = cells.into_iter().collect();
        let _ = write!(
            out,
            "{:>time_width$} {}{}  {}",
            clock_time(row.time),
            if critical.contains(&i) { '#' } else { ' ' },
            line.trim_end(),
            row.label
        );
        for note in notes {
            let _ = write!(out, "  {note}");
        }
        for kind in &row.findings {
            let _ = write!(out, "  !{kind}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nS span start  E span end  * span event  ! concerned by a finding  +--> edge across nodes (source named on the right){}",
        if d.critical.is_empty() {
            ""
        } else {
            "  # on the critical path"
        }
    );
    if let Some(summary) = d.critical_summary() {
        let _ = writeln!(out, "{summary}");
    }
    out
}

/// The diagram as SVG, with hover text on every event and arrow.
pub fn to_svg(d: &Diagram) -> String {
    let (left, lane_w, top, row_h) = (130.0, 160.0, 50.0, 22.0);
    let w = left + lane_w * d.lanes.len().max(1) as f64 + 260.0;
    let h = top + row_h * d.rows.len() as f64 + 20.0;
    let x = |lane: usize| left + lane_w * lane as f64 + lane_w / 2.0;
    let y = |row: usize| top + row_h * row as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"diagram\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"system-ui,sans-serif\" font-size=\"11\">\
         <defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker></defs>"
    );
    for (i, lane) in d.lanes.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><line class=\"lane\" x1=\"{:.1}\" y1=\"30\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#bbb\"/>",
            x(i),
            esc(lane),
            x(i),
            x(i),
            h - 10.0
        );
    }
    for a in &d.arrows {
        let (from, to) = (&d.rows[a.from], &d.rows[a.to]);
        let _ = write!(
            svg,
            "<line class=\"arrow\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#555\" marker-end=\"url(#head)\"><title>{}: {} → {}</title></line>",
            x(from.lane),
            y(a.from),
            x(to.lane),
            y(a.to),
            a.source,
            esc(&from.detail),
            esc(&to.detail)
        );
    }
    if d.critical.len() > 1 {
        let points: Vec<String> = d
            .critical
            .iter()
            .map(|&r| format!("{:.1},{:.1}", x(d.rows[r].lane), y(r)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"critical\" points=\"{}\" fill=\"none\" stroke=\"#ff9800\" stroke-width=\"6\" stroke-opacity=\"0.45\" stroke-linejoin=\"round\"><title>{}</title></polyline>",
            points.join(" "),
            esc(&d.critical_summary().unwrap_or_default())
        );
    }
    for (i, row) in d.rows.iter().enumerate() {
        let (fill, stroke) = match row.glyph {
            'S' => ("#2e7d32", "#2e7d32"),
            'E' => ("#fff", "#2e7d32"),
            _ => ("#1565c0", "#1565c0"),
        };
        let (stroke, class) = if row.findings.is_empty() {
            (stroke, "event")
        } else {
            ("#c62828", "event finding")
        };
        let hover = if row.findings.is_empty() {
            row.detail.clone()
        } else {
            format!("{}\nfindings: {}", row.detail, kinds_text(&row.findings))
        };
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"{:.1}\" fill=\"#666\">{}</text><circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"><title>{}</title></circle>\
             <text x=\"{:.1}\" y=\"{:.1}\"{}>{}</text>",
            y(i) + 4.0,
            esc(&clock_time(row.time)),
            x(row.lane),
            y(i),
            if row.findings.is_empty() { 5 } else { 7 },
            esc(&hover),
            left + lane_w * d.lanes.len() as f64 + 10.0,
            y(i) + 4.0,
            if row.findings.is_empty() {
                ""
            } else {
                " fill=\"#c62828\""
            },
            esc(&format!(
                "{}: {}{}",
                d.lanes[row.lane],
                row.label,
                if row.findings.is_empty() {
                    String::new()
                } else {
                    format!("  ! {}", kinds_text(&row.findings))
                }
            ))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The SVG in a self-contained page.
pub fn to_html(d: &Diagram) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>causet explain {}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:1.5em}}</style></head><body><h1>trace {}</h1>\
         <p>One lane per node; events top to bottom in happens-before order; arrows are edges between nodes. \
         Hover an event or arrow for ids and clocks; red events are concerned by a finding.</p>{}{}</body></html>\n",
        esc(&d.traces.join(", ")),
        esc(&d.traces.join(", ")),
        d.critical_summary()
            .map(|c| format!(
                "<p class=\"critical\">The orange line is the {}</p>",
                esc(&c)
            ))
            .unwrap_or_default(),
        to_svg(d)
    )
}

/// `concurrent_write, lww_inversion`.
fn kinds_text(kinds: &[FindingKind]) -> String {
    let words: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    words.join(", ")
}
