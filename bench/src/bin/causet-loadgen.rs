//! `causet-loadgen`: OTLP load against a `causet collect`, with the figures
//! that say what the collector costs.
//!
//! It starts the collector itself (the `causet` binary next to this one, on
//! a fresh data folder) unless `--endpoint` and `--collector-pid` name one
//! already running. Requests are encoded before the clock starts, as
//! templates ([`Template`]) that each send copies with fresh ids and
//! tokens, so no span repeats in a run and the generator spends its CPU on
//! sending, not on protobuf. It reports spans/s
//! acknowledged, ack latency, the collector's CPU time per span and peak RSS
//! (from /proc), Parquet bytes per span, and in the same run the floor: prost
//! decoding the same requests in this process, and the ratio of the two.
//!
//! ```text
//! causet-loadgen --duration 20s --connections 8              # as fast as it goes
//! causet-loadgen --duration 20s --rate 100000 --protocol http
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::{Buf as _, BufMut as _};
use causet_bench::child::{Collector, start_collector};
use causet_bench::workload::{SPANS_PER_REQUEST, Template, otlp_request};
use causet_demo::rng::Rng;
use clap::{Parser, ValueEnum};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    Grpc,
    Http,
}

#[derive(Debug, Parser)]
#[command(version, about = "OTLP load generator for causet collect")]
struct Args {
    /// OTLP/gRPC or OTLP/HTTP (protobuf).
    #[arg(long, value_enum, default_value = "grpc")]
    protocol: Protocol,
    /// Concurrent connections, one request in flight on each.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// How long to send.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Offered spans per second over all connections (default: as fast as acknowledged).
    #[arg(long)]
    rate: Option<u64>,
    /// Spans per request.
    #[arg(long, default_value_t = SPANS_PER_REQUEST)]
    spans: usize,
    /// Request templates encoded up front (services, shapes and attribute
    /// values differ between them); every send copies one with fresh ids
    /// and tokens.
    #[arg(long, default_value_t = 64)]
    templates: u64,
    /// Gzip every request (level 1), as the OpenTelemetry Collector's
    /// exporters do by default.
    #[arg(long)]
    gzip: bool,
    /// A running collector's address (host:port of the chosen protocol).
    #[arg(long, requires = "collector_pid")]
    endpoint: Option<String>,
    /// The running collector's process id, for its CPU time and memory.
    #[arg(long, requires = "endpoint")]
    collector_pid: Option<u32>,
    /// The data folder of a running collector, for bytes on disk.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The causet binary to start (default: next to this one).
    #[arg(long)]
    causet: Option<PathBuf>,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// A collector this run started, on a temporary data folder.
struct Started {
    collector: Collector,
    data: tempfile::TempDir,
}

fn start(causet: &Path) -> anyhow::Result<Started> {
    let data = tempfile::Builder::new()
        .prefix("causet-loadgen")
        .tempdir()?;
    let collector = start_collector(causet, &data.path().join("data"), &[])?;
    Ok(Started { collector, data })
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // SC_CLK_TCK is 100 on Linux for every architecture causet runs on.
    Ok(ticks / 100.0)
}

/// A /proc/PID/status field in bytes (VmRSS, VmHWM).
fn status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed /proc status line")?
        .parse()?;
    Ok(kib * 1024)
}

/// Bytes of Parquet under `dir`.
fn parquet_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                total += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
    total
}

/// Sends pre-encoded bytes as the Export request.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = bytes::Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: bytes::Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

/// What the senders saw.
#[derive(Default)]
struct Tally {
    acked_spans: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
}

/// One connection's share of the load.
struct Sender {
    addr: String,
    requests: Arc<Vec<Template>>,
    /// Sends so far over all connections: each send's key.
    sent: Arc<AtomicU64>,
    seed: u64,
    /// This connection sends requests first, first + step, ...
    first: usize,
    step: usize,
    spans: u64,
    /// Time between sends when the rate is fixed.
    pace: Option<Duration>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
}

impl Sender {
    /// Sends until stopped; returns each request's ack latency in µs.
    async fn run(self, protocol: Protocol, gzip: bool) -> anyhow::Result<Vec<u32>> {
        let client = Client::connect(protocol, &self.addr, gzip).await?;
        self.drive(client).await
    }

