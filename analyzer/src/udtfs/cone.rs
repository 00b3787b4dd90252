//! `causal_past` and `causal_future`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::Target;
use crate::derived::{GraphCache, GraphRows};
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
        let target = Target::parse_all(name, args.exprs(), 1)?.remove(0);
        let past = self.past;
        Ok(Arc::new(GraphRows::new(
            Arc::clone(&self.cache),
            tables::events_schema(),
            move |graph| {
                let ids = search::cone(graph, target.resolve(graph)?, past);
                tables::events_batch(graph, Some(&ids)).map_err(to_datafusion)
            },
        )))
    }
}
