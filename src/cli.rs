//! The command line: every subcommand's arguments (clap derive) and the
//! parsers of their values. Nothing here runs a command; `commands` does.

use std::path::PathBuf;
use std::time::Duration;

use causet_analyzer::detect::Severity;
use causet_analyzer::output::Format;
use causet_analyzer::{DetectConfig, Location, Settings};
use causet_collector::{Limits, StoreConfig};
use clap::{Args, Parser, Subcommand};

/// What happened before what: collect OpenTelemetry spans annotated with
/// vector clocks, HLCs or Lamport timestamps, and query their causality.
#[derive(Debug, Parser)]
#[command(name = "causet", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Data folder: Parquet tables and the write-ahead log [default:
    /// ./causet-data; a fresh ./causet-demo for demo]. Or a prefix in an
    /// object store, s3://bucket/prefix (also gs://, az://), configured
    /// from the environment (AWS_ACCESS_KEY_ID, AWS_REGION,
    /// AWS_ENDPOINT_URL, ...); the collector then keeps its WAL in --wal.
    #[arg(long, global = true, env = "CAUSET_DATA", value_parser = parse_location)]
    pub(crate) data: Option<Location>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct DemoArgs {
    /// Replica nodes.
    #[arg(long, default_value_t = 5)]
    pub(crate) nodes: usize,
    /// Client nodes.
    #[arg(long, default_value_t = 3)]
    pub(crate) clients: usize,
    /// Client requests.
    #[arg(long, default_value_t = 2000)]
    pub(crate) requests: usize,
    /// Seed of every random choice (the same seed gives the same run).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// A node's clock offset, e.g. kv-3=+2s or kv-1=-500ms; repeatable.
    #[arg(long = "skew", value_parser = parse_skew)]
    pub(crate) skews: Vec<(String, i64)>,
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
    pub(crate) faults: String,
    /// OTLP transport of the exporters.
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub(crate) protocol: Protocol,
    /// Send to this collector instead of starting one (http://host:4317 for gRPC,
    /// http://host:4318 for HTTP); --data must be that collector's data folder.
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// Where to write the ground truth (default DATA/truth.json).
    #[arg(long)]
    pub(crate) truth: Option<PathBuf>,
}

/// OTLP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
}

pub(crate) fn parse_skew(s: &str) -> Result<(String, i64), String> {
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
pub(crate) struct DetectArgs {
    /// Largest clock offset between nodes considered healthy.
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    pub(crate) max_offset: Duration,
    /// Window clock offsets are estimated in.
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    pub(crate) offset_window: Duration,
    /// Node offsets are measured against (default: the node most peers agree with).
    #[arg(long)]
    pub(crate) reference_node: Option<String>,
    /// An RPC method (`rpc.method` or `service/method`) that is not idempotent; repeatable.
    #[arg(long = "non-idempotent-rpc")]
    pub(crate) non_idempotent_rpc: Vec<String>,
    /// A span attribute that names the key a span writes, for spans without
    /// causet.write.key; repeat it for keys of several parts (e.g.
    /// db.collection.name and the application's key attribute).
    #[arg(long = "write-key-attribute")]
    pub(crate) write_key_attributes: Vec<String>,
    /// Phi-accrual suspicion (of heartbeat spans, `causet.heartbeat.from`)
    /// above which a silent node is reported `suspected`.
    #[arg(long, default_value_t = 8.0)]
    pub(crate) phi_threshold: f64,
    /// A span name that is a heartbeat received (e.g. a heartbeat RPC's
    /// server span; its parent's node is the sender); repeatable.
    #[arg(long = "heartbeat-span")]
    pub(crate) heartbeat_spans: Vec<String>,
    /// `causet worker`s (host:port, comma-separated) to run the scans,
    /// joins and aggregates of the queries and of the analysis's reads on;
    /// each must see the same --data.
    #[arg(long, value_delimiter = ',', value_parser = parse_worker)]
    pub(crate) workers: Vec<url::Url>,
    /// With --workers: bytes of Parquet files per scan task, the unit a
    /// scan is divided among the workers by (e.g. 16MiB, 1GiB).
    #[arg(long, default_value = "16MiB", value_parser = parse_bytes)]
    pub(crate) worker_task_bytes: usize,
    /// With --workers: the bearer token the workers were started with
    /// (their --auth-token-file), read from this file.
    #[arg(long, requires = "workers")]
    pub(crate) worker_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) memory: MemoryArgs,
}

