//! The report as Markdown, for a ticket or a chat.

use std::fmt::Write as _;

use super::html::{CLIP, DETAILED, LISTED};
use super::{Report, ns};
use crate::fmt::some;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders `report` as Markdown: the incidents first, each of the
/// [`DETAILED`] worst with its best example, the commands to dig further
/// and its best findings; then the tables. Bounded like the HTML page.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# causet report\n");
    let _ = writeln!(
        out,
        "{} ({}), made {}; clocks held to ±{}.\n",
        super::range_text(report),
        report.data_dir,
        report.generated_at,
        ns(Some(report.max_offset_ns))
    );
    let _ = writeln!(out, "**{}**\n", super::headline(report));

    if let Some(health) = &report.ingest {
        let (headline, gaps) = super::ingest_lines(health);
        let _ = writeln!(out, "## Ingest\n\n{headline}\n");
        for gap in &gaps {
            let _ = writeln!(out, "- **Gap.** {gap}");
        }
        if !gaps.is_empty() {
            let _ = writeln!(out);
        }
    }

    if !report.incidents.is_empty() {
        let _ = writeln!(out, "## Incidents\n");
        let _ = writeln!(
            out,
            "| # | severity | cause | anchor | findings | from | to |\n|---|---|---|---|---|---|---|"
        );
        for i in report.incidents.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} | {} | {} | {} |",
                i.rank,
                i.severity,
                i.status
                    .map(|s| format!(" ({})", super::status_word(s)))
                    .unwrap_or_default(),
                i.cause,
                cell(&i.anchor),
                i.findings,
                i.first_seen,
                i.last_seen
            );
        }
        more(
            &mut out,
            report.incidents.len(),
            LISTED,
            "incidents (`SELECT * FROM incidents ORDER BY rank`)",
        );
        let _ = writeln!(out);
    }
    for i in report.incidents.iter().take(DETAILED) {
        let e = &i.example;
        let _ = writeln!(
            out,
            "### {}. {} · {} ({}{})\n",
            i.rank,
            i.cause,
            i.anchor,
            i.severity,
            i.status
                .map(|s| format!(", {}", super::status_word(s)))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "{}\n", i.summary);
        let _ = writeln!(out, "- findings: {}", super::counts(i));
        if !i.nodes.is_empty() {
            let _ = writeln!(out, "- nodes: {}", some(&i.nodes, 20));
        }
        if !i.keys.is_empty() {
            let _ = writeln!(out, "- keys: {}", some(&i.keys, 20));
        }
        let _ = writeln!(out, "- best example: {}", e.summary);
        let _ = writeln!(out, "- open: `{}`", e.explain);
        if let Some(why) = &e.why {
            let _ = writeln!(out, "- relate: `{why}`");
        }
        let _ = writeln!(out, "- all its findings: `{}`", super::sql_command(&i.sql));
        let (evidence, witness) = i.example_json(CLIP);
        let _ = writeln!(
            out,
            "\n<details><summary>evidence and witness of the example</summary>\n\n```json\n{evidence}\n```\n\n```json\n{witness}\n```\n\n</details>\n"
        );
        let shown = i.shown(report);
        let _ = writeln!(
            out,
            "<details><summary>{}</summary>\n",
            i.findings_caption(shown.len())
        );
        for f in &shown {
            let _ = writeln!(
                out,
                "- {} {} {}: {} (`{}`)",
                f.time, f.severity, f.kind, f.summary, f.explain
            );
        }
        more(
            &mut out,
            i.findings,
            shown.len(),
            "findings: the query above lists them all",
        );
        let _ = writeln!(out, "\n</details>\n");
    }
    more(
        &mut out,
        report.incidents.len(),
        DETAILED,
        "incidents, listed above without details",
    );

    if let Some(trend) = report.trend.as_ref().filter(|t| !t.resolved.is_empty()) {
        let _ = writeln!(
            out,
            "## Resolved since {}\n",
            trend.previous_generated_at.as_deref().unwrap_or("")
        );
        for r in trend.resolved.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "- {} ({}, {} findings then, last seen {})",
                r.summary, r.severity, r.findings, r.last_seen
            );
        }
        more(&mut out, trend.resolved.len(), LISTED, "resolved incidents");
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## Summary\n");
    if report.summary.findings == 0 {
        let _ = writeln!(out, "No findings.\n");
    } else {
        let _ = writeln!(out, "| severity | findings |\n|---|---|");
        for severity in ["high", "medium", "low", "info"] {
            if let Some(n) = report.summary.by_severity.get(severity) {
                let _ = writeln!(out, "| {severity} | {n} |");
            }
        }
        let _ = writeln!(out, "\n| kind | findings |\n|---|---|");
        for (kind, n) in &report.summary.by_kind {
            let _ = writeln!(out, "| {kind} | {n} |");
        }
        let _ = writeln!(out);
    }

    if !report.node_offsets.is_empty() {
        let _ = writeln!(out, "## Node clock offsets\n");
        let listed = super::offsets_to_list(report);
        if !listed.is_empty() {
            let _ = writeln!(
                out,
                "| window | node | against | offset from | offset to | verdict | RPC pairs |\n|---|---|---|---|---|---|---|"
            );
        }
        for o in &listed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                o.window_start,
                cell(&o.node),
                cell(&o.reference),
                ns(o.lower_ns),
                ns(o.upper_ns),
                o.verdict,
                o.rpc_pairs
            );
        }
        let _ = writeln!(out, "\n{}\n", super::offsets_note(report, listed.len()));
    }

    if !report.conflict_keys.is_empty() {
        let _ = writeln!(out, "## Keys with conflicting writes\n");
        let _ = writeln!(
            out,
            "| key | concurrent writes | LWW inversions |\n|---|---|---|"
        );
        for k in &report.conflict_keys {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&k.key),
                k.concurrent_writes,
                k.lww_inversions
            );
        }
        let _ = writeln!(out);
    }

    if !report.retries.is_empty() {
        let _ = writeln!(out, "## Retry verdicts\n");
        let _ = writeln!(out, "| verdict | requests |\n|---|---|");
        for (verdict, n) in &report.retries {
            let _ = writeln!(out, "| {verdict} | {n} |");
        }
        let _ = writeln!(out);
    }
    out
}

fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(out, "\n… and {} more {what}.", total - shown);
    }
}
