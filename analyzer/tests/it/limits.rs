//! What an analysis reads and holds: a time range reads its own hours (plus
//! the horizon) and no others; the memory limit ends a query or an analysis
//! that cannot fit with an error that names it.

use causet_analyzer::{Analyzer, Error, Settings, TimeRange};
use causet_collector::{Ingest, Limits, Store, StoreConfig, import_file};

use crate::common::samples_dir;

const DAY_NS: i64 = 86_400_000_000_000;
/// 2026-11-25T00:00:00Z, the day of the samples.
const DAY_1: i64 = 1_795_564_800_000_000_000;

/// A data folder with the duplicate-execution sample on three days in a
/// row (other trace ids each day), and the spans of each day.
async fn three_days() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(samples_dir().join("duplicate-execution.otlp.json")).unwrap();
    let data = dir.path().join("data");
    let ingest = Ingest::new(
        Store::open(StoreConfig::new(&data)).unwrap(),
        Limits::default(),
    );
    // The sample's times start with 17956 (2026-11-25); a day is 86400 s.
    for (day, (prefix, trace)) in [("17956", "0ca0"), ("17957", "1ca0"), ("17958", "2ca0")]
        .into_iter()
        .enumerate()
    {
        let shifted = text
            .replace("\"17956", &format!("\"{prefix}"))
            .replace("\"0ca0", &format!("\"{trace}"));
        let file = dir.path().join(format!("day{day}.json"));
        std::fs::write(&file, shifted).unwrap();
        let summary = import_file(&ingest, &file, &mut |_| {}).await.unwrap();
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    }
    ingest.store().flush().await.unwrap();
    drop(ingest);
    (dir, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_reads_its_hours_and_the_horizon_only() {
    let (_dir, data) = three_days().await;
    for day in ["date=2026-11-25", "date=2026-11-26", "date=2026-11-27"] {
        assert!(data.join("spans").join(day).is_dir(), "{day} was written");
    }
    let everything = Analyzer::open(&data).await.unwrap();
    let all = everything.graph().await.unwrap().graph.spans.len();
    let all_findings = everything.findings().await.unwrap().findings.len();
    assert_eq!(all % 3, 0);
    let day = |from_ns: i64| Settings {
        range: TimeRange {
            from_ns: Some(from_ns),
            to_ns: Some(from_ns + DAY_NS),
        },
        ..Settings::default()
    };

    let second = Analyzer::open_with(&data, day(DAY_1 + DAY_NS))
        .await
        .unwrap();
    let built = second.graph().await.unwrap();
    assert_eq!(built.graph.spans.len(), all / 3, "one day's spans");
    assert!(
        built
            .graph
            .spans
            .iter()
            .all(|s| format!("{:032x}", s.trace_id).starts_with("1ca0")),
        "only the second day's traces"
    );
    let findings = second.findings().await.unwrap();
    assert_eq!(findings.findings.len() * 3, all_findings);
    assert!(
        findings
            .findings
            .iter()
            .all(|f| f.trace_ids.iter().all(|t| t.starts_with("1ca0")))
    );

    // A day with no data: nothing read, nothing found.
    let empty = Analyzer::open_with(&data, day(DAY_1 + 5 * DAY_NS))
        .await
        .unwrap();
    assert_eq!(empty.graph().await.unwrap().graph.spans.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_memory_limit_ends_with_the_limits_error() {
    // A data folder with no spans: the query below makes its own rows.
    let dir = crate::common::imported(&[]).await;
    let settings = Settings {
        memory_limit: 1 << 20,
        ..Settings::default()
    };
    let analyzer = Analyzer::open_with(dir.path(), settings).await.unwrap();
    // A hash join's build side cannot spill: 3M rows do not fit in 1 MiB.
    let error = analyzer
        .run(
            "SELECT count(*) FROM range(3000000) a JOIN range(3000000) b \
             ON a.value = b.value",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::MemoryLimit { limit, .. } if limit == 1 << 20),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("1.0 MiB"), "{message}");
    assert!(message.contains("--memory-limit"), "{message}");

    // Under a sane limit the same query runs.
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let results = analyzer
        .run("SELECT count(*) FROM range(300000) a JOIN range(300000) b ON a.value = b.value")
        .await
        .unwrap();
    assert_eq!(results[0].batches[0].num_rows(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analysis_over_the_memory_limit_says_so() {
    let dir = crate::common::imported(&["lamport-seed"]).await;
    let settings = Settings {
        memory_limit: 1 << 10,
        ..Settings::default()
    };
    let analyzer = Analyzer::open_with(dir.path(), settings).await.unwrap();
    let error = analyzer.graph().await.unwrap_err();
    assert!(matches!(error, Error::MemoryLimit { .. }), "{error:?}");
    assert!(
        error.to_string().contains("causet analysis"),
        "names what ran out: {error}"
    );
}
