//! `causet`: what happened before what, from OpenTelemetry traces.
//!
//! This binary only parses the command line and dispatches; the work lives in
//! the `causet-collector` and `causet-analyzer` libraries.

use clap::Parser;

/// What happened before what: collect OpenTelemetry spans annotated with
/// vector clocks, HLCs or Lamport timestamps, and query their causality.
#[derive(Debug, Parser)]
#[command(name = "causet", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
