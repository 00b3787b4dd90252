//! `causet explain`: a trace drawn as a space-time diagram.

use std::process::ExitCode;

use causet_analyzer::Location;

use super::{open, write_output};
use crate::cli::ExplainArgs;

pub(crate) async fn explain(data: Location, args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.detect.settings()?).await?;
    let detected = analyzer.findings().await?;
    let built = analyzer.graph().await?;
    let mut diagram = causet_analyzer::explain::diagram(
        &built.graph,
        &args.trace_id,
        args.follow_links,
        &detected.findings,
    )?;
    if args.critical_path {
        diagram = diagram.with_critical_path(&built.graph);
    }
    if let Some(path) = &args.svg {
        write_output(Some(path), &causet_analyzer::explain::to_svg(&diagram))?;
    }
    if let Some(path) = &args.html {
        write_output(Some(path), &causet_analyzer::explain::to_html(&diagram))?;
    }
    if args.svg.is_none() && args.html.is_none() {
        write_output(None, &causet_analyzer::explain::to_text(&diagram))?;
    }
    Ok(ExitCode::SUCCESS)
}
