//! `causet`: what happened before what, from OpenTelemetry traces.
//!
//! This binary only parses the command line and dispatches; the work lives in
//! the `causet-collector` and `causet-analyzer` libraries.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use causet_analyzer::detect::Severity;
use causet_analyzer::output::Format;
use causet_analyzer::report::trend;
use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, DetectConfig, Location, Settings, TimeRange};
use causet_collector::{Collector, CollectorConfig, Ingest, Limits, Store, StoreConfig};
use clap::{Args, Parser, Subcommand};

/// What happened before what: collect OpenTelemetry spans annotated with
/// vector clocks, HLCs or Lamport timestamps, and query their causality.
#[derive(Debug, Parser)]
#[command(name = "causet", version, about, long_about = None)]
struct Cli {
    /// Data folder: Parquet tables and the write-ahead log [default:
    /// ./causet-data; a fresh ./causet-demo for demo]. Or a prefix in an
    /// object store, s3://bucket/prefix (also gs://, az://), configured
    /// from the environment (AWS_ACCESS_KEY_ID, AWS_REGION,
    /// AWS_ENDPOINT_URL, ...); the collector then keeps its WAL in --wal.
    #[arg(long, global = true, env = "CAUSET_DATA", value_parser = parse_location)]
    data: Option<Location>,

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
    /// Report the findings of a time range: HTML, Markdown or JSON.
    ///
    /// Exit status: 0 when no finding reaches --fail-on, 1 when one does,
    /// 2 on errors, so a nightly job can alert.
    Report(ReportArgs),
    /// Draw a trace as a space-time diagram: one lane per node.
    Explain(ExplainArgs),
    /// Say whether span (or event) A happened before B, with the proof.
    ///
    /// A and B are SPAN_ID, TRACE_ID:SPAN_ID or TRACE_ID:SPAN_ID#EVENT_INDEX.
    /// Exit status: 0 when one happened before the other, 3 when they are
    /// concurrent, 4 when unknown (only spans or messages that were not
    /// collected could order them), 2 on errors.
    Why(WhyArgs),
    /// The state of the system at TIME as a consistent cut: the largest set
    /// of events closed under happens-before none of which is later than
    /// TIME on its node's clock (corrected by the node's estimated offset),
    /// each node's frontier, each key's last write(s) inside it, and where
    /// the wall-clock snapshot at TIME differs.
    Cut(CutArgs),
    /// How a bad trace differs from a good one of the same operation: spans
    /// only in one (extra attempts named), pairs whose happens-before order
    /// differs, and the largest latency differences on the bad trace's
    /// critical path.
    ///
    /// Exit status: 0 when the causal structure is the same (timing aside),
    /// 1 when it differs, 2 on errors.
    Diff(DiffArgs),
    /// Export a trace for other tools.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Answer Arrow Flight SQL queries over the data folder, read-only.
    ///
    /// For BI tools, notebooks and the ADBC and JDBC Flight SQL drivers:
    /// the same SQL as `causet sql` (tables, causal functions, table
    /// functions); anything that would write is refused. Loopback only by
    /// default; --auth-token-file and --tls-cert work as for `collect`.
    Serve(ServeArgs),
    /// Merge each closed hour's Parquet files into one per table, and
    /// delete hours past a retention.
    ///
    /// Safe to run beside a collector, to interrupt and to run again: rows
    /// are counted before anything is replaced, and a kill leaves the old
    /// files, or both (the next run finishes), never neither.
    Compact(CompactArgs),
    /// Run a worker for distributed queries: it runs the stages of the
    /// plans that clients started with --workers send it, reading the same
    /// --data (the same folder path, or the same object store). Workers
    /// trust whoever reaches them: keep them on loopback or a private
    /// network.
    Worker(WorkerArgs),
    /// Run a traced replicated key-value store with injected faults, then
    /// analyse it and compare the findings with what was injected.
    ///
    /// Without --endpoint it starts a collector in-process on loopback.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Replica nodes.
    #[arg(long, default_value_t = 5)]
    nodes: usize,
    /// Client nodes.
    #[arg(long, default_value_t = 3)]
    clients: usize,
    /// Client requests.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Seed of every random choice (the same seed gives the same run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A node's clock offset, e.g. kv-3=+2s or kv-1=-500ms; repeatable.
    #[arg(long = "skew", value_parser = parse_skew)]
    skews: Vec<(String, i64)>,
    /// Faults to inject, comma-separated, each with an optional rate: skew,
    /// clock-jump, drop-reply, drop-request, slow-node, concurrent-writes,
    /// no-idem-key, ignore-idem-key (e.g. drop-reply=0.05,skew); and faults
    /// with nodes and times from the run's start:
    /// partition=START..END:A,B|C,D (calls between the sides are lost),
    /// gray=NODE:slow=50x or gray=NODE:fail=0.05 (one replica serves slower
    /// or refuses a share of requests with 503 while its heartbeats go on),
    /// pause=NODE:START..END (a stop-the-world pause), e.g.
    /// partition=3s..6s:kv-0,kv-1|kv-2,kv-3,kv-4,pause=kv-2:8s..9s.
    #[arg(
        long,
        default_value = "skew,clock-jump,drop-reply,drop-request,slow-node,concurrent-writes,no-idem-key,ignore-idem-key"
    )]
    faults: String,
    /// OTLP transport of the exporters.
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    protocol: Protocol,
    /// Send to this collector instead of starting one (http://host:4317 for gRPC,
    /// http://host:4318 for HTTP); --data must be that collector's data folder.
    #[arg(long)]
    endpoint: Option<String>,
    /// Where to write the ground truth (default DATA/truth.json).
    #[arg(long)]
    truth: Option<PathBuf>,
}

