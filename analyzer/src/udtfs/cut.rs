//! `consistent_cut(time)`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use super::Function;
use crate::derived::{GraphCache, GraphRows};

/// `consistent_cut(time)`: the frontier of the consistent cut at `time`
/// (see [`causet_engine::cut`]), one `causal_events` row per node: its last event
/// in the cut.
#[derive(Debug)]
pub struct ConsistentCut {
    cache: Arc<GraphCache>,
}

impl ConsistentCut {
    /// The function over `cache`'s graph.
    pub fn new(cache: Arc<GraphCache>) -> Self {
        ConsistentCut { cache }
    }
}

/// A time literal: RFC 3339 text, a timestamp, or ns since the epoch.
fn time(args: &[Expr]) -> Result<i64> {
    let usage = || {
        DataFusionError::Plan(
            "consistent_cut takes one time: '2026-11-25T10:00:01Z', a timestamp, or ns since the epoch".into(),
        )
    };
    match args {
        [Expr::Literal(value, _)] => match value {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
                .ok_or_else(usage),
            ScalarValue::TimestampNanosecond(Some(n), _) | ScalarValue::Int64(Some(n)) => Ok(*n),
            _ => Err(usage()),
        },
        _ => Err(usage()),
    }
}

impl TableFunctionImpl for ConsistentCut {
    fn call_with_args(&self, args: TableFunctionArgs<'_, '_>) -> Result<Arc<dyn TableProvider>> {
        let at = time(args.exprs())?;
        Ok(Arc::new(GraphRows::new(
            Arc::clone(&self.cache),
            Function::Cut { at },
        )))
    }
}
