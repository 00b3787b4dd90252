//! `causet serve`: Arrow Flight SQL over the data folder.

use std::process::ExitCode;

use anyhow::Context as _;
use causet_analyzer::Location;

use super::{bearer, open, shutdown_signal};
use crate::cli::ServeArgs;

pub(crate) async fn serve(data: Location, args: ServeArgs) -> anyhow::Result<ExitCode> {
    use arrow_flight::flight_service_server::FlightServiceServer;
    use causet_analyzer::flight::FlightSql;
    use causet_collector::listen::Incoming;

    let shutdown = shutdown_signal();
    let analyzer = std::sync::Arc::new(open(&data, args.detect.settings()?).await?);
    let token = args.access.token()?;
    let tls = match args.access.tls() {
        Some(files) => Some(files.server_config(&[b"h2"])?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.flight)
        .await
        .with_context(|| format!("cannot listen on {}", args.flight))?;
    let incoming = Incoming::start(listener, tls.clone())?;
    let addr = incoming.local_addr();
    if !addr.ip().is_loopback() {
        if token.is_none() {
            tracing::warn!(%addr, "serving on a non-loopback address without --auth-token-file: anyone who can reach it can read every span");
        } else if tls.is_none() {
            tracing::warn!(%addr, "serving on a non-loopback address without --tls-cert: the token crosses the network in the clear");
        }
    }
    let service = FlightServiceServer::with_interceptor(FlightSql::new(analyzer)?, bearer(token));
    if let Some(path) = &args.ready_file {
        causet_collector::server::write_ready_file(
            path,
            &serde_json::json!({ "flight": addr.to_string() }),
        )?;
    }
    tracing::info!(%addr, "serving Arrow Flight SQL");
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming.into_stream(), shutdown)
        .await?;
    Ok(ExitCode::SUCCESS)
}
