//! causet's benchmarks. `scripts/bench.sh` runs them all and prints the
//! figures BENCHMARKS.md records:
//!
//! - `causet-loadgen`: OTLP load against a running `causet collect`, with
//!   the collector's CPU per span next to the prost decode-only floor.
//! - `causet-datagen`: analysis datasets (RPC trees over hundreds of nodes,
//!   vector clocks, HLCs, skewed write keys, retries, injected anomalies)
//!   written straight to Parquet in the collector's layout.
//! - `cargo bench -p causet-bench --bench ingest`: criterion, decode +
//!   conversion against decode alone.

pub mod child;
pub mod datagen;
pub mod workload;
