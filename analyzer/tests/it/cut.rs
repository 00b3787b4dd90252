//! `consistent_cut(time)` over the skewed-cut sample: the frontier holds
//! queue's send though queue's raw clock puts it after the time, because
//! web's receive (before the time) needs it.

use arrow::array::AsArray;
use causet_analyzer::Analyzer;

use crate::common::imported;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frontier_of_a_consistent_cut_holds_the_causes_of_what_it_holds() {
    let dir = imported(&["skewed-cut"]).await;
    let analyzer = Analyzer::open(dir.path()).await.unwrap();
    let rows = |sql: String| {
        let analyzer = &analyzer;
        async move {
            let results = analyzer.run(&sql).await.unwrap();
            let mut out = Vec::new();
            for batch in &results[0].batches {
                let (nodes, names) = (
                    batch.column(0).as_string::<i32>(),
                    batch.column(1).as_string::<i32>(),
                );
                for i in 0..batch.num_rows() {
                    out.push(format!("{} {}", nodes.value(i), names.value(i)));
                }
            }
            out.sort();
            out
        }
    };
    let frontier = |at: &str| {
        rows(format!(
            "SELECT node, name FROM consistent_cut('{at}') ORDER BY node"
        ))
    };
    assert_eq!(
        frontier("2026-11-25T10:00:01Z").await,
        [
            "cache-1 handle",
            "queue-1 restock",
            "r-1 PUT /cart",
            "r-2 PUT /cart",
            "web-1 reserve"
        ]
    );
    // A moment before queue's send (corrected): web's receive is not in the
    // cut either, though web's raw clock puts it before.
    let early = frontier("2026-11-25T10:00:00.140Z").await;
    assert!(
        early.contains(&"web-1 call cache-1".to_owned()),
        "{early:?}"
    );
    assert!(
        !early
            .iter()
            .any(|r| r.contains("causet.receive") || r.contains("reserve")),
        "{early:?}"
    );
    let error = analyzer
        .run("SELECT * FROM consistent_cut('yesterday')")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("consistent_cut takes one time"),
        "{error}"
    );
}
