//! A generated dataset through the full analysis: every injected anomaly is
//! found and every finding of an injected kind is explained by one.

use std::collections::BTreeSet;

use causet_analyzer::Analyzer;
use causet_analyzer::detect::Finding;
use causet_bench::datagen::{TruthItem, generate};

fn explains(truth: &TruthItem, f: &Finding) -> bool {
    truth.kind == f.kind
        && (f.nodes.contains(&truth.subject)
            || f.key.as_deref() == Some(truth.subject.as_str())
            || f.span_ids.contains(&truth.subject))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detectors_find_exactly_what_the_generator_injected() {
    let dir = tempfile::tempdir().unwrap();
    let generated = generate(dir.path(), 40_000, 7).unwrap();
    assert!(generated.spans >= 40_000);
    let kinds: BTreeSet<&str> = generated.truth.iter().map(|t| t.kind).collect();
    for kind in [
        "concurrent_write",
        "duplicate_execution",
        "possible_duplicate",
        "skew_exceeds_max_offset",
    ] {
        assert!(kinds.contains(kind), "{kind} was injected");
    }

    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let findings = &analyzer.findings().await.unwrap().findings;
    for truth in generated.truth.iter().filter(|t| t.required) {
        assert!(
            findings.iter().any(|f| explains(truth, f)),
            "not found: {truth:?}"
        );
    }
    for f in findings.iter().filter(|f| kinds.contains(f.kind)) {
        assert!(
            generated.truth.iter().any(|t| explains(t, f)),
            "false positive: {} {:?} {:?} {}",
            f.kind,
            f.nodes,
            f.key,
            f.summary
        );
    }
}
