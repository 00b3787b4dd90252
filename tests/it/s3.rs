//! A data folder in an object store: two collectors upload to one S3
//! prefix, and `causet report` and `causet sql` on it give what they give
//! on a local folder holding the same spans.
//!
//! The S3 server is moto's (`moto_server`, from PyPI), started on loopback
//! by the test. It is looked for beside `$CAUSET_PYTHON` (`.ci/run` installs
//! it into that virtualenv), then on the PATH; without it the tests say so
//! and pass, unless `CAUSET_REQUIRE_S3=1` (CI sets it).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::child::{Collector, terminate};
use crate::common::{KillOnDrop, causet, imported, report_findings, sql_json, stdout};

/// An S3-compatible server on a loopback port, with one bucket.
struct S3 {
    _server: KillOnDrop,
    endpoint: String,
}

const BUCKET: &str = "causet-test";

fn moto_server() -> Option<PathBuf> {
    let beside_python = std::env::var("CAUSET_PYTHON")
        .ok()
        .and_then(|python| Some(Path::new(&python).parent()?.join("moto_server")));
    let found = beside_python
        .into_iter()
        .chain([PathBuf::from("moto_server")])
        .find(|server| {
            Command::new(server)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    assert!(
        found.is_some() || std::env::var("CAUSET_REQUIRE_S3").as_deref() != Ok("1"),
        "CAUSET_REQUIRE_S3=1 but no moto_server (pip install \"moto[server]\"; set CAUSET_PYTHON)"
    );
    found
}

/// One HTTP/1.1 request to the server, unsigned (moto does not check
/// signatures); its status code.
fn http(endpoint: &str, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(endpoint.trim_start_matches("http://"))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        endpoint.trim_start_matches("http://")
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0))
}

/// The server, or `None` (said on stderr) when there is none to start.
fn start_s3() -> Option<S3> {
    let Some(server) = moto_server() else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: no moto_server (pip install \"moto[server]\"; CAUSET_PYTHON)");
        }
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let s3 = S3 {
        _server: KillOnDrop(child),
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(&s3.endpoint, "PUT", &format!("/{BUCKET}")).ok() != Some(200) {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(s3)
}

impl S3 {
    /// The environment a causet process reaches the server with.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Runs `causet --data URL ARGS...` against the server.
    fn causet(&self, url: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_causet"))
            .arg("--data")
            .arg(url)
            .args(args)
            .env("RUST_LOG", "warn")
            .envs(self.env())
            .output()
            .expect("run causet")
    }

    /// `causet sql QUERY --format json` on `url`'s data.
    fn sql(&self, url: &str, query: &str) -> String {
        stdout(&self.causet(url, &["sql", query, "--format", "json"]))
    }

    /// Starts `causet collect` uploading to `url`, its WAL in `wal`.
    fn collector(&self, url: &str, wal: &Path, args: &[&str]) -> Collector {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut all = vec!["--wal", wal.to_str().unwrap()];
        all.extend(args);
        causet_bench::child::start_collector_at(
            Path::new(env!("CARGO_BIN_EXE_causet")),
            url.as_ref(),
            &wal.with_extension("ready"),
            &all,
            &env,
        )
        .expect("start a collector on S3")
    }

    /// The keys under `prefix`, as moto lists them (one page is enough here).
    fn keys(&self, prefix: &str) -> Vec<String> {
        let mut stream = TcpStream::connect(self.endpoint.trim_start_matches("http://")).unwrap();
        write!(
            stream,
            "GET /{BUCKET}?list-type=2&prefix={prefix} HTTP/1.1\r\nHost: s3\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect()
    }
}

const FIRST: &[&str] = &["concurrent-write", "duplicate-execution", "clock-jump"];
const SECOND: &[&str] = &["causality-violation", "partition", "malformed-clock"];

/// Sends each sample to a collector over OTLP/HTTP JSON.
fn send(http_addr: &str, samples: &[&str]) {
    let client = reqwest::blocking::Client::new();
    for name in samples {
        let sample =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/{name}.otlp.json"));
        let response = client
            .post(format!("http://{http_addr}/v1/traces"))
            .header("content-type", "application/json")
            .body(std::fs::read(sample).unwrap())
            .send()
            .unwrap();
        assert!(
            response.status().is_success(),
            "{name}: {}",
            response.status()
        );
    }
}

#[test]
fn two_collectors_upload_to_one_prefix_and_the_report_reads_it() {
    let Some(s3) = start_s3() else {
        return;
    };
    let url = format!("s3://{BUCKET}/team/causet");
    let local = tempfile::tempdir().unwrap();
    let mut wals = Vec::new();
    for (i, samples) in [FIRST, SECOND].into_iter().enumerate() {
        let wal = local.path().join(format!("wal-{i}"));
        let collector = s3.collector(&url, &wal, &[]);
        send(&collector.http, samples);
        terminate(collector);
        wals.push(wal);
    }

    // Each collector uploaded under its own name; nothing stayed behind.
    let keys = s3.keys("team/causet/");
    assert!(
        keys.iter().all(|k| k.ends_with(".parquet")
            && ["spans/", "span_events/", "span_links/"]
                .iter()
                .any(|t| k.starts_with(&format!("team/causet/{t}date=")))),
        "{keys:?}"
    );
    let instances: std::collections::BTreeSet<&str> = keys
        .iter()
        .filter_map(|k| {
            k.rsplit('/')
                .next()?
                .strip_prefix("part-")?
                .split('-')
                .next()
        })
        .collect();
    assert_eq!(instances.len(), 2, "{keys:?}");
    for wal in &wals {
        let left: Vec<_> = walk(wal)
            .into_iter()
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "parquet" || e == "tmp" || e == "wal")
            })
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    // The same answers as a local folder with the same spans.
    let all: Vec<&str> = FIRST.iter().chain(SECOND).copied().collect();
    let folder = imported(&all);
    let on_s3 = report_findings(&s3.causet(&url, &["report", "--format", "json"]));
    let here = report_findings(&causet(folder.path(), &["report", "--format", "json"]));
    assert!(!on_s3["findings"].as_array().unwrap().is_empty());
    assert_eq!(on_s3, here);
    let query = "SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces FROM spans";
    assert_eq!(s3.sql(&url, query), sql_json(folder.path(), query));
}

