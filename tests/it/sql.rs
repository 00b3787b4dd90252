//! `causet sql` as a user runs it: output formats and errors, as snapshots.

use std::process::Command;

use crate::common::{causet, imported, stdout};

fn lamport_seed() -> tempfile::TempDir {
    imported(&["lamport-seed"])
}

const QUERY: &str = "SELECT node, name, lamport, derived_lamport, vc FROM causal_events \
                     WHERE node = 'B' AND event_type = 'event' ORDER BY derived_lamport LIMIT 3";

#[test]
fn formats() {
    let dir = lamport_seed();
    insta::assert_snapshot!("table", stdout(&causet(dir.path(), &["sql", QUERY])));
    insta::assert_snapshot!(
        "csv",
        stdout(&causet(dir.path(), &["sql", "--format", "csv", QUERY]))
    );
    insta::assert_snapshot!(
        "json",
        stdout(&causet(dir.path(), &["sql", "--format", "json", QUERY]))
    );
    insta::assert_snapshot!(
        "ndjson",
        stdout(&causet(dir.path(), &["sql", "--format", "ndjson", QUERY]))
    );
}

#[test]
fn statements_from_a_file_and_parquet_output() {
    let dir = lamport_seed();
    let file = dir.path().join("q.sql");
    std::fs::write(
        &file,
        "SELECT 1 AS one;\nSELECT count(*) AS spans FROM spans;\n",
    )
    .unwrap();
    let out = causet(
        dir.path(),
        &["sql", "-f", file.to_str().unwrap(), "--format", "csv"],
    );
    assert_eq!(stdout(&out), "one\n1\nspans\n3\n");

    let parquet = dir.path().join("out.parquet");
    let out = causet(
        dir.path(),
        &[
            "sql",
            "--format",
            "parquet",
            "-o",
            parquet.to_str().unwrap(),
            QUERY,
        ],
    );
    stdout(&out);
    let file = std::fs::File::open(&parquet).unwrap();
    let reader = parquet_rows(file);
    assert_eq!(reader, 3);
}

fn parquet_rows(file: std::fs::File) -> usize {
    let builder =
        ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    builder
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum()
}

#[test]
fn errors_exit_non_zero_with_datafusion_message() {
    let dir = lamport_seed();
    let out = causet(dir.path(), &["sql", "SELECT nope FROM spans"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("bad_query", String::from_utf8_lossy(&out.stderr));

    let out = causet(dir.path(), &["sql", "--format", "parquet", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs -o FILE"));
}

#[test]
fn sql_from_a_pipe() {
    let dir = lamport_seed();
    let mut child = Command::new(env!("CARGO_BIN_EXE_causet"))
        .arg("--data")
        .arg(dir.path())
        .args(["sql", "--format", "csv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT count(*) AS edges FROM hb_edges;")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "edges\n21\n");
}
