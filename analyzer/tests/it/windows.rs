//! The analysis in windows gives the findings of the analysis in one piece,
//! each once, also when a finding's events straddle a window boundary.

use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, DetectConfig, Settings};

use crate::common::{imported, labels};

/// Start times (ns) of the spans a finding of `kind` names, earliest first.
async fn finding_starts(analyzer: &Analyzer, kind: &str) -> Vec<i64> {
    let detected = analyzer.findings().await.unwrap();
    let finding = detected
        .findings
        .iter()
        .find(|f| f.kind.as_str() == kind)
        .unwrap_or_else(|| panic!("the sample gives a {kind}"));
    let built = analyzer.graph().await.unwrap();
    let g = &built.graph;
    let mut starts: Vec<i64> = g
        .spans
        .iter()
        .filter(|s| finding.span_ids.contains(&format!("{:016x}", s.span_id)))
        .map(|s| s.start)
        .collect();
    starts.sort_unstable();
    starts
}

/// Cuts `sample` into windows with a boundary between the first two spans
/// of its `kind` finding, and checks the windowed analysis finds exactly
/// what the whole one does.
async fn split_between_spans_of(sample: &str, kind: &str) {
    let dir = imported(&[sample]).await;
    let whole = Analyzer::open(dir.path()).await.unwrap();
    let starts = finding_starts(&whole, kind).await;
    let (t1, t2) = (starts[0], *starts.last().unwrap());
    assert!(
        t2 > t1,
        "{sample}: the {kind} spans start at different times"
    );
    // A window of t2 - t1 puts a boundary (a multiple of it) in (t1, t2].
    let window = t2 - t1;
    let boundary = t2.div_euclid(window) * window;
    assert!(t1 < boundary && boundary <= t2);

    // Node offsets are estimated per window of the same length in both runs.
    let settings = || {
        Settings::with_detect(DetectConfig {
            window_ns: window,
            ..DetectConfig::default()
        })
    };
    let whole = Analyzer::open_with(dir.path(), settings()).await.unwrap();
    let expected = labels(&whole.findings().await.unwrap().findings);
    let windowed = Analyzer::open_with(dir.path(), settings()).await.unwrap();
    let (detected, stats) = windowed
        .findings_windowed(WindowSize::Fixed(window))
        .await
        .unwrap();
    assert!(stats.windows >= 2, "{sample}: {stats:?}");
    let got = labels(&detected.findings);
    assert_eq!(got, expected, "{sample}: windowed vs whole");
    assert_eq!(
        got.iter().filter(|(k, _)| k == kind).count(),
        1,
        "{sample}: the {kind} once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_write_pair_split_across_two_windows_is_found_once() {
    split_between_spans_of("concurrent-write", "concurrent_write").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_chain_across_a_boundary_is_judged_as_one_chain() {
    split_between_spans_of("duplicate-execution", "duplicate_execution").await;
    split_between_spans_of("possible-duplicate", "possible_duplicate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_gives_the_same_findings_in_windows() {
    let names: Vec<String> = std::fs::read_dir(crate::common::samples_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".otlp.json").map(str::to_owned)
        })
        .collect();
    for name in &names {
        let dir = imported(&[name.as_str()]).await;
        let analyzer = Analyzer::open(dir.path()).await.unwrap();
        let whole = labels(&analyzer.findings().await.unwrap().findings);
        for size in [WindowSize::Auto, WindowSize::Fixed(3_600_000_000_000)] {
            let (windowed, _) = analyzer.findings_windowed(size).await.unwrap();
            assert_eq!(labels(&windowed.findings), whole, "{name} {size:?}");
        }
    }
}
