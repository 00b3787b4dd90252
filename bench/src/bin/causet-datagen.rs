//! `causet-datagen`: analysis datasets straight to Parquet, and scoring of
//! a report's findings against what was injected.
//!
//! ```text
//! causet-datagen generate --spans 1000000 --data ./bench-data   # writes truth.json beside it
//! causet --data ./bench-data report --format json -o report.json
//! causet-datagen score --truth ./bench-data/truth.json --report report.json
//! causet-datagen otlp --requests 100000 --out traces.jsonl  # for causet import
//! causet-datagen otlp --requests 8000 --protobuf --out traces.pb  # one protobuf request
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use causet_bench::datagen::generate;
use causet_demo::truth::{Named, Truth, score};
use causet_schema::kinds::FindingKind;
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
        /// Spans per Parquet file (the collector's 10 s flushes of ~1,800
        /// spans/s would make files of ~18,000).
        #[arg(long, default_value_t = causet_bench::datagen::SPANS_PER_FILE)]
        spans_per_file: usize,
    },
    /// The ingest workload as an OTLP file for `causet import`: JSON lines
    /// (the OpenTelemetry Collector's file exporter format), or with
    /// `--protobuf` one protobuf request of all the spans.
    Otlp {
        /// Requests, one per line.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Spans per request.
        #[arg(long, default_value_t = 8)]
        spans: usize,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// Write one OTLP/protobuf request of all the spans instead.
        #[arg(long)]
        protobuf: bool,
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

/// What a report's finding names, owned (scoring borrows it as [`Named`]).
struct Reported {
    kind: FindingKind,
    key: Option<String>,
    nodes: Vec<String>,
    span_ids: Vec<String>,
}

impl Reported {
    fn from_json(finding: &Value) -> anyhow::Result<Reported> {
        let list = |name: &str| -> Vec<String> {
            finding[name]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let kind = finding["kind"]
            .as_str()
            .context("a finding without a kind")?;
        Ok(Reported {
            kind: kind.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
            key: finding["key"].as_str().map(str::to_owned),
            nodes: list("nodes"),
            span_ids: list("span_ids"),
        })
    }

    fn named(&self) -> Named<'_> {
        Named {
            kind: self.kind,
            key: self.key.as_deref(),
            nodes: &self.nodes,
            span_ids: &self.span_ids,
        }
    }
}

#[allow(clippy::print_stdout)]
fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate {
            spans,
            data,
            seed,
            spans_per_file,
        } => {
            let began = Instant::now();
            let generated = generate(&data, spans, seed, spans_per_file)?;
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
        Command::Otlp {
            requests,
            spans,
            out,
            protobuf: true,
        } => {
            use prost::Message as _;
            let request = causet_bench::workload::otlp_request(0, spans * requests as usize);
            std::fs::write(&out, request.encode_to_vec())
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "1 request of {} spans written to {}",
                spans * requests as usize,
                out.display()
            );
        }
        Command::Otlp {
            requests,
            spans,
            out,
            protobuf: false,
        } => {
            use std::io::Write as _;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut file = std::io::BufWriter::new(file);
            for seed in 0..requests {
                let request = causet_bench::workload::otlp_request(seed, spans);
                serde_json::to_writer(&mut file, &request)?;
                file.write_all(b"\n")?;
            }
            file.flush()?;
            println!(
                "{requests} requests of {spans} spans written to {}",
                out.display()
            );
        }
        Command::Score { truth, report } => {
            let truth: Vec<Truth> = serde_json::from_value(read_json(&truth)?)
                .context("truth.json is a list of truth items")?;
            let report = read_json(&report)?;
            let findings = report["findings"]
                .as_array()
                .context("the report has no findings list")?
                .iter()
                .map(Reported::from_json)
                .collect::<anyhow::Result<Vec<_>>>()?;
            println!(
                "{:<26} {:>8} {:>10} {:>9} {:>7}",
                "kind", "found", "precision", "expected", "recall"
            );
            for (kind, s) in score(findings.iter().map(Reported::named), &truth) {
                println!(
                    "{:<26} {:>8} {:>10.3} {:>9} {:>7.3}",
                    kind.as_str(),
                    s.found,
                    s.precision,
                    s.expected,
                    s.recall
                );
            }
        }
    }
    Ok(())
}
