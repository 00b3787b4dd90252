//! `concurrent_writes(key)` gives the pairs the SQL self-join gives.

use arrow::array::AsArray;
use causet_analyzer::Analyzer;

use serde_json::json;

use crate::common::{imported_files, samples_dir};

/// Two more writes of `cart:1` beside the concurrent-write sample's two
/// (`{r-1: 1}` and `{r-2: 1}`): one after both, one after the second only.
fn later_writes() -> serde_json::Value {
    let write = |node: &str, n: u64, vc: &str| {
        json!({
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "r"}},
                {"key": "service.instance.id", "value": {"stringValue": node}}
            ]},
            "scopeSpans": [{"spans": [{
                "traceId": format!("0ca05e700000000000000000000a000{n}"),
                "spanId": format!("0000000a000000{n}0"),
                "name": "PUT /cart",
                "kind": 2,
                "startTimeUnixNano": format!("17956008000{n}0000000"),
                "endTimeUnixNano": format!("17956008000{n}5000000"),
                "attributes": [
                    {"key": "causet.write.key", "value": {"stringValue": "cart:1"}},
                    {"key": "causet.vc", "value": {"stringValue": vc}}
                ]
            }]}]
        })
    };
    json!({"resourceSpans": [
        write("r-1", 3, r#"{"r-1":2,"r-2":1}"#),
        write("r-2", 4, r#"{"r-2":2}"#)
    ]})
}

/// The first column of every row, as text, sorted.
async fn texts(analyzer: &Analyzer, sql: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for result in analyzer.run(sql).await.unwrap() {
        for batch in &result.batches {
            let column =
                arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8).unwrap();
            out.extend(
                column
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.unwrap_or("").to_owned()),
            );
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pairs_of_the_self_join_without_the_join() {
    // Four writes to one key, concurrent and ordered, plus writes to other
    // keys; imported twice, so each span has a copy to be dropped.
    let later = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(later.path(), later_writes().to_string()).unwrap();
    let files: Vec<std::path::PathBuf> = [
        "concurrent-write",
        "clean-sequential-writes",
        "vc-violation",
    ]
    .iter()
    .map(|name| samples_dir().join(format!("{name}.otlp.json")))
    .chain([later.path().to_path_buf()])
    .collect();
    let dir = imported_files(&[&files[..], &files[..]].concat()).await;
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let keys = texts(
        &analyzer,
        "SELECT DISTINCT write_key FROM spans WHERE vc IS NOT NULL",
    )
    .await;
    assert!(keys.contains(&"cart:1".to_owned()), "{keys:?}");
    let mut concurrent = 0;
    for key in keys.iter().filter(|k| !k.is_empty()) {
        let join = format!(
            "SELECT a.span_id || '/' || b.span_id FROM
               (SELECT span_id, vc FROM spans WHERE write_key = '{key}' AND vc IS NOT NULL) a
               JOIN (SELECT span_id, vc FROM spans WHERE write_key = '{key}' AND vc IS NOT NULL) b
               ON a.span_id < b.span_id WHERE vc_compare(a.vc, b.vc) = 'concurrent'"
        );
        let function = format!(
            "SELECT least(a_span_id, b_span_id) || '/' || greatest(a_span_id, b_span_id)
             FROM concurrent_writes('{key}')"
        );
        let expected = texts(&analyzer, &join).await;
        assert_eq!(texts(&analyzer, &function).await, expected, "{key}");
        concurrent += expected.len();
    }
    // {r-1:1} with {r-2:1} and with {r-2:2}; {r-1:2,r-2:1} with {r-2:2}.
    assert_eq!(concurrent, 3);
    // The first write of a pair started first.
    let order = texts(
        &analyzer,
        "SELECT count(*) FROM concurrent_writes('cart:1') WHERE a_start_time > b_start_time",
    )
    .await;
    assert_eq!(order, ["0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_must_be_a_string() {
    let dir = crate::common::imported(&["concurrent-write"]).await;
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let error = analyzer
        .run("SELECT * FROM concurrent_writes(1)")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("concurrent_writes takes one key"), "{error}");
}
