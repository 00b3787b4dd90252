//! `causet cut`: the consistent cut at a moment.

use std::process::ExitCode;

use causet_analyzer::Location;

use super::{open, write_output};
use crate::cli::{CutArgs, epoch_ns, nanos};

pub(crate) async fn cut(data: Location, args: CutArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.detect.settings()?).await?;
    let at = epoch_ns(*args.at);
    let text = analyzer.cut(at, nanos(*args.lookback), &args.keys).await?;
    write_output(None, &text)?;
    Ok(ExitCode::SUCCESS)
}
