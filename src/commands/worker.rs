//! `causet worker`: a worker of distributed queries.

use std::process::ExitCode;

#[cfg(feature = "distributed")]
use anyhow::Context as _;
use causet_analyzer::Location;

#[cfg(feature = "distributed")]
use super::{bearer, shutdown_signal};
use crate::cli::WorkerArgs;
#[cfg(feature = "distributed")]
use crate::cli::read_token;

#[cfg(not(feature = "distributed"))]
pub(crate) async fn worker(_: Location, _: WorkerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(causet_analyzer::workers::NOT_BUILT)
}

#[cfg(feature = "distributed")]
pub(crate) async fn worker(data: Location, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown_signal();
    let worker = causet_analyzer::workers::worker(&data, &args.memory.settings())?;
    let token = read_token(args.auth_token_file.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && token.is_none() {
        tracing::warn!(%addr, "a worker without --auth-token-file runs the plans of anyone who reaches it: keep it on a private network");
    }
    if let Some(path) = &args.ready_file {
        causet_collector::server::write_ready_file(
            path,
            &serde_json::json!({ "worker": addr.to_string() }),
        )?;
    }
    tracing::info!(%addr, data = %data, "serving as a worker");
    tonic::transport::Server::builder()
        .add_service(tonic::service::interceptor::InterceptedService::new(
            worker.into_worker_server(),
            bearer(token),
        ))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}
