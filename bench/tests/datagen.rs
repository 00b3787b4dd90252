//! A generated dataset through the full analysis: every injected anomaly is
//! found, and every finding is explained by one (matched by the entities it
//! names: both writes of a conflict, a retry chain's first attempt, the
//! skewed node, the stalled, down or gray node, a node of the partition),
//! scored as the demo scores its runs.

use std::collections::BTreeSet;

use causet_analyzer::Analyzer;
use causet_analyzer::detect::FindingKind;
use causet_bench::datagen::generate;
use causet_demo::truth::score;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detectors_find_exactly_what_the_generator_injected() {
    let dir = tempfile::tempdir().unwrap();
    let generated = generate(dir.path(), 40_000, 7, causet_bench::datagen::SPANS_PER_FILE).unwrap();
    assert!(generated.spans >= 40_000);
    let kinds: BTreeSet<FindingKind> = generated.truth.iter().map(|t| t.kind).collect();
    let required: BTreeSet<FindingKind> = generated
        .truth
        .iter()
        .filter(|t| t.required)
        .map(|t| t.kind)
        .collect();
    for kind in [
        FindingKind::ConcurrentWrite,
        FindingKind::DuplicateExecution,
        FindingKind::PossibleDuplicate,
        FindingKind::SkewExceedsMaxOffset,
        FindingKind::Suspected,
        FindingKind::NodeUnreachable,
        FindingKind::Partition,
    ] {
        assert!(
            required.contains(&kind),
            "{kind} was injected and must be found"
        );
    }
    // Gray failures need more requests per window than this size has: allowed only.
    assert!(kinds.contains(&FindingKind::GrayFailure));

    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let findings = &analyzer.findings().await.unwrap().findings;
    for (kind, s) in score(findings.iter().map(Into::into), &generated.truth) {
        // Every finding, of any kind, is explained by what was injected.
        assert_eq!(s.precision, 1.0, "{kind}: unexplained findings: {s:?}");
        if kinds.contains(&kind) {
            assert_eq!(s.recall, 1.0, "{kind}: {s:?}");
        }
    }
}
