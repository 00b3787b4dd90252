//! The ingested tables as SQL sees them: `spans`, `span_events` and
//! `span_links`, over the Parquet files and the WAL tail not yet flushed,
//! deduplicated because exporters retry.
//!
//! Each table is a [`DedupTable`]: DataFusion pushes filters and the
//! projection into it, it applies them to both sources (so a `date` / `hour`
//! filter prunes Parquet folders and a `start_time` filter prunes row groups
//! by their statistics), and only then keeps one row per key. Filtering
//! before deduplicating is exact because the copies of a row are identical:
//! they are the same exported span.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use causet_schema::location::Location;
use causet_schema::tables::{self, INGESTED_TABLES, col};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::execution::SessionState;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt as _, LogicalPlanBuilder, TableProviderFilterPushDown, TableType,
    col as column, lit,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner as _};
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::settings::{Reach, TimeRange};
use crate::wal_tail;

const ROW_NUMBER: &str = "__causet_copy";

/// The columns that identify a row of `table`.
pub fn key_columns(table: &str) -> &'static [&'static str] {
    match table {
        tables::SPAN_EVENTS => &[col::TRACE_ID, col::SPAN_ID, col::EVENT_INDEX],
        tables::SPAN_LINKS => &[col::TRACE_ID, col::SPAN_ID, col::LINK_INDEX],
        _ => &[col::TRACE_ID, col::SPAN_ID],
    }
}

/// `table`'s schema as SQL sees it: the stored columns, then `date` and `hour`.
pub fn sql_schema(table: &str) -> Result<SchemaRef> {
    let stored =
        tables::schema_for(table).ok_or_else(|| Error::Usage(format!("no table {table}")))?;
    let mut fields: Vec<Field> = stored.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(col::DATE, DataType::Utf8, false));
    fields.push(Field::new(col::HOUR, DataType::Utf8, false));
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        stored.metadata().clone(),
    )))
}

/// Refuses a data folder that does not exist or that holds none of what
/// causet writes (the WAL and the three tables' folders): an analysis of it
/// would find nothing and say so as if all were well. Creates nothing.
pub async fn check_data_folder(data: &Location) -> Result<()> {
    let remote = match data {
        Location::Folder(path) => return check_folder(path),
        Location::Remote(remote) => remote,
    };
    let listed = remote
        .store()
        .list_with_delimiter(Some(remote.prefix()))
        .await
        .map_err(|source| Error::Store {
            url: remote.to_string(),
            source,
        })?;
    let ours = listed.common_prefixes.iter().any(|dir| {
        dir.filename()
            .is_some_and(|name| INGESTED_TABLES.contains(&name))
    });
    if !ours {
        return Err(Error::NotADataFolder {
            path: remote.to_string(),
            why: "it holds none of spans/, span_events/, span_links/",
        });
    }
    Ok(())
}

/// [`check_data_folder`] of a folder on this machine.
pub fn check_folder(data_dir: &Path) -> Result<()> {
    let refuse = |why| {
        Err(Error::NotADataFolder {
            path: data_dir.display().to_string(),
            why,
        })
    };
    if !data_dir.exists() {
        return refuse("it does not exist");
    }
    if !data_dir.is_dir() {
        return refuse("it is not a folder");
    }
    let ours = std::iter::once(causet_schema::wal::WAL_DIR)
        .chain(INGESTED_TABLES)
        .any(|sub| data_dir.join(sub).is_dir());
    if !ours {
        return refuse("it holds none of wal/, spans/, span_events/, span_links/");
    }
    Ok(())
}

/// Registers the three ingested tables of `data` in `ctx`, reading the
/// WAL tail as it is now (a local folder's; an object store has none: its
/// collectors keep their WAL on their own disks), and returns them.
pub fn register(ctx: &SessionContext, data: &Location) -> Result<Vec<Arc<DedupTable>>> {
    let schemas = [
        sql_schema(INGESTED_TABLES[0])?,
        sql_schema(INGESTED_TABLES[1])?,
        sql_schema(INGESTED_TABLES[2])?,
    ];
    let tail = match data {
        Location::Folder(data_dir) => wal_tail::read(data_dir, &schemas)?,
        Location::Remote(_) => Default::default(),
    };
    let mut providers = Vec::new();
    for ((table, wal_rows), schema) in INGESTED_TABLES.into_iter().zip(tail).zip(schemas) {
        let parquet = listing_table(data, table, &schema)?;
        // No WAL rows (all flushed, or an object store): no second source.
        let wal = (!wal_rows.is_empty())
            .then(|| MemTable::try_new(Arc::clone(&schema), vec![wal_rows]))
            .transpose()?
            .map(|table| Arc::new(table) as Arc<dyn TableProvider>);
        let dedup = Arc::new(DedupTable {
            name: table,
            schema,
            parquet,
            wal,
            dedup: true,
        });
        ctx.deregister_table(table)?;
        ctx.register_table(table, Arc::clone(&dedup) as Arc<dyn TableProvider>)?;
        providers.push(dedup);
    }
    Ok(providers)
}

