//! `causet diff`: how a bad trace differs from a good one.

use std::process::ExitCode;

use causet_analyzer::{Location, Settings, TimeRange};

use super::{open, write_output};
use crate::cli::{DiffArgs, epoch_ns};

pub(crate) async fn diff(data: Location, args: DiffArgs) -> anyhow::Result<ExitCode> {
    use causet_analyzer::{diff, explain};
    let ns = |t: Option<humantime::Timestamp>| t.map(|t| epoch_ns(*t));
    let settings = Settings {
        range: TimeRange {
            from_ns: ns(args.from),
            to_ns: ns(args.to),
        },
        ..args.detect.settings()?
    };
    let analyzer = open(&data, settings).await?;
    let built = analyzer.graph().await?;
    let graph = &built.graph;
    let mut text = String::new();
    let (good, bad) = match (&args.traces[..], args.baseline) {
        ([bad], true) => match diff::baseline(graph, bad, analyzer.settings().range)? {
            Some(base) => {
                text = format!(
                    "baseline: {} ({} of the {} other traces of the operation share its structure)\n",
                    base.trace, base.sharing, base.of
                );
                (base.trace, bad.clone())
            }
            None => anyhow::bail!("no other trace of {bad}'s operation to compare with"),
        },
        ([good, bad], false) => (good.clone(), bad.clone()),
        _ => anyhow::bail!("give GOOD BAD, or BAD with --baseline"),
    };
    let bad_diagram = explain::diagram(graph, &bad, false, &[])?.with_critical_path(graph);
    let critical: Vec<u32> = bad_diagram
        .critical
        .iter()
        .map(|&r| graph.span_of(bad_diagram.rows[r].event))
        .collect();
    let found = diff::diff(graph, &good, &bad, &critical)?;
    text.push_str(&diff::to_text(graph, &good, &bad, &found));
    if let Some(path) = &args.html {
        let good_diagram = explain::diagram(graph, &good, false, &[])?.with_critical_path(graph);
        write_output(
            Some(path),
            &diff::to_html(&text, &good_diagram, &bad_diagram),
        )?;
    }
    write_output(None, &text)?;
    Ok(if found.differs() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