#[test]
fn a_collector_killed_before_its_flush_uploads_once_on_restart() {
    let Some(s3) = start_s3() else {
        return;
    };
    let url = format!("s3://{BUCKET}/killed");
    let local = tempfile::tempdir().unwrap();
    let wal = local.path().join("wal");
    let start = || s3.collector(&url, &wal, &["--flush-interval", "1h"]);
    let mut collector = start();
    send(&collector.http, FIRST);
    // Acknowledged, in the WAL, not uploaded: SIGKILL.
    collector.child.kill().unwrap();
    collector.child.wait().unwrap();
    assert!(s3.keys("killed/").is_empty());
    // The restart uploads the WAL; a second restart uploads nothing new.
    terminate(start());
    let first = s3.keys("killed/");
    assert!(!first.is_empty());
    terminate(start());
    assert_eq!(s3.keys("killed/"), first);

    let folder = imported(FIRST);
    let query = "SELECT count(*) AS spans FROM spans";
    assert_eq!(s3.sql(&url, query), sql_json(folder.path(), query));
}

#[test]
fn a_remote_data_folder_is_refused_clearly_where_it_cannot_be_used() {
    let Some(s3) = start_s3() else {
        return;
    };
    let url = format!("s3://{BUCKET}/nothing-here");
    let error = |out: Output| {
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let text = error(s3.causet(&url, &["report"]));
    assert!(text.contains("holds none of spans/"), "{text}");
    let text = error(s3.causet(&url, &["collect"]));
    assert!(text.contains("--wal DIR"), "{text}");
    let text = error(s3.causet(&url, &["demo"]));
    assert!(text.contains("in an object store"), "{text}");
    let text = error(s3.causet("ftp://host/data", &["report"]));
    assert!(text.contains("not ftp://"), "{text}");
    let local = tempfile::tempdir().unwrap();
    let text = error(causet(local.path(), &["collect", "--wal", "elsewhere"]));
    assert!(
        text.contains("--wal is for a data folder in an object store"),
        "{text}"
    );
}

#[test]
fn compaction_and_retention_in_an_object_store() {
    let Some(s3) = start_s3() else {
        return;
    };
    let url = format!("s3://{BUCKET}/compacted");
    let local = tempfile::tempdir().unwrap();
    let wal = local.path().join("wal");
    let all: Vec<&str> = FIRST.iter().chain(SECOND).copied().collect();
    // One import each: a file per table-hour per import.
    for name in &all {
        let sample =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/{name}.otlp.json"));
        stdout(&s3.causet(
            &url,
            &[
                "import",
                "--wal",
                wal.to_str().unwrap(),
                sample.to_str().unwrap(),
            ],
        ));
    }
    // Parquet objects per table-hour prefix.
    let per_hour = || {
        let mut dirs = std::collections::BTreeMap::<String, Vec<String>>::new();
        for key in s3.keys("compacted/") {
            let (dir, name) = key.rsplit_once('/').unwrap();
            dirs.entry(dir.to_owned())
                .or_default()
                .push(name.to_owned());
        }
        dirs
    };
    let before = per_hour();
    assert!(before.values().any(|names| names.len() > 1), "{before:?}");
    let query = "SELECT count(*) AS spans, count(DISTINCT trace_id) AS traces FROM spans";
    let rows = s3.sql(&url, query);
    let findings = report_findings(&s3.causet(&url, &["report", "--format", "json"]));

    let out = stdout(&s3.causet(&url, &["compact"]));
    assert!(
        out.contains(&format!(
            "compacted {} table-hours",
            before.values().filter(|n| n.len() > 1).count()
        )),
        "{out}"
    );
    let after = per_hour();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for names in after.values() {
        assert_eq!(names.len(), 1, "{after:?}");
        assert!(
            names[0].starts_with("compact-") || before.values().any(|b| b == names),
            "{after:?}"
        );
    }
    assert!(s3.keys("compacted/.compact.lock").is_empty());
    assert_eq!(s3.sql(&url, query), rows);
    assert_eq!(
        report_findings(&s3.causet(&url, &["report", "--format", "json"])),
        findings
    );

    // Again: nothing left to merge.
    let out = stdout(&s3.causet(&url, &["compact"]));
    assert!(out.contains("compacted 0 table-hours"), "{out}");
    assert_eq!(per_hour(), after);

    // Retention: the samples' hours are days old.
    let out = stdout(&s3.causet(&url, &["compact", "--retain", "1d"]));
    assert!(
        out.contains(&format!("deleted {} table-hours", after.len())),
        "{out}"
    );
    assert!(
        s3.keys("compacted/").is_empty(),
        "{:?}",
        s3.keys("compacted/")
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