fn listing_table(
    data: &Location,
    table: &str,
    schema: &SchemaRef,
) -> Result<Arc<dyn TableProvider>> {
    let url = match data {
        Location::Folder(data_dir) => {
            let dir = data_dir.join(table);
            if !dir.exists() {
                // Nothing flushed to this table yet: no rows (a read creates
                // nothing).
                return Ok(Arc::new(MemTable::try_new(
                    Arc::clone(schema),
                    vec![vec![]],
                )?));
            }
            let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io(&dir, e))?;
            format!("{}/", dir.display())
        }
        // An object store has no folders: a prefix with nothing under it
        // lists no files, which is an empty table.
        Location::Remote(remote) => remote.table_url(table),
    };
    let url = ListingTableUrl::parse(url)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![
            (col::DATE.to_owned(), DataType::Utf8),
            (col::HOUR.to_owned(), DataType::Utf8),
        ]);
    let stored =
        tables::schema_for(table).ok_or_else(|| Error::Usage(format!("no table {table}")))?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(stored);
    let listing = ListingTable::try_new(config)?;
    debug_assert_eq!(listing.schema().fields().len(), schema.fields().len());
    Ok(Arc::new(listing))
}

/// Parquet and WAL rows of one table, one row per key.
#[derive(Debug)]
pub struct DedupTable {
    name: &'static str,
    schema: SchemaRef,
    parquet: Arc<dyn TableProvider>,
    /// The WAL's rows not yet in Parquet, if there are any.
    wal: Option<Arc<dyn TableProvider>>,
    /// Off for [`with_copies`](Self::with_copies).
    dedup: bool,
}

impl DedupTable {
    /// The table's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The same rows with the copies left in, for a reader that drops them
    /// itself. Deduplicating in SQL numbers every row of a key, which means
    /// sorting (and holding) the whole scan; the analysis keeps one row per
    /// key of what it reads anyway, in a few bytes per row.
    pub fn with_copies(&self) -> Arc<dyn TableProvider> {
        Arc::new(DedupTable {
            name: self.name,
            schema: Arc::clone(&self.schema),
            parquet: Arc::clone(&self.parquet),
            wal: self.wal.clone(),
            dedup: false,
        })
    }
}

#[async_trait]
impl TableProvider for DedupTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let mut filters = filters.to_vec();
        if self.name == tables::SPANS {
            filters.extend(
                filters
                    .iter()
                    .filter_map(partition_bound)
                    .collect::<Vec<_>>(),
            );
        }
        // The filters run on each source, below the deduplication, so it
        // only numbers the rows a query wants: copies of a span are the
        // same export received twice, so filtering before or after picks
        // the same rows (with differing copies, either way one is arbitrary).
        let source = |provider: &Arc<dyn TableProvider>| {
            let scan = LogicalPlanBuilder::scan_with_filters(
                self.name,
                provider_as_source(Arc::clone(provider)),
                None,
                filters.clone(),
            )?;
            match conjunction(filters.clone()) {
                Some(all) => scan.filter(all),
                None => Ok(scan),
            }
        };
        let keys: Vec<Expr> = key_columns(self.name).iter().map(|k| column(*k)).collect();
        let copy = row_number().partition_by(keys).build()?.alias(ROW_NUMBER);
        let wanted: Vec<Expr> = match projection {
            Some(indices) => indices
                .iter()
                .map(|&i| column(self.schema.field(i).name()))
                .collect(),
            None => self
                .schema
                .fields()
                .iter()
                .map(|f| column(f.name()))
                .collect(),
        };
        let union = match &self.wal {
            Some(wal) => source(&self.parquet)?.union(source(wal)?.build()?)?,
            None => source(&self.parquet)?,
        };
        let mut plan = if self.dedup {
            union
                .window(vec![copy])?
                .filter(column(ROW_NUMBER).eq(lit(1u64)))?
                .project(wanted)?
        } else {
            union.project(wanted)?
        };
        if let Some(limit) = limit {
            plan = plan.limit(0, Some(limit))?;
        }
        // Planned with DataFusion's own planner rather than the session's:
        // with `--workers` that one distributes, and the query this scan is
        // part of is split into stages as a whole once planned.
        let plan = plan.build()?;
        match state.as_any().downcast_ref::<SessionState>() {
            Some(session) => {
                let optimized = session.optimize(&plan)?;
                DefaultPhysicalPlanner::default()
                    .create_physical_plan(&optimized, session)
                    .await
            }
            None => state.create_physical_plan(&plan).await,
        }
    }
}

