//! A read-only Arrow Flight SQL endpoint over an [`Analyzer`]: BI tools,
//! notebooks and the ADBC / JDBC Flight SQL drivers run causet's SQL (its
//! tables, causal functions and table functions) and get Arrow back.
//!
//! Statement queries, prepared statements without parameters (the JDBC
//! driver prepares every query) and the catalog calls (catalogs, schemas,
//! tables, table types, SQL info) are served; everything that would write
//! (updates, DDL, transactions, `SET`, binding parameters) is refused: a
//! statement is planned with DDL, DML and session statements disallowed,
//! and Flight SQL's update, transaction and parameter calls answer
//! UNIMPLEMENTED. Authentication and TLS are the transport's (the binary
//! wraps this service in the collector's bearer-token check and TLS
//! listener).
//!
//! A statement's ticket (and a prepared statement's handle) is its SQL text: `GetFlightInfo` plans it to answer
//! with its schema, `DoGet` plans it again and streams the rows, so the
//! server keeps no per-query state. New data becomes visible at most
//! [`REFRESH_EVERY`] after it was acknowledged (the analyzer's snapshot is
//! retaken then, before a query; taking it rebuilds the graph on next use).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{DataFrame, SQLOptions};
use futures::{Stream, TryStreamExt as _};
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::Analyzer;
use crate::error::Error;

/// How stale a query's snapshot may be.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

/// The Flight SQL service: wrap it in
/// [`FlightServiceServer`](arrow_flight::flight_service_server::FlightServiceServer).
pub struct FlightSql {
    analyzer: Arc<Analyzer>,
    refreshed: Mutex<Instant>,
    info: SqlInfoData,
}

impl std::fmt::Debug for FlightSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSql")
            .field("analyzer", &self.analyzer)
            .finish_non_exhaustive()
    }
}

impl FlightSql {
    /// Serves `analyzer`'s SQL.
    pub fn new(analyzer: Arc<Analyzer>) -> crate::Result<Self> {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "causet");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
        info.append(SqlInfo::FlightSqlServerReadOnly, true);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
        let info = info
            .build()
            .map_err(|e| Error::Usage(format!("Flight SQL info: {e}")))?;
        Ok(FlightSql {
            analyzer,
            refreshed: Mutex::new(Instant::now()),
            info,
        })
    }

    /// `sql` planned read-only, after a refresh if the snapshot is older
    /// than [`REFRESH_EVERY`].
    async fn plan(&self, sql: &str) -> Result<DataFrame, Status> {
        {
            let mut refreshed = self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
            if refreshed.elapsed() >= REFRESH_EVERY {
                self.analyzer.refresh().map_err(status)?;
                *refreshed = Instant::now();
            }
        }
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.analyzer
            .context()
            .sql_with_options(sql, read_only)
            .await
            .map_err(|e| status(Error::DataFusion(e)))
    }

    /// The rows of `sql`, streamed.
    async fn rows(&self, sql: &str) -> Result<Response<DoGetStream>, Status> {
        let frame = self.plan(sql).await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let limit = self.analyzer.settings().memory_limit;
        let batches = frame
            .execute_stream()
            .await
            .map_err(|e| status(Error::with_limit(Error::DataFusion(e), limit)))?;
        Ok(Response::new(Self::stream(schema, batches, limit)))
    }

    /// The answer to `GetFlightInfo` for a command (a catalog call, a
    /// prepared statement) whose rows, of `schema`, are fetched with the
    /// command itself as the ticket.
    fn command_info(
        schema: &arrow::datatypes::Schema,
        command: impl ProstMessageExt,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::info(
            schema,
            command.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    /// The answer to `GetFlightInfo` for rows of `schema` fetched with `ticket`.
    fn info(
        schema: &arrow::datatypes::Schema,
        ticket: Vec<u8>,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }

    /// Streams `batches` of `schema` as Flight data.
    fn stream(schema: SchemaRef, batches: SendableRecordBatchStream, limit: usize) -> DoGetStream {
        let batches = batches.map_err(move |e| {
            arrow_flight::error::FlightError::from(status(Error::with_limit(
                Error::DataFusion(e),
                limit,
            )))
        });
        Box::pin(
            FlightDataEncoderBuilder::new()
                .with_schema(schema)
                .build(batches)
                .map_err(Status::from),
        )
    }

    /// One batch, already made, as Flight data.
    fn one(
        batch: Result<arrow::array::RecordBatch, arrow_flight::error::FlightError>,
    ) -> Result<DoGetStream, Status> {
        let batch = batch.map_err(Status::from)?;
        let schema = batch.schema();
        Ok(Box::pin(
            FlightDataEncoderBuilder::new()
                .with_schema(schema)
                .build(futures::stream::once(async move { Ok(batch) }))
                .map_err(Status::from),
        ))
    }

    /// Every table of every schema of every catalog, with its type and schema.
    async fn tables(&self) -> Vec<(String, String, String, &'static str, SchemaRef)> {
        let ctx = self.analyzer.context();
        let mut out = Vec::new();
        for catalog_name in ctx.catalog_names() {
            let Some(catalog) = ctx.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    let Ok(Some(provider)) = schema.table(&table_name).await else {
                        continue;
                    };
                    let kind = match provider.table_type() {
                        datafusion::logical_expr::TableType::View => "VIEW",
                        _ => "TABLE",
                    };
                    out.push((
                        catalog_name.clone(),
                        schema_name.clone(),
                        table_name,
                        kind,
                        provider.schema(),
                    ));
                }
            }
        }
        out
    }
}

