//! One module per command, each a thin adapter from its arguments to the
//! libraries; what several share (opening the analyzer, writing output,
//! serving with a bearer token, stopping on a signal) is here.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use causet_analyzer::{Analyzer, Location, Settings};
use causet_collector::StoreConfig;

mod collect;
mod compact;
mod cut;
mod demo;
mod diff;
mod explain;
mod import;
mod report;
mod serve;
mod shiviz;
mod sql;
mod why;
mod worker;

pub(crate) use collect::collect;
pub(crate) use compact::compact;
pub(crate) use cut::cut;
pub(crate) use demo::demo;
pub(crate) use diff::diff;
pub(crate) use explain::explain;
pub(crate) use import::import;
pub(crate) use report::report;
pub(crate) use serve::serve;
pub(crate) use shiviz::shiviz;
pub(crate) use sql::sql;
pub(crate) use why::why;
pub(crate) use worker::worker;

/// A gRPC interceptor that lets through requests carrying `token` (all,
/// without one) and answers the others UNAUTHENTICATED.
pub(crate) fn bearer(
    token: Option<causet_collector::auth::Token>,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    move |request: tonic::Request<()>| match &token {
        Some(token)
            if !token.admits(
                request
                    .metadata()
                    .get("authorization")
                    .map(|v| v.as_bytes()),
            ) =>
        {
            Err(tonic::Status::unauthenticated(
                "missing or wrong bearer token (see --auth-token-file)",
            ))
        }
        _ => Ok(request),
    }
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this
/// is called, not when the future is first polled: a server calls it
/// before it writes its ready file, so a signal sent as soon as the file
/// appears is caught (with the default action it would kill the process
/// before the WAL is flushed).
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (interrupt, terminate) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (interrupt, terminate) => {
                    let e = interrupt.err().or(terminate.err());
                    tracing::warn!(error = ?e, "cannot listen for SIGINT and SIGTERM; only Ctrl-C stops the server");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Where the store writes: the data folder, or with one in an object store,
/// the local `--wal` folder and the store to upload to.
pub(crate) fn store_config(data: &Location, wal: Option<PathBuf>) -> anyhow::Result<StoreConfig> {
    match (data, wal) {
        (Location::Folder(dir), None) => Ok(StoreConfig::new(dir)),
        (Location::Folder(dir), Some(_)) => anyhow::bail!(
            "--wal is for a data folder in an object store; {} keeps its WAL in {}",
            dir.display(),
            dir.join(causet_schema::wal::WAL_DIR).display()
        ),
        (Location::Remote(remote), Some(wal)) => {
            let mut config = StoreConfig::new(wal);
            config.remote = Some(remote.clone());
            Ok(config)
        }
        (Location::Remote(remote), None) => anyhow::bail!(
            "{remote} is in an object store: name a local folder for the write-ahead log with --wal DIR"
        ),
    }
}

/// The folder of a data folder on this machine, or an error saying that
/// `what` needs one.
pub(crate) fn local_folder(data: &Location, what: &str) -> anyhow::Result<PathBuf> {
    match data {
        Location::Folder(dir) => Ok(dir.clone()),
        Location::Remote(remote) => anyhow::bail!(
            "{what} works on a data folder on this machine; {remote} is in an object store"
        ),
    }
}

pub(crate) fn write_output(path: Option<&PathBuf>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

pub(crate) async fn open(data: &Location, settings: Settings) -> anyhow::Result<Analyzer> {
    Analyzer::open_with(data.clone(), settings)
        .await
        .with_context(|| format!("cannot open {data}"))
}

/// A spinner on a terminal while the analysis runs; nothing when piped.
pub(crate) fn spinner(message: &'static str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
