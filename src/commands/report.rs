//! `causet report`: the findings of a range as HTML, Markdown or JSON, compared with earlier reports.

use std::process::ExitCode;

use anyhow::Context as _;
use causet_analyzer::report::trend;
use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, Location, Settings, TimeRange};

use super::{open, spinner, write_output};
use crate::cli::{FindingsShown, ReportArgs, ReportFormat, epoch_ns, nanos};

pub(crate) async fn report(data: Location, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let fail_on = args.fail_on;
    let now = std::time::SystemTime::now();
    let (from_ns, to_ns) = match (args.since, args.from, args.to) {
        (Some(since), _, _) => (Some(epoch_ns(now - *since)), None),
        (None, from, to) => (from.map(|t| epoch_ns(*t)), to.map(|t| epoch_ns(*t))),
    };
    let size = args
        .window
        .map_or(WindowSize::Auto, |w| WindowSize::Fixed(nanos(*w)));
    let settings = Settings {
        range: TimeRange { from_ns, to_ns },
        horizon_ns: nanos(*args.horizon),
        window: size,
        ..args.detect.settings()?
    };
    let options = causet_analyzer::report::ReportOptions {
        from_ns,
        to_ns,
        max_offset_ns: settings.detect.max_offset_ns,
        phi_threshold: settings.detect.phi_threshold,
        data_dir: data.to_string(),
        generated_at_ns: epoch_ns(now),
    };
    let bar = spinner("analysing");
    let analyzer = open(&data, settings).await?;
    let (detected, stats) = analyzer.findings_windowed(size).await?;
    bar.finish_and_clear();
    tracing::info!(
        windows = stats.windows,
        spans_read = stats.spans_read,
        peak_analysis_bytes = stats.peak_bytes,
        analysis_bytes_per_span = stats.bytes_per_span(),
        "analysed"
    );
    let mut report = causet_analyzer::report::build(&detected, &options);
    let health = analyzer
        .ingest_health(
            TimeRange { from_ns, to_ns },
            nanos(*args.max_gap),
            epoch_ns(now),
        )
        .await?;
    let ingest_ok = health.ok();
    report.ingest = Some(health);
    compare(&mut report, &args)?;
    if args.format == ReportFormat::Html {
        draw_examples(&analyzer, &mut report, &detected.findings).await;
    }
    let text = match args.format {
        ReportFormat::Html => causet_analyzer::report::to_html(&report),
        ReportFormat::Md => causet_analyzer::report::to_markdown(&report),
        ReportFormat::Json if args.findings == FindingsShown::Top => {
            causet_analyzer::report::to_json(&report.with_top_findings()) + "\n"
        }
        ReportFormat::Json => causet_analyzer::report::to_json(&report) + "\n",
    };
    write_output(args.output.as_ref(), &text)?;
    if let Some(dir) = &args.history {
        let path = dir.join(trend::history_name(options.generated_at_ns));
        let json = causet_analyzer::report::to_json(&report.with_top_findings()) + "\n";
        write_atomically(&path, &json)?;
    }
    let failed = match args.fail_on_new {
        Some(threshold) => trend::new_reaches(&report, threshold),
        None => causet_analyzer::report::reaches(&report, fail_on),
    };
    Ok(if !ingest_ok {
        // Before the findings: they may be missing what did not arrive.
        ExitCode::from(3)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Marks the report's incidents against the earlier report (--compare-to,
/// or the newest in --history) and charts the history.
fn compare(report: &mut causet_analyzer::report::Report, args: &ReportArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.compare_to {
        let previous = trend::read(path)?;
        trend::compare(report, Some((&previous, &path.display().to_string())));
    }
    if let Some(dir) = &args.history {
        // The reports charted, oldest first, each read once; the newest is
        // also the one compared with, so it must read.
        let saved = trend::history(dir)?;
        let recent = &saved[saved.len().saturating_sub(trend::CHARTED - 1)..];
        let mut charted: Vec<trend::EarlierReport> = Vec::with_capacity(recent.len());
        for (i, path) in recent.iter().enumerate() {
            match trend::read(path) {
                Ok(earlier) => charted.push(earlier),
                Err(e) if i + 1 < recent.len() => tracing::warn!("history: skipping {e}"),
                Err(e) => return Err(e.into()),
            }
        }
        let newest = recent.last().map(|p| p.display().to_string());
        trend::compare(report, charted.last().zip(newest.as_deref()));
        trend::chart(report, &charted);
    }
    Ok(())
}

/// Draws the example trace of the worst incidents into the report, each
/// from the spans around it only; an example that cannot be drawn (its
/// trace too large, or gone) is left out with a note in the log.
async fn draw_examples(
    analyzer: &Analyzer,
    report: &mut causet_analyzer::report::Report,
    findings: &[causet_analyzer::detect::Finding],
) {
    use causet_analyzer::report::html::{DRAWN, DRAWN_ROWS};
    for incident in report.incidents.iter_mut().take(DRAWN) {
        let Some(trace) = incident.example.trace_ids.first() else {
            continue;
        };
        let time = incident.example.time_ns;
        match analyzer.diagram_near(trace, time, findings).await {
            Ok(diagram) if diagram.rows.len() <= DRAWN_ROWS => {
                incident.diagram = Some(causet_analyzer::explain::to_svg(&diagram));
            }
            Ok(diagram) => tracing::info!(
                trace,
                events = diagram.rows.len(),
                "example trace too large to draw inline; `causet explain` draws it"
            ),
            Err(e) => tracing::warn!(trace, "cannot draw the example: {e}"),
        }
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader never sees half a report.
fn write_atomically(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
