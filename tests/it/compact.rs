//! `causet compact`: every row kept, one file per table-hour, the same
//! findings, idempotent; and a SIGKILL at any moment loses and duplicates
//! nothing once a later run finishes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use causet_schema::tables::INGESTED_TABLES;

use crate::child::{start, terminate};
use crate::common::{causet, imported, stdout};

/// Every sample: one import each, so each table-hour holds many files.
const SAMPLES: &[&str] = &[
    "causality-violation",
    "clean-async-messaging",
    "clean-child-outlives-parent",
    "clean-sequential-writes",
    "clock-jump",
    "concurrent-write",
    "critical-path-through-queue",
    "duplicate-execution",
    "gray-failure",
    "heartbeat-suspected",
    "hlc-drift",
    "lamport-violation",
    "lww-inversion",
    "malformed-clock",
    "node-unreachable",
    "partition",
    "possible-duplicate",
    "retry-deduplicated",
    "skew-exceeds-max-offset",
];

/// Each stored row of each table as JSON text, sorted: the tables'
/// contents, copies included, whatever files hold them.
fn rows(data: &Path) -> BTreeMap<&'static str, Vec<String>> {
    INGESTED_TABLES
        .into_iter()
        .map(|table| {
            let batches = causet_collector::store::read_table(data, table).unwrap();
            let mut writer = arrow::json::LineDelimitedWriter::new(Vec::new());
            for batch in &batches {
                writer.write(batch).unwrap();
            }
            writer.finish().unwrap();
            let text = String::from_utf8(writer.into_inner()).unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            lines.sort();
            (table, lines)
        })
        .collect()
}

/// Files in each partition folder, by folder, and whether any merge is
/// half done (a journal or a temporary file).
fn files(data: &Path) -> (BTreeMap<String, usize>, bool) {
    let mut per_dir = BTreeMap::new();
    let mut pending = false;
    for table in INGESTED_TABLES {
        for date in std::fs::read_dir(data.join(table)).into_iter().flatten() {
            for hour in std::fs::read_dir(date.unwrap().path()).unwrap() {
                let hour = hour.unwrap().path();
                for file in std::fs::read_dir(&hour).unwrap() {
                    let name = file.unwrap().file_name().to_string_lossy().into_owned();
                    if name.ends_with(".parquet") {
                        *per_dir.entry(hour.display().to_string()).or_insert(0) += 1;
                    } else {
                        pending = true;
                    }
                }
            }
        }
    }
    (per_dir, pending)
}

/// The findings of a JSON report, without when it was made.
fn findings(data: &Path) -> serde_json::Value {
    let out = causet(data, &["report", "--format", "json"]);
    // 1: findings at --fail-on's severity, which these samples have.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].clone()
}

/// What SQL sees: each table's rows, copies dropped.
fn sql_counts(data: &Path) -> String {
    stdout(&causet(
        data,
        &[
            "sql",
            "SELECT (SELECT count(*) FROM spans) AS spans, \
             (SELECT count(*) FROM span_events) AS events, \
             (SELECT count(*) FROM span_links) AS links",
        ],
    ))
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn compaction_keeps_every_row_and_the_findings_in_one_file_per_hour() {
    let dir = imported(SAMPLES);
    let data = dir.path();
    let (before_files, _) = files(data);
    assert!(
        before_files.values().any(|&n| n >= 10),
        "the samples should make many files per table-hour: {before_files:?}"
    );
    let before = rows(data);
    let before_findings = findings(data);
    assert!(before_findings.as_array().is_some_and(|f| !f.is_empty()));

    let out = stdout(&causet(data, &["compact"]));
    assert!(out.contains("compacted"), "{out}");
    let (after_files, pending) = files(data);
    assert!(!pending, "a journal or temporary file was left");
    assert!(after_files.values().all(|&n| n == 1), "{after_files:?}");
    assert_eq!(
        after_files.keys().collect::<Vec<_>>(),
        before_files.keys().collect::<Vec<_>>()
    );
    assert_eq!(rows(data), before);
    assert_eq!(findings(data), before_findings);

    // Again: nothing to do, nothing changes.
    let again = stdout(&causet(data, &["compact"]));
    assert!(again.contains("compacted 0 table-hours"), "{again}");
    assert_eq!(rows(data), before);

    // Recent hours are left for later: everything is "recent" to a
    // retention of 100 years, and nothing is deleted.
    let kept = stdout(&causet(data, &["compact", "--retain", "36500days"]));
    assert!(kept.contains("deleted 0 table-hours"), "{kept}");
    // A retention of a day deletes these hours (from 2026-11-25) whole.
    let gone = stdout(&causet(data, &["compact", "--retain", "1day"]));
    assert!(!gone.contains("deleted 0 table-hours"), "{gone}");
    assert!(files(data).0.is_empty());
}

#[test]
fn a_sigkill_at_any_moment_loses_and_duplicates_nothing() {
    let source = imported(SAMPLES);
    let before = rows(source.path());
    let before_sql = sql_counts(source.path());
    let work = tempfile::tempdir().unwrap();

    // How long an uninterrupted run takes here (the shortest of three), to
    // spread the kills over it.
    let full = (0..3)
        .map(|i| {
            let timed = work.path().join(format!("timed-{i}"));
            copy_dir(source.path(), &timed);
            let started = Instant::now();
            stdout(&causet(&timed, &["compact"]));
            started.elapsed()
        })
        .min()
        .unwrap();

    let rounds = 12u32;
    let mut interrupted = 0;
    for round in 0..rounds {
        let data = work.path().join(format!("round-{round}"));
        copy_dir(source.path(), &data);
        let mut child = Command::new(env!("CARGO_BIN_EXE_causet"))
            .arg("--data")
            .arg(&data)
            .arg("compact")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * round / rounds);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            interrupted += 1;
        }
        // Between a kill and the next run, SQL sees every row once.
        assert_eq!(
            sql_counts(&data),
            before_sql,
            "round {round}: SQL after the kill"
        );
        // The next run finishes what the killed one began.
        stdout(&causet(&data, &["compact"]));
        let (after_files, pending) = files(&data);
        assert!(
            !pending,
            "round {round}: a journal or temporary file was left"
        );
        assert!(
            after_files.values().all(|&n| n == 1),
            "round {round}: {after_files:?}"
        );
        assert_eq!(rows(&data), before, "round {round}: rows after recovery");
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{interrupted} of {rounds} kills landed before the run ended ({full:?})");
    }
    assert!(
        interrupted >= rounds / 2,
        "too few kills landed mid-run to test anything: {interrupted} of {rounds} ({full:?})"
    );
}

#[test]
fn a_collector_with_compact_after_merges_closed_hours_in_the_background() {
    let dir = imported(SAMPLES);
    let data = dir.path();
    let before = rows(data);
    let collector = start(data, &["--compact-after", "1s"]);
    let began = Instant::now();
    // Done when every table-hour is one file and no merge is under way.
    while files(data).0.values().any(|&n| n > 1) || files(data).1 {
        assert!(
            began.elapsed().as_secs() < 60,
            "not compacted after a minute: {:?}",
            files(data)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    terminate(collector);
    assert_eq!(rows(data), before);
}
