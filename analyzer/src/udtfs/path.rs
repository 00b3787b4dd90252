//! `hb_path`.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::Target;
use crate::derived::{GraphCache, rows_scan};
use crate::error::to_datafusion;
use crate::graph::{search, tables};

/// `hb_path(a, b)`: the shortest happens-before path from A to B.
#[derive(Debug)]
pub struct HbPath {
    cache: Arc<GraphCache>,
}

impl HbPath {
    /// The function over `cache`'s graph.
    pub fn new(cache: Arc<GraphCache>) -> Self {
        HbPath { cache }
    }
}

impl TableFunctionImpl for HbPath {
    fn call_with_args(&self, args: TableFunctionArgs<'_, '_>) -> Result<Arc<dyn TableProvider>> {
        let targets = Target::parse_all("hb_path", args.exprs(), 2)?;
        Ok(Arc::new(PathTable {
            cache: Arc::clone(&self.cache),
            from: targets[0].clone(),
            to: targets[1].clone(),
        }))
    }
}

#[derive(Debug)]
struct PathTable {
    cache: Arc<GraphCache>,
    from: Target,
    to: Target,
}

#[async_trait]
impl TableProvider for PathTable {
    fn schema(&self) -> SchemaRef {
        tables::path_schema()
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
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let built = self.cache.get().await.map_err(to_datafusion)?;
        let (from, to) = (
            self.from.resolve(&built.graph)?,
            self.to.resolve(&built.graph)?,
        );
        let edges = search::path(&built.graph, from, to).unwrap_or_default();
        let batch = tables::edges_batch(&built.graph, Some(&edges), true).map_err(to_datafusion)?;
        rows_scan(batch, state, projection, filters, limit).await
    }
}
