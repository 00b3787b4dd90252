//! Distributed queries: `causet worker` processes run the stages of plans a
//! client (`--workers`) makes, with DataFusion's distributed execution
//! (the `datafusion-distributed` crate, over Arrow Flight).
//!
//! The client plans as it always does, then splits the physical plan into
//! stages at its exchanges (repartitions, partition merges, broadcast join
//! sides): file scans are divided among the workers by bytes, each stage
//! runs as tasks on the workers, and rows flow between them and back to the
//! client over gRPC. Every worker reads the same storage (the same folder
//! path on every machine, or the same object store prefix) and has causet's
//! clock functions. What is computed in the client stays there: the
//! happens-before graph, the detectors and the table functions; with
//! `--workers` the analysis's scans of the ingested tables run on the
//! workers and stream their rows to the client's graph.
//!
//! Results are the same as in one process: the same plan, run in pieces.
//!
//! This needs the `distributed` cargo feature (off by default: it brings
//! datafusion-distributed and datafusion-proto into the build). Without
//! it, asking for workers is refused with how to get them.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};
use url::Url;

use crate::Settings;
use crate::error::{Error, Result};
#[cfg(feature = "distributed")]
use {
    crate::Location,
    datafusion::error::DataFusionError,
    datafusion::execution::FunctionRegistry as _,
    datafusion_distributed::{
        DistributedExt as _, SessionStateBuilderExt as _, Worker, WorkerQueryContext,
        WorkerResolver,
    },
    http::HeaderMap,
    http::header::AUTHORIZATION,
};

/// What a causet built without the `distributed` feature says when asked
/// for workers.
pub const NOT_BUILT: &str = "this causet was built without distributed queries; build it with `--features distributed` (e.g. `cargo install --path . --locked --features distributed`)";

/// Reads a worker's address: `host:port`, or an `http://` / `https://` URL.
pub fn parse_worker(text: &str) -> Result<Url> {
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|e| Error::Usage(format!("worker {text:?} is not host:port or a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.port_or_known_default().is_none() {
        return Err(Error::Usage(format!(
            "worker {text:?} is not host:port or an http(s) URL"
        )));
    }
    Ok(url)
}

/// The workers a client sends its stages to.
#[cfg(feature = "distributed")]
#[derive(Debug, Clone)]
struct Cluster {
    urls: Vec<Url>,
}

#[cfg(feature = "distributed")]
impl WorkerResolver for Cluster {
    fn get_urls(&self) -> std::result::Result<Vec<Url>, DataFusionError> {
        Ok(self.urls.clone())
    }
}

/// Headers of one `Authorization: <value>`, passed with every request to
/// a worker.
#[cfg(feature = "distributed")]
fn authorization(value: http::HeaderValue) -> HeaderMap {
    HeaderMap::from_iter([(AUTHORIZATION, value)])
}

/// A session in `runtime`: distributed over `settings`' workers when there
/// are any, else the plain single-process one.
pub(crate) fn context(
    config: SessionConfig,
    runtime: &Arc<RuntimeEnv>,
    settings: &Settings,
) -> Result<SessionContext> {
    let builder = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(Arc::clone(runtime))
        .with_default_features();
    if settings.workers.is_empty() {
        return Ok(SessionContext::new_with_state(builder.build()));
    }
    distributed(builder, settings)
}

#[cfg(not(feature = "distributed"))]
fn distributed(_: SessionStateBuilder, _: &Settings) -> Result<SessionContext> {
    Err(Error::Usage(NOT_BUILT.into()))
}

/// `builder` with the distributed planner sending stages to `settings`'
/// workers.
#[cfg(feature = "distributed")]
fn distributed(builder: SessionStateBuilder, settings: &Settings) -> Result<SessionContext> {
    let mut builder = builder
        .with_distributed_worker_resolver(Cluster {
            urls: settings.workers.clone(),
        })
        .with_distributed_planner()
        // After the planner, which puts its default in place.
        .with_distributed_file_scan_config_bytes_per_partition(settings.worker_task_bytes)?;
    if let Some(token) = &settings.worker_token {
        let value = format!("Bearer {}", token.0)
            .parse()
            .map_err(|_| Error::Usage("the worker token is not a valid header value".into()))?;
        builder = builder.with_distributed_passthrough_headers(authorization(value))?;
    }
    Ok(SessionContext::new_with_state(builder.build()))
}

/// A worker running the tasks clients send it, with causet's clock
/// functions, within `settings`' memory limit, reading `data` (the clients'
/// `--data`: a folder path each machine sees alike, or an object store,
/// whose client it needs). Serve it with [`Worker::into_worker_server`].
#[cfg(feature = "distributed")]
pub fn worker(data: &Location, settings: &Settings) -> Result<Worker> {
    let runtime = settings.runtime_for(data)?;
    Ok(
        Worker::from_session_builder(|ctx: WorkerQueryContext| async move {
            // A task that reads from other workers passes on the token it
            // came with.
            let mut builder = ctx.builder;
            if let Some(token) = ctx.headers.get(AUTHORIZATION) {
                builder =
                    builder.with_distributed_passthrough_headers(authorization(token.clone()))?;
            }
            let mut state = builder.build();
            for udf in crate::udfs::all() {
                state.register_udf(Arc::new(udf))?;
            }
            Ok(state)
        })
        .with_runtime_env(runtime),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_host_port_or_urls() {
        assert_eq!(
            parse_worker("10.0.0.7:7070").unwrap().as_str(),
            "http://10.0.0.7:7070/"
        );
        assert_eq!(
            parse_worker("https://w1.example:443").unwrap().as_str(),
            "https://w1.example/"
        );
        assert!(parse_worker("ftp://w1:21").is_err());
        assert!(parse_worker("not a worker").is_err());
    }

    #[cfg(not(feature = "distributed"))]
    #[test]
    fn without_the_feature_workers_are_refused_with_how_to_get_them() {
        let settings = Settings {
            workers: vec![parse_worker("127.0.0.1:7070").unwrap()],
            ..Settings::default()
        };
        let runtime = Arc::new(RuntimeEnv::default());
        let Err(error) = context(SessionConfig::new(), &runtime, &settings) else {
            panic!("workers accepted without the feature");
        };
        assert!(
            error.to_string().contains("--features distributed"),
            "{error}"
        );
        // Without workers the session is the plain one.
        assert!(context(SessionConfig::new(), &runtime, &Settings::default()).is_ok());
    }
}