/// OTLP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
}

fn parse_skew(s: &str) -> Result<(String, i64), String> {
    let (node, amount) = s.split_once('=').ok_or("expected NODE=+DUR")?;
    let (sign, amount) = match amount.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, amount.strip_prefix('+').unwrap_or(amount)),
    };
    let d = humantime::parse_duration(amount).map_err(|e| e.to_string())?;
    Ok((node.to_owned(), sign * nanos(d)))
}

/// Detector settings shared by the commands that analyse.
#[derive(Debug, Args)]
struct DetectArgs {
    /// Largest clock offset between nodes considered healthy.
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    max_offset: Duration,
    /// Window clock offsets are estimated in.
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    offset_window: Duration,
    /// Node offsets are measured against (default: the node most peers agree with).
    #[arg(long)]
    reference_node: Option<String>,
    /// An RPC method (`rpc.method` or `service/method`) that is not idempotent; repeatable.
    #[arg(long = "non-idempotent-rpc")]
    non_idempotent_rpc: Vec<String>,
    /// A span attribute that names the key a span writes, for spans without
    /// causet.write.key; repeat it for keys of several parts (e.g.
    /// db.collection.name and the application's key attribute).
    #[arg(long = "write-key-attribute")]
    write_key_attributes: Vec<String>,
    /// Phi-accrual suspicion (of heartbeat spans, `causet.heartbeat.from`)
    /// above which a silent node is reported `suspected`.
    #[arg(long, default_value_t = 8.0)]
    phi_threshold: f64,
    /// A span name that is a heartbeat received (e.g. a heartbeat RPC's
    /// server span; its parent's node is the sender); repeatable.
    #[arg(long = "heartbeat-span")]
    heartbeat_spans: Vec<String>,
    /// `causet worker`s (host:port, comma-separated) to run the scans,
    /// joins and aggregates of the queries and of the analysis's reads on;
    /// each must see the same --data.
    #[arg(long, value_delimiter = ',', value_parser = parse_worker)]
    workers: Vec<url::Url>,
    /// With --workers: bytes of Parquet files per scan task, the unit a
    /// scan is divided among the workers by (e.g. 16MiB, 1GiB).
    #[arg(long, default_value = "16MiB", value_parser = parse_bytes)]
    worker_task_bytes: usize,
    /// With --workers: the bearer token the workers were started with
    /// (their --auth-token-file), read from this file.
    #[arg(long, requires = "workers")]
    worker_token_file: Option<PathBuf>,
    #[command(flatten)]
    memory: MemoryArgs,
}

impl DetectArgs {
    /// The token read as the workers read theirs (`read_token`).
    fn worker_token(&self) -> anyhow::Result<Option<causet_analyzer::settings::WorkerToken>> {
        Ok(read_token(self.worker_token_file.as_deref())?
            .map(|token| causet_analyzer::settings::WorkerToken(token.text().to_owned())))
    }

    fn config(&self) -> DetectConfig {
        DetectConfig {
            max_offset_ns: nanos(self.max_offset),
            window_ns: nanos(self.offset_window).max(1),
            reference_node: self.reference_node.clone(),
            non_idempotent_rpc: self.non_idempotent_rpc.clone(),
            write_key_attributes: self.write_key_attributes.clone(),
            phi_threshold: self.phi_threshold,
            heartbeat_spans: self.heartbeat_spans.clone(),
            ..DetectConfig::default()
        }
    }

    fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings {
            detect: self.config(),
            workers: self.workers.clone(),
            worker_task_bytes: self.worker_task_bytes,
            worker_token: self.worker_token()?,
            ..self.memory.settings()
        })
    }
}

fn parse_worker(s: &str) -> Result<url::Url, String> {
    causet_analyzer::workers::parse_worker(s).map_err(|e| e.to_string())
}

/// What every command that analyses may hold in memory.
#[derive(Debug, Args)]
struct MemoryArgs {
    /// Memory SQL and the analysis may use (e.g. 2GiB, 512MiB): sorts and
    /// joins spill to disk past it; what still cannot fit ends with an error.
    #[arg(long, default_value = "2GiB", value_parser = parse_bytes)]
    memory_limit: usize,
}

