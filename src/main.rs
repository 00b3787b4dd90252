//! `causet`: what happened before what, from OpenTelemetry traces.
//!
//! This binary only parses the command line and dispatches; the work lives in
//! the `causet-collector` and `causet-analyzer` libraries.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use causet_analyzer::Analyzer;
use causet_analyzer::output::Format;
use causet_collector::{Collector, CollectorConfig, Ingest, Limits, Store, StoreConfig};
use clap::{Args, Parser, Subcommand};

/// What happened before what: collect OpenTelemetry spans annotated with
/// vector clocks, HLCs or Lamport timestamps, and query their causality.
#[derive(Debug, Parser)]
#[command(name = "causet", version, about, long_about = None)]
struct Cli {
    /// Data folder: Parquet tables and the write-ahead log.
    #[arg(
        long,
        global = true,
        env = "CAUSET_DATA",
        default_value = "./causet-data"
    )]
    data: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Receive OTLP traces over gRPC and HTTP and store them durably.
    ///
    /// An export is acknowledged once it is in the write-ahead log on disk;
    /// the log is flushed to Parquet every --flush-interval. SIGINT or
    /// SIGTERM stops accepting, flushes everything and exits 0.
    Collect(CollectArgs),
    /// Store OTLP files (JSON, JSON lines or protobuf) as the collector would.
    ///
    /// Exit status: 0 when every span was stored, 1 when some were rejected
    /// (the summary says why), 2 on errors.
    Import(ImportArgs),
    /// Run SQL over the collected spans and the happens-before graph.
    ///
    /// With QUERY or -f, runs it (several ;-separated statements allowed)
    /// and exits non-zero on error. Otherwise reads SQL from stdin: an
    /// interactive prompt on a terminal, statements from a pipe.
    Sql(SqlArgs),
}

#[derive(Debug, Args)]
struct CollectArgs {
    /// OTLP/gRPC listen address (port 0: any free port).
    #[arg(long, default_value = causet_collector::server::DEFAULT_GRPC_ADDR)]
    grpc: String,
    /// OTLP/HTTP listen address (port 0: any free port).
    #[arg(long, default_value = causet_collector::server::DEFAULT_HTTP_ADDR)]
    http: String,
    /// Longest time acknowledged spans wait in the log before going to Parquet.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    flush_interval: Duration,
    /// Largest request accepted, in bytes, after decompression.
    #[arg(long, default_value_t = Limits::default().max_request_bytes)]
    max_request_bytes: usize,
    /// Most request bytes held at once; beyond it exporters are told to retry.
    #[arg(long, default_value_t = Limits::default().max_inflight_bytes)]
    max_inflight_bytes: usize,
    /// Write {"grpc":ADDR,"http":ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// OTLP files to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct SqlArgs {
    /// SQL to run.
    query: Option<String>,
    /// Read SQL from this file.
    #[arg(short = 'f', long = "file", conflicts_with = "query")]
    file: Option<PathBuf>,
    /// Output format: table, csv, json, ndjson or parquet.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    format: Format,
    /// Write the output here instead of stdout (required for parquet).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: causet_analyzer::Error| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Collect(args) => collect(cli.data, args).await,
            Command::Import(args) => import(cli.data, args).await,
            Command::Sql(args) => sql(cli.data, args).await,
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
}

async fn collect(data: PathBuf, args: CollectArgs) -> anyhow::Result<ExitCode> {
    let mut config = CollectorConfig::new(&data);
    config.store.flush_interval = args.flush_interval;
    config.grpc_addr = args.grpc;
    config.http_addr = args.http;
    config.limits = Limits {
        max_request_bytes: args.max_request_bytes,
        max_inflight_bytes: args.max_inflight_bytes,
    };
    config.ready_file = args.ready_file;
    let collector = Collector::bind(config)
        .await
        .with_context(|| format!("cannot start the collector on {}", data.display()))?;
    collector.serve(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the collector");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[allow(clippy::print_stdout)]
async fn import(data: PathBuf, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = StoreConfig::new(&data);
    let store = tokio::task::spawn_blocking(move || Store::open(config))
        .await?
        .with_context(|| format!("cannot open {}", data.display()))?;
    let ingest = Ingest::new(store, Limits::default());
    let bar = progress_bar(&args.files);
    let mut any_rejected = false;
    for file in &args.files {
        let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let start = bar.position();
        let summary = causet_collector::import_file(&ingest, file, &mut |done| {
            bar.set_position(start + done.min(len))
        })
        .await
        .with_context(|| format!("cannot import {}", file.display()))?;
        bar.set_position(start + len);
        bar.suspend(|| {
            println!(
                "{}: {} requests, {} spans accepted, {} rejected",
                file.display(),
                summary.requests,
                summary.accepted,
                summary.rejected
            );
            for error in &summary.errors {
                println!("  {error}");
            }
        });
        any_rejected |= summary.rejected > 0 || !summary.errors.is_empty();
    }
    bar.finish_and_clear();
    ingest.store().flush().await?;
    tokio::task::spawn_blocking(move || ingest.store().close()).await?;
    Ok(if any_rejected {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A byte progress bar on a terminal; hidden when stderr is not one.
fn progress_bar(files: &[PathBuf]) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let total = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

async fn sql(data: PathBuf, args: SqlArgs) -> anyhow::Result<ExitCode> {
    if args.format == Format::Parquet && args.output.is_none() {
        anyhow::bail!("--format parquet needs -o FILE");
    }
    let analyzer = Analyzer::open(&data)
        .await
        .with_context(|| format!("cannot open {}", data.display()))?;
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
