//! `causet export shiviz`: a trace as a ShiViz log.

use std::path::PathBuf;
use std::process::ExitCode;

use causet_analyzer::{Location, Settings};

use super::{open, write_output};

pub(crate) async fn shiviz(
    data: Location,
    trace_id: String,
    follow_links: bool,
    output: PathBuf,
) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, Settings::default()).await?;
    let built = analyzer.graph().await?;
    let diagram = causet_analyzer::explain::diagram(&built.graph, &trace_id, follow_links, &[])?;
    let events: Vec<u32> = diagram.rows.iter().map(|r| r.event).collect();
    write_output(
        Some(&output),
        &causet_analyzer::shiviz::log(&built.graph, &events),
    )?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "wrote {} events to {}; ShiViz parsing regex:\n{}",
            events.len(),
            output.display(),
            causet_analyzer::shiviz::REGEX
        );
    }
    Ok(ExitCode::SUCCESS)
}
