//! `hb_path`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::Target;
use crate::derived::{GraphCache, GraphRows};
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
        let mut targets = Target::parse_all("hb_path", args.exprs(), 2)?;
        let (to, from) = (targets.remove(1), targets.remove(0));
        Ok(Arc::new(GraphRows::new(
            Arc::clone(&self.cache),
            tables::path_schema(),
            move |graph| {
                let edges = search::path(graph, from.resolve(graph)?, to.resolve(graph)?)
                    .unwrap_or_default();
                tables::edges_batch(graph, Some(&edges), true).map_err(to_datafusion)
            },
        )))
    }
}