/// The partition filter a `start_time` bound implies, so that a time filter
/// prunes `date=`/`hour=` folders as well as row groups: `start_time >= t`
/// gives `date > d OR (date = d AND hour >= h)` for t's date d and hour h.
fn partition_bound(filter: &Expr) -> Option<Expr> {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::BinaryExpr;
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = filter else {
        return None;
    };
    let (bounded, op, value) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v, _)) => (c, *op, v),
        (Expr::Literal(v, _), Expr::Column(c)) => (c, op.swap()?, v),
        _ => return None,
    };
    if bounded.name != col::START_TIME {
        return None;
    }
    let ns = match value {
        ScalarValue::TimestampNanosecond(Some(v), _) => *v,
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.checked_mul(1_000)?,
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000_000)?,
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000_000)?,
        _ => return None,
    };
    hour_bound(ns, op)
}

/// The `date`/`hour` filter of the hours a time `op` `ns` can fall in
/// (`>`, `>=`, `<`, `<=` or `=`).
fn hour_bound(ns: i64, op: datafusion::logical_expr::Operator) -> Option<Expr> {
    use datafusion::logical_expr::{BinaryExpr, Operator};
    let (date, hour) = causet_schema::partition::values(causet_schema::partition::hour_of(ns));
    let (d, h) = (column(col::DATE), column(col::HOUR));
    let (strict, loose) = match op {
        Operator::Gt | Operator::GtEq => (Operator::Gt, Operator::GtEq),
        Operator::Lt | Operator::LtEq => (Operator::Lt, Operator::LtEq),
        Operator::Eq => {
            return Some(d.eq(lit(date)).and(h.eq(lit(hour))));
        }
        _ => return None,
    };
    let whole_days = Expr::BinaryExpr(BinaryExpr::new(
        Box::new(d.clone()),
        strict,
        Box::new(lit(date.clone())),
    ));
    let same_day = d.eq(lit(date)).and(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(h),
        loose,
        Box::new(lit(hour)),
    )));
    Some(whole_days.or(same_day))
}

/// The spans of `reach`: `start_time` inside its outer range, and, before
/// its `starts`, `end_time` inside them; `None` for the whole time line.
pub fn reach_filter(reach: Reach) -> Option<Expr> {
    let outer = start_time_filter(reach.outer());
    match reach.starts.from_ns {
        Some(from) if reach.outer().from_ns != Some(from) => {
            let at = timestamp(from);
            let running = column(col::START_TIME)
                .gt_eq(at.clone())
                .or(column(col::END_TIME).gt_eq(at));
            conjunction(outer.into_iter().chain([running]))
        }
        _ => outer,
    }
}

fn timestamp(ns: i64) -> Expr {
    lit(datafusion::common::ScalarValue::TimestampNanosecond(
        Some(ns),
        Some(tables::UTC.into()),
    ))
}

/// `start_time` inside `range`, for `spans` (the scan adds the `date`/`hour`
/// bound it implies); `None` for the whole time line.
pub fn start_time_filter(range: TimeRange) -> Option<Expr> {
    let from = range
        .from_ns
        .map(|f| column(col::START_TIME).gt_eq(timestamp(f)));
    let to = range
        .to_ns
        .map(|t| column(col::START_TIME).lt(timestamp(t)));
    conjunction(from.into_iter().chain(to))
}

/// The `date`/`hour` folders of the spans that start inside `range`, for
/// `span_events` and `span_links` (stored with their span); `None` for the
/// whole time line.
pub fn hours_filter(range: TimeRange) -> Option<Expr> {
    use datafusion::logical_expr::Operator;
    let from = range.from_ns.and_then(|f| hour_bound(f, Operator::GtEq));
    let to = range
        .to_ns
        .and_then(|t| hour_bound(t.saturating_sub(1), Operator::LtEq));
    conjunction(from.into_iter().chain(to))
}
