//! Tables computed from the graph: built on first use, once per snapshot.
//!
//! `SELECT * FROM spans` never pays for the graph; the first query that
//! touches `causal_events`, `hb_edges`, `findings` or a causal table
//! function builds it, with the detectors' facts, from one scan of the
//! ingested tables, and later queries reuse it until the analyzer is
//! refreshed. A range with more spans than one graph may hold in the
//! memory limit is analysed in windows instead: its findings once per
//! snapshot, its graph tables and table functions a window at a time per
//! query (see [`crate::windowed`]).

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use causet_engine::window::WindowInput;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use tokio::sync::OnceCell;

use crate::detect::heartbeats::PhiSample;
use crate::detect::offsets::NodeOffset;
use crate::detect::{DetectConfig, Estimates, Facts, Finding};
use crate::error::Result;
use crate::graph::Graph;
use crate::incidents::{self, Incident};
use crate::ingested::DedupTable;
use crate::rows::detected;
use crate::rows::graph as rows;
use crate::scan;
use crate::settings::{Reach, Settings, TimeRange};
use crate::udtfs::Function;
use crate::windowed::WindowedRows;
use crate::windows::{self, Window};

/// The ingested tables a graph is built from, and the graph once built.
#[derive(Debug)]
pub struct GraphCache {
    state: Mutex<Snapshot>,
    settings: Settings,
    runtime: Arc<RuntimeEnv>,
}

#[derive(Debug, Default, Clone)]
struct Snapshot {
    sources: Vec<Arc<DedupTable>>,
    built: Arc<OnceCell<Arc<Built>>>,
    detected: Arc<OnceCell<Arc<Detected>>>,
    windows: Arc<OnceCell<Arc<[Window]>>>,
    longest: Arc<OnceCell<i64>>,
    /// The last span count asked for: its range and slot, and its rows.
    counts: Arc<Mutex<Option<SpanCounts>>>,
}

/// Spans per slot and service of a range (see [`scan::span_counts`]).
type SpanCounts = ((TimeRange, i64), Arc<Vec<(i64, String, u64)>>);

/// Findings and node offsets of a graph, and their tables, each made the
/// first time it is asked for: a report reads the findings and estimates
/// only, SQL reads the tables.
#[derive(Debug)]
pub struct Detected {
    /// Every finding, by time.
    pub findings: Vec<Finding>,
    /// Node offsets per window.
    pub offsets: Vec<NodeOffset>,
    /// Phi at each heartbeat's arrival.
    pub phi: Vec<PhiSample>,
    incidents: std::sync::OnceLock<Vec<Incident>>,
    findings_batch: std::sync::OnceLock<RecordBatch>,
    incidents_batch: std::sync::OnceLock<RecordBatch>,
    offsets_batch: std::sync::OnceLock<RecordBatch>,
    phi_batch: std::sync::OnceLock<RecordBatch>,
}

/// A graph and its two tables, each made the first time a query reads it:
/// the detectors and UDTFs need only the graph, and the tables (a row per
/// event and per edge, ids as text) would cost more memory than the graph.
#[derive(Debug)]
pub struct Built {
    /// The graph.
    pub graph: Graph,
    /// What the detectors read besides the graph.
    pub facts: Facts,
    /// Their bytes, held in the memory pool while they live.
    _memory: MemoryReservation,
    events: std::sync::OnceLock<RecordBatch>,
    edges: std::sync::OnceLock<RecordBatch>,
}

impl Built {
    /// `causal_events`.
    pub fn events(&self) -> Result<RecordBatch> {
        lazy(&self.events, || {
            rows::events_batch(&self.graph, None, |e| Some(u64::from(e)))
        })
    }

    /// `hb_edges`.
    pub fn edges(&self) -> Result<RecordBatch> {
        lazy(&self.edges, || {
            rows::edges_batch(&self.graph, None, false, |e| Some(u64::from(e)))
        })
    }
}

