//! `causet why`: whether A happened before B, with the proof.

use std::process::ExitCode;

use causet_analyzer::Location;

use super::{open, write_output};
use crate::cli::WhyArgs;

pub(crate) async fn why(data: Location, args: WhyArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.memory.settings()).await?;
    let built = analyzer.graph().await?;
    let graph = &built.graph;
    let a = causet_analyzer::why::resolve(graph, &args.a)?;
    let b = causet_analyzer::why::resolve(graph, &args.b)?;
    let max_offset_ns = analyzer.settings().detect.max_offset_ns;
    let relation = causet_analyzer::why::relate(graph, a, b, max_offset_ns);
    write_output(
        None,
        &causet_analyzer::why::render(graph, &args.a, &args.b, &relation),
    )?;
    Ok(match relation {
        causet_analyzer::why::Relation::Concurrent(_) => ExitCode::from(3),
        causet_analyzer::why::Relation::Unknown(_) => ExitCode::from(4),
        _ => ExitCode::SUCCESS,
    })
}
