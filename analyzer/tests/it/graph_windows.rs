//! The graph tables and table functions of a range cut into several windows
//! hold what the graph of the whole range gives, each row once, with ids
//! that join.

use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, DetectConfig, Settings};

use crate::common::{imported, labels};

/// The rows of `sql` as JSON lines, sorted (row order is not SQL's).
async fn rows(analyzer: &Analyzer, sql: &str) -> Vec<String> {
    let results = analyzer.run(sql).await.unwrap();
    let mut out = Vec::new();
    for batch in &results[0].batches {
        let mut writer = arrow::json::LineDelimitedWriter::new(Vec::new());
        writer.write(batch).unwrap();
        writer.finish().unwrap();
        let text = String::from_utf8(writer.into_inner()).unwrap();
        out.extend(text.lines().map(str::to_owned));
    }
    out.sort();
    out
}

async fn one(analyzer: &Analyzer, sql: &str) -> String {
    let got = rows(analyzer, sql).await;
    assert_eq!(got.len(), 1, "{sql}: {got:?}");
    got[0].clone()
}

/// What names an event in any graph, and what it holds: every column of
/// `causal_events` but its id and the clocks derived in its window.
const EVENT: &str = "trace_id, span_id, event_type, event_index, name, span_kind, node, time, \
                     lamport, hlc_wall_ns, hlc_logical, vc, msg_id";
/// An edge, without its endpoints' ids.
const EDGE: &str = "source, inferred, cross_node, from_trace_id, from_span_id, \
                    from_event_type, from_time, to_trace_id, to_span_id, to_event_type, to_time";

