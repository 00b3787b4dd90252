//! The demo end to end: real exporters, a real collector on loopback, the
//! analyzer, and the findings scored against what was injected.

use causet_analyzer::detect::{FindingKind, Severity};
use causet_demo::{DemoConfig, DemoOutcome, Faults, Transport};

const START: i64 = 1_795_600_800_000_000_000; // 2026-11-25T10:00:00Z

async fn run(faults: Faults, transport: Transport, seed: u64, requests: usize) -> DemoOutcome {
    let dir = tempfile::tempdir().unwrap();
    let outcome = causet_demo::run(DemoConfig {
        nodes: 5,
        clients: 3,
        requests,
        seed,
        skews: Vec::new(),
        faults,
        transport,
        endpoint: None,
        data_dir: dir.path().to_path_buf(),
        truth_path: None,
        start_ns: START,
    })
    .await
    .unwrap();
    assert!(dir.path().join("truth.json").exists());
    outcome
}

fn assert_perfect(outcome: &DemoOutcome) {
    for (kind, score) in &outcome.scores {
        let of_kind: Vec<String> = outcome
            .findings
            .iter()
            .filter(|f| f.kind == *kind)
            .map(|f| format!("{:?} {}", f.nodes, f.summary))
            .collect();
        assert!(
            score.precision == 1.0 && score.recall == 1.0,
            "{kind}: {score:?}\n{of_kind:#?}\n{}",
            causet_demo::summary(outcome)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_family_is_found_exactly() {
    for seed in [1, 7] {
        let outcome = run(Faults::all(), Transport::Grpc, seed, 400).await;
        assert_perfect(&outcome);
        // Every family really was injected and required.
        for kind in [
            FindingKind::SkewExceedsMaxOffset,
            FindingKind::CausalityViolation,
            FindingKind::ClockJump,
            FindingKind::ConcurrentWrite,
            FindingKind::DuplicateExecution,
            FindingKind::PossibleDuplicate,
            FindingKind::Deduplicated,
        ] {
            assert!(
                outcome.truth.iter().any(|t| t.kind == kind && t.required),
                "seed {seed} injected no {kind}\n{}",
                causet_demo::summary(&outcome)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_free_run_has_no_medium_or_high_finding() {
    let outcome = run(Faults::default(), Transport::Grpc, 3, 400).await;
    let serious: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert!(outcome.truth.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_also_runs_over_http() {
    let outcome = run(
        Faults::parse("drop-reply=0.05,no-idem-key,concurrent-writes=0.02").unwrap(),
        Transport::Http,
        5,
        300,
    )
    .await;
    assert_perfect(&outcome);
    assert!(
        !outcome.findings.is_empty(),
        "{}",
        causet_demo::summary(&outcome)
    );
}

/// Partitions, a pause and gray nodes on top of every other fault, at
/// the default seed and five others.
const SCHEDULED: &str = "partition=2s..4s:kv-0,kv-1|kv-2,kv-3,kv-4,pause=kv-3:6s..8s,gray=kv-1:slow=50x,gray=kv-4:fail=0.2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_pauses_and_gray_nodes_are_found_exactly() {
    for seed in 1..=6 {
        let mut faults = Faults::parse(SCHEDULED).unwrap();
        let all = Faults::all();
        faults = Faults {
            partitions: faults.partitions,
            pauses: faults.pauses,
            gray: faults.gray,
            ..all
        };
        let outcome = run(faults, Transport::Grpc, seed, 2000).await;
        assert_perfect(&outcome);
        for kind in [
            FindingKind::Partition,
            FindingKind::NodeUnreachable,
            FindingKind::Suspected,
            FindingKind::GrayFailure,
        ] {
            assert!(
                outcome.truth.iter().any(|t| t.kind == kind && t.required),
                "seed {seed} injected no {kind}\n{}",
                causet_demo::summary(&outcome)
            );
        }
    }
}