impl DetectArgs {
    /// The token read as the workers read theirs (`read_token`).
    pub(crate) fn worker_token(
        &self,
    ) -> anyhow::Result<Option<causet_analyzer::settings::WorkerToken>> {
        Ok(read_token(self.worker_token_file.as_deref())?
            .map(|token| causet_analyzer::settings::WorkerToken(token.text().to_owned())))
    }

    pub(crate) fn config(&self) -> DetectConfig {
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

    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings {
            detect: self.config(),
            workers: self.workers.clone(),
            worker_task_bytes: self.worker_task_bytes,
            worker_token: self.worker_token()?,
            ..self.memory.settings()
        })
    }
}

pub(crate) fn parse_worker(s: &str) -> Result<url::Url, String> {
    causet_analyzer::workers::parse_worker(s).map_err(|e| e.to_string())
}

/// What every command that analyses may hold in memory.
#[derive(Debug, Args)]
pub(crate) struct MemoryArgs {
    /// Memory SQL and the analysis may use (e.g. 2GiB, 512MiB): sorts and
    /// joins spill to disk past it; what still cannot fit ends with an error.
    #[arg(long, default_value = "2GiB", value_parser = parse_bytes)]
    pub(crate) memory_limit: usize,
}

impl MemoryArgs {
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            memory_limit: self.memory_limit,
            ..Settings::default()
        }
    }
}

/// `2GiB`, `512MiB`, `64KiB`, `1G`, `1000000`: bytes.
pub(crate) fn parse_bytes(s: &str) -> Result<usize, String> {
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

pub(crate) fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Nanoseconds since the epoch (0 before it).
pub(crate) fn epoch_ns(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(nanos)
        .unwrap_or(0)
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Report the last DUR (e.g. 24h).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub(crate) since: Option<humantime::Duration>,
    /// Start of the range (RFC 3339, e.g. 2026-11-25T00:00:00Z).
    #[arg(long)]
    pub(crate) from: Option<humantime::Timestamp>,
    /// End of the range (RFC 3339).
    #[arg(long)]
    pub(crate) to: Option<humantime::Timestamp>,
    /// Page format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub(crate) format: ReportFormat,
    /// Write here instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub(crate) output: Option<PathBuf>,
    /// Exit 1 when a finding is at least this severe.
    #[arg(long, default_value = "high", value_parser = severities())]
    pub(crate) fail_on: Severity,
    /// Exit 1 only when an incident new since the earlier report
    /// (--compare-to, --history; without one, every incident is new) is at
    /// least this severe, instead of --fail-on: alert once, not every night.
    #[arg(long, value_parser = severities())]
    pub(crate) fail_on_new: Option<Severity>,
    /// Mark each incident new or continuing against this earlier JSON
    /// report, and list the incidents it had that are gone.
    #[arg(long, value_name = "PREVIOUS.json", conflicts_with = "history")]
    pub(crate) compare_to: Option<PathBuf>,
    /// Compare with the newest report saved in DIR, then save this one
    /// there (JSON, each incident's best findings), and chart findings per
    /// hour over the last 14 reports. Made if missing.
    #[arg(long, value_name = "DIR")]
    pub(crate) history: Option<PathBuf>,
    /// The JSON's findings: all, or each incident's 50 best (HTML and
    /// Markdown always show each incident's 50 best).
    #[arg(long, value_enum, default_value_t = FindingsShown::All)]
    pub(crate) findings: FindingsShown,
    /// Exit 3 when the range holds no spans, or a stretch without spans
    /// longer than this (from the range's start, between spans, or from
    /// the newest span to now with --since): the collector or an exporter
    /// stopped, and "no findings" would mean nothing. 0s: only an empty
    /// range.
    #[arg(long, default_value = "1h")]
    pub(crate) max_gap: humantime::Duration,
    /// How far after each window (and the range) spans are read, so that
    /// what began in it is judged with its effects (retry chains, RPCs,
    /// conflicting writes that cross the edge); spans that began up to this
    /// long before a window and still run in it are read too.
    #[arg(long, default_value = "5m")]
    pub(crate) horizon: humantime::Duration,
    /// The analysis walks the range in windows, one in memory at a time; a
    /// finding is reported by the window that holds its earliest event.
    /// Default: as long as --memory-limit allows; or a length (e.g. 15m).
    #[arg(long)]
    pub(crate) window: Option<humantime::Duration>,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

/// Severities as clap choices (listed in --help, checked before running).
pub(crate) fn severities() -> impl clap::builder::TypedValueParser<Value = Severity> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Severity::ALL.iter().map(|s| s.as_str()))
        .map(|s| s.parse::<Severity>().unwrap_or(Severity::High))
}

