//! The report as Markdown, for a ticket or a chat.

use std::fmt::Write as _;

use super::{Report, ns};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders `report` as Markdown.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    let range = match (&report.range.from, &report.range.to) {
        (None, None) => "all data".to_owned(),
        (from, to) => format!(
            "{} to {}",
            from.as_deref().unwrap_or("the beginning"),
            to.as_deref().unwrap_or("now")
        ),
    };
    let _ = writeln!(out, "# causet report\n");
    let _ = writeln!(
        out,
        "{} findings in {range} ({}), made {}; clocks held to ±{}.\n",
        report.summary.findings,
        report.data_dir,
        report.generated_at,
        ns(Some(report.max_offset_ns))
    );

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
        let _ = writeln!(
            out,
            "| window | node | against | offset from | offset to | verdict | RPC pairs |\n|---|---|---|---|---|---|---|"
        );
        for o in &report.node_offsets {
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
        let _ = writeln!(out);
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

    if !report.findings.is_empty() {
        let _ = writeln!(out, "## Findings\n");
    }
    for (i, f) in report.findings.iter().enumerate() {
        let _ = writeln!(out, "### {}. {} ({})\n", i + 1, f.kind, f.severity);
        let _ = writeln!(out, "{}\n", f.summary);
        let _ = writeln!(out, "- time: {}", f.time);
        let _ = writeln!(out, "- nodes: {}", f.nodes.join(", "));
        let _ = writeln!(out, "- spans: {}", f.span_ids.join(", "));
        if let Some(key) = &f.key {
            let _ = writeln!(out, "- key: `{key}`");
        }
        let _ = writeln!(out, "- open: `{}`", f.explain);
        if let Some(why) = &f.why {
            let _ = writeln!(out, "- relate: `{why}`");
        }
        let _ = writeln!(
            out,
            "\n<details><summary>evidence and witness</summary>\n\n```json\n{}\n```\n\n```json\n{}\n```\n\n</details>\n",
            serde_json::to_string_pretty(&f.evidence).unwrap_or_default(),
            serde_json::to_string_pretty(&f.witness).unwrap_or_default()
        );
    }
    out
}
