//! causet's analyzer: SQL over collected spans and the happens-before graph.
//!
//! An [`Analyzer`] is a DataFusion session over a data folder (a local
//! folder, or a prefix in an object store: [`Location`]), with:
//!
//! - `spans`, `span_events`, `span_links`: the Parquet files and the
//!   unflushed write-ahead log, deduplicated (see [`ingested`]);
//! - `causal_events`, `hb_edges`: the happens-before graph (see [`graph`]),
//!   built on first use;
//! - `findings` (with its views), `incidents` (findings grouped by cause,
//!   see [`incidents`]), `node_offsets` and `node_phi`: what the detectors
//!   ([`detect`]) found and estimated;
//! - causal scalar functions ([`udfs`]) and table functions ([`udtfs`]).
//!
//! The graph and the detectors' facts come from one streamed scan of each
//! ingested table (copies dropped by the loaders, ids parsed once, text and
//! clocks interned; see [`graph`] and [`detect::facts`]), limited to the
//! [`Settings`]' time range plus its horizon. Everything runs under one
//! memory pool ([`settings`]); [`windows`] walks a long range one window
//! at a time, so a report's memory is set by the window, not by the data.
//! With [`Settings::workers`], queries and the analysis's scans run on
//! `causet worker`s ([`workers`]); [`compact`] merges and retires hours.
//!
//! ```no_run
//! # async fn run() -> causet_analyzer::Result<()> {
//! use causet_analyzer::{Analyzer, Location};
//!
//! // A folder; or `Location::parse("s3://bucket/prefix")` for object storage.
//! let analyzer = Analyzer::open(std::path::Path::new("./causet-data")).await?;
//! let results = analyzer
//!     .run("SELECT source, count(*) FROM hb_edges GROUP BY source")
//!     .await?;
//! # Ok(()) }
//! ```

pub mod compact;
pub mod cut;
pub mod derived;
pub mod diff;
pub mod error;
pub mod explain;
pub mod flight;
pub mod health;
pub mod ingested;
pub mod output;
pub mod report;
pub mod rows;
mod scan;
pub mod settings;
pub mod shell;
pub mod shiviz;
pub mod udfs;
pub mod udtfs;
mod wal_tail;
pub mod why;
pub mod windowed;
pub mod windows;
pub mod workers;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;

pub use causet_engine::{detect, fmt, graph, grouped, incidents};
pub use causet_schema::location::Location;
use derived::{GraphCache, GraphTable, Which};
pub use detect::DetectConfig;
pub use error::{Error, Result};
use rows::graph::names;
pub use settings::{Settings, TimeRange};

/// A DataFusion session over one data folder.
pub struct Analyzer {
    ctx: SessionContext,
    data: Location,
    cache: Arc<GraphCache>,
    memory_limit: usize,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// The result of one SQL statement.
#[derive(Debug, Clone)]
pub struct StatementResult {
    /// The statement's output schema.
    pub schema: SchemaRef,
    /// Its rows.
    pub batches: Vec<RecordBatch>,
}

impl Analyzer {
    /// Opens a session over a data folder (a path, or a [`Location`] in an
    /// object store), seeing everything acknowledged so far: with a local
    /// folder, the WAL's rows not yet flushed too; in an object store, what
    /// the collectors have uploaded.
    pub async fn open(data: impl Into<Location>) -> Result<Analyzer> {
        Self::open_with(data, Settings::default()).await
    }

    /// [`open`](Self::open), with settings.
    pub async fn open_with(data: impl Into<Location>, settings: Settings) -> Result<Analyzer> {
        let data = data.into();
        ingested::check_data_folder(&data).await?;
        let session = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("causet", "public");
        let runtime = settings.runtime_for(&data)?;
        let ctx = workers::context(session, &runtime, &settings)?;
        udfs::register_all(&ctx);
        let memory_limit = settings.memory_limit;
        let cache = Arc::new(GraphCache::new(settings, runtime));
        udtfs::register_all(&ctx, &cache);
        let tables = [
            (names::CAUSAL_EVENTS, Which::Events),
            (names::HB_EDGES, Which::Edges),
            (rows::detected::names::FINDINGS, Which::Findings),
            (rows::detected::names::NODE_OFFSETS, Which::Offsets),
            (rows::detected::names::INCIDENTS, Which::Incidents),
            (rows::detected::names::NODE_PHI, Which::Phi),
        ];
        for (name, which) in tables {
            ctx.register_table(name, Arc::new(GraphTable::new(Arc::clone(&cache), which)))?;
        }
        for (view, family) in [
            (rows::detected::names::CLOCK_FINDINGS, detect::Family::Clock),
            (
                rows::detected::names::WRITE_CONFLICTS,
                detect::Family::Write,
            ),
            (rows::detected::names::RETRY_FINDINGS, detect::Family::Retry),
            (
                rows::detected::names::FAILURE_FINDINGS,
                detect::Family::Failure,
            ),
        ] {
            // The kinds are our own words (no quotes to escape).
            let list: Vec<String> = detect::FindingKind::of(family)
                .map(|k| format!("'{k}'"))
                .collect();
            let sql = format!(
                "CREATE VIEW {view} AS SELECT * FROM {} WHERE kind IN ({})",
                rows::detected::names::FINDINGS,
                list.join(", ")
            );
            ctx.sql(&sql).await?;
        }
        let analyzer = Analyzer {
            ctx,
            data,
            cache,
            memory_limit,
        };
        analyzer.refresh()?;
        Ok(analyzer)
    }

