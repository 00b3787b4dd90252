//! `causet demo`: a leaderless replicated key-value store traced with real
//! OpenTelemetry exporters, faults injected on purpose, and how causet's
//! findings compare with what was injected.
//!
//! Each simulated node has its own `SdkTracerProvider` (its own resource,
//! `service.instance.id`), exporting over OTLP/gRPC (or OTLP/HTTP) to a
//! collector: one started in-process on loopback port 0, or the one at
//! `--endpoint`. The run is deterministic for a seed. Afterwards the
//! ground truth goes to `truth.json`, the analyzer runs over the data
//! folder, and the demo prints the findings and the precision and recall of
//! each finding kind against the truth.

pub mod export;
pub mod faults;
pub mod rng;
pub mod sim;
pub mod truth;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use causet_analyzer::detect::{Finding, FindingKind};
use causet_analyzer::{Analyzer, DetectConfig};
use causet_collector::{Collector, CollectorConfig};
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

pub use faults::Faults;
use rng::{Rng, SeededIds};
use sim::{Node, Sim};
pub use truth::{Score, Truth};

/// Errors of a demo run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The collector failed.
    #[error(transparent)]
    Collector(#[from] causet_collector::Error),
    /// The analyzer failed.
    #[error(transparent)]
    Analyzer(#[from] causet_analyzer::Error),
    /// An exporter could not be built or flushed.
    #[error("OpenTelemetry exporter: {0}")]
    Exporter(String),
    /// Bad settings.
    #[error("{0}")]
    Usage(String),
    /// The truth file could not be written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// How to transport spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
}

/// A demo run's settings.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Replica nodes.
    pub nodes: usize,
    /// Client nodes.
    pub clients: usize,
    /// Client requests.
    pub requests: usize,
    /// Seed of every random choice and id.
    pub seed: u64,
    /// Explicit clock offsets, `(node, ns)`.
    pub skews: Vec<(String, i64)>,
    /// Faults to inject.
    pub faults: Faults,
    /// OTLP transport.
    pub transport: Transport,
    /// An external collector (gRPC `http://host:4317`, HTTP `http://host:4318`);
    /// `None` starts one in-process.
    pub endpoint: Option<String>,
    /// The data folder to write (in-process collector) and analyse.
    pub data_dir: PathBuf,
    /// Where to write the ground truth (default `DATA/truth.json`).
    pub truth_path: Option<PathBuf>,
    /// True time the run starts at, ns since the epoch.
    pub start_ns: i64,
}

/// What a run produced.
#[derive(Debug)]
pub struct DemoOutcome {
    /// Spans exported.
    pub requests: usize,
    /// What was injected.
    pub truth: Vec<Truth>,
    /// What causet found.
    pub findings: Vec<Finding>,
    /// Precision and recall per kind.
    pub scores: BTreeMap<FindingKind, Score>,
}

fn exporter(transport: Transport, endpoint: &str) -> Result<SpanExporter, Error> {
    let built = match transport {
        Transport::Grpc => {
            use opentelemetry_otlp::WithTonicConfig as _;
            SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .with_compression(opentelemetry_otlp::Compression::Gzip)
                .build()
        }
        Transport::Http => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build(),
    };
    built.map_err(|e| Error::Exporter(e.to_string()))
}

fn provider(
    name: &str,
    service: &str,
    exporter: SpanExporter,
    ids: &SeededIds,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_span_processor(export::InlineBatches::new(exporter))
        .with_id_generator(ids.clone())
        .with_resource(
            Resource::builder_empty()
                .with_attributes([
                    KeyValue::new("service.name", service.to_owned()),
                    KeyValue::new("service.instance.id", name.to_owned()),
                ])
                .build(),
        )
        .build()
}

/// The clock offsets the settings ask for, node by node.
fn offsets(config: &DemoConfig, replicas: &[String]) -> Result<HashMapOffsets, Error> {
    let mut offsets: HashMapOffsets = BTreeMap::new();
    if config.faults.skew
        && let Some(last) = replicas.last()
    {
        offsets.insert(last.clone(), -sim::JUMP);
    }
    for (node, ns) in &config.skews {
        offsets.insert(node.clone(), *ns);
    }
    Ok(offsets)
}

