//! Running the `causet` binary on data folders made from the samples.

use std::path::Path;
use std::process::{Child, Command, Output};

/// Runs `causet --data DATA ARGS...`.
pub fn causet(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_causet"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run causet")
}

/// A data folder with the named samples, imported by the binary.
pub fn imported(samples: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in samples {
        let sample =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/{name}.otlp.json"));
        let out = causet(dir.path(), &["import", sample.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// `causet sql QUERY --format json` on `data`.
#[cfg_attr(not(any(feature = "cloud", feature = "distributed")), allow(dead_code))]
pub fn sql_json(data: &Path, query: &str) -> String {
    stdout(&causet(data, &["sql", query, "--format", "json"]))
}

/// Stdout of a run that must have succeeded.
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The findings and incidents of a `report --format json` run, without what
/// names the folder or the time it was made. It must have exited 1: the
/// samples hold errors to report.
#[cfg_attr(not(any(feature = "cloud", feature = "distributed")), allow(dead_code))]
pub fn report_findings(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    serde_json::json!({"findings": json["findings"], "incidents": json["incidents"]})
}

/// A child process (a server the test started) killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