    /// Sends this connection's requests in turn, paced if asked, until
    /// stopped; counts each answer and returns each ack latency in µs.
    async fn drive(&self, mut client: Client) -> anyhow::Result<Vec<u32>> {
        // Connections start staggered over one interval, as independent
        // exporters would, instead of all sending at the same instant.
        let offset = self.pace.map_or(Duration::ZERO, |pace| {
            pace.mul_f64(self.first as f64 / self.step as f64)
        });
        let mut next = Instant::now() + offset;
        let mut i = self.first;
        let mut latencies = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            if let Some(pace) = self.pace {
                tokio::time::sleep_until(next.into()).await;
                next += pace;
            }
            let n = self.sent.fetch_add(1, Ordering::Relaxed);
            let key = [
                Rng::new(self.seed ^ n).next_u64(),
                Rng::new(!self.seed ^ n).next_u64(),
            ];
            let body = bytes::Bytes::from(self.requests[i % self.requests.len()].render(key));
            i += self.step;
            let sent = Instant::now();
            let answer = client.send(body).await?;
            latencies.push(micros(sent));
            let counter = match answer {
                Answer::Acked => {
                    self.tally
                        .acked_spans
                        .fetch_add(self.spans, Ordering::Relaxed);
                    continue;
                }
                Answer::Refused => &self.tally.refused,
                Answer::Failed => &self.tally.failed,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(latencies)
    }
}

/// One connection to the collector, of either protocol.
enum Client {
    Grpc {
        grpc: tonic::client::Grpc<tonic::transport::Channel>,
        path: http::uri::PathAndQuery,
    },
    Http {
        client: reqwest::Client,
        url: String,
        gzip: bool,
    },
}

impl Client {
    async fn connect(protocol: Protocol, addr: &str, gzip: bool) -> anyhow::Result<Client> {
        Ok(match protocol {
            Protocol::Grpc => {
                let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
                    .connect()
                    .await?;
                let mut grpc =
                    tonic::client::Grpc::new(channel).max_encoding_message_size(usize::MAX);
                if gzip {
                    grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
                }
                Client::Grpc {
                    grpc,
                    path: http::uri::PathAndQuery::from_static(
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                    ),
                }
            }
            Protocol::Http => Client::Http {
                client: reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()?,
                url: format!("http://{addr}/v1/traces"),
                gzip,
            },
        })
    }

    /// Exports pre-encoded `body` and says how the collector answered.
    async fn send(&mut self, body: bytes::Bytes) -> anyhow::Result<Answer> {
        Ok(match self {
            Client::Grpc { grpc, path } => {
                grpc.ready().await?;
                let outcome = grpc
                    .unary(tonic::Request::new(body), path.clone(), RawCodec)
                    .await;
                match outcome {
                    Ok(_) => Answer::Acked,
                    Err(s) if s.code() == tonic::Code::Unavailable => Answer::Refused,
                    Err(_) => Answer::Failed,
                }
            }
            Client::Http { client, url, gzip } => {
                let mut request = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf");
                let body = if *gzip {
                    request = request.header("content-encoding", "gzip");
                    gzipped(&body)?.into()
                } else {
                    body
                };
                let status = request.body(body).send().await.map(|r| r.status().as_u16());
                match status {
                    Ok(200) => Answer::Acked,
                    Ok(503) => Answer::Refused,
                    _ => Answer::Failed,
                }
            }
        })
    }
}

fn gzipped(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body)?;
    encoder.finish()
}

