//! `causal_past` and `causal_future`.

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

/// `causal_past(...)` (when `past`) or `causal_future(...)`.
#[derive(Debug)]
pub struct CausalCone {
    cache: Arc<GraphCache>,
    past: bool,
}

impl CausalCone {
    /// The function over `cache`'s graph.
    pub fn new(cache: Arc<GraphCache>, past: bool) -> Self {
        CausalCone { cache, past }
    }
}

impl TableFunctionImpl for CausalCone {
    fn call_with_args(&self, args: TableFunctionArgs<'_, '_>) -> Result<Arc<dyn TableProvider>> {
        let name = if self.past {
            "causal_past"
        } else {
            "causal_future"
        };
        let mut targets = Target::parse_all(name, args.exprs(), 1)?;
        Ok(Arc::new(ConeTable {
            cache: Arc::clone(&self.cache),
            target: targets.remove(0),
            past: self.past,
        }))
    }
}

#[derive(Debug)]
struct ConeTable {
    cache: Arc<GraphCache>,
    target: Target,
    past: bool,
}

#[async_trait]
impl TableProvider for ConeTable {
    fn schema(&self) -> SchemaRef {
        tables::events_schema()
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
        let target = self.target.resolve(&built.graph)?;
        let ids = search::cone(&built.graph, target, self.past);
        let batch = tables::events_batch(&built.graph, Some(&ids)).map_err(to_datafusion)?;
        rows_scan(batch, state, projection, filters, limit).await
    }
}