impl MemoryArgs {
    fn settings(&self) -> Settings {
        Settings {
            memory_limit: self.memory_limit,
            ..Settings::default()
        }
    }
}

/// `2GiB`, `512MiB`, `64KiB`, `1G`, `1000000`: bytes.
fn parse_bytes(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a size such as 2GiB or 512MiB"))?;
    let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("{other:?}: use B, KiB, MiB, GiB or TiB")),
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Nanoseconds since the epoch (0 before it).
fn epoch_ns(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(nanos)
        .unwrap_or(0)
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Report the last DUR (e.g. 24h).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    since: Option<humantime::Duration>,
    /// Start of the range (RFC 3339, e.g. 2026-11-25T00:00:00Z).
    #[arg(long)]
    from: Option<humantime::Timestamp>,
    /// End of the range (RFC 3339).
    #[arg(long)]
    to: Option<humantime::Timestamp>,
    /// Page format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// Write here instead of stdout.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, default_value = "high", value_parser = severities())]
    fail_on: Severity,
    /// Exit 1 only when an incident new since the earlier report
    /// (--compare-to, --history; without one, every incident is new) is at
    /// least this severe, instead of --fail-on: alert once, not every night.
    #[arg(long, value_parser = severities())]
    fail_on_new: Option<Severity>,
    /// Mark each incident new or continuing against this earlier JSON
    /// report, and list the incidents it had that are gone.
    #[arg(long, value_name = "PREVIOUS.json", conflicts_with = "history")]
    compare_to: Option<PathBuf>,
    /// Compare with the newest report saved in DIR, then save this one
    /// there (JSON, each incident's best findings), and chart findings per
    /// hour over the last 14 reports. Made if missing.
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// The JSON's findings: all, or each incident's 50 best (HTML and
    /// Markdown always show each incident's 50 best).
    #[arg(long, value_enum, default_value_t = FindingsShown::All)]
    findings: FindingsShown,
    /// Exit 3 when the range holds no spans, or a stretch without spans
    /// longer than this (from the range's start, between spans, or from
    /// the newest span to now with --since): the collector or an exporter
    /// stopped, and "no findings" would mean nothing. 0s: only an empty
    /// range.
    #[arg(long, default_value = "1h")]
    max_gap: humantime::Duration,
    /// How far after each window (and the range) spans are read, so that
    /// what began in it is judged with its effects (retry chains, RPCs,
    /// conflicting writes that cross the edge); spans that began up to this
    /// long before a window and still run in it are read too.
    #[arg(long, default_value = "5m")]
    horizon: humantime::Duration,
    /// The analysis walks the range in windows, one in memory at a time; a
    /// finding is reported by the window that holds its earliest event.
    /// Default: as long as --memory-limit allows; or a length (e.g. 15m).
    #[arg(long)]
    window: Option<humantime::Duration>,
    #[command(flatten)]
    detect: DetectArgs,
}

/// Severities as clap choices (listed in --help, checked before running).
fn severities() -> impl clap::builder::TypedValueParser<Value = Severity> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Severity::ALL.iter().map(|s| s.as_str()))
        .map(|s| s.parse::<Severity>().unwrap_or(Severity::High))
}

/// Which findings a JSON report lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FindingsShown {
    /// Every finding.
    All,
    /// Each incident's 50 best; the rest counted in findings_omitted.
    Top,
}

/// Formats of `causet report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    /// A self-contained page.
    Html,
    /// Markdown, for a ticket or chat.
    #[value(alias = "markdown")]
    Md,
    /// JSON, schema causet.report/1.
    Json,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// The trace to draw.
    trace_id: String,
    /// Write the diagram as SVG here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Write the diagram as a self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Also draw the traces this one reaches through links, messages or clocks.
    #[arg(long)]
    follow_links: bool,
    /// Mark the critical path: the chain of events that bounded the
    /// trace's end-to-end latency, followed through every happens-before
    /// edge (messages too), with its longest waits.
    #[arg(long)]
    critical_path: bool,
    #[command(flatten)]
    detect: DetectArgs,
}

