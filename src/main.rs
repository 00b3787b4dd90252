//! `causet`: what happened before what, from OpenTelemetry traces.
//!
//! This binary only parses the command line ([`cli`]) and dispatches to
//! one module per command ([`commands`]); the work lives in the
//! `causet-collector` and `causet-analyzer` libraries.

mod cli;
mod commands;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use causet_analyzer::Location;
use clap::Parser as _;

use cli::{Cli, Command, ExportCommand};

/// The command line with the data folder settled.
struct Resolved {
    data: Location,
    data_given: bool,
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The collector reports what it does; the other commands only warn.
    init_logging(
        if matches!(cli.command, Command::Collect(_) | Command::Worker(_)) {
            "info"
        } else {
            "warn"
        },
    );
    let data_given = cli.data.is_some();
    let default_data = if matches!(cli.command, Command::Demo(_)) {
        "./causet-demo"
    } else {
        "./causet-data"
    };
    let cli = Resolved {
        data: cli
            .data
            .unwrap_or_else(|| Location::Folder(PathBuf::from(default_data))),
        data_given,
        command: cli.command,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Collect(args) => commands::collect(cli.data, args).await,
            Command::Import(args) => commands::import(cli.data, args).await,
            Command::Sql(args) => commands::sql(cli.data, args).await,
            Command::Report(args) => commands::report(cli.data, args).await,
            Command::Explain(args) => commands::explain(cli.data, args).await,
            Command::Why(args) => commands::why(cli.data, args).await,
            Command::Cut(args) => commands::cut(cli.data, args).await,
            Command::Diff(args) => commands::diff(cli.data, args).await,
            Command::Compact(args) => commands::compact(cli.data, args).await,
            Command::Serve(args) => commands::serve(cli.data, args).await,
            Command::Worker(args) => commands::worker(cli.data, args).await,
            Command::Export(ExportCommand::Shiviz {
                trace_id,
                follow_links,
                output,
            }) => commands::shiviz(cli.data, trace_id, follow_links, output).await,
            Command::Demo(args) => commands::demo(cli.data, cli.data_given, args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

/// Prints the error and the causes that add to it (DataFusion's messages
/// already include their sources), and maps it to exit status 2.
fn fail(error: anyhow::Error) -> ExitCode {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("causet: {message}");
    }
    ExitCode::from(2)
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
}