fn lazy(
    cell: &std::sync::OnceLock<RecordBatch>,
    make: impl FnOnce() -> Result<RecordBatch>,
) -> Result<RecordBatch> {
    if let Some(batch) = cell.get() {
        return Ok(batch.clone());
    }
    let batch = make()?;
    Ok(cell.get_or_init(|| batch).clone())
}

impl GraphCache {
    /// A cache analysing with `settings`, its queries and memory in `runtime`.
    pub fn new(settings: Settings, runtime: Arc<RuntimeEnv>) -> Self {
        GraphCache {
            state: Mutex::default(),
            settings,
            runtime,
        }
    }

    /// The detector settings.
    pub fn config(&self) -> &DetectConfig {
        &self.settings.detect
    }

    /// Points the cache at a new snapshot of the ingested tables, dropping
    /// any graph built from the old one.
    pub fn reset(&self, sources: Vec<Arc<DedupTable>>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = Snapshot {
            sources,
            built: Arc::default(),
            detected: Arc::default(),
            windows: Arc::default(),
            longest: Arc::default(),
            counts: Arc::default(),
        };
    }

    /// Spans per `slot_ns` of start time and service inside `range`, by
    /// slot then service, in the current snapshot. The last answer is kept:
    /// a report cuts its windows and measures its ingest health with the
    /// same per-minute counts, and reads them once.
    pub(crate) async fn span_counts(
        &self,
        range: TimeRange,
        slot_ns: i64,
    ) -> Result<Arc<Vec<(i64, String, u64)>>> {
        let counts = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(&state.counts)
        };
        if let Some((asked, rows)) = counts.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *asked == (range, slot_ns)
        {
            return Ok(Arc::clone(rows));
        }
        let rows = Arc::new(
            scan::span_counts(
                &self.sources(),
                &self.runtime,
                &self.settings,
                range,
                slot_ns,
            )
            .await?,
        );
        *counts.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(((range, slot_ns), Arc::clone(&rows)));
        Ok(rows)
    }

    /// The longest span of the current snapshot's range, ns, measured once.
    pub(crate) async fn longest_span(&self) -> Result<i64> {
        let cell = Arc::clone(&self.state.lock().unwrap_or_else(|p| p.into_inner()).longest);
        let longest = cell
            .get_or_try_init(|| async {
                let sources = self.sources();
                scan::longest_span(&sources, &self.runtime, &self.settings, self.settings.range)
                    .await
            })
            .await?;
        Ok(*longest)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The runtime (memory pool, spill files) its queries run in.
    pub(crate) fn runtime(&self) -> &Arc<RuntimeEnv> {
        &self.runtime
    }

    /// The ingested tables of the current snapshot.
    pub(crate) fn sources(&self) -> Vec<Arc<DedupTable>> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sources
            .clone()
    }

    /// The graph and facts of the spans `load` reaches, read from the
    /// current snapshot now (not cached), their memory charged to the pool
    /// while they live.
    pub async fn analyse(&self, load: impl Into<Reach>) -> Result<Built> {
        // Charged to the pool SQL draws on, so the limit covers both; grown
        // as the scan is read, so an analysis too big for it stops early.
        let memory = MemoryConsumer::new("causet analysis (graph and facts)")
            .register(&self.runtime.memory_pool);
        let sources = self.sources();
        let (graph, facts) = scan::load(
            &sources,
            load.into(),
            &self.runtime,
            &self.settings,
            &memory,
        )
        .await?;
        memory.try_resize(graph.memory().total() + facts.heap_bytes())?;
        Ok(Built {
            graph,
            facts,
            _memory: memory,
            events: std::sync::OnceLock::new(),
            edges: std::sync::OnceLock::new(),
        })
    }

    /// The rows and settings of `window` read from the current snapshot,
    /// as one unit the engine analyses on any thread or in another process
    /// ([`WindowInput`]). The scan is charged to the pool as it reads, so a
    /// window too large for the limit stops early; the rows returned are
    /// the caller's to account for.
    pub async fn window_input(&self, window: &Window) -> Result<WindowInput> {
        let memory = MemoryConsumer::new("causet window rows").register(&self.runtime.memory_pool);
        let sources = self.sources();
        scan::window_input(
            &sources,
            window.reach,
            window.bounds,
            &self.runtime,
            &self.settings,
            &memory,
        )
        .await
    }

    /// The graph of the current snapshot (its range and horizon), building
    /// it if needed.
    pub async fn get(&self) -> Result<Arc<Built>> {
        let snapshot = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let load = self.settings.range.widened(self.settings.horizon_ns);
        let built = snapshot
            .built
            .get_or_try_init(|| async {
                Ok::<_, crate::Error>(Arc::new(self.analyse(load).await?))
            })
            .await?;
        Ok(Arc::clone(built))
    }

    /// The windows of the current snapshot's range (see [`windows::plan`]):
    /// by default as long as the memory limit allows, one when its graph
    /// fits.
    pub async fn windows(&self) -> Result<Arc<[Window]>> {
        let cell = Arc::clone(&self.state.lock().unwrap_or_else(|p| p.into_inner()).windows);
        let windows = cell
            .get_or_try_init(|| async {
                Ok::<_, crate::Error>(Arc::from(windows::plan(self, self.settings.window).await?))
            })
            .await?;
        Ok(Arc::clone(windows))
    }

    /// The findings of the current snapshot, found window by window as a
    /// report finds them (see [`windows::detect`]) and kept.
    pub async fn detected(&self) -> Result<Arc<Detected>> {
        let cell = Arc::clone(
            &self
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .detected,
        );
        let detected = cell
            .get_or_try_init(|| async {
                let (detected, _) = windows::detect(self, self.settings.window).await?;
                Ok::<_, crate::Error>(Arc::new(detected))
            })
            .await?;
        Ok(Arc::clone(detected))
    }
}

