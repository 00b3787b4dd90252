//! Tables computed from the graph: built on first use, once per snapshot.
//!
//! `SELECT * FROM spans` never pays for the graph; the first query that
//! touches `causal_events`, `hb_edges` or a causal table function builds it
//! from the deduplicated ingested tables, and later queries reuse it until
//! the analyzer is refreshed.

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use causet_schema::tables::{SPAN_EVENTS, SPAN_LINKS, SPANS};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use tokio::sync::OnceCell;

use crate::error::Result;
use crate::graph::{Graph, Input, tables};

/// The ingested tables a graph is built from, and the graph once built.
#[derive(Debug, Default)]
pub struct GraphCache {
    state: Mutex<Snapshot>,
}

#[derive(Debug, Default, Clone)]
struct Snapshot {
    sources: Vec<(&'static str, Arc<dyn TableProvider>)>,
    built: Arc<OnceCell<Arc<Built>>>,
}

/// A graph and its two tables.
#[derive(Debug)]
pub struct Built {
    /// The graph.
    pub graph: Graph,
    /// `causal_events`.
    pub events: RecordBatch,
    /// `hb_edges`.
    pub edges: RecordBatch,
}

impl GraphCache {
    /// Points the cache at a new snapshot of the ingested tables, dropping
    /// any graph built from the old one.
    pub fn reset(&self, sources: Vec<(&'static str, Arc<dyn TableProvider>)>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = Snapshot {
            sources,
            built: Arc::default(),
        };
    }

    /// The graph of the current snapshot, building it if needed.
    pub async fn get(&self) -> Result<Arc<Built>> {
        let snapshot = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let built = snapshot
            .built
            .get_or_try_init(|| async {
                let input = load(&snapshot.sources).await?;
                let graph = Graph::build(&input)?;
                let events = tables::events_batch(&graph, None)?;
                let edges = tables::edges_batch(&graph, None, false)?;
                Ok::<_, crate::Error>(Arc::new(Built {
                    graph,
                    events,
                    edges,
                }))
            })
            .await?;
        Ok(Arc::clone(built))
    }
}

async fn load(sources: &[(&'static str, Arc<dyn TableProvider>)]) -> Result<Input> {
    let ctx = SessionContext::new();
    for (name, provider) in sources {
        ctx.register_table(*name, Arc::clone(provider))?;
    }
    let select =
        |table: &str, columns: &[&str]| format!("SELECT {} FROM {table}", columns.join(", "));
    Ok(Input {
        spans: ctx
            .sql(&select(SPANS, Input::SPAN_COLUMNS))
            .await?
            .collect()
            .await?,
        events: ctx
            .sql(&select(SPAN_EVENTS, Input::EVENT_COLUMNS))
            .await?
            .collect()
            .await?,
        links: ctx
            .sql(&select(SPAN_LINKS, Input::LINK_COLUMNS))
            .await?
            .collect()
            .await?,
    })
}

/// `causal_events` or `hb_edges`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `causal_events`.
    Events,
    /// `hb_edges`.
    Edges,
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
            Which::Events => tables::events_schema(),
            Which::Edges => tables::edges_schema(),
        }
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let built = self
            .cache
            .get()
            .await
            .map_err(crate::error::to_datafusion)?;
        let batch = match self.which {
            Which::Events => built.events.clone(),
            Which::Edges => built.edges.clone(),
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
