//! causet's analyzer: SQL over collected spans and the happens-before graph.
//!
//! An [`Analyzer`] is a DataFusion session over a data folder, with:
//!
//! - `spans`, `span_events`, `span_links`: the Parquet files and the
//!   unflushed write-ahead log, deduplicated (see [`ingested`]);
//! - `causal_events`, `hb_edges`: the happens-before graph (see [`graph`]),
//!   built on first use;
//! - causal scalar functions ([`udfs`]) and table functions ([`udtfs`]).
//!
//! ```no_run
//! # async fn run() -> causet_analyzer::Result<()> {
//! use causet_analyzer::Analyzer;
//!
//! let analyzer = Analyzer::open("./causet-data").await?;
//! let results = analyzer
//!     .run("SELECT source, count(*) FROM hb_edges GROUP BY source")
//!     .await?;
//! # Ok(()) }
//! ```

pub mod derived;
pub mod error;
pub mod graph;
pub mod ingested;
pub mod output;
pub mod shell;
pub mod udfs;
pub mod udtfs;
mod wal_tail;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::DFParser;

use derived::{GraphCache, GraphTable, Which};
pub use error::{Error, Result};
use graph::tables::names;

/// A DataFusion session over one data folder.
pub struct Analyzer {
    ctx: SessionContext,
    data_dir: PathBuf,
    cache: Arc<GraphCache>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("data_dir", &self.data_dir)
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
    /// Opens a session over `data_dir`, seeing everything acknowledged so far.
    pub async fn open(data_dir: impl AsRef<Path>) -> Result<Analyzer> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("causet", "public");
        let ctx = SessionContext::new_with_config(config);
        udfs::register_all(&ctx);
        let cache = Arc::new(GraphCache::default());
        udtfs::register_all(&ctx, &cache);
        ctx.register_table(
            names::CAUSAL_EVENTS,
            Arc::new(GraphTable::new(Arc::clone(&cache), Which::Events)),
        )?;
        ctx.register_table(
            names::HB_EDGES,
            Arc::new(GraphTable::new(Arc::clone(&cache), Which::Edges)),
        )?;
        let analyzer = Analyzer {
            ctx,
            data_dir: data_dir.as_ref().to_path_buf(),
            cache,
        };
        analyzer.refresh()?;
        Ok(analyzer)
    }

    /// Takes a new snapshot: rows acknowledged since [`open`](Self::open) or
    /// the last refresh become visible, and the graph is rebuilt on next use.
    pub fn refresh(&self) -> Result<()> {
        let sources = ingested::register(&self.ctx, &self.data_dir)?;
        self.cache.reset(sources);
        Ok(())
    }

    /// The DataFusion session, for callers that build their own plans.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The happens-before graph of the current snapshot.
    pub async fn graph(&self) -> Result<Arc<derived::Built>> {
        self.cache.get().await
    }

    /// Runs one or more `;`-separated statements, in order.
    pub async fn run(&self, sql: &str) -> Result<Vec<StatementResult>> {
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