impl Detected {
    /// Findings and estimates.
    pub fn new(findings: Vec<Finding>, estimates: Estimates) -> Detected {
        let Estimates { offsets, phi } = estimates;
        Detected {
            findings,
            offsets,
            phi,
            incidents: std::sync::OnceLock::new(),
            findings_batch: std::sync::OnceLock::new(),
            incidents_batch: std::sync::OnceLock::new(),
            offsets_batch: std::sync::OnceLock::new(),
            phi_batch: std::sync::OnceLock::new(),
        }
    }

    /// The findings grouped by cause, worst first.
    pub fn incidents(&self) -> &[Incident] {
        self.incidents.get_or_init(|| {
            let refs: Vec<&Finding> = self.findings.iter().collect();
            incidents::group(&refs, &self.offsets, incidents::DEFAULT_GAP_NS)
        })
    }

    /// `findings`.
    pub fn findings_batch(&self) -> Result<RecordBatch> {
        lazy(&self.findings_batch, || {
            detected::findings_batch(&self.findings, self.incidents())
        })
    }

    /// `incidents`.
    pub fn incidents_batch(&self) -> Result<RecordBatch> {
        lazy(&self.incidents_batch, || {
            detected::incidents_batch(self.incidents(), &self.findings)
        })
    }

    /// `node_offsets`.
    pub fn offsets_batch(&self) -> Result<RecordBatch> {
        lazy(&self.offsets_batch, || {
            detected::offsets_batch(&self.offsets)
        })
    }

    /// `node_phi`.
    pub fn phi_batch(&self) -> Result<RecordBatch> {
        lazy(&self.phi_batch, || detected::phi_batch(&self.phi))
    }
}

/// Which derived table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `causal_events`.
    Events,
    /// `hb_edges`.
    Edges,
    /// `findings`.
    Findings,
    /// `node_offsets`.
    Offsets,
    /// `incidents`.
    Incidents,
    /// `node_phi`.
    Phi,
}

/// A table whose rows come from the graph.
#[derive(Debug)]
pub struct GraphTable {
    cache: Arc<GraphCache>,
    which: Which,
}

impl GraphTable {
    /// The `which` table of `cache`'s graph.
    pub fn new(cache: Arc<GraphCache>, which: Which) -> Self {
        GraphTable { cache, which }
    }
}