/// How the collector answered one export.
enum Answer {
    Acked,
    /// Told to retry later (503 / UNAVAILABLE).
    Refused,
    Failed,
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// The decode-only floor: CPU seconds per span to prost-decode `requests`
/// on one thread, best of three passes.
fn decode_floor(requests: &[bytes::Bytes], spans: u64) -> f64 {
    let passes = (500_000 / (spans.max(1) * requests.len() as u64)).max(1);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for _ in 0..passes {
            for bytes in requests {
                let request = ExportTraceServiceRequest::decode(bytes.as_ref()).expect("valid");
                std::hint::black_box(request);
            }
        }
        let per_span =
            start.elapsed().as_secs_f64() / (passes * requests.len() as u64 * spans) as f64;
        best = best.min(per_span);
    }
    best
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[rank]) / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let spans = args.spans as u64;
    let requests: Vec<Template> = (0..args.templates.max(1))
        .map(|seed| Template::new(&otlp_request(seed, args.spans)))
        .collect();
    let request_bytes =
        requests.iter().map(|r| r.bytes().len() as u64).sum::<u64>() / requests.len() as u64;
    let encoded: Vec<bytes::Bytes> = requests
        .iter()
        .take(64)
        .map(|t| bytes::Bytes::copy_from_slice(t.bytes()))
        .collect();
    let floor = decode_floor(&encoded, spans);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let sent = Arc::new(AtomicU64::new(0));

    let (mut started, pid, addr, data_dir) = match (&args.endpoint, args.collector_pid) {
        (Some(endpoint), Some(pid)) => (None, pid, endpoint.clone(), args.data.clone()),
        _ => {
            let causet = match &args.causet {
                Some(path) => path.clone(),
                None => std::env::current_exe()?.with_file_name("causet"),
            };
            let started = start(&causet)?;
            let addr = match args.protocol {
                Protocol::Grpc => started.collector.grpc.clone(),
                Protocol::Http => started.collector.http.clone(),
            };
            let pid = started.collector.child.id();
            let data = started.data.path().join("data");
            (Some(started), pid, addr, Some(data))
        }
    };

    let requests = Arc::new(requests);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let pace = args.rate.map(|rate| {
        let per_connection = rate as f64 / args.connections as f64;
        Duration::from_secs_f64(spans as f64 / per_connection.max(1e-9))
    });
    let cpu_before = cpu_seconds(pid)?;
    let began = Instant::now();
    let mut senders = Vec::new();
    for c in 0..args.connections {
        let sender = Sender {
            addr: addr.clone(),
            requests: Arc::clone(&requests),
            sent: Arc::clone(&sent),
            seed,
            first: c,
            step: args.connections,
            spans,
            pace,
            stop: Arc::clone(&stop),
            tally: Arc::clone(&tally),
        };
        senders.push(tokio::spawn(sender.run(args.protocol, args.gzip)));
    }
    tokio::time::sleep(args.duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for sender in senders {
        latencies.extend(sender.await??);
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid)? - cpu_before;
    let peak_rss = status_bytes(pid, "VmHWM:")?;
    latencies.sort_unstable();

    // Stop a collector we started, so everything acknowledged is in Parquet.
    if let Some(started) = &mut started {
        Command::new("kill")
            .args(["-TERM", &started.collector.child.id().to_string()])
            .status()?;
        let status = started.collector.child.wait()?;
        if !status.success() {
            bail!("the collector exited with {status}");
        }
    }
    let acked = tally.acked_spans.load(Ordering::Relaxed);
    let stored_bytes = data_dir.as_deref().map(parquet_bytes);
    let cpu_per_span = cpu / acked.max(1) as f64;
    let otlp_per_span = request_bytes as f64 / spans as f64;
    let parquet_per_span = stored_bytes.map(|b| b as f64 / acked.max(1) as f64);
    let figures: Vec<(&str, serde_json::Value)> = vec![
        (
            "protocol",
            format!("{:?}", args.protocol).to_lowercase().into(),
        ),
        ("gzip", args.gzip.into()),
        ("connections", args.connections.into()),
        ("offered_spans_per_s", args.rate.into()),
        ("seconds", elapsed.into()),
        ("spans_acked", acked.into()),
        ("spans_per_s", (acked as f64 / elapsed).into()),
        (
            "requests_refused",
            tally.refused.load(Ordering::Relaxed).into(),
        ),
        (
            "requests_failed",
            tally.failed.load(Ordering::Relaxed).into(),
        ),
        ("ack_ms_p50", percentile(&latencies, 0.50).into()),
        ("ack_ms_p99", percentile(&latencies, 0.99).into()),
        ("ack_ms_max", percentile(&latencies, 1.0).into()),
        ("collector_cpu_us_per_span", (cpu_per_span * 1e6).into()),
        ("decode_only_cpu_us_per_span", (floor * 1e6).into()),
        ("cpu_vs_decode_floor", (cpu_per_span / floor).into()),
        (
            "collector_peak_rss_mib",
            (peak_rss as f64 / f64::from(1 << 20)).into(),
        ),
        ("otlp_bytes_per_span", otlp_per_span.into()),
        ("parquet_bytes_per_span", parquet_per_span.into()),
        (
            "parquet_vs_otlp_bytes",
            parquet_per_span.map(|p| p / otlp_per_span).into(),
        ),
    ];
    #[allow(clippy::print_stdout)]
    if args.json {
        let object: serde_json::Map<String, serde_json::Value> = figures
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        println!("{}", serde_json::Value::Object(object));
    } else {
        for (name, value) in figures {
            let shown = match value.as_f64() {
                Some(v) if value.is_f64() => format!("{v:.3}"),
                _ => value.to_string(),
            };
            println!("{name:<28} {shown}");
        }
    }
    Ok(())
}
