//! Distributed queries: three `causet worker` processes on loopback, and a
//! client with `--workers` whose SQL and report give exactly what one
//! process gives, with the plan's stages run on the workers.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{KillOnDrop, causet, imported, report_findings, sql_json, stdout};

/// A `causet worker` child, killed when dropped.
struct Worker {
    _process: KillOnDrop,
    addr: String,
}

fn start_worker(data: &Path, ready: &Path, args: &[&str]) -> Worker {
    let _ = std::fs::remove_file(ready);
    let child = Command::new(env!("CARGO_BIN_EXE_causet"))
        .arg("--data")
        .arg(data)
        .args(["worker", "--listen", "127.0.0.1:0", "--ready-file"])
        .arg(ready)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start causet worker");
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            break json["worker"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "the worker did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    Worker {
        _process: KillOnDrop(child),
        addr,
    }
}

/// Three workers on `data` with `args`, their ready files in `dir`, and
/// their addresses as `--workers` takes them.
fn start_workers(data: &Path, dir: &Path, args: &[&str]) -> (Vec<Worker>, String) {
    let workers: Vec<Worker> = (0..3)
        .map(|i| start_worker(data, &dir.join(format!("w{i}.ready")), args))
        .collect();
    let list = workers
        .iter()
        .map(|w| w.addr.as_str())
        .collect::<Vec<_>>()
        .join(",");
    (workers, list)
}

/// The samples' spans; a mix of every clock kind and finding.
const SAMPLES: &[&str] = &[
    "concurrent-write",
    "duplicate-execution",
    "causality-violation",
    "partition",
    "gray-failure",
    "clock-jump",
];

#[test]
fn three_workers_answer_as_one_process() {
    let dir = imported(SAMPLES);
    let ready = tempfile::tempdir().unwrap();
    let (workers, list) = start_workers(dir.path(), ready.path(), &[]);
    let with_workers = |args: &[&str]| -> Output {
        let mut all = args.to_vec();
        // Every file its own task: the samples are small.
        all.extend(["--workers", &list, "--worker-task-bytes", "1"]);
        causet(dir.path(), &all)
    };

    let aggregate = "SELECT node, count(*) AS spans, count(DISTINCT trace_id) AS traces, \
                     min(start_time) AS first FROM spans GROUP BY node ORDER BY node";
    for sql in [
        aggregate,
        // A self-join with a clock function the workers must have.
        "SELECT a.span_id AS a, b.span_id AS b, vc_compare(a.end_vc, b.end_vc) AS relation \
         FROM spans a JOIN spans b ON a.trace_id = b.trace_id AND a.span_id < b.span_id \
         WHERE a.end_vc IS NOT NULL AND b.end_vc IS NOT NULL ORDER BY a, b",
        "SELECT s.node, count(*) AS events FROM span_events e \
         JOIN spans s ON e.trace_id = s.trace_id AND e.span_id = s.span_id \
         GROUP BY s.node ORDER BY s.node",
        // Tables made in the client from the graph, and a table function.
        "SELECT node, count(*) AS events, max(derived_lamport) AS last FROM causal_events \
         GROUP BY node ORDER BY node",
        "SELECT kind, count(*) AS n FROM findings GROUP BY kind ORDER BY kind",
        "SELECT step, source, from_node, to_node FROM hb_path(6, 19) ORDER BY step",
    ] {
        let alone = sql_json(dir.path(), sql);
        let spread = stdout(&with_workers(&["sql", "--format", "json", sql]));
        assert!(alone.len() > 2, "{sql}: no rows");
        assert_eq!(spread, alone, "{sql}");
    }

    // The report reads through the workers and finds the same.
    let alone = report_findings(&causet(dir.path(), &["report", "--format", "json"]));
    let spread = report_findings(&with_workers(&["report", "--format", "json"]));
    assert!(!alone["findings"].as_array().unwrap().is_empty());
    assert_eq!(spread, alone);

    // The answers came from the workers: with one of them gone, the same
    // query fails (naming it) instead of quietly running in the client.
    let mut workers = workers;
    let first = workers.remove(0);
    let gone = first.addr.clone();
    drop(first);
    let out = with_workers(&["sql", aggregate]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains(&gone), "{text}");
    let out = with_workers(&["report", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the report must not run without its workers"
    );
}

#[test]
fn an_unreachable_worker_is_an_error_not_a_hang() {
    let dir = imported(&["concurrent-write"]);
    // Ports nothing listens on.
    let free = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("127.0.0.1:{port}")
    };
    let list = [free(), free(), free()].join(",");
    let out = causet(
        dir.path(),
        &[
            "sql",
            "SELECT node, count(*) FROM spans GROUP BY node",
            "--workers",
            &list,
            "--worker-task-bytes",
            "1",
        ],
    );
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Distributed DataFusion worker"), "{text}");
}

#[test]
fn workers_with_a_token_refuse_clients_without_it() {
    let dir = imported(SAMPLES);
    let work = tempfile::tempdir().unwrap();
    let token = work.path().join("token");
    std::fs::write(&token, "w0rker-secret\n").unwrap();
    let token = token.to_str().unwrap();
    let (_workers, list) = start_workers(dir.path(), work.path(), &["--auth-token-file", token]);
    let query = "SELECT node, count(*) AS spans FROM spans GROUP BY node ORDER BY node";
    let spread = |extra: &[&str]| {
        let mut args = vec!["sql", "--format", "json", query, "--workers", &list];
        args.extend(["--worker-task-bytes", "1"]);
        args.extend(extra);
        causet(dir.path(), &args)
    };
    // With the token: the stages, shuffles between workers included, run.
    let with = spread(&["--worker-token-file", token]);
    assert_eq!(stdout(&with), sql_json(dir.path(), query));
    // Without it, or with another: refused.
    let without = spread(&[]);
    assert!(!without.status.success());
    let text = String::from_utf8_lossy(&without.stderr);
    assert!(text.contains("bearer token"), "{text}");
    let wrong = work.path().join("wrong");
    std::fs::write(&wrong, "guess").unwrap();
    let out = spread(&["--worker-token-file", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
}
