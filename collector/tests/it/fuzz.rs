//! Replays the fuzz targets' seed inputs (the corpus the fuzzers grew,
//! minimised, in `fuzz/seeds/`) and every saved crash (`fuzz/regressions/`)
//! through the same entry points the fuzz targets call, in the test build
//! with its overflow checks. Any panic fails the test.

use std::path::{Path, PathBuf};

use causet_collector::fuzzing;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The inputs of a seeds file: (u32 little-endian length, bytes) entries.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let blob = std::fs::read(fuzz_dir().join(format!("seeds/{target}.bin"))).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < blob.len() {
        let len = u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
        out.push(blob[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    out
}

fn regressions(target: &str) -> Vec<Vec<u8>> {
    match std::fs::read_dir(fuzz_dir().join("regressions").join(target)) {
        Ok(entries) => entries
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A fuzz target's entry point, its result as a count.
type Target = fn(&[u8]) -> u64;

#[test]
fn every_seed_and_regression_runs_through_its_target_without_panicking() {
    let targets: [(&str, Target); 4] = [
        ("otlp_protobuf", fuzzing::otlp_protobuf),
        ("otlp_json", fuzzing::otlp_json),
        ("clocks", |d| fuzzing::clocks(d) as u64),
        ("wal_segment", |d| fuzzing::wal_segment(d) as u64),
    ];
    for (target, run) in targets {
        let inputs: Vec<Vec<u8>> = seeds(target)
            .into_iter()
            .chain(regressions(target))
            .collect();
        assert!(inputs.len() > 50, "{target}: only {} inputs", inputs.len());
        let productive = inputs.iter().filter(|input| run(input) > 0).count();
        // The seeds are what the fuzzer kept for new coverage: some of them
        // must get past decoding, or the target tests nothing.
        assert!(productive > 0, "{target}: no input got past decoding");
    }
}