/// The sample analysed whole and in windows of a quarter of its time line
/// (offset windows of an eighth), with the same detector settings.
async fn whole_and_windowed(sample: &str) -> (tempfile::TempDir, Analyzer, Analyzer) {
    let dir = imported(&[sample]).await;
    let probe = Analyzer::open(dir.path()).await.unwrap();
    let g = &probe.graph().await.unwrap().graph;
    let first = g.spans.iter().map(|s| s.start).min().unwrap();
    let last = g.spans.iter().map(|s| s.start).max().unwrap();
    let slot = ((last - first) / 8).max(1);
    let settings = |window| Settings {
        window,
        ..Settings::with_detect(DetectConfig {
            window_ns: slot,
            ..DetectConfig::default()
        })
    };
    let whole = Analyzer::open_with(dir.path(), settings(WindowSize::Auto))
        .await
        .unwrap();
    let windowed = Analyzer::open_with(dir.path(), settings(WindowSize::Fixed(2 * slot)))
        .await
        .unwrap();
    (dir, whole, windowed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_in_windows_hold_the_whole_graphs_rows_once_with_ids_that_join() {
    for sample in [
        "concurrent-write",
        "duplicate-execution",
        "critical-path-through-queue",
        "clean-async-messaging",
        "skewed-cut",
        "partition",
    ] {
        let (_dir, whole, windowed) = whole_and_windowed(sample).await;
        // The windowed one really is cut in several.
        let sql = "SELECT count(DISTINCT event_id >> 32) AS w FROM causal_events";
        assert_ne!(
            one(&windowed, sql).await,
            r#"{"w":1}"#,
            "{sample}: one window"
        );
        assert_eq!(one(&whole, sql).await, r#"{"w":1}"#, "{sample}");

        let events = format!("SELECT {EVENT} FROM causal_events");
        assert_eq!(
            rows(&windowed, &events).await,
            rows(&whole, &events).await,
            "{sample}: causal_events"
        );
        let edges = format!("SELECT {EDGE} FROM hb_edges");
        assert_eq!(
            rows(&windowed, &edges).await,
            rows(&whole, &edges).await,
            "{sample}: hb_edges"
        );
        // Each id is one event, and every endpoint joins its event.
        assert_eq!(
            one(
                &windowed,
                "SELECT count(*) - count(DISTINCT event_id) AS n FROM causal_events"
            )
            .await,
            r#"{"n":0}"#,
            "{sample}"
        );
        for side in ["from", "to"] {
            let sql = format!(
                "SELECT count(*) AS n FROM hb_edges h LEFT JOIN causal_events e \
                 ON h.{side}_event_id = e.event_id AND h.{side}_trace_id = e.trace_id \
                 AND h.{side}_span_id = e.span_id AND h.{side}_event_type = e.event_type \
                 AND h.{side}_time = e.time \
                 WHERE e.event_id IS NULL"
            );
            assert_eq!(one(&windowed, &sql).await, r#"{"n":0}"#, "{sample}: {side}");
        }
        // The findings are the report's.
        assert_eq!(
            labels(&windowed.findings().await.unwrap().findings),
            labels(&whole.findings().await.unwrap().findings),
            "{sample}: findings"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_functions_in_windows_give_the_whole_graphs_answers() {
    for sample in [
        "critical-path-through-queue",
        "duplicate-execution",
        "skewed-cut",
    ] {
        let (_dir, whole, windowed) = whole_and_windowed(sample).await;
        // The latest span start with an edge in, the earliest with one out.
        let pick = |side: &str, order: &str| {
            format!(
                "SELECT {side}_trace_id AS trace_id, {side}_span_id AS span_id FROM hb_edges \
                 WHERE {side}_event_type = 'start' \
                 ORDER BY {side}_time {order}, {side}_trace_id, {side}_span_id LIMIT 1"
            )
        };
        let last: serde_json::Value =
            serde_json::from_str(&one(&whole, &pick("to", "DESC")).await).unwrap();
        let first: serde_json::Value =
            serde_json::from_str(&one(&whole, &pick("from", "ASC")).await).unwrap();
        let span = |v: &serde_json::Value| {
            format!(
                "'{}', '{}'",
                v["trace_id"].as_str().unwrap(),
                v["span_id"].as_str().unwrap()
            )
        };
        for (function, target) in [
            ("causal_past", span(&last)),
            ("causal_future", span(&first)),
        ] {
            let sql = format!("SELECT {EVENT} FROM {function}({target})");
            let expected = rows(&whole, &sql).await;
            assert!(
                !expected.is_empty() || sample == "skewed-cut",
                "{sample}: {function}"
            );
            assert_eq!(
                rows(&windowed, &sql).await,
                expected,
                "{sample}: {function}"
            );
            // Its ids are causal_events' ids.
            let joined = format!(
                "SELECT count(*) AS n FROM {function}({target}) c JOIN causal_events e \
                 ON c.event_id = e.event_id AND c.trace_id = e.trace_id \
                 AND c.span_id = e.span_id AND c.event_type = e.event_type"
            );
            assert_eq!(
                one(&windowed, &joined).await,
                format!(r#"{{"n":{}}}"#, expected.len()),
                "{sample}: {function} ids"
            );
        }
        // By id: the past of the latest event, named by its window's id.
        let id = format!(
            "SELECT event_id FROM causal_events WHERE trace_id = {} AND event_type = 'start'",
            span(&last).replacen(", ", " AND span_id = ", 1)
        );
        let id: serde_json::Value = serde_json::from_str(&one(&windowed, &id).await).unwrap();
        let by_id = format!("SELECT {EVENT} FROM causal_past({})", id["event_id"]);
        let by_span = format!("SELECT {EVENT} FROM causal_past({})", span(&last));
        assert_eq!(
            rows(&windowed, &by_id).await,
            rows(&whole, &by_span).await,
            "{sample}"
        );

        let path = format!(
            "SELECT step, {EDGE} FROM hb_path({}, {})",
            span(&first),
            span(&last)
        );
        assert_eq!(
            rows(&windowed, &path).await,
            rows(&whole, &path).await,
            "{sample}: hb_path"
        );

        // The cut halfway through, its frontier numbered as causal_events.
        let middle = "SELECT (CAST(min(time) AS BIGINT) + CAST(max(time) AS BIGINT)) / 2 AS t \
                      FROM causal_events";
        let at: serde_json::Value = serde_json::from_str(&one(&whole, middle).await).unwrap();
        let cut = format!("SELECT {EVENT} FROM consistent_cut({})", at["t"]);
        let expected = rows(&whole, &cut).await;
        assert!(!expected.is_empty(), "{sample}: cut");
        assert_eq!(rows(&windowed, &cut).await, expected, "{sample}: cut");
        let joined = format!(
            "SELECT count(*) AS n FROM consistent_cut({}) c JOIN causal_events e \
             ON c.event_id = e.event_id AND c.span_id = e.span_id \
             AND c.event_type = e.event_type",
            at["t"]
        );
        assert_eq!(
            one(&windowed, &joined).await,
            format!(r#"{{"n":{}}}"#, expected.len()),
            "{sample}: cut ids"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_filters_read_their_windows_and_lose_no_rows() {
    let (_dir, whole, windowed) = whole_and_windowed("partition").await;
    let bounds: serde_json::Value = serde_json::from_str(
        &one(&whole, "SELECT CAST(min(time) AS BIGINT) AS a, CAST(max(time) AS BIGINT) AS b FROM causal_events").await,
    )
    .unwrap();
    let (a, b) = (bounds["a"].as_i64().unwrap(), bounds["b"].as_i64().unwrap());
    let (lo, hi) = (a + (b - a) / 3, a + 2 * (b - a) / 3);
    let ts = |ns: i64| format!("to_timestamp_nanos({ns})");
    for sql in [
        format!(
            "SELECT {EVENT} FROM causal_events WHERE time >= {} AND time < {}",
            ts(lo),
            ts(hi)
        ),
        format!(
            "SELECT {EDGE} FROM hb_edges WHERE from_time BETWEEN {} AND {}",
            ts(lo),
            ts(hi)
        ),
        format!("SELECT {EDGE} FROM hb_edges WHERE to_time > {}", ts(hi)),
    ] {
        let expected = rows(&whole, &sql).await;
        assert!(!expected.is_empty(), "{sql}");
        assert_eq!(rows(&windowed, &sql).await, expected, "{sql}");
    }
}
