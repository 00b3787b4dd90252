//! `causet sql`: a query, a file of them, or the interactive prompt.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use causet_analyzer::Location;
use causet_analyzer::output::Format;

use super::open;
use crate::cli::SqlArgs;

pub(crate) async fn sql(data: Location, args: SqlArgs) -> anyhow::Result<ExitCode> {
    if args.format == Format::Parquet && args.output.is_none() {
        anyhow::bail!("--format parquet needs -o FILE");
    }
    let analyzer = open(&data, args.detect.settings()?).await?;
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let query = match (args.query, args.file) {
        (Some(query), _) => query,
        (None, Some(file)) => std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?,
        (None, None) if std::io::stdin().is_terminal() => {
            causet_analyzer::shell::run(&analyzer, args.format, &mut out, &mut std::io::stderr())
                .await?;
            return Ok(ExitCode::SUCCESS);
        }
        (None, None) => {
            std::io::read_to_string(std::io::stdin()).context("cannot read SQL from stdin")?
        }
    };
    let results = analyzer.run(&query).await?;
    causet_analyzer::output::write(args.format, &results, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
