//! `causet collect`: the OTLP collector, with compaction in the background if asked.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use causet_analyzer::{Location, Settings};
use causet_collector::{Collector, CollectorConfig, Limits};

use super::{local_folder, shutdown_signal, store_config};
use crate::cli::{CollectArgs, epoch_ns, nanos};

pub(crate) async fn collect(data: Location, args: CollectArgs) -> anyhow::Result<ExitCode> {
    let shutdown = shutdown_signal();
    let mut config = CollectorConfig::with_store(store_config(&data, args.wal)?);
    config.store.flush_interval = args.flush_interval;
    config.store.segment_bytes = args.segment_bytes;
    config.grpc_addr = args.grpc;
    config.http_addr = args.http;
    config.limits = Limits {
        max_request_bytes: args.max_request_bytes,
        max_inflight_bytes: args.max_inflight_bytes,
    };
    config.ready_file = args.ready_file;
    config.auth_token = args.access.token()?;
    config.tls = args.access.tls();
    let collector = Collector::bind(config)
        .await
        .with_context(|| format!("cannot start the collector on {data}"))?;
    if let Some(after) = args.compact_after {
        compact_in_background(local_folder(&data, "--compact-after")?, after)?;
    }
    collector.serve(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `causet compact --older-than AFTER` every 10 minutes (or AFTER, if
/// shorter) on a thread of its own, so merges never hold up the
/// collector's runtime. The process may exit mid-merge: a merge survives
/// that as it survives a kill.
fn compact_in_background(data: PathBuf, after: Duration) -> anyhow::Result<()> {
    let every = after.clamp(Duration::from_secs(1), Duration::from_secs(600));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let settings = Settings {
        memory_limit: 512 << 20,
        ..Settings::default()
    };
    std::thread::Builder::new()
        .name("causet-compact".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let now = epoch_ns(std::time::SystemTime::now());
                let run = causet_analyzer::compact::compact(&data, now, nanos(after), &settings);
                match runtime.block_on(run) {
                    Ok(done) if done.hours > 0 || done.recovered > 0 => tracing::info!(
                        hours = done.hours,
                        files = done.files_before,
                        rows = done.rows,
                        recovered = done.recovered,
                        "compacted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "compaction failed; retrying later"),
                }
            }
        })?;
    Ok(())
}
