//! `causet-datagen`: analysis datasets straight to Parquet, and scoring of
//! a report's findings against what was injected.
//!
//! ```text
//! causet-datagen generate --spans 1000000 --data ./bench-data   # writes truth.json beside it
//! causet --data ./bench-data report --format json -o report.json
//! causet-datagen score --truth ./bench-data/truth.json --report report.json
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use causet_bench::datagen::generate;
use clap::{Parser, Subcommand};
use serde_json::Value;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Analysis datasets for causet, and scoring against what they inject"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a dataset (Parquet, the collector's layout) and its truth.json.
    Generate {
        /// About this many spans (whole traces).
        #[arg(long, default_value_t = 1_000_000)]
        spans: u64,
        /// The data folder to write (truth.json goes inside it).
        #[arg(long)]
        data: PathBuf,
        /// Seed of every choice.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Precision and recall per finding kind of a `causet report --format json`.
    Score {
        /// The truth.json of the dataset.
        #[arg(long)]
        truth: PathBuf,
        /// The report.
        #[arg(long)]
        report: PathBuf,
    },
}

fn read_json(path: &PathBuf) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Whether a reported finding is about a truth item's subject (a node, a
/// key or a span), as the demo scores.
fn about(finding: &Value, truth: &Value) -> bool {
    let subject = &truth["subject"];
    finding["kind"] == truth["kind"]
        && (finding["key"] == *subject
            || ["nodes", "span_ids"].iter().any(|list| {
                finding[list]
                    .as_array()
                    .is_some_and(|l| l.contains(subject))
            }))
}

#[allow(clippy::print_stdout)]
fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate { spans, data, seed } => {
            let began = Instant::now();
            let generated = generate(&data, spans, seed)?;
            let truth = data.join("truth.json");
            std::fs::write(&truth, serde_json::to_string_pretty(&generated.truth)?)?;
            println!(
                "{} spans in {} traces written to {} in {:.1} s; {} truth items in {}",
                generated.spans,
                generated.traces,
                data.display(),
                began.elapsed().as_secs_f64(),
                generated.truth.len(),
                truth.display()
            );
        }
        Command::Score { truth, report } => {
            let truth = read_json(&truth)?;
            let report = read_json(&report)?;
            let truth = truth.as_array().context("truth.json is a list")?;
            let findings = report["findings"]
                .as_array()
                .context("the report has no findings list")?;
            let mut kinds: BTreeMap<String, [usize; 4]> = BTreeMap::new();
            for finding in findings {
                let entry = kinds
                    .entry(finding["kind"].as_str().unwrap_or("?").to_owned())
                    .or_default();
                entry[0] += 1;
                entry[1] += usize::from(truth.iter().any(|t| about(finding, t)));
            }
            for item in truth.iter().filter(|t| t["required"] == true) {
                let entry = kinds
                    .entry(item["kind"].as_str().unwrap_or("?").to_owned())
                    .or_default();
                entry[2] += 1;
                entry[3] += usize::from(findings.iter().any(|f| about(f, item)));
            }
            println!(
                "{:<26} {:>8} {:>10} {:>9} {:>7}",
                "kind", "found", "precision", "expected", "recall"
            );
            let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
            for (kind, [found, true_positives, expected, recalled]) in kinds {
                println!(
                    "{kind:<26} {found:>8} {:>10.3} {expected:>9} {:>7.3}",
                    ratio(true_positives, found),
                    ratio(recalled, expected)
                );
            }
        }
    }
    Ok(())
}
