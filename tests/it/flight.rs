//! `causet serve --flight`: a real Flight SQL client (the ADBC Flight SQL
//! driver, from Python) runs causet's SQL with `vc_compare` and `hb_path`,
//! as statements and as prepared statements, and gets the rows `causet
//! sql` gives; without the token, or asking to write, it is refused.
//!
//! The client is the `adbc-driver-flightsql` package from PyPI: the test
//! uses `$CAUSET_PYTHON` (a Python that has it; `.ci/run` makes one), else
//! `python3`, and is skipped when neither can import it, unless
//! `CAUSET_REQUIRE_ADBC=1` (CI sets it) makes that a failure.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{KillOnDrop, causet, imported, stdout};

const CLIENT: &str = r#"
import json, sys
import adbc_driver_flightsql.dbapi as flightsql
from adbc_driver_flightsql import DatabaseOptions
uri, token, query, prepared, ca = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "prepared", sys.argv[5]
options = {}
if token:
    options[DatabaseOptions.AUTHORIZATION_HEADER.value] = "Bearer " + token
if ca:
    options[DatabaseOptions.TLS_ROOT_CERTS.value] = open(ca).read()
try:
    with flightsql.connect(uri, db_kwargs=options) as conn, conn.cursor() as cursor:
        if prepared:
            cursor.adbc_prepare(query)
        cursor.execute(query)
        rows = cursor.fetch_arrow_table().to_pylist()
    print(json.dumps({"ok": True, "rows": rows}, default=str))
except Exception as e:
    print(json.dumps({"ok": False, "error": str(e)}))
"#;

/// A Python that can import the ADBC Flight SQL driver, if there is one.
fn python() -> Option<String> {
    let candidates = std::env::var("CAUSET_PYTHON")
        .into_iter()
        .chain(["python3".to_owned()]);
    for python in candidates {
        let found = Command::new(&python)
            .args(["-c", "import adbc_driver_flightsql.dbapi"])
            .output()
            .is_ok_and(|out| out.status.success());
        if found {
            return Some(python);
        }
    }
    assert!(
        std::env::var("CAUSET_REQUIRE_ADBC").as_deref() != Ok("1"),
        "CAUSET_REQUIRE_ADBC=1 but no Python with adbc-driver-flightsql (set CAUSET_PYTHON)"
    );
    None
}

struct Server {
    _process: KillOnDrop,
    uri: String,
    /// The CA its certificate chains to, with TLS.
    ca: Option<String>,
}

/// The test certificates the collector's TLS tests use (for 127.0.0.1).
fn tls_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("collector/tests/tls")
}

fn serve(data: &Path, token_file: &Path, tls: bool) -> Server {
    let ready = data.join("serve.ready");
    let _ = std::fs::remove_file(&ready);
    let mut command = Command::new(env!("CARGO_BIN_EXE_causet"));
    command
        .arg("--data")
        .arg(data)
        .args(["serve", "--flight", "127.0.0.1:0", "--auth-token-file"])
        .arg(token_file)
        .arg("--ready-file")
        .arg(&ready)
        .env("RUST_LOG", "warn");
    if tls {
        command
            .arg("--tls-cert")
            .arg(tls_dir().join("server.pem"))
            .arg("--tls-key")
            .arg(tls_dir().join("server.key"));
    }
    let child = command.spawn().unwrap();
    let began = Instant::now();
    let addr = loop {
        if let Ok(text) = std::fs::read_to_string(&ready)
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        {
            break json["flight"].as_str().unwrap().to_owned();
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "causet serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Server {
        _process: KillOnDrop(child),
        uri: format!("{}://{addr}", if tls { "grpc+tls" } else { "grpc" }),
        ca: tls.then(|| tls_dir().join("ca.pem").display().to_string()),
    }
}

fn query(python: &str, server: &Server, token: &str, sql: &str) -> serde_json::Value {
    run(python, server, token, sql, "direct")
}

/// `sql` as a prepared statement (how the JDBC driver sends every query).
fn prepared(python: &str, server: &Server, token: &str, sql: &str) -> serde_json::Value {
    run(python, server, token, sql, "prepared")
}

fn run(python: &str, server: &Server, token: &str, sql: &str, how: &str) -> serde_json::Value {
    let ca = server.ca.as_deref().unwrap_or("");
    let out = Command::new(python)
        .args(["-c", CLIENT, &server.uri, token, sql, how, ca])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn flight_sql_clients_get_what_causet_sql_gives_and_nothing_else() {
    let Some(python) = python() else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: no Python with adbc-driver-flightsql (CAUSET_PYTHON)");
        }
        return;
    };
    let dir = imported(&["lamport-seed"]);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let server = serve(dir.path(), &token_file, false);

    for sql in [
        "SELECT a.event_id AS a, b.event_id AS b, vc_compare(a.vc, b.vc) AS relation \
         FROM causal_events a JOIN causal_events b ON a.event_id < b.event_id \
         WHERE a.vc IS NOT NULL AND b.vc IS NOT NULL ORDER BY a, b",
        "SELECT step, source, from_node, to_node FROM hb_path(6, 19) ORDER BY step",
    ] {
        let got = query(&python, &server, "s3cret-token", sql);
        assert_eq!(got["ok"], true, "{got}");
        let want: serde_json::Value = serde_json::from_str(&stdout(&causet(
            dir.path(),
            &["sql", "--format", "json", sql],
        )))
        .unwrap();
        assert!(
            want.as_array().is_some_and(|rows| !rows.is_empty()),
            "{sql}: {want}"
        );
        assert_eq!(got["rows"], want, "{sql}");
        let got = prepared(&python, &server, "s3cret-token", sql);
        assert_eq!(got["ok"], true, "{got}");
        assert_eq!(got["rows"], want, "prepared: {sql}");
    }

    let anonymous = query(&python, &server, "", "SELECT 1");
    assert_eq!(anonymous["ok"], false, "{anonymous}");
    assert!(
        anonymous["error"]
            .as_str()
            .unwrap()
            .contains("bearer token"),
        "{anonymous}"
    );
    let wrong = query(&python, &server, "guess", "SELECT 1");
    assert_eq!(wrong["ok"], false, "{wrong}");

    for write in [
        "CREATE TABLE stolen AS SELECT * FROM spans",
        "INSERT INTO spans SELECT * FROM spans",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let refused = query(&python, &server, "s3cret-token", write);
        assert_eq!(refused["ok"], false, "{write}: {refused}");
        let refused = prepared(&python, &server, "s3cret-token", write);
        assert_eq!(refused["ok"], false, "prepared: {write}: {refused}");
    }
}

#[test]
fn flight_sql_over_tls() {
    let Some(python) = python() else {
        return;
    };
    let dir = imported(&["lamport-seed"]);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let mut server = serve(dir.path(), &token_file, true);
    let sql = "SELECT step, source, from_node, to_node FROM hb_path(6, 19) ORDER BY step";
    let got = query(&python, &server, "s3cret-token", sql);
    assert_eq!(got["ok"], true, "{got}");
    assert!(
        got["rows"].as_array().is_some_and(|rows| !rows.is_empty()),
        "{got}"
    );
    // The same server in the clear: no answer.
    server.uri = server.uri.replace("grpc+tls://", "grpc://");
    let plain = query(&python, &server, "s3cret-token", sql);
    assert_eq!(plain["ok"], false, "{plain}");
}
