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

/// The concurrent-write sample with `causet.write.key` replaced by
/// `db.collection.name` + `app.cart.id`, and `db.operation.name` set to `op`.
fn imported_with_db_keys(op: &str) -> tempfile::TempDir {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/concurrent-write.otlp.json");
    let text = std::fs::read_to_string(sample).unwrap();
    let original =
        serde_json::json!({"key": "causet.write.key", "value": {"stringValue": "cart:1"}});
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let replacement = serde_json::json!([
        {"key": "db.collection.name", "value": {"stringValue": "carts"}},
        {"key": "app.cart.id", "value": {"stringValue": "1"}},
        {"key": "db.operation.name", "value": {"stringValue": op}},
    ]);
    let mut replaced = 0;
    for resource in json["resourceSpans"].as_array_mut().unwrap() {
        for scope in resource["scopeSpans"].as_array_mut().unwrap() {
            for span in scope["spans"].as_array_mut().unwrap() {
                let Some(attributes) = span["attributes"].as_array_mut() else {
                    continue;
                };
                let before = attributes.len();
                attributes.retain(|a| *a != original);
                if attributes.len() < before {
                    attributes.extend(replacement.as_array().unwrap().iter().cloned());
                    replaced += 1;
                }
            }
        }
    }
    assert_eq!(replaced, 2, "the sample's two writes");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db-keys.otlp.json");
    std::fs::write(&file, json.to_string()).unwrap();
    stdout(&causet(dir.path(), &["import", file.to_str().unwrap()]));
    dir
}

#[test]
fn configured_write_key_attributes_name_writes_and_reads_are_not_writes() {
    let conflicts = |dir: &std::path::Path, flags: &[&str]| -> serde_json::Value {
        let mut args = vec!["sql", "--format", "json"];
        args.extend_from_slice(flags);
        args.push("SELECT key, span_ids FROM write_conflicts WHERE kind = 'concurrent_write'");
        let text = stdout(&causet(dir, &args));
        serde_json::from_str(if text.trim().is_empty() { "[]" } else { &text }).unwrap()
    };
    let flags = [
        "--write-key-attribute",
        "db.collection.name",
        "--write-key-attribute",
        "app.cart.id",
    ];
    let writes = imported_with_db_keys("UPDATE");
    assert_eq!(conflicts(writes.path(), &[]), serde_json::json!([]));
    assert_eq!(
        conflicts(writes.path(), &flags),
        serde_json::json!([{"key": "carts/1", "span_ids": ["0000000a00000010", "0000000a00000020"]}])
    );
    let reads = imported_with_db_keys("select");
    assert_eq!(conflicts(reads.path(), &flags), serde_json::json!([]));
}

#[test]
fn an_empty_json_result_is_one_empty_array() {
    let dir = lamport_seed();
    for query in [
        "SELECT name FROM spans WHERE name = 'nothing'",
        "SELECT 1 AS one WHERE false",
    ] {
        assert_eq!(
            stdout(&causet(dir.path(), &["sql", "--format", "json", query])),
            "[]\n"
        );
    }
}

/// A mistyped `--data` is an error naming the path, for every read
/// command, and creates nothing: a nightly job must not read "0 findings".
#[test]
fn read_commands_refuse_a_folder_causet_never_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("caust-data");
    let reads: [&[&str]; 5] = [
        &["sql", "SELECT 1"],
        &["report"],
        &["explain", "0ca05e70000000000000000000000001"],
        &[
            "why",
            "0ca05e70000000000000000000000001/0000000000000001",
            "0ca05e70000000000000000000000001/0000000000000002",
        ],
        &[
            "export",
            "shiviz",
            "0ca05e70000000000000000000000001",
            "-o",
            "/dev/null",
        ],
    ];
    for args in reads {
        let out = causet(&typo, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("caust-data") && stderr.contains("not a causet data folder"),
            "{args:?}: {stderr}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}
