//! `causet import`: OTLP files stored as the collector would store them.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use causet_analyzer::Location;
use causet_collector::{Ingest, Limits, Store};

use super::store_config;
use crate::cli::ImportArgs;

#[allow(clippy::print_stdout)]
pub(crate) async fn import(data: Location, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = store_config(&data, args.wal)?;
    let store = tokio::task::spawn_blocking(move || Store::open(config))
        .await?
        .with_context(|| format!("cannot open {data}"))?;
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
