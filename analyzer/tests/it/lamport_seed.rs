//! The analyzer on the lamport-seed sample through its Rust API, and the
//! WAL tail: rows acknowledged but not yet flushed are visible, once.

use causet_analyzer::Analyzer;
use causet_collector::{Ingest, Limits, Store, StoreConfig, import_file};

use crate::common::{imported, samples_dir};

async fn count(analyzer: &Analyzer, sql: &str) -> i64 {
    let results = analyzer.run(sql).await.unwrap();
    let batch = &results[0].batches[0];
    arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(batch.column(0)).value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_answers_the_classic_questions() {
    let dir = imported(&["lamport-seed"]).await;
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let built = analyzer.graph().await.unwrap();
    let g = &built.graph;
    assert_eq!(g.spans.len(), 3);
    assert_eq!(g.event_count(), 3 * 2 + 14);
    assert!(g.cyclic.is_empty());
    // A's first send (event 6) -> C's last receive (19); A's second send (7)
    // and C's receive of m2 (18) are concurrent.
    assert!(g.happens_before(6, 19));
    assert!(!g.happens_before(19, 6));
    assert!(!g.happens_before(7, 18) && !g.happens_before(18, 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unflushed_wal_rows_are_visible_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    let ingest = Ingest::new(store, Limits::default());
    let file = samples_dir().join("lamport-seed.otlp.json");
    // Twice, as an exporter retrying would: deduplicated on (trace, span).
    import_file(&ingest, &file, &mut |_| {}).await.unwrap();
    import_file(&ingest, &file, &mut |_| {}).await.unwrap();

    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    assert_eq!(count(&analyzer, "SELECT count(*) FROM spans").await, 3);
    assert_eq!(
        count(&analyzer, "SELECT count(*) FROM span_events").await,
        14
    );
    assert_eq!(
        count(&analyzer, "SELECT count(*) FROM causal_events").await,
        20
    );

    // After the flush the same rows come from Parquet instead; still once.
    ingest.store().flush().await.unwrap();
    analyzer.refresh().unwrap();
    assert_eq!(count(&analyzer, "SELECT count(*) FROM spans").await, 3);
    let segments = causet_schema::wal::list_segments(&dir.path().join("wal")).unwrap();
    assert!(segments.is_empty(), "{segments:?}");
    // Partition columns prune: the sample is all in one hour.
    assert_eq!(
        count(
            &analyzer,
            "SELECT count(*) FROM spans WHERE date = '2026-11-25' AND hour = '10'"
        )
        .await,
        3
    );
    assert_eq!(
        count(&analyzer, "SELECT count(*) FROM spans WHERE hour = '11'").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_nothing_was_flushed_to_has_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    // What a collector leaves before its first flush: the WAL folder.
    std::fs::create_dir(dir.path().join(causet_schema::wal::WAL_DIR)).unwrap();
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    assert_eq!(count(&analyzer, "SELECT count(*) FROM spans").await, 0);
    assert_eq!(count(&analyzer, "SELECT count(*) FROM hb_edges").await, 0);
    // Reading it created nothing.
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_causet_never_wrote_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("caust-data");
    for (path, why) in [
        (missing.as_path(), "does not exist"),
        (dir.path(), "holds none of"),
    ] {
        let error = Analyzer::open(path).await.unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(why), "{error}");
    }
    assert!(!missing.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_filters_prune_partition_folders() {
    // The sample on 2026-11-25 10:00, and a copy a day later in other traces.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(samples_dir().join("lamport-seed.otlp.json")).unwrap();
    let later = dir.path().join("later.json");
    std::fs::write(
        &later,
        text.replace("\"17956008", "\"17956872")
            .replace("5eed", "5eef"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let store = Store::open(StoreConfig::new(&data)).unwrap();
    let ingest = Ingest::new(store, Limits::default());
    import_file(
        &ingest,
        &samples_dir().join("lamport-seed.otlp.json"),
        &mut |_| {},
    )
    .await
    .unwrap();
    import_file(&ingest, &later, &mut |_| {}).await.unwrap();
    ingest.store().flush().await.unwrap();
    drop(ingest);

    let analyzer = Analyzer::open(&data).await.unwrap();
    let query = "SELECT count(*) FROM spans WHERE start_time >= TIMESTAMP '2026-11-26T00:00:00Z'";
    assert_eq!(count(&analyzer, query).await, 3);
    assert_eq!(count(&analyzer, "SELECT count(*) FROM spans").await, 6);
    let plan = analyzer.run(&format!("EXPLAIN {query}")).await.unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&plan[0].batches)
        .unwrap()
        .to_string();
    assert!(text.contains("date=2026-11-26"), "{text}");
    assert!(
        !text.contains("date=2026-11-25"),
        "the earlier day's folder is not read:\n{text}"
    );
}
