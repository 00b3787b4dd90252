//! Data folders made the way users make them: `causet import` of the samples.

use std::path::{Path, PathBuf};

use causet_collector::{Ingest, Limits, Store, StoreConfig, import_file};
use tempfile::TempDir;

/// The repository's `samples/` folder.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// A data folder holding the named samples, flushed to Parquet.
pub async fn imported(samples: &[&str]) -> TempDir {
    let files: Vec<PathBuf> = samples
        .iter()
        .map(|name| samples_dir().join(format!("{name}.otlp.json")))
        .collect();
    imported_files(&files).await
}

/// A data folder holding these OTLP JSON files, flushed to Parquet.
pub async fn imported_files(files: &[PathBuf]) -> TempDir {
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

/// Findings as (kind, sorted span ids), sorted: what the labels name.
pub type Labels = Vec<(String, Vec<String>)>;

/// The [`Labels`] of `findings`.
pub fn labels(findings: &[causet_analyzer::detect::Finding]) -> Labels {
    let mut out: Labels = findings
        .iter()
        .map(|f| {
            let mut spans = f.span_ids.clone();
            spans.sort();
            (f.kind.as_str().to_owned(), spans)
        })
        .collect();
    out.sort();
    out
}