#[async_trait]
impl TableProvider for GraphTable {
    fn schema(&self) -> SchemaRef {
        match self.which {
            Which::Events => rows::events_schema(),
            Which::Edges => rows::edges_schema(),
            Which::Findings => detected::findings_schema(),
            Which::Offsets => detected::offsets_schema(),
            Which::Incidents => detected::incidents_schema(),
            Which::Phi => detected::phi_schema(),
        }
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    /// Time bounds choose the windows of `causal_events` and `hb_edges`
    /// (see [`crate::windowed`]); every filter is applied again above.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        let how = match self.which {
            Which::Events | Which::Edges => TableProviderFilterPushDown::Inexact,
            _ => TableProviderFilterPushDown::Unsupported,
        };
        Ok(vec![how; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if matches!(self.which, Which::Events | Which::Edges) {
            let windows = self
                .cache
                .windows()
                .await
                .map_err(crate::error::to_datafusion)?;
            if windows.len() > 1 {
                // How far before a time bound the spans of its rows began.
                let longest = if filters.is_empty() {
                    0
                } else {
                    self.cache
                        .longest_span()
                        .await
                        .map_err(crate::error::to_datafusion)?
                };
                return WindowedRows::scan(
                    Arc::clone(&self.cache),
                    self.which,
                    windows,
                    (filters, longest),
                    projection,
                    limit,
                );
            }
        }
        let batch = match self.which {
            Which::Events | Which::Edges => {
                let built = self
                    .cache
                    .get()
                    .await
                    .map_err(crate::error::to_datafusion)?;
                let batch = if self.which == Which::Events {
                    built.events()
                } else {
                    built.edges()
                };
                batch.map_err(crate::error::to_datafusion)?
            }
            Which::Findings | Which::Offsets | Which::Incidents | Which::Phi => {
                let detected = self
                    .cache
                    .detected()
                    .await
                    .map_err(crate::error::to_datafusion)?;
                let batch = match self.which {
                    Which::Findings => detected.findings_batch(),
                    Which::Incidents => detected.incidents_batch(),
                    Which::Phi => detected.phi_batch(),
                    _ => detected.offsets_batch(),
                };
                batch.map_err(crate::error::to_datafusion)?
            }
        };
        rows_scan(batch, state, projection, filters, limit).await
    }
}

/// Scans rows held in memory, split so both cores can work on them.
pub async fn rows_scan(
    batch: RecordBatch,
    state: &dyn Session,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
    const CHUNK: usize = 64 * 1024;
    let schema = batch.schema();
    let chunks: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(CHUNK)
        .map(|at| batch.slice(at, CHUNK.min(batch.num_rows() - at)))
        .collect();
    let partitions = state.config().target_partitions().max(1);
    let mut split: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (i, chunk) in chunks.into_iter().enumerate() {
        split[i % partitions].push(chunk);
    }
    MemTable::try_new(schema, split)?
        .scan(state, projection, filters, limit)
        .await
}

/// A table function's rows, computed when it is scanned: from the graph of
/// the whole range when it fits one window, else from the windows the
/// function's targets need (see [`crate::windowed`]).
#[derive(Debug)]
pub struct GraphRows {
    cache: Arc<GraphCache>,
    function: Function,
}

impl GraphRows {
    /// The rows of `function` over `cache`'s data.
    pub fn new(cache: Arc<GraphCache>, function: Function) -> Self {
        GraphRows { cache, function }
    }
}

#[async_trait]
impl TableProvider for GraphRows {
    fn schema(&self) -> SchemaRef {
        self.function.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let to_df = crate::error::to_datafusion;
        let windows = self.cache.windows().await.map_err(to_df)?;
        if windows.len() > 1 {
            return crate::windowed::function_scan(
                Arc::clone(&self.cache),
                windows,
                &self.function,
                (state, projection, filters, limit),
            )
            .await;
        }
        let built = self.cache.get().await.map_err(to_df)?;
        let batch = self.function.rows(&built.graph, self.cache.config())?;
        rows_scan(batch, state, projection, filters, limit).await
    }
}
