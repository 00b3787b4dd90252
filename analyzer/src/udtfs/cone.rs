//! `causal_past` and `causal_future`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::{Function, Target};
use crate::derived::{GraphCache, GraphRows};

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
        Ok(Arc::new(GraphRows::new(
            Arc::clone(&self.cache),
            Function::Cone {
                target,
                past: self.past,
            },
        )))
    }
}