/// Which findings a JSON report lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FindingsShown {
    /// Every finding.
    All,
    /// Each incident's 50 best; the rest counted in findings_omitted.
    Top,
}

/// Formats of `causet report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// A self-contained page.
    Html,
    /// Markdown, for a ticket or chat.
    #[value(alias = "markdown")]
    Md,
    /// JSON, schema causet.report/1.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The trace to draw.
    pub(crate) trace_id: String,
    /// Write the diagram as SVG here.
    #[arg(long)]
    pub(crate) svg: Option<PathBuf>,
    /// Write the diagram as a self-contained HTML page here.
    #[arg(long)]
    pub(crate) html: Option<PathBuf>,
    /// Also draw the traces this one reaches through links, messages or clocks.
    #[arg(long)]
    pub(crate) follow_links: bool,
    /// Mark the critical path: the chain of events that bounded the
    /// trace's end-to-end latency, followed through every happens-before
    /// edge (messages too), with its longest waits.
    #[arg(long)]
    pub(crate) critical_path: bool,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CutArgs {
    /// The moment (RFC 3339, e.g. 2026-11-25T10:04:05Z).
    #[arg(long)]
    pub(crate) at: humantime::Timestamp,
    /// Only these keys' states (repeatable); default every key written.
    #[arg(long = "key")]
    pub(crate) keys: Vec<String>,
    /// How far before TIME spans are read: writes and events older than
    /// this are not seen.
    #[arg(long, default_value = "10m")]
    pub(crate) lookback: humantime::Duration,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Arrow Flight SQL listen address (gRPC; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub(crate) flight: std::net::SocketAddr,
    /// Write {"flight":ADDR} here once listening.
    #[arg(long)]
    pub(crate) ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) access: AccessArgs,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

/// Who may connect to a server, and over what.
#[derive(Debug, Args)]
pub(crate) struct AccessArgs {
    /// Require `Authorization: Bearer <token>` on every listener, the token
    /// read from this file.
    #[arg(long)]
    pub(crate) auth_token_file: Option<PathBuf>,
    /// Serve every listener over TLS with this PEM certificate chain.
    #[arg(long, requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
}

/// The bearer token in the file at `path`, if one is named.
pub(crate) fn read_token(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<causet_collector::auth::Token>> {
    Ok(path
        .map(causet_collector::auth::Token::from_file)
        .transpose()?)
}

impl AccessArgs {
    pub(crate) fn token(&self) -> anyhow::Result<Option<causet_collector::auth::Token>> {
        read_token(self.auth_token_file.as_deref())
    }

    pub(crate) fn tls(&self) -> Option<causet_collector::listen::TlsFiles> {
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
pub(crate) struct CompactArgs {
    /// Only hours that ended at least this long ago (the collector may
    /// still flush late spans into a recent hour).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub(crate) older_than: Duration,
    /// Also delete every hour that ended more than this long ago (e.g. 30d).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub(crate) retain: Option<Duration>,
    #[command(flatten)]
    pub(crate) memory: MemoryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// GOOD BAD, or BAD with --baseline.
    #[arg(value_name = "TRACE", num_args = 1..=2, required = true)]
    pub(crate) traces: Vec<String>,
    /// Compare BAD with a trace of the most common structure among the
    /// other traces of its operation (its root span's name and kind) in
    /// the data folder.
    #[arg(long)]
    pub(crate) baseline: bool,
    /// Also write both traces drawn side by side, and the differences, as
    /// a self-contained HTML page here.
    #[arg(long)]
    pub(crate) html: Option<PathBuf>,
    /// Only read spans from here (RFC 3339): the range the baseline is
    /// drawn from, which must hold the traces compared.
    #[arg(long)]
    pub(crate) from: Option<humantime::Timestamp>,
    /// Only read spans before this (RFC 3339).
    #[arg(long)]
    pub(crate) to: Option<humantime::Timestamp>,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WhyArgs {
    /// The first span or event.
    pub(crate) a: String,
    /// The second span or event.
    pub(crate) b: String,
    #[command(flatten)]
    pub(crate) memory: MemoryArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
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
pub(crate) struct CollectArgs {
    /// OTLP/gRPC listen address (port 0: any free port).
    #[arg(long, default_value = causet_collector::server::DEFAULT_GRPC_ADDR)]
    pub(crate) grpc: String,
    /// OTLP/HTTP listen address (port 0: any free port).
    #[arg(long, default_value = causet_collector::server::DEFAULT_HTTP_ADDR)]
    pub(crate) http: String,
    /// Longest time acknowledged spans wait in the log before going to Parquet.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub(crate) flush_interval: Duration,
    /// Largest request accepted, in bytes, after decompression.
    #[arg(long, default_value_t = Limits::default().max_request_bytes)]
    pub(crate) max_request_bytes: usize,
    /// Most request bytes held at once; beyond it exporters are told to retry.
    #[arg(long, default_value_t = Limits::default().max_inflight_bytes)]
    pub(crate) max_inflight_bytes: usize,
    /// WAL segment size: a segment is flushed to Parquet once it holds this
    /// many bytes, and a flush holds about 3x this in memory.
    #[arg(long, default_value_t = StoreConfig::new(".").segment_bytes)]
    pub(crate) segment_bytes: u64,
    /// Write {"grpc":ADDR,"http":ADDR} here once listening.
    #[arg(long)]
    pub(crate) ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) access: AccessArgs,
    /// Also merge each hour's Parquet files into one per table, as `causet
    /// compact` does, once the hour ended this long ago (e.g. 1h); checked
    /// every 10 minutes, in the background, within 512 MiB.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub(crate) compact_after: Option<Duration>,
    /// With --data in an object store: the local folder for the
    /// write-ahead log. Acknowledged spans are durable there; each flush
    /// uploads a Parquet file per table and hour with one PUT, named for
    /// this collector, so several collectors can share one prefix.
    #[arg(long)]
    pub(crate) wal: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[cfg_attr(not(feature = "distributed"), allow(dead_code))]
pub(crate) struct WorkerArgs {
    /// Listen address (gRPC; port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub(crate) listen: std::net::SocketAddr,
    /// Require `Authorization: Bearer <token>` from clients and other
    /// workers, the token read from this file (clients: --worker-token-file).
    #[arg(long)]
    pub(crate) auth_token_file: Option<PathBuf>,
    /// Write {"worker":ADDR} here once listening.
    #[arg(long)]
    pub(crate) ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) memory: MemoryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// OTLP files to import.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// With --data in an object store: the local folder for the
    /// write-ahead log (files are uploaded as they are flushed).
    #[arg(long)]
    pub(crate) wal: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// SQL to run.
    pub(crate) query: Option<String>,
    /// Read SQL from this file.
    #[arg(short = 'f', long = "file", conflicts_with = "query")]
    pub(crate) file: Option<PathBuf>,
    /// Output format: table, csv, json, ndjson or parquet.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub(crate) format: Format,
    /// Write the output here instead of stdout (required for parquet).
    #[arg(short = 'o', long = "output")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) detect: DetectArgs,
}

pub(crate) fn parse_location(s: &str) -> Result<Location, String> {
    Location::parse(s).map_err(|e| e.to_string())
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: causet_analyzer::Error| e.to_string())
}
