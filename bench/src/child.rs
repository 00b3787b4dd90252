//! A `causet collect` child process on loopback port 0, for the load
//! generator and for the tests that kill, flood and restart a collector.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A running `causet collect` and where it listens.
#[derive(Debug)]
pub struct Collector {
    /// The process.
    pub child: Child,
    /// OTLP/gRPC address.
    pub grpc: String,
    /// OTLP/HTTP address.
    pub http: String,
}

/// Starts `causet` (the binary at that path) collecting into `data` with
/// `args` added, and waits (up to a minute) until both listeners are bound.
pub fn start_collector(causet: &Path, data: &Path, args: &[&str]) -> anyhow::Result<Collector> {
    start_collector_at(
        causet,
        data.as_os_str(),
        &data.with_extension("ready"),
        args,
        &[],
    )
}

/// [`start_collector`] with `--data` as given (a folder or an object store
/// URL), its ready file at `ready`, and `env` added to its environment.
pub fn start_collector_at(
    causet: &Path,
    data: &std::ffi::OsStr,
    ready: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Collector> {
    let _ = std::fs::remove_file(ready);
    let child = Command::new(causet)
        .arg("--data")
        .arg(data)
        .args(["collect", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(args)
        .arg("--ready-file")
        .arg(ready)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", causet.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let addrs: serde_json::Value = loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            break serde_json::from_str(&text).context("the ready file is not JSON")?;
        }
        if Instant::now() > deadline {
            bail!("the collector did not become ready");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let addr = |k: &str| addrs[k].as_str().unwrap_or_default().to_owned();
    Ok(Collector {
        child,
        grpc: addr("grpc"),
        http: addr("http"),
    })
}
