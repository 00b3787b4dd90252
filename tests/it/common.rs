//! Running the `causet` binary on data folders made from the samples.

use std::path::Path;
use std::process::{Command, Output};

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

/// Stdout of a run that must have succeeded.
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}