type HashMapOffsets = BTreeMap<String, i64>;

/// How fast a skewed node's clock gains: 200 ppm, 0.2 ms a second (a
/// poorly disciplined oscillator).
const SKEW_DRIFT_PPM: i64 = 200;

/// Runs the store, exports its spans, analyses them and scores the findings.
pub async fn run(config: DemoConfig) -> Result<DemoOutcome, Error> {
    if config.nodes < 2 || config.clients < 2 {
        return Err(Error::Usage(
            "the demo needs at least 2 nodes and 2 clients".into(),
        ));
    }
    let (collector, endpoint) = match &config.endpoint {
        Some(endpoint) => (None, endpoint.clone()),
        None => {
            let mut cc = CollectorConfig::new(&config.data_dir);
            cc.grpc_addr = "127.0.0.1:0".into();
            cc.http_addr = "127.0.0.1:0".into();
            let collector = Collector::bind(cc).await?;
            let addr = match config.transport {
                Transport::Grpc => collector.grpc_addr(),
                Transport::Http => collector.http_addr(),
            };
            let ingest = collector.ingest();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(collector.serve(async move {
                let _ = stopped.await;
            }));
            (Some((stop, task, ingest)), format!("http://{addr}"))
        }
    };

    let replica_names: Vec<String> = (0..config.nodes).map(|i| format!("kv-{i}")).collect();
    let offsets = offsets(&config, &replica_names)?;
    for node in offsets.keys() {
        if !replica_names.contains(node) {
            return Err(Error::Usage(format!(
                "--skew {node}: no such node; nodes are kv-0 .. kv-{}",
                config.nodes - 1
            )));
        }
    }
    let client_names: Vec<String> = (0..config.clients).map(|i| format!("client-{i}")).collect();
    for node in config.faults.named_nodes() {
        let replica = replica_names.iter().any(|n| n == node);
        let client = client_names.iter().any(|n| n == node);
        let in_partition = config
            .faults
            .partitions
            .iter()
            .any(|p| p.a.iter().chain(&p.b).any(|n| n == node));
        if !(replica || client && in_partition) {
            return Err(Error::Usage(format!(
                "--faults names {node}: no such node; replicas are kv-0 .. kv-{} (a partition may also name client-0 .. client-{})",
                config.nodes - 1,
                config.clients - 1
            )));
        }
    }
    let sim_config = config.clone();
    // The simulation is synchronous and waits for its exports
    // (export::InlineBatches), on a thread that may block and where the
    // runtime the exporters' clients need is at hand.
    let (sim_requests, truth) =
        tokio::task::spawn_blocking(move || -> Result<(usize, Vec<Truth>), Error> {
            let config = sim_config;
            let ids = SeededIds(Arc::new(Mutex::new(Rng::new(config.seed ^ 0x5eed))));
            let mut providers = Vec::new();
            let mut make = |name: &str, service: &str, offset: i64| -> Result<Node, Error> {
                let p = provider(name, service, exporter(config.transport, &endpoint)?, &ids);
                let tracer = p.tracer("causet-demo");
                providers.push(p);
                // A skewed clock also runs at a slightly wrong rate.
                let drift_ppm = if offset != 0 { SKEW_DRIFT_PPM } else { 0 };
                Ok(Node::new(name.to_owned(), tracer, offset, drift_ppm))
            };
            let replicas = replica_names
                .iter()
                .map(|n| make(n, "kv", offsets.get(n).copied().unwrap_or(0)))
                .collect::<Result<Vec<_>, _>>()?;
            let clients = client_names
                .iter()
                .map(|n| make(n, "client", 0))
                .collect::<Result<Vec<_>, _>>()?;
            let mut sim = Sim::new(
                config.seed,
                config.faults.clone(),
                config.start_ns,
                replicas,
                clients,
            );
            sim.run(config.requests);
            let mut truth = std::mem::take(&mut sim.truth);
            truth.extend(clock_truth(&config, &offsets, &replica_names));
            drop(sim);
            for p in providers {
                p.shutdown().map_err(|e| Error::Exporter(e.to_string()))?;
            }
            Ok((config.requests, truth))
        })
        .await
        .map_err(|e| Error::Exporter(e.to_string()))??;

    if let Some((stop, task, ingest)) = collector {
        ingest.store().flush().await?;
        drop(ingest);
        let _ = stop.send(());
        task.await.map_err(|e| Error::Exporter(e.to_string()))??;
    }

    let truth_path = config
        .truth_path
        .clone()
        .unwrap_or_else(|| config.data_dir.join("truth.json"));
    let text = serde_json::to_string_pretty(&truth).unwrap_or_default();
    std::fs::write(&truth_path, text + "\n").map_err(|source| Error::Io {
        path: truth_path.display().to_string(),
        source,
    })?;

    let analyzer = Analyzer::open(&config.data_dir).await?;
    let findings = analyzer.findings().await?.findings.clone();
    let scores = truth::score(findings.iter().map(Into::into), &truth);
    Ok(DemoOutcome {
        requests: sim_requests,
        truth,
        findings,
        scores,
    })
}