#[derive(Debug, Args)]
struct CutArgs {
    /// The moment (RFC 3339, e.g. 2026-11-25T10:04:05Z).
    #[arg(long)]
    at: humantime::Timestamp,
    /// Only these keys' states (repeatable); default every key written.
    #[arg(long = "key")]
    keys: Vec<String>,
    /// How far before TIME spans are read: writes and events older than
    /// this are not seen.
    #[arg(long, default_value = "10m")]
    lookback: humantime::Duration,
    #[command(flatten)]
    detect: DetectArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Arrow Flight SQL listen address (gRPC; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:50051")]
    flight: std::net::SocketAddr,
    /// Write {"flight":ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    #[command(flatten)]
    access: AccessArgs,
    #[command(flatten)]
    detect: DetectArgs,
}

/// Who may connect to a server, and over what.
#[derive(Debug, Args)]
struct AccessArgs {
    /// Require `Authorization: Bearer <token>` on every listener, the token
    /// read from this file.
    #[arg(long)]
    auth_token_file: Option<PathBuf>,
    /// Serve every listener over TLS with this PEM certificate chain.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// The bearer token in the file at `path`, if one is named.
fn read_token(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<causet_collector::auth::Token>> {
    Ok(path
        .map(causet_collector::auth::Token::from_file)
        .transpose()?)
}

impl AccessArgs {
    fn token(&self) -> anyhow::Result<Option<causet_collector::auth::Token>> {
        read_token(self.auth_token_file.as_deref())
    }

    fn tls(&self) -> Option<causet_collector::listen::TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(causet_collector::listen::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
struct CompactArgs {
    /// Only hours that ended at least this long ago (the collector may
    /// still flush late spans into a recent hour).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    older_than: Duration,
    /// Also delete every hour that ended more than this long ago (e.g. 30d).
    #[arg(long, value_parser = humantime::parse_duration)]
    retain: Option<Duration>,
    #[command(flatten)]
    memory: MemoryArgs,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// GOOD BAD, or BAD with --baseline.
    #[arg(value_name = "TRACE", num_args = 1..=2, required = true)]
    traces: Vec<String>,
    /// Compare BAD with a trace of the most common structure among the
    /// other traces of its operation (its root span's name and kind) in
    /// the data folder.
    #[arg(long)]
    baseline: bool,
    /// Also write both traces drawn side by side, and the differences, as
    /// a self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Only read spans from here (RFC 3339): the range the baseline is
    /// drawn from, which must hold the traces compared.
    #[arg(long)]
    from: Option<humantime::Timestamp>,
    /// Only read spans before this (RFC 3339).
    #[arg(long)]
    to: Option<humantime::Timestamp>,
    #[command(flatten)]
    detect: DetectArgs,
}

#[derive(Debug, Args)]
struct WhyArgs {
    /// The first span or event.
    a: String,
    /// The second span or event.
    b: String,
    #[command(flatten)]
    memory: MemoryArgs,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// A log ShiViz reads (prints the parsing regex to give it).
    Shiviz {
        /// The trace to export.
        trace_id: String,
        /// Also export the traces this one reaches.
        #[arg(long)]
        follow_links: bool,
        /// The log file to write.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
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
    /// WAL segment size: a segment is flushed to Parquet once it holds this
    /// many bytes, and a flush holds about 3x this in memory.
    #[arg(long, default_value_t = StoreConfig::new(".").segment_bytes)]
    segment_bytes: u64,
    /// Write {"grpc":ADDR,"http":ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    #[command(flatten)]
    access: AccessArgs,
    /// Also merge each hour's Parquet files into one per table, as `causet
    /// compact` does, once the hour ended this long ago (e.g. 1h); checked
    /// every 10 minutes, in the background, within 512 MiB.
    #[arg(long, value_parser = humantime::parse_duration)]
    compact_after: Option<Duration>,
    /// With --data in an object store: the local folder for the
    /// write-ahead log. Acknowledged spans are durable there; each flush
    /// uploads a Parquet file per table and hour with one PUT, named for
    /// this collector, so several collectors can share one prefix.
    #[arg(long)]
    wal: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[cfg_attr(not(feature = "distributed"), allow(dead_code))]
struct WorkerArgs {
    /// Listen address (gRPC; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: std::net::SocketAddr,
    /// Require `Authorization: Bearer <token>` from clients and other
    /// workers, the token read from this file (clients: --worker-token-file).
    #[arg(long)]
    auth_token_file: Option<PathBuf>,
    /// Write {"worker":ADDR} here once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    #[command(flatten)]
    memory: MemoryArgs,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// OTLP files to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// With --data in an object store: the local folder for the
    /// write-ahead log (files are uploaded as they are flushed).
    #[arg(long)]
    wal: Option<PathBuf>,
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
    #[command(flatten)]
    detect: DetectArgs,
}

fn parse_location(s: &str) -> Result<Location, String> {
    Location::parse(s).map_err(|e| e.to_string())
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: causet_analyzer::Error| e.to_string())
}

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
            Command::Collect(args) => collect(cli.data, args).await,
            Command::Import(args) => import(cli.data, args).await,
            Command::Sql(args) => sql(cli.data, args).await,
            Command::Report(args) => report(cli.data, args).await,
            Command::Explain(args) => explain(cli.data, args).await,
            Command::Why(args) => why(cli.data, args).await,
            Command::Cut(args) => cut(cli.data, args).await,
            Command::Diff(args) => diff(cli.data, args).await,
            Command::Compact(args) => compact(cli.data, args).await,
            Command::Serve(args) => serve(cli.data, args).await,
            Command::Worker(args) => worker(cli.data, args).await,
            Command::Export(ExportCommand::Shiviz {
                trace_id,
                follow_links,
                output,
            }) => shiviz(cli.data, trace_id, follow_links, output).await,
            Command::Demo(args) => demo(cli.data, cli.data_given, args).await,
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

async fn collect(data: Location, args: CollectArgs) -> anyhow::Result<ExitCode> {
    let mut config = CollectorConfig::with_store(store_config(&data, args.wal)?);
    config.store.flush_interval = args.flush_interval;
    config.store.segment_bytes = args.segment_bytes;
    config.grpc_addr = args.grpc;
    config.http_addr = args.http;
    config.limits = Limits {
        max_request_bytes: args.max_request_bytes,
        max_inflight_bytes: args.max_inflight_bytes,
    };
    config.ready_file = args.ready_file;
    config.auth_token = args.access.token()?;
    config.tls = args.access.tls();
    let collector = Collector::bind(config)
        .await
        .with_context(|| format!("cannot start the collector on {data}"))?;
    if let Some(after) = args.compact_after {
        compact_in_background(local_folder(&data, "--compact-after")?, after)?;
    }
    collector.serve(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `causet compact --older-than AFTER` every 10 minutes (or AFTER, if
/// shorter) on a thread of its own, so merges never hold up the
/// collector's runtime. The process may exit mid-merge: a merge survives
/// that as it survives a kill.
fn compact_in_background(data: PathBuf, after: Duration) -> anyhow::Result<()> {
    let every = after.clamp(Duration::from_secs(1), Duration::from_secs(600));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let settings = Settings {
        memory_limit: 512 << 20,
        ..Settings::default()
    };
    std::thread::Builder::new()
        .name("causet-compact".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let now = epoch_ns(std::time::SystemTime::now());
                let run = causet_analyzer::compact::compact(&data, now, nanos(after), &settings);
                match runtime.block_on(run) {
                    Ok(done) if done.hours > 0 || done.recovered > 0 => tracing::info!(
                        hours = done.hours,
                        files = done.files_before,
                        rows = done.rows,
                        recovered = done.recovered,
                        "compacted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "compaction failed; retrying later"),
                }
            }
        })?;
    Ok(())
}

/// A gRPC interceptor that lets through requests carrying `token` (all,
/// without one) and answers the others UNAUTHENTICATED.
fn bearer(
    token: Option<causet_collector::auth::Token>,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    move |request: tonic::Request<()>| match &token {
        Some(token)
            if !token.admits(
                request
                    .metadata()
                    .get("authorization")
                    .map(|v| v.as_bytes()),
            ) =>
        {
            Err(tonic::Status::unauthenticated(
                "missing or wrong bearer token (see --auth-token-file)",
            ))
        }
        _ => Ok(request),
    }
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

/// Where the store writes: the data folder, or with one in an object store,
/// the local `--wal` folder and the store to upload to.
fn store_config(data: &Location, wal: Option<PathBuf>) -> anyhow::Result<StoreConfig> {
    match (data, wal) {
        (Location::Folder(dir), None) => Ok(StoreConfig::new(dir)),
        (Location::Folder(dir), Some(_)) => anyhow::bail!(
            "--wal is for a data folder in an object store; {} keeps its WAL in {}",
            dir.display(),
            dir.join(causet_schema::wal::WAL_DIR).display()
        ),
        (Location::Remote(remote), Some(wal)) => {
            let mut config = StoreConfig::new(wal);
            config.remote = Some(remote.clone());
            Ok(config)
        }
        (Location::Remote(remote), None) => anyhow::bail!(
            "{remote} is in an object store: name a local folder for the write-ahead log with --wal DIR"
        ),
    }
}

/// The folder of a data folder on this machine, or an error saying that
/// `what` needs one.
fn local_folder(data: &Location, what: &str) -> anyhow::Result<PathBuf> {
    match data {
        Location::Folder(dir) => Ok(dir.clone()),
        Location::Remote(remote) => anyhow::bail!(
            "{what} works on a data folder on this machine; {remote} is in an object store"
        ),
    }
}

#[allow(clippy::print_stdout)]
async fn import(data: Location, args: ImportArgs) -> anyhow::Result<ExitCode> {
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

async fn sql(data: Location, args: SqlArgs) -> anyhow::Result<ExitCode> {
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

fn write_output(path: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

async fn open(data: &Location, settings: Settings) -> anyhow::Result<Analyzer> {
    Analyzer::open_with(data.clone(), settings)
        .await
        .with_context(|| format!("cannot open {data}"))
}

/// A spinner on a terminal while the analysis runs; nothing when piped.
fn spinner(message: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

async fn report(data: Location, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let fail_on = args.fail_on;
    let now = std::time::SystemTime::now();
    let (from_ns, to_ns) = match (args.since, args.from, args.to) {
        (Some(since), _, _) => (Some(epoch_ns(now - *since)), None),
        (None, from, to) => (from.map(|t| epoch_ns(*t)), to.map(|t| epoch_ns(*t))),
    };
    let size = args
        .window
        .map_or(WindowSize::Auto, |w| WindowSize::Fixed(nanos(*w)));
    let settings = Settings {
        range: TimeRange { from_ns, to_ns },
        horizon_ns: nanos(*args.horizon),
        window: size,
        ..args.detect.settings()?
    };
    let options = causet_analyzer::report::ReportOptions {
        from_ns,
        to_ns,
        max_offset_ns: settings.detect.max_offset_ns,
        phi_threshold: settings.detect.phi_threshold,
        data_dir: data.to_string(),
        generated_at_ns: epoch_ns(now),
    };
    let bar = spinner("analysing");
    let analyzer = open(&data, settings).await?;
    let (detected, stats) = analyzer.findings_windowed(size).await?;
    bar.finish_and_clear();
    tracing::info!(
        windows = stats.windows,
        spans_read = stats.spans_read,
        peak_analysis_bytes = stats.peak_bytes,
        analysis_bytes_per_span = stats.bytes_per_span(),
        "analysed"
    );
    let mut report = causet_analyzer::report::build(&detected, &options);
    let health = analyzer
        .ingest_health(
            TimeRange { from_ns, to_ns },
            nanos(*args.max_gap),
            epoch_ns(now),
        )
        .await?;
    let ingest_ok = health.ok();
    report.ingest = Some(health);
    compare(&mut report, &args)?;
    if args.format == ReportFormat::Html {
        draw_examples(&analyzer, &mut report, &detected.findings).await;
    }
    let text = match args.format {
        ReportFormat::Html => causet_analyzer::report::to_html(&report),
        ReportFormat::Md => causet_analyzer::report::to_markdown(&report),
        ReportFormat::Json if args.findings == FindingsShown::Top => {
            causet_analyzer::report::to_json(&report.with_top_findings()) + "\n"
        }
        ReportFormat::Json => causet_analyzer::report::to_json(&report) + "\n",
    };
    write_output(args.output.as_ref(), &text)?;
    if let Some(dir) = &args.history {
        let path = dir.join(trend::history_name(options.generated_at_ns));
        let json = causet_analyzer::report::to_json(&report.with_top_findings()) + "\n";
        write_atomically(&path, &json)?;
    }
    let failed = match args.fail_on_new {
        Some(threshold) => trend::new_reaches(&report, threshold),
        None => causet_analyzer::report::reaches(&report, fail_on),
    };
    Ok(if !ingest_ok {
        // Before the findings: they may be missing what did not arrive.
        ExitCode::from(3)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Marks the report's incidents against the earlier report (--compare-to,
/// or the newest in --history) and charts the history.
fn compare(report: &mut causet_analyzer::report::Report, args: &ReportArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.compare_to {
        let previous = trend::read(path)?;
        trend::compare(report, Some((&previous, &path.display().to_string())));
    }
    if let Some(dir) = &args.history {
        // The reports charted, oldest first, each read once; the newest is
        // also the one compared with, so it must read.
        let saved = trend::history(dir)?;
        let recent = &saved[saved.len().saturating_sub(trend::CHARTED - 1)..];
        let mut charted: Vec<trend::EarlierReport> = Vec::with_capacity(recent.len());
        for (i, path) in recent.iter().enumerate() {
            match trend::read(path) {
                Ok(earlier) => charted.push(earlier),
                Err(e) if i + 1 < recent.len() => tracing::warn!("history: skipping {e}"),
                Err(e) => return Err(e.into()),
            }
        }
        let newest = recent.last().map(|p| p.display().to_string());
        trend::compare(report, charted.last().zip(newest.as_deref()));
        trend::chart(report, &charted);
    }
    Ok(())
}

/// Draws the example trace of the worst incidents into the report, each
/// from the spans around it only; an example that cannot be drawn (its
/// trace too large, or gone) is left out with a note in the log.
async fn draw_examples(
    analyzer: &Analyzer,
    report: &mut causet_analyzer::report::Report,
    findings: &[causet_analyzer::detect::Finding],
) {
    use causet_analyzer::report::html::{DRAWN, DRAWN_ROWS};
    for incident in report.incidents.iter_mut().take(DRAWN) {
        let Some(trace) = incident.example.trace_ids.first() else {
            continue;
        };
        let time = incident.example.time_ns;
        match analyzer.diagram_near(trace, time, findings).await {
            Ok(diagram) if diagram.rows.len() <= DRAWN_ROWS => {
                incident.diagram = Some(causet_analyzer::explain::to_svg(&diagram));
            }
            Ok(diagram) => tracing::info!(
                trace,
                events = diagram.rows.len(),
                "example trace too large to draw inline; `causet explain` draws it"
            ),
            Err(e) => tracing::warn!(trace, "cannot draw the example: {e}"),
        }
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader never sees half a report.
fn write_atomically(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

async fn explain(data: Location, args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.detect.settings()?).await?;
    let detected = analyzer.findings().await?;
    let built = analyzer.graph().await?;
    let mut diagram = causet_analyzer::explain::diagram(
        &built.graph,
        &args.trace_id,
        args.follow_links,
        &detected.findings,
    )?;
    if args.critical_path {
        diagram = diagram.with_critical_path(&built.graph);
    }
    if let Some(path) = &args.svg {
        write_output(Some(path), &causet_analyzer::explain::to_svg(&diagram))?;
    }
    if let Some(path) = &args.html {
        write_output(Some(path), &causet_analyzer::explain::to_html(&diagram))?;
    }
    if args.svg.is_none() && args.html.is_none() {
        write_output(None, &causet_analyzer::explain::to_text(&diagram))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn cut(data: Location, args: CutArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.detect.settings()?).await?;
    let at = epoch_ns(*args.at);
    let text = analyzer.cut(at, nanos(*args.lookback), &args.keys).await?;
    write_output(None, &text)?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(data: Location, args: ServeArgs) -> anyhow::Result<ExitCode> {
    use arrow_flight::flight_service_server::FlightServiceServer;
    use causet_analyzer::flight::FlightSql;
    use causet_collector::listen::Incoming;

    let analyzer = std::sync::Arc::new(open(&data, args.detect.settings()?).await?);
    let token = args.access.token()?;
    let tls = match args.access.tls() {
        Some(files) => Some(files.server_config(&[b"h2"])?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.flight)
        .await
        .with_context(|| format!("cannot listen on {}", args.flight))?;
    let incoming = Incoming::start(listener, tls.clone())?;
    let addr = incoming.local_addr();
    if !addr.ip().is_loopback() {
        if token.is_none() {
            tracing::warn!(%addr, "serving on a non-loopback address without --auth-token-file: anyone who can reach it can read every span");
        } else if tls.is_none() {
            tracing::warn!(%addr, "serving on a non-loopback address without --tls-cert: the token crosses the network in the clear");
        }
    }
    let service = FlightServiceServer::with_interceptor(FlightSql::new(analyzer)?, bearer(token));
    if let Some(path) = &args.ready_file {
        causet_collector::server::write_ready_file(
            path,
            &serde_json::json!({ "flight": addr.to_string() }),
        )?;
    }
    tracing::info!(%addr, "serving Arrow Flight SQL");
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming.into_stream(), shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "distributed"))]
async fn worker(_: Location, _: WorkerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(causet_analyzer::workers::NOT_BUILT)
}

#[cfg(feature = "distributed")]
async fn worker(data: Location, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let worker = causet_analyzer::workers::worker(&data, &args.memory.settings())?;
    let token = read_token(args.auth_token_file.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && token.is_none() {
        tracing::warn!(%addr, "a worker without --auth-token-file runs the plans of anyone who reaches it: keep it on a private network");
    }
    if let Some(path) = &args.ready_file {
        causet_collector::server::write_ready_file(
            path,
            &serde_json::json!({ "worker": addr.to_string() }),
        )?;
    }
    tracing::info!(%addr, data = %data, "serving as a worker");
    tonic::transport::Server::builder()
        .add_service(tonic::service::interceptor::InterceptedService::new(
            worker.into_worker_server(),
            bearer(token),
        ))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown_signal(),
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}

async fn compact(data: Location, args: CompactArgs) -> anyhow::Result<ExitCode> {
    use causet_analyzer::compact;
    let now = epoch_ns(std::time::SystemTime::now());
    let size = |bytes: u64| {
        causet_analyzer::fmt::human_bytes(usize::try_from(bytes).unwrap_or(usize::MAX))
    };
    let mut out = std::io::stdout().lock();
    if let Some(keep) = args.retain {
        let gone = match &data {
            Location::Folder(dir) => compact::retain(dir, now, nanos(keep))?,
            Location::Remote(remote) => compact::remote::retain(remote, now, nanos(keep)).await?,
        };
        writeln!(
            out,
            "retention {}: deleted {} table-hours, {} files, {}",
            humantime::format_duration(keep),
            gone.hours,
            gone.files,
            size(gone.bytes)
        )?;
    }
    let (older_than, settings) = (nanos(args.older_than), args.memory.settings());
    let done = match &data {
        Location::Folder(dir) => compact::compact(dir, now, older_than, &settings).await?,
        Location::Remote(remote) => {
            compact::remote::compact(remote, now, older_than, &settings).await?
        }
    };
    writeln!(
        out,
        "compacted {} table-hours: {} files -> {}, {} rows, {} -> {}{}",
        done.hours,
        done.files_before,
        done.hours,
        done.rows,
        size(done.bytes_before),
        size(done.bytes_after),
        if done.recovered > 0 {
            format!("; finished {} merges an earlier run left", done.recovered)
        } else {
            String::new()
        }
    )?;
    if done.open_hours > 0 {
        writeln!(
            out,
            "left {} table-hours that are newer than {} or still in the write-ahead log",
            done.open_hours,
            humantime::format_duration(args.older_than)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn diff(data: Location, args: DiffArgs) -> anyhow::Result<ExitCode> {
    use causet_analyzer::{diff, explain};
    let ns = |t: Option<humantime::Timestamp>| t.map(|t| epoch_ns(*t));
    let settings = Settings {
        range: TimeRange {
            from_ns: ns(args.from),
            to_ns: ns(args.to),
        },
        ..args.detect.settings()?
    };
    let analyzer = open(&data, settings).await?;
    let built = analyzer.graph().await?;
    let graph = &built.graph;
    let mut text = String::new();
    let (good, bad) = match (&args.traces[..], args.baseline) {
        ([bad], true) => match diff::baseline(graph, bad, analyzer.settings().range)? {
            Some(base) => {
                text = format!(
                    "baseline: {} ({} of the {} other traces of the operation share its structure)\n",
                    base.trace, base.sharing, base.of
                );
                (base.trace, bad.clone())
            }
            None => anyhow::bail!("no other trace of {bad}'s operation to compare with"),
        },
        ([good, bad], false) => (good.clone(), bad.clone()),
        _ => anyhow::bail!("give GOOD BAD, or BAD with --baseline"),
    };
    let bad_diagram = explain::diagram(graph, &bad, false, &[])?.with_critical_path(graph);
    let critical: Vec<u32> = bad_diagram
        .critical
        .iter()
        .map(|&r| graph.span_of(bad_diagram.rows[r].event))
        .collect();
    let found = diff::diff(graph, &good, &bad, &critical)?;
    text.push_str(&diff::to_text(graph, &good, &bad, &found));
    if let Some(path) = &args.html {
        let good_diagram = explain::diagram(graph, &good, false, &[])?.with_critical_path(graph);
        write_output(
            Some(path),
            &diff::to_html(&text, &good_diagram, &bad_diagram),
        )?;
    }
    write_output(None, &text)?;
    Ok(if found.differs() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn why(data: Location, args: WhyArgs) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, args.memory.settings()).await?;
    let built = analyzer.graph().await?;
    let graph = &built.graph;
    let a = causet_analyzer::why::resolve(graph, &args.a)?;
    let b = causet_analyzer::why::resolve(graph, &args.b)?;
    let max_offset_ns = analyzer.settings().detect.max_offset_ns;
    let relation = causet_analyzer::why::relate(graph, a, b, max_offset_ns);
    write_output(
        None,
        &causet_analyzer::why::render(graph, &args.a, &args.b, &relation),
    )?;
    Ok(match relation {
        causet_analyzer::why::Relation::Concurrent(_) => ExitCode::from(3),
        causet_analyzer::why::Relation::Unknown(_) => ExitCode::from(4),
        _ => ExitCode::SUCCESS,
    })
}

async fn shiviz(
    data: Location,
    trace_id: String,
    follow_links: bool,
    output: PathBuf,
) -> anyhow::Result<ExitCode> {
    let analyzer = open(&data, Settings::default()).await?;
    let built = analyzer.graph().await?;
    let diagram = causet_analyzer::explain::diagram(&built.graph, &trace_id, follow_links, &[])?;
    let events: Vec<u32> = diagram.rows.iter().map(|r| r.event).collect();
    write_output(
        Some(&output),
        &causet_analyzer::shiviz::log(&built.graph, &events),
    )?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "wrote {} events to {}; ShiViz parsing regex:\n{}",
            events.len(),
            output.display(),
            causet_analyzer::shiviz::REGEX
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
async fn demo(data: Location, data_given: bool, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let data = local_folder(&data, "demo")?;
    let faults = causet_demo::Faults::parse(&args.faults).map_err(anyhow::Error::msg)?;
    let transport = match args.protocol {
        Protocol::Grpc => causet_demo::Transport::Grpc,
        Protocol::Http => causet_demo::Transport::Http,
    };
    if args.endpoint.is_none() {
        // A fresh folder each run, unless the user named one.
        if !data_given && data.exists() {
            std::fs::remove_dir_all(&data)
                .with_context(|| format!("cannot clear {}", data.display()))?;
        }
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create {}", data.display()))?;
    }
    let start_ns = epoch_ns(std::time::SystemTime::now());
    let config = causet_demo::DemoConfig {
        nodes: args.nodes,
        clients: args.clients,
        requests: args.requests,
        seed: args.seed,
        skews: args.skews,
        faults,
        transport,
        endpoint: args.endpoint,
        data_dir: data.clone(),
        truth_path: args.truth,
        start_ns,
    };
    let bar = spinner("simulating, exporting, analysing");
    let outcome = causet_demo::run(config).await?;
    bar.finish_and_clear();
    print!("{}", causet_demo::summary(&outcome));
    println!(
        "\nData in {}. Next: causet --data {} report -o report.html",
        data.display(),
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}