/// The SQL a statement ticket or prepared statement handle carries.
fn handle_sql(handle: &[u8]) -> Result<&str, Status> {
    std::str::from_utf8(handle)
        .map_err(|_| Status::invalid_argument("not a statement handle causet gave out"))
}

/// An analyzer error as the gRPC status a client can act on.
fn status(error: Error) -> Status {
    match &error {
        Error::MemoryLimit { .. } => Status::resource_exhausted(error.to_string()),
        Error::DataFusion(e) => match e.find_root() {
            datafusion::error::DataFusionError::SQL(..)
            | datafusion::error::DataFusionError::Plan(_)
            | datafusion::error::DataFusionError::SchemaError(..)
            | datafusion::error::DataFusionError::NotImplemented(_) => {
                Status::invalid_argument(error.to_string())
            }
            datafusion::error::DataFusionError::ResourcesExhausted(_) => {
                Status::resource_exhausted(error.to_string())
            }
            _ => Status::internal(error.to_string()),
        },
        Error::Usage(_) => Status::invalid_argument(error.to_string()),
        _ => Status::internal(error.to_string()),
    }
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let frame = self.plan(&query.query).await?;
        let schema = frame.schema().as_arrow().clone();
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        Self::info(
            &schema,
            ticket.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.rows(handle_sql(&ticket.statement_handle)?).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let frame = self.plan(&query.query).await?;
        let schema = frame.schema().as_arrow().clone();
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &arrow::ipc::writer::IpcWriteOptions::default())
                .try_into()
                .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(ActionCreatePreparedStatementResult {
            // Stateless, like a statement's ticket: the handle is the SQL.
            prepared_statement_handle: query.query.into_bytes().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        Ok(())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let frame = self
            .plan(handle_sql(&query.prepared_statement_handle)?)
            .await?;
        Self::command_info(frame.schema().as_arrow(), query, request)
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.rows(handle_sql(&query.prepared_statement_handle)?)
            .await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::command_info(&query.into_builder().schema(), query, request)
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for name in self.analyzer.context().catalog_names() {
            builder.append(name);
        }
        Ok(Response::new(Self::one(builder.build())?))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::command_info(&query.clone().into_builder().schema(), query, request)
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let ctx = self.analyzer.context();
        let mut builder = query.into_builder();
        for catalog_name in ctx.catalog_names() {
            if let Some(catalog) = ctx.catalog(&catalog_name) {
                for schema_name in catalog.schema_names() {
                    builder.append(&catalog_name, schema_name);
                }
            }
        }
        Ok(Response::new(Self::one(builder.build())?))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::command_info(&query.clone().into_builder().schema(), query, request)
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for (catalog, schema, table, kind, columns) in self.tables().await {
            builder
                .append(catalog, schema, table, kind, &columns)
                .map_err(Status::from)?;
        }
        Ok(Response::new(Self::one(builder.build())?))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::command_info(&query.into_builder().schema(), query, request)
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append("TABLE");
        builder.append("VIEW");
        Ok(Response::new(Self::one(builder.build())?))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::command_info(
            &query.clone().into_builder(&self.info).schema(),
            query,
            request,
        )
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Ok(Response::new(Self::one(
            query.into_builder(&self.info).build(),
        )?))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