/// Truth about clocks: skewed and jumping nodes, and their consequences.
fn clock_truth(config: &DemoConfig, offsets: &HashMapOffsets, replicas: &[String]) -> Vec<Truth> {
    let max_offset = DetectConfig::default().max_offset_ns;
    let mut truth = Vec::new();
    let mut add = |kind: FindingKind, node: &str, required: bool, note: String| {
        truth.push(Truth::about(kind, node, required, &note))
    };
    for (node, &offset) in offsets {
        if offset == 0 {
            continue;
        }
        let note = format!("{node}'s clock offset {} ms", offset / 1_000_000);
        let beyond = offset.abs() > max_offset;
        add(
            FindingKind::SkewExceedsMaxOffset,
            node,
            beyond,
            note.clone(),
        );
        add(FindingKind::CausalityViolation, node, beyond, note.clone());
        add(FindingKind::OffsetInconsistent, node, false, note.clone());
        add(FindingKind::HlcDrift, node, false, note.clone());
        if offset > max_offset {
            // Peers' HLCs absorb a clock that is ahead.
            for peer in replicas {
                add(FindingKind::HlcDrift, peer, false, note.clone());
            }
        }
    }
    if config.faults.clock_jump {
        let node = &replicas[1 % replicas.len()];
        let note = format!(
            "{node}'s clock steps back {} ms halfway",
            sim::JUMP / 1_000_000
        );
        add(FindingKind::ClockJump, node, true, note.clone());
        for kind in [
            FindingKind::CausalityViolation,
            FindingKind::SkewExceedsMaxOffset,
            FindingKind::OffsetInconsistent,
            FindingKind::HlcDrift,
        ] {
            add(kind, node, false, note.clone());
        }
    }
    truth
}

/// The run in words: findings by kind and severity, then precision and
/// recall per kind against the truth.
pub fn summary(outcome: &DemoOutcome) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut by_kind: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in &outcome.findings {
        *by_kind
            .entry((f.kind.as_str(), f.severity.as_str()))
            .or_default() += 1;
    }
    let _ = writeln!(
        out,
        "{} requests, {} findings, {} injected faults ({} that must be found).\n",
        outcome.requests,
        outcome.findings.len(),
        outcome.truth.len(),
        outcome.truth.iter().filter(|t| t.required).count()
    );
    let _ = writeln!(out, "{:<26} {:<8} {:>8}", "finding", "severity", "count");
    for ((kind, severity), n) in &by_kind {
        let _ = writeln!(out, "{kind:<26} {severity:<8} {n:>8}");
    }
    let _ = writeln!(
        out,
        "\n{:<26} {:>6} {:>6} {:>9} {:>6} {:>8}",
        "against the truth", "found", "right", "precision", "must", "recall"
    );
    for (kind, s) in &outcome.scores {
        let _ = writeln!(
            out,
            "{kind:<26} {:>6} {:>6} {:>9.2} {:>6} {:>8.2}",
            s.found, s.true_positives, s.precision, s.expected, s.recall
        );
    }
    out
}
