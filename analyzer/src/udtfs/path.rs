//! `hb_path`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::{Function, Target};
use crate::derived::{GraphCache, GraphRows};

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
            Function::Path { from, to },
        )))
    }
}
