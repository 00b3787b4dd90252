//! The analysis in windows gives the findings of the analysis in one piece,
//! each once, also when a finding's events straddle a window boundary.

use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, DetectConfig, Settings};

use serde_json::{Value, json};

use crate::common::{imported, imported_files, labels};

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

/// Cuts `sample` into windows with a boundary between the first and the
/// last span of its `kind` finding, and checks the windowed analysis finds
/// exactly what the whole one does. A window is `slots` offset windows, so
/// its lead (one offset window) is `1/slots` of it.
async fn split_between_spans_of(sample: &str, kind: &str, slots: i64) {
    let dir = imported(&[sample]).await;
    let whole = Analyzer::open(dir.path()).await.unwrap();
    let starts = finding_starts(&whole, kind).await;
    let (t1, t2) = (starts[0], *starts.last().unwrap());
    assert!(
        t2 > t1,
        "{sample}: the {kind} spans start at different times"
    );
    // A window of at most t2 - t1 puts a boundary (a multiple of it) in (t1, t2].
    let slot = (t2 - t1) / slots;
    let window = slot * slots;
    let boundary = t2.div_euclid(window) * window;
    assert!(t1 < boundary && boundary <= t2);

    // Node offsets are estimated per window of the same length in both runs.
    let settings = || {
        Settings::with_detect(DetectConfig {
            window_ns: slot,
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
    split_between_spans_of("concurrent-write", "concurrent_write", 1).await;
    split_between_spans_of("concurrent-write", "concurrent_write", 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_chain_across_a_boundary_is_judged_as_one_chain() {
    for slots in [1, 4] {
        split_between_spans_of("duplicate-execution", "duplicate_execution", slots).await;
        split_between_spans_of("possible-duplicate", "possible_duplicate", slots).await;
    }
}

/// A chain that began before the next window's lead is seen there in part:
/// the spans of the chain the first window reported are carried over, so
/// the part is not reported again, nor judged as a chain of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_chain_longer_than_the_lead_is_reported_once() {
    for (sample, kind) in [
        ("duplicate-execution", "duplicate_execution"),
        ("possible-duplicate", "possible_duplicate"),
    ] {
        let dir = imported(&[sample]).await;
        let whole = Analyzer::open(dir.path()).await.unwrap();
        let starts = finding_starts(&whole, kind).await;
        // Boundaries right after the first attempt, and a lead too short
        // to reach back to it from the second window.
        let slot = ((starts[1] - starts[0]) / 4).max(1);
        let settings = Settings::with_detect(DetectConfig {
            window_ns: slot,
            ..DetectConfig::default()
        });
        let expected = labels(&whole.findings().await.unwrap().findings);
        let windowed = Analyzer::open_with(dir.path(), settings).await.unwrap();
        let (detected, stats) = windowed
            .findings_windowed(WindowSize::Fixed(slot))
            .await
            .unwrap();
        assert!(stats.windows >= 4, "{sample}: {stats:?}");
        let got = labels(&detected.findings);
        let of_kind = |l: &[(String, Vec<String>)]| {
            l.iter()
                .filter(|(k, _)| k.as_str() == kind)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(of_kind(&got), of_kind(&expected), "{sample}");
    }
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

/// `possible-duplicate` with a third attempt: the first two time out
/// without reaching the server, the third succeeds (in 0.1 s steps).
fn three_attempts() -> Value {
    let file = crate::common::samples_dir().join("possible-duplicate.otlp.json");
    let mut otlp: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let spans = &mut otlp["resourceSpans"][0]["scopeSpans"][0]["spans"];
    let (first, mut last) = (spans[1].clone(), spans[2].clone());
    let mut second = first.clone();
    second["spanId"] = json!("0000000d000000a3");
    second["name"] = json!("call orders-1");
    second["startTimeUnixNano"] = json!("1795600800200000000");
    second["endTimeUnixNano"] = json!("1795600800300000000");
    let attempt = json!({"key": "causet.retry.attempt", "value": {"intValue": "1"}});
    second["attributes"].as_array_mut().unwrap().push(attempt);
    // The successful attempt (and its server span, below) 0.2 s later.
    last["name"] = json!("call orders-2");
    last["startTimeUnixNano"] = json!("1795600800400000000");
    last["endTimeUnixNano"] = json!("1795600800500000000");
    for a in last["attributes"].as_array_mut().unwrap() {
        if a["key"] == "causet.retry.attempt" {
            a["value"]["intValue"] = json!("2");
        }
    }
    spans[2] = second;
    spans.as_array_mut().unwrap().push(last);
    spans[0]["endTimeUnixNano"] = json!("1795600800600000000");
    let server = &mut otlp["resourceSpans"][1]["scopeSpans"][0]["spans"][0];
    server["startTimeUnixNano"] = json!("1795600800410000000");
    server["endTimeUnixNano"] = json!("1795600800490000000");
    otlp
}

/// A window that sees a chain in part (its first attempt ended before the
/// window's lead) would judge the part as a chain of its own: the second
/// and third attempts are a possible duplicate too. The spans of the chain
/// an earlier window reported are carried over, so it is reported once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_seen_in_part_by_the_next_window_is_not_reported_again() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), three_attempts().to_string()).unwrap();
    let dir = imported_files(&[file.path().to_path_buf()]).await;
    let whole = Analyzer::open(dir.path()).await.unwrap();
    let expected = labels(&whole.findings().await.unwrap().findings);
    assert_eq!(
        expected
            .iter()
            .filter(|(k, _)| k == "possible_duplicate")
            .count(),
        1,
        "{expected:?}"
    );
    // 50 ms windows and leads: the window of the second attempt (0.2 s)
    // reads from 0.15 s, after the first attempt ended (0.11 s).
    let slot = 50_000_000;
    let settings = Settings::with_detect(DetectConfig {
        window_ns: slot,
        ..DetectConfig::default()
    });
    let windowed = Analyzer::open_with(dir.path(), settings).await.unwrap();
    let (detected, _) = windowed
        .findings_windowed(WindowSize::Fixed(slot))
        .await
        .unwrap();
    let retries = |l: &[(String, Vec<String>)]| {
        l.iter()
            .filter(|(k, _)| k.as_str() == "possible_duplicate")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(retries(&labels(&detected.findings)), retries(&expected));
}

/// A silence longer than a window's horizon: the window that holds the
/// suspicion cannot see the heartbeats come back, and says so (came back:
/// unknown) instead of "never came back". `heartbeat-suspected`: n-1 is
/// silent from 11 s to 19 s; windows of 5 s with a 4 s horizon (and so a
/// 4 s lead): the window [10 s, 15 s) reads [6 s, 19 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_past_the_horizon_is_open_not_over() {
    let dir = imported(&["heartbeat-suspected"]).await;
    let second = 1_000_000_000;
    let settings = Settings {
        horizon_ns: 4 * second,
        ..Settings::with_detect(DetectConfig {
            window_ns: 5 * second,
            ..DetectConfig::default()
        })
    };
    let came_back = |findings: &[causet_analyzer::detect::Finding], node: &str| {
        let f = findings
            .iter()
            .find(|f| f.kind.as_str() == "suspected" && f.nodes[0] == node)
            .unwrap_or_else(|| panic!("{node} suspected: {findings:#?}"));
        (f.evidence["came_back"].clone(), f.summary.clone())
    };
    let analyzer = Analyzer::open_with(dir.path(), settings).await.unwrap();
    let whole = analyzer.findings().await.unwrap().findings.clone();
    assert_eq!(came_back(&whole, "n-1").0, json!(true));
    assert_eq!(came_back(&whole, "n-2").0, json!(false));
    let (windowed, stats) = analyzer
        .findings_windowed(WindowSize::Fixed(5 * second))
        .await
        .unwrap();
    assert!(stats.windows >= 4, "{stats:?}");
    let (back, summary) = came_back(&windowed.findings, "n-1");
    assert_eq!(back, Value::Null, "{summary}");
    assert!(summary.contains("may have come back"), "{summary}");
}