    /// Takes a new snapshot: rows acknowledged since [`open`](Self::open) or
    /// the last refresh become visible, and the graph is rebuilt on next use.
    pub fn refresh(&self) -> Result<()> {
        // DataFusion keeps every folder listing it made, for good by default:
        // without this, files flushed since into a folder already listed
        // (a partition the flusher had just created) would stay unseen.
        if let Some(listings) = self.ctx.runtime_env().cache_manager.get_list_files_cache() {
            listings.clear();
        }
        let sources = ingested::register(&self.ctx, &self.data)?;
        self.cache.reset(sources);
        Ok(())
    }

    /// The DataFusion session, for callers that build their own plans.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// What the analyzer was told.
    pub fn settings(&self) -> &Settings {
        self.cache.settings()
    }

    /// The data folder.
    pub fn data(&self) -> &Location {
        &self.data
    }

    /// The happens-before graph of the current snapshot.
    pub async fn graph(&self) -> Result<Arc<derived::Built>> {
        self.limited(self.cache.get().await)
    }

    /// The findings and node offsets of the current snapshot.
    pub async fn findings(&self) -> Result<Arc<derived::Detected>> {
        self.limited(self.cache.detected().await)
    }

    /// The findings and node offsets of the settings' range, analysed in
    /// windows (see [`windows`]): memory is set by the window, not by the
    /// data. Not cached.
    pub async fn findings_windowed(
        &self,
        size: windows::WindowSize,
    ) -> Result<(derived::Detected, windows::WindowStats)> {
        self.limited(windows::detect(&self.cache, size).await)
    }

    /// The windows a report's analysis walks (see [`windows`]), in time
    /// order, as the settings size them.
    pub async fn windows(&self) -> Result<Arc<[windows::Window]>> {
        self.limited(self.cache.windows().await)
    }

    /// The rows and settings of `window`: what the engine needs to analyse
    /// it on another thread or process
    /// ([`WindowInput::encode`](causet_engine::window::WindowInput::encode)).
    pub async fn window_input(
        &self,
        window: &windows::Window,
    ) -> Result<causet_engine::window::WindowInput> {
        self.limited(self.cache.window_input(window).await)
    }

    /// The diagram of `trace_id` from its spans that a window holding
    /// `time_ns` reads (a lead before, the horizon after, and what was still
    /// running), so that a report draws an incident's example without
    /// building a graph of anything else. `findings` mark the events they
    /// concern; the critical path is marked.
    pub async fn diagram_near(
        &self,
        trace_id: &str,
        time_ns: i64,
        findings: &[detect::Finding],
    ) -> Result<explain::Diagram> {
        let settings = self.cache.settings();
        let at = TimeRange {
            from_ns: Some(time_ns),
            to_ns: Some(time_ns.saturating_add(1)),
        };
        let trace = graph::load::parse_trace(trace_id)
            .ok_or_else(|| Error::Usage(format!("{trace_id:?} is not a trace id")))?;
        let reach = settings::Reach {
            starts: at.extended(settings.lead_ns(), settings.horizon_ns),
            running_since: Some(time_ns.saturating_sub(settings.horizon_ns)),
            trace: Some(trace),
        };
        let built = self.limited(self.cache.analyse(reach).await)?;
        Ok(explain::diagram(&built.graph, trace_id, false, findings)?
            .with_critical_path(&built.graph))
    }

    /// The consistent cut at `at_ns` (see [`cut`]) as text, from the spans
    /// of the `lookback_ns` before it (and a lead after, for clocks that run
    /// behind); key states for `keys`, every key written when empty.
    pub async fn cut(&self, at_ns: i64, lookback_ns: i64, keys: &[String]) -> Result<String> {
        let settings = self.cache.settings();
        let from = at_ns.saturating_sub(lookback_ns);
        let reach = settings::Reach {
            starts: TimeRange {
                from_ns: Some(from),
                to_ns: Some(at_ns.saturating_add(settings.lead_ns())),
            },
            running_since: Some(from.saturating_sub(settings.horizon_ns)),
            trace: None,
        };
        let built = self.limited(self.cache.analyse(reach).await)?;
        let (offsets, _) = detect::offsets::estimate(&built.graph, &settings.detect);
        let cut = causet_engine::cut::cut(
            &built.graph,
            Some(&built.facts),
            &offsets,
            settings.detect.window_ns,
            at_ns,
            keys,
        );
        Ok(cut::to_text(&built.graph, &cut))
    }

    /// Whether the spans of `range` arrived: counts per hour and service,
    /// and the stretches without spans longer than `max_gap_ns` (see
    /// [`health`]), as of `now_ns`.
    pub async fn ingest_health(
        &self,
        range: TimeRange,
        max_gap_ns: i64,
        now_ns: i64,
    ) -> Result<health::IngestHealth> {
        self.limited(health::measure(&self.cache, range, max_gap_ns, now_ns).await)
    }

    /// Runs one or more `;`-separated statements, in order.
    pub async fn run(&self, sql: &str) -> Result<Vec<StatementResult>> {
        let results = self.run_unlimited(sql).await;
        self.limited(results)
    }

    /// A memory pool refusal as [`Error::MemoryLimit`].
    fn limited<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| Error::with_limit(e, self.memory_limit))
    }

    async fn run_unlimited(&self, sql: &str) -> Result<Vec<StatementResult>> {
        let statements = DFParser::parse_sql(sql)?;
        let mut results = Vec::with_capacity(statements.len());
        for statement in statements {
            let plan = self.ctx.state().statement_to_plan(statement).await?;
            let frame = self.ctx.execute_logical_plan(plan).await?;
            let schema = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await?;
            results.push(StatementResult { schema, batches });
        }
        Ok(results)
    }
}
