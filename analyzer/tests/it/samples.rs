//! Every labelled sample through import and analysis: the findings must be
//! exactly `NAME.expected.json` (kind and span ids), in both directions,
//! each once, though every sample is imported twice (as an exporter that
//! retries a whole export would send it): the analysis drops the copies.

use std::collections::BTreeSet;

use causet_analyzer::Analyzer;

use crate::common::{Labels, imported, labels, samples_dir};

fn expected(name: &str) -> Labels {
    let path = samples_dir().join(format!("{name}.expected.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut want: Labels = rows
        .iter()
        .map(|r| {
            let mut spans: Vec<String> = r["span_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            spans.sort();
            (r["kind"].as_str().unwrap().to_owned(), spans)
        })
        .collect();
    want.sort();
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_gives_exactly_its_expected_findings() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".otlp.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let dir = imported(&[name.as_str(), name.as_str()]).await;
        let analyzer = Analyzer::open(dir.path()).await.unwrap();
        let detected = analyzer.findings().await.unwrap();
        let got: Labels = labels(&detected.findings);
        let want = expected(name);
        if got != want {
            let (want_set, got_set): (BTreeSet<_>, BTreeSet<_>) =
                (want.iter().collect(), got.iter().collect());
            let summaries: Vec<String> = detected
                .findings
                .iter()
                .map(|f| format!("{}: {}", f.kind, f.summary))
                .collect();
            failures.push(format!(
                "{name}:\n  missing {:?}\n  unexpected {:?}\n  all: {summaries:#?}",
                want_set.difference(&got_set).collect::<Vec<_>>(),
                got_set.difference(&want_set).collect::<Vec<_>>(),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `kind:n` pairs in name order.
fn counts(counts: &serde_json::Value) -> String {
    let map: std::collections::BTreeMap<&String, &serde_json::Value> =
        counts.as_object().unwrap().iter().collect();
    let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    pairs.join(",")
}

/// The samples that say how their findings group (`NAME.incidents.json`):
/// exactly those incidents, each with its cause, anchor and findings per kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_group_into_their_expected_incidents() {
    let mut checked = 0;
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".incidents.json") else {
            continue;
        };
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut want: Vec<String> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!("{}:{} {}", i["cause"], i["anchor"], counts(&i["counts"])).replace('"', "")
            })
            .collect();
        want.sort();
        let dir = imported(&[name]).await;
        let analyzer = Analyzer::open(dir.path()).await.unwrap();
        let detected = analyzer.findings().await.unwrap();
        let mut got: Vec<String> = detected
            .incidents()
            .iter()
            .map(|i| {
                format!(
                    "{} {}",
                    i.fingerprint(),
                    counts(&serde_json::to_value(&i.counts).unwrap())
                )
                .replace('"', "")
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{name}");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} samples say their incidents");
}
