//! `causet-datagen`: analysis datasets straight to Parquet, and scoring of
//! a report's findings against what was injected.
//!
//! ```text
//! causet-datagen generate --spans 1000000 --data ./bench-data   # writes truth.json beside it
//! causet --data ./bench-data report --format json -o report.json
//! causet-datagen score --truth ./bench-data/truth.json --report report.json
//! ```

use std::collections::{BTreeMap, HashSet};
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

/// What a reported finding is about, as (kind, subject) pairs: its key,
/// nodes and spans, matched against truth subjects as the demo scores.
fn subjects(finding: &Value) -> Vec<(&str, &str)> {
    let kind = finding["kind"].as_str().unwrap_or("?");
    let listed = ["nodes", "span_ids"]
        .iter()
        .filter_map(|list| finding[list].as_array())
        .flatten()
        .filter_map(Value::as_str);
    finding["key"]
        .as_str()
        .into_iter()
        .chain(listed)
        .map(|subject| (kind, subject))
        .collect()
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
            // Indexed both ways, so scoring is linear in findings and truth.
            let of = |t: &Value| {
                (
                    t["kind"].as_str().unwrap_or("?").to_owned(),
                    t["subject"].as_str().unwrap_or("").to_owned(),
                )
            };
            let injected: HashSet<(String, String)> = truth.iter().map(of).collect();
            let mut reported: HashSet<(&str, &str)> = HashSet::new();
            let mut kinds: BTreeMap<String, [usize; 4]> = BTreeMap::new();
            for finding in findings {
                let about = subjects(finding);
                let explained = about
                    .iter()
                    .any(|&(k, s)| injected.contains(&(k.to_owned(), s.to_owned())));
                reported.extend(about);
                let entry = kinds
                    .entry(finding["kind"].as_str().unwrap_or("?").to_owned())
                    .or_default();
                entry[0] += 1;
                entry[1] += usize::from(explained);
            }
            for item in truth.iter().filter(|t| t["required"] == true) {
                let (kind, subject) = of(item);
                let found = reported.contains(&(kind.as_str(), subject.as_str()));
                let entry = kinds.entry(kind).or_default();
                entry[2] += 1;
                entry[3] += usize::from(found);
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
