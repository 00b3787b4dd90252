//! The collector process: both OTLP listeners over one store, the ready
//! file, and an orderly shutdown that flushes everything it acknowledged.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::rustls::ServerConfig;
use tower::util::{MapRequestLayer, MapResponseLayer};

use crate::auth::Token;
use crate::error::{Error, Result};
use crate::grpc::{GrpcTraceService, fix_refusals};
use crate::ingest::{Ingest, Limits};
use crate::listen::{Incoming, TlsFiles};
use crate::meter::meter_requests;
use crate::store::{Store, StoreConfig};

/// Default OTLP/gRPC listen address.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:4317";
/// Default OTLP/HTTP listen address.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:4318";

/// Everything `causet collect` is told.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// Data folder and flush pacing.
    pub store: StoreConfig,
    /// OTLP/gRPC listen address (port 0 picks a free port).
    pub grpc_addr: String,
    /// OTLP/HTTP listen address (port 0 picks a free port).
    pub http_addr: String,
    /// Request and memory limits.
    pub limits: Limits,
    /// Where to write `{"grpc":ADDR,"http":ADDR}` once both listeners are bound.
    pub ready_file: Option<PathBuf>,
    /// The bearer token exporters must present, if any.
    pub auth_token: Option<Token>,
    /// Serve both listeners over TLS with this certificate and key.
    pub tls: Option<TlsFiles>,
}

impl CollectorConfig {
    /// Defaults for `data_dir`: loopback on the standard OTLP ports.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self::with_store(StoreConfig::new(data_dir))
    }

    /// Defaults for a store laid out as `store` says (a data folder in an
    /// object store, say): loopback on the standard OTLP ports.
    pub fn with_store(store: StoreConfig) -> Self {
        CollectorConfig {
            store,
            grpc_addr: DEFAULT_GRPC_ADDR.into(),
            http_addr: DEFAULT_HTTP_ADDR.into(),
            limits: Limits::default(),
            ready_file: None,
            auth_token: None,
            tls: None,
        }
    }
}

/// A collector with its store open and its listeners bound, not yet serving.
#[derive(Debug)]
pub struct Collector {
    ingest: Arc<Ingest>,
    grpc: Incoming,
    http: Incoming,
    ready_file: Option<PathBuf>,
    auth_token: Option<Token>,
    tls: bool,
}

impl Collector {
    /// Opens the store (recovering any WAL left by a crash) and binds both
    /// listeners. A TLS certificate or key that cannot be used fails here,
    /// before anything is bound.
    pub async fn bind(config: CollectorConfig) -> Result<Collector> {
        let (grpc_tls, http_tls) = match &config.tls {
            Some(files) => (
                Some(files.server_config(&[b"h2"])?),
                Some(files.server_config(&[b"http/1.1"])?),
            ),
            None => (None, None),
        };
        let store_config = config.store.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(store_config))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        let ingest = Arc::new(Ingest::new(store, config.limits));
        let grpc = listen(&config.grpc_addr, grpc_tls).await?;
        let http = listen(&config.http_addr, http_tls).await?;
        Ok(Collector {
            ingest,
            grpc,
            http,
            ready_file: config.ready_file,
            auth_token: config.auth_token,
            tls: config.tls.is_some(),
        })
    }

    /// The bound OTLP/gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc.local_addr()
    }

    /// The bound OTLP/HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// The shared ingest path (for flushing from tests and tools).
    pub fn ingest(&self) -> Arc<Ingest> {
        Arc::clone(&self.ingest)
    }

    /// Serves until `shutdown` completes, then stops accepting, finishes the
    /// requests in progress, and flushes the WAL to Parquet.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let (grpc_addr, http_addr) = (self.grpc_addr(), self.http_addr());
        for addr in [grpc_addr, http_addr] {
            if addr.ip().is_loopback() {
                continue;
            }
            if self.auth_token.is_none() {
                tracing::warn!(%addr, "listening on a non-loopback address without --auth-token-file: anyone who can reach it can write spans");
            } else if !self.tls {
                tracing::warn!(%addr, "listening on a non-loopback address without --tls-cert: the token crosses the network in the clear");
            }
        }
        if let Some(path) = &self.ready_file {
            let body =
                serde_json::json!({ "grpc": grpc_addr.to_string(), "http": http_addr.to_string() });
            write_ready_file(path, &body)?;
        }
        tracing::info!(grpc = %grpc_addr, http = %http_addr, tls = self.tls, "collector listening");

        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        // Request bodies are charged to the in-flight budget as they arrive
        // (crate::meter); an overload ends the body with UNAVAILABLE.
        let budget = self.ingest.budget().clone();
        let drain_limit = self.ingest.limits().max_request_bytes as u64;
        let grpc = tonic::transport::Server::builder()
            .layer(MapRequestLayer::new(move |request| {
                meter_requests(
                    &budget,
                    request,
                    |e| Box::new(crate::grpc::status(&e)),
                    drain_limit,
                    tonic::body::Body::new,
                )
            }))
            .layer(MapResponseLayer::new(fix_refusals))
            .add_service(GrpcTraceService::server(
                Arc::clone(&self.ingest),
                self.auth_token.clone(),
            ))
            .serve_with_incoming_shutdown(self.grpc.into_stream(), stopped(stop_rx.clone()));
        let http = axum::serve(
            self.http,
            crate::http::router(Arc::clone(&self.ingest), self.auth_token),
        )
        .with_graceful_shutdown(stopped(stop_rx));
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: no new requests; flushing");
            let _ = stop_tx.send(true);
        };
        let (grpc, http, ()) = tokio::join!(grpc, http, signal);
        let served = grpc
            .map_err(|e| Error::Internal(format!("gRPC server: {e}")))
            .and(http.map_err(|e| Error::io(Path::new(&http_addr.to_string()), e)));

        let ingest = self.ingest;
        let counters = &ingest.counters;
        let (accepted, rejected, failed) = (
            counters.accepted.load(Ordering::Relaxed),
            counters.rejected.load(Ordering::Relaxed),
            counters.failed_requests.load(Ordering::Relaxed),
        );
        tokio::task::spawn_blocking(move || ingest.store().close())
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        tracing::info!(
            accepted,
            rejected,
            failed_requests = failed,
            "collector stopped; everything acknowledged is in Parquet"
        );
        served
    }
}

async fn listen(addr: &str, tls: Option<Arc<ServerConfig>>) -> Result<Incoming> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(Path::new(addr), e))?;
    Incoming::start(listener, tls).map_err(|e| Error::io(Path::new(addr), e))
}

/// Writes a ready file (`body`, the addresses a server listens on)
/// atomically, so a watcher never reads it empty or half written. Every
/// server's `--ready-file` is written here: the collector's, `causet
/// serve`'s and `causet worker`'s.
pub fn write_ready_file(path: &Path, body: &serde_json::Value) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, body.to_string()).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
