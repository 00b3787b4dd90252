//! The findings fingerprint: the guard rail of every change that moves the
//! analysis without meaning to change what it finds.
//!
//! Three fixed datasets are analysed as `causet report` analyses them, and
//! every finding is written as one line (time, kind, severity, nodes,
//! trace and span ids, key, magnitude) and every incident as another
//! (cause, anchor, first and last time, findings per kind). The lines must
//! equal `tests/fingerprints/NAME.txt`, taken at the commit before the
//! analyzer was first restructured:
//!
//! - `samples`: every labelled sample, each in a data folder of its own;
//! - `datagen`: `causet-datagen` at 40,000 spans (seed 3), in automatic
//!   windows and again in windows of 5 s, which cut its 28 s in six;
//! - `workload`: the ingest workload at 16,384 spans, every span with a
//!   vector clock, a write and an idempotency key (the chaos-style history).
//!
//! A change that means to change findings re-blesses the files with
//! `CAUSET_BLESS=1 cargo test --workspace --all-features --test fingerprint` and says
//! why in its commit; the diff of the `.txt` files is the review.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use causet_analyzer::windows::WindowSize;
use causet_analyzer::{Analyzer, Settings};
use causet_collector::{Ingest, Limits, Store, StoreConfig, import_file};

fn fingerprints_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fingerprints")
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// The findings and incidents of `data`, analysed with `window`, as lines.
async fn lines(data: &Path, window: WindowSize) -> Vec<String> {
    let mut settings = Settings {
        window,
        ..Settings::default()
    };
    if let WindowSize::Fixed(ns) = window {
        // Windows are whole offset windows: make those as short.
        settings.detect.window_ns = ns;
    }
    let analyzer = Analyzer::open_with(data, settings).await.unwrap();
    let (detected, _) = analyzer.findings_windowed(window).await.unwrap();
    let mut out: Vec<String> = detected
        .findings
        .iter()
        .map(|f| {
            format!(
                "finding {} {} {} nodes={} traces={} spans={} key={} magnitude={}",
                f.time,
                f.kind,
                f.severity,
                f.nodes.join(","),
                f.trace_ids.join(","),
                f.span_ids.join(","),
                f.key.as_deref().unwrap_or("-"),
                f.magnitude.map_or("-".to_owned(), |m| m.to_string()),
            )
        })
        .collect();
    for incident in detected.incidents() {
        let counts: Vec<String> = incident
            .counts
            .iter()
            .map(|(kind, n)| format!("{kind}:{n}"))
            .collect();
        out.push(format!(
            "incident {} {} {:?} first={} last={} findings={} {}",
            incident.fingerprint(),
            incident.severity,
            incident.attribution,
            incident.first_ns,
            incident.last_ns,
            incident.findings.len(),
            counts.join(","),
        ));
    }
    out.sort();
    out
}

/// Compares `got` with the blessed file `name.txt`, or writes it with
/// `CAUSET_BLESS=1`.
fn check(name: &str, got: &[String]) {
    let path = fingerprints_dir().join(format!("{name}.txt"));
    let text = got.iter().fold(String::new(), |mut text, line| {
        let _ = writeln!(text, "{line}");
        text
    });
    if std::env::var_os("CAUSET_BLESS").is_some() {
        std::fs::create_dir_all(fingerprints_dir()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if want == text {
        return;
    }
    let want: Vec<&str> = want.lines().collect();
    let missing: Vec<&&str> = want
        .iter()
        .filter(|l| !got.iter().any(|g| g == **l))
        .collect();
    let unexpected: Vec<&String> = got.iter().filter(|g| !want.contains(&g.as_str())).collect();
    panic!(
        "{name}: the findings changed ({} lines blessed, {} now)\nmissing ({}):\n{}\nunexpected ({}):\n{}",
        want.len(),
        got.len(),
        missing.len(),
        missing
            .iter()
            .take(20)
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
        unexpected.len(),
        unexpected
            .iter()
            .take(20)
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
    );
}

async fn import(files: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    let ingest = Ingest::new(store, Limits::default());
    for file in files {
        let summary = import_file(&ingest, file, &mut |_| {}).await.unwrap();
        assert!(
            summary.errors.is_empty(),
            "{}: {:?}",
            file.display(),
            summary.errors
        );
    }
    ingest.store().flush().await.unwrap();
    drop(ingest);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_samples_keep_their_findings() {
    let mut names: Vec<String> = std::fs::read_dir(samples_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".otlp.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut all = Vec::new();
    for name in &names {
        let dir = import(&[samples_dir().join(format!("{name}.otlp.json"))]).await;
        for line in lines(dir.path(), WindowSize::Auto).await {
            all.push(format!("{name}: {line}"));
        }
    }
    check("samples", &all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagen_keeps_its_findings_in_any_windows() {
    let dir = tempfile::tempdir().unwrap();
    causet_bench::datagen::generate(dir.path(), 40_000, 3, 10_000).unwrap();
    let auto = lines(dir.path(), WindowSize::Auto).await;
    assert!(auto.len() > 20, "{auto:?}");
    check("datagen", &auto);
    // The history is 28 s long: windows of 5 s cut it in six.
    check(
        "datagen-5s-windows",
        &lines(dir.path(), WindowSize::Fixed(5_000_000_000)).await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vector_clock_workload_keeps_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 0..32 {
        let request = causet_bench::workload::otlp_request(seed, 512);
        causet_bench::datagen::write_request(dir.path(), seed + 1, &request).unwrap();
    }
    let got = lines(dir.path(), WindowSize::Auto).await;
    assert!(got.len() > 20, "{}", got.len());
    check("workload", &got);
}
