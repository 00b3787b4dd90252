//! `causet demo`: the traced replicated store with injected faults, scored.

use std::process::ExitCode;

use anyhow::Context as _;
use causet_analyzer::Location;

use super::{local_folder, spinner};
use crate::cli::{DemoArgs, Protocol, epoch_ns};

#[allow(clippy::print_stdout)]
pub(crate) async fn demo(
    data: Location,
    data_given: bool,
    args: DemoArgs,
) -> anyhow::Result<ExitCode> {
    let data = local_folder(&data, "demo")?;
    let faults = causet_demo::Faults::parse(&args.faults).map_err(anyhow::Error::msg)?;
    let transport = match args.protocol {
        Protocol::Grpc => causet_demo::Transport::Grpc,
        Protocol::Http => causet_demo::Transport::Http,
    };
    if args.endpoint.is_none() {
        // A fresh folder each run, unless the user named one.
        if !data_given && data.exists() {
            std::fs::remove_dir_all(&data)
                .with_context(|| format!("cannot clear {}", data.display()))?;
        }
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create {}", data.display()))?;
    }
    let start_ns = epoch_ns(std::time::SystemTime::now());
    let config = causet_demo::DemoConfig {
        nodes: args.nodes,
        clients: args.clients,
        requests: args.requests,
        seed: args.seed,
        skews: args.skews,
        faults,
        transport,
        endpoint: args.endpoint,
        data_dir: data.clone(),
        truth_path: args.truth,
        start_ns,
    };
    let bar = spinner("simulating, exporting, analysing");
    let outcome = causet_demo::run(config).await?;
    bar.finish_and_clear();
    print!("{}", causet_demo::summary(&outcome));
    println!(
        "\nData in {}. Next: causet --data {} report -o report.html",
        data.display(),
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}
