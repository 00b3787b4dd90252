//! `causet report`, `explain`, `why` and `export shiviz` on the labelled
//! samples, as snapshots; the HTML report in a real browser.

use std::path::Path;
use std::process::Command;

use crate::common::{causet, imported, stdout};

/// Settings that vary between runs: when the report was made, where the data is.
fn filters(data: &Path) -> Vec<(String, String)> {
    vec![
        (
            r#""generated_at": "[^"]+""#.into(),
            r#""generated_at": "[time]""#.into(),
        ),
        (r"made \S+;".into(), "made [time];".into()),
        (
            r#""newest_age_s": \d+"#.into(),
            r#""newest_age_s": "[age]""#.into(),
        ),
        (
            r"the newest is .+? old\.".into(),
            "the newest is [age] old.".into(),
        ),
        (regex_escape(&data.display().to_string()), "[data]".into()),
    ]
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

fn snapshot(name: &str, data: &Path, text: String) {
    let filters = filters(data);
    let filters: Vec<(&str, &str)> = filters
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn markdown_and_json_reports_of_labelled_samples() {
    for sample in ["skew-exceeds-max-offset", "duplicate-execution"] {
        let dir = imported(&[sample]);
        let md = causet(dir.path(), &["report", "--format", "md"]);
        assert_eq!(
            md.status.code(),
            Some(1),
            "a high finding fails the default --fail-on high"
        );
        snapshot(
            &format!("{sample}.md"),
            dir.path(),
            String::from_utf8(md.stdout).unwrap(),
        );
        let json = causet(
            dir.path(),
            &["report", "--format", "json", "--fail-on", "info"],
        );
        snapshot(
            &format!("{sample}.json"),
            dir.path(),
            String::from_utf8(json.stdout).unwrap(),
        );
    }
}

#[test]
fn fail_on_thresholds_and_ranges() {
    let clean = imported(&["clean-skew-within-max-offset"]);
    assert_eq!(
        causet(
            clean.path(),
            &["report", "--format", "json", "--fail-on", "info"]
        )
        .status
        .code(),
        Some(0)
    );
    let deduplicated = imported(&["retry-deduplicated"]);
    assert_eq!(
        causet(
            deduplicated.path(),
            &["report", "--format", "md", "--fail-on", "low"]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        causet(
            deduplicated.path(),
            &["report", "--format", "md", "--fail-on", "info"]
        )
        .status
        .code(),
        Some(1)
    );
    // The samples are from 2026-11-25 10:00; a range after it holds
    // nothing: not "no findings" but its own exit status, and the report
    // says why.
    let out = causet(
        deduplicated.path(),
        &[
            "report",
            "--format",
            "json",
            "--from",
            "2026-11-26T00:00:00Z",
            "--to",
            "2026-11-26T06:00:00Z",
            "--fail-on",
            "info",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["findings"], 0);
    assert_eq!(json["ingest"]["spans"], 0);
    assert_eq!(json["ingest"]["gaps"][0]["seconds"], 6 * 3600);
    let md = causet(
        deduplicated.path(),
        &["report", "--format", "md", "--since", "1h"],
    );
    assert_eq!(md.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&md.stdout).contains("No spans in this range"));
    let out = causet(deduplicated.path(), &["report", "--fail-on", "severe"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_draws_samples() {
    for (sample, trace) in [
        ("duplicate-execution", "0ca05e700000000000000000000c0001"),
        ("lamport-seed", "5eed0000000000000000000000000002"),
    ] {
        let dir = imported(&[sample]);
        let text = stdout(&causet(dir.path(), &["explain", trace, "--follow-links"]));
        snapshot(&format!("explain-{sample}"), dir.path(), text);
        let svg = dir.path().join("d.svg");
        stdout(&causet(
            dir.path(),
            &[
                "explain",
                trace,
                "--follow-links",
                "--svg",
                svg.to_str().unwrap(),
            ],
        ));
        let svg = std::fs::read_to_string(svg).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("class=\"arrow\"") && svg.contains("<title>")
        );
    }
}

/// The critical path of a checkout that waits for a worker's report: it
/// runs through the queue and the worker, not only checkout's own spans.
#[test]
fn critical_path_follows_the_queue() {
    let dir = imported(&["critical-path-through-queue"]);
    let trace = "0ca05e70000000000000000000170001";
    let text = stdout(&causet(dir.path(), &["explain", trace, "--critical-path"]));
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.get(16..17) == Some("#"))
        .collect();
    assert_eq!(marked.len(), 6, "{text}");
    for (line, label) in marked.iter().zip([
        "start checkout (server)",
        "start publish order (producer)",
        "start process order (consumer)",
        "causet.send [process order]",
        "causet.receive [checkout]",
        "end checkout",
    ]) {
        assert!(line.contains(label), "{label} not on the path:\n{text}");
    }
    assert!(
        text.contains("critical path: 6 events, 300.000 ms")
            && text.contains("longest waits: 149.000 ms from start process order"),
        "{text}"
    );
    // Without the flag, nothing is marked.
    let plain = stdout(&causet(dir.path(), &["explain", trace]));
    assert!(!plain.contains("critical path"));
    let html = dir.path().join("t.html");
    stdout(&causet(
        dir.path(),
        &[
            "explain",
            trace,
            "--critical-path",
            "--html",
            html.to_str().unwrap(),
        ],
    ));
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("<polyline class=\"critical\""));
}

/// The state at 10:00:01 with queue's clock 3 s ahead: the wall-clock
/// snapshot holds web's receive without queue's send; the consistent cut
/// corrects queue's clock, holds both, and gives each key's last write(s).
#[test]
fn a_consistent_cut_corrects_the_skewed_clock() {
    let dir = imported(&["skewed-cut"]);
    let text = stdout(&causet(
        dir.path(),
        &["cut", "--at", "2026-11-25T10:00:01Z"],
    ));
    for expected in [
        "queue-1 (clock offset 2.995 s subtracted; 5 events): restock (end of",
        "(corrected: 2026-11-25T10:00:00.125Z)",
        "The wall-clock snapshot at that time is inconsistent: it holds 7 events whose causes it leaves out",
        "causet.receive (0ca05e70000000000000000000180001:0000001800000010#0) on web-1 at 2026-11-25T10:00:00.150Z\n    follows causet.send",
        "stock:1 = \"4\" by web-1",
        "cart:9 has 2 concurrent last writes (siblings)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    // Before anything happened: an empty cut, and a consistent snapshot.
    let text = stdout(&causet(
        dir.path(),
        &["cut", "--at", "2026-11-25T09:59:59Z", "--key", "stock:1"],
    ));
    assert!(text.contains(": 0 events"), "{text}");
    assert!(
        text.contains("snapshot at that time is consistent"),
        "{text}"
    );
    assert!(!text.contains("stock:1 ="), "{text}");
}

/// Two checkouts that differ by a reordering and an extra attempt differ
/// (exit 1); two that differ only in timing do not (exit 0).
#[test]
fn diff_tells_structure_from_timing() {
    let dir = imported(&["diff-traces"]);
    let trace = |n: u32| format!("0ca05e7000000000000000000019000{n}");
    let out = causet(dir.path(), &["diff", &trace(1), &trace(2)]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "5 spans matched by structure",
        "only in the bad trace:\n  call db-1 (client) on web-1 [00000019000000c3]  (an extra attempt",
        "good: call auth-1 (client) on web-1 [00000019000000a1] before call db-1 (client) on web-1 [00000019000000a2]\n   bad: call auth-1 (client) on web-1 [00000019000000c2] after call db-1",
        "The causal structure differs.",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert_eq!(
        text.matches("  good: ").count(),
        1,
        "siblings only:\n{text}"
    );
    let out = causet(dir.path(), &["diff", &trace(1), &trace(3)]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("+250.000 ms handle (server) on db-1"),
        "{text}"
    );
    assert!(text.contains("only timing differs"), "{text}");
    let out = causet(dir.path(), &["diff", &trace(1), &trace(9)]);
    assert_eq!(out.status.code(), Some(2));
    let out = causet(dir.path(), &["diff", &trace(1), &trace(1)]);
    assert_eq!(out.status.code(), Some(0));
    // Against the most common structure of its operation: traces 1 and 3
    // share one, trace 2 is alone; the baseline is the earliest, trace 1.
    let html = dir.path().join("diff.html");
    let out = causet(
        dir.path(),
        &[
            "diff",
            "--baseline",
            &trace(2),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!(
            "baseline: {} (2 of the 2 other traces of the operation share its structure)",
            trace(1)
        )),
        "{text}"
    );
    let page = std::fs::read_to_string(html).unwrap();
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(page.contains("The causal structure differs."));
    // Only traces starting in --from/--to are candidates: trace 3.
    let out = causet(
        dir.path(),
        &[
            "diff",
            "--baseline",
            &trace(2),
            "--from",
            "2026-11-25T10:00:01.500Z",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("baseline: {} (1 of the 1", trace(3))),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Heartbeats give `node_phi` (phi at each arrival) and its chart: n-1's
/// 8 s pause goes far past the threshold, n-3's jitter stays under it.
#[test]
fn heartbeats_give_node_phi_and_its_chart() {
    let dir = imported(&["heartbeat-suspected"]);
    let csv = stdout(&causet(
        dir.path(),
        &[
            "sql",
            "--format",
            "csv",
            "SELECT node, max(phi) > 8 AS over FROM node_phi GROUP BY node ORDER BY node",
        ],
    ));
    assert_eq!(
        csv.trim(),
        "node,over\nn-1,true\nn-2,false\nn-3,false",
        "{csv}"
    );
    let html = dir.path().join("r.html");
    causet(dir.path(), &["report", "-o", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("<svg id=\"phi\""));
    assert_eq!(page.matches("<polyline class=\"phi\"").count(), 3);
}

/// Heartbeat RPCs count as heartbeats when named by `--heartbeat-span`:
/// the server span's node monitors its parent's node.
#[test]
fn heartbeat_rpcs_are_heartbeats_when_named() {
    let dir = imported(&["heartbeat-rpc"]);
    let report = |extra: &[&str]| {
        let mut args = vec!["report", "--format", "json", "--fail-on", "info"];
        args.extend_from_slice(extra);
        let out = causet(dir.path(), &args);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(report(&[])["summary"]["findings"], 0);
    let json = report(&["--heartbeat-span", "Heartbeat"]);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "suspected");
    assert_eq!(findings[0]["severity"], "medium");
    assert_eq!(findings[0]["nodes"], serde_json::json!(["leader-1", "f-1"]));
}

#[test]
fn why_answers_the_classic_pairs() {
    let dir = imported(&["lamport-seed"]);
    // A's first send, C's last receive: ordered, through B.
    let a_send = "5eed0000000000000000000000000001:a000000000000001#0";
    let c_last = "5eed0000000000000000000000000003:a000000000000003#5";
    let out = causet(dir.path(), &["why", a_send, c_last]);
    assert_eq!(out.status.code(), Some(0));
    snapshot(
        "why-ordered",
        dir.path(),
        String::from_utf8(out.stdout).unwrap(),
    );
    // And the other way round it says the same, from B's side.
    let out = causet(dir.path(), &["why", c_last, a_send]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("{a_send} happened before {c_last}"))
    );
    // A's second send and C's receive of m2: concurrent.
    let a_second = "5eed0000000000000000000000000001:a000000000000001#1";
    let c_m2 = "5eed0000000000000000000000000003:a000000000000003#4";
    let out = causet(dir.path(), &["why", a_second, c_m2]);
    assert_eq!(out.status.code(), Some(3));
    snapshot(
        "why-concurrent",
        dir.path(),
        String::from_utf8(out.stdout).unwrap(),
    );
    let out = causet(dir.path(), &["why", "ffffffffffffffff", c_m2]);
    assert_eq!(out.status.code(), Some(2));
}

/// Writes whose parents were sampled away: `why` cannot say they are
/// concurrent (exit 4, naming the spans not collected), while two writes
/// with no gap near them are concurrent (exit 3).
#[test]
fn why_says_unknown_where_spans_were_not_collected() {
    let dir = imported(&["possible-concurrent-write"]);
    let out = causet(dir.path(), &["why", "0000001600000010", "0000001600000020"]);
    assert_eq!(out.status.code(), Some(4));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("unknown: nothing collected orders"),
        "{text}"
    );
    for missing in [
        "0000001600000001 (not collected)",
        "0000001600000002 (not collected)",
    ] {
        assert!(text.contains(missing), "{text}");
    }
    let out = causet(dir.path(), &["why", "0000001600000030", "0000001600000040"]);
    assert_eq!(out.status.code(), Some(3));
    // hb_path gives no rows either way: no collected path (its documented
    // meaning), which `why` refuses to call concurrent.
    let trace = "0ca05e70000000000000000000160001";
    let sql = format!(
        "SELECT count(*) AS n FROM hb_path('{trace}', '0000001600000010', '{trace}', '0000001600000020') \
         UNION ALL SELECT count(*) FROM hb_path('{trace}', '0000001600000020', '{trace}', '0000001600000010')"
    );
    let out = stdout(&causet(dir.path(), &["sql", "--format", "csv", &sql]));
    assert_eq!(out.lines().filter(|l| *l == "0").count(), 2, "{out}");
}

#[test]
fn shiviz_log_has_one_clock_line_per_event() {
    let dir = imported(&["lamport-seed"]);
    let log = dir.path().join("shiviz.log");
    let out = causet(
        dir.path(),
        &[
            "export",
            "shiviz",
            "5eed0000000000000000000000000001",
            "--follow-links",
            "-o",
            log.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("(?<host>"));
    let text = std::fs::read_to_string(log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * 20);
    // Every clock line is "host {json}" with the host's own entry present.
    for pair in lines.chunks(2) {
        let (host, clock) = pair[1].split_once(' ').unwrap();
        let clock: serde_json::Value = serde_json::from_str(clock).unwrap();
        assert!(clock[host].as_u64().unwrap() >= 1, "{}", pair[1]);
    }
}

/// The HTML report opened in headless Chromium: the charts' SVG elements
/// and the finding rows must be in the rendered DOM, and a screenshot taken.
/// `.ci/run` installs Chromium and sets CAUSET_REQUIRE_BROWSER=1, so CI
/// cannot skip this; elsewhere it runs when Chromium is installed.
#[test]
fn html_report_renders_in_chromium() {
    let Some(browser) = browser() else {
        return;
    };
    let dir = imported(&["skew-exceeds-max-offset", "duplicate-execution"]);
    let html = dir.path().join("report.html");
    causet(dir.path(), &["report", "-o", html.to_str().unwrap()]);
    let json = causet(dir.path(), &["report", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let findings = json["summary"]["findings"].as_u64().unwrap() as usize;
    assert!(findings >= 3, "{findings}");
    let dom = browser.run(&html, &["--dump-dom".into()]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<svg id=\"timeline\""), "{dom}");
    assert!(dom.contains("class=\"bar\""), "timeline bars");
    assert!(
        dom.contains("<svg id=\"offsets\"") && dom.contains("class=\"interval\""),
        "offset intervals"
    );
    assert_eq!(
        dom.matches("<tr class=\"finding\">").count(),
        findings,
        "finding rows"
    );
    // The incidents come first, each example drawn.
    let incidents = json["incidents"].as_array().unwrap().len();
    assert_eq!(
        dom.matches("<tr class=\"incident-row\">").count(),
        incidents
    );
    assert!(dom.find("id=\"incidents\"").unwrap() < dom.find("id=\"timeline\"").unwrap());
    assert_eq!(
        dom.matches("<div class=\"diagram\"><svg").count(),
        incidents
    );
    let png = dir.path().join("report.png");
    browser.run(
        &html,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,1600".into(),
        ],
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
}

/// A headless Chromium, if installed; `None` (the test skips) only when
/// CAUSET_REQUIRE_BROWSER is unset (`.ci/run` sets it and installs one).
struct Browser {
    command: &'static str,
    profile: tempfile::TempDir,
}

fn browser() -> Option<Browser> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(command) = found else {
        assert!(
            std::env::var_os("CAUSET_REQUIRE_BROWSER").is_none(),
            "CAUSET_REQUIRE_BROWSER is set but no Chromium is installed"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipping: no Chromium (apt-get install chromium)");
        }
        return None;
    };
    Some(Browser {
        command,
        profile: tempfile::tempdir().unwrap(),
    })
}

impl Browser {
    /// Opens `page` with `extra` flags (`--dump-dom`, `--screenshot=…`).
    fn run(&self, page: &Path, extra: &[String]) -> std::process::Output {
        let flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ];
        Command::new(self.command)
            .args(flags)
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    }
}

/// `sample`'s spans `copies` times, each `step_ns` later than the one
/// before and with its own trace and span ids, as JSON lines.
fn spread(sample: &str, copies: u32, step_ns: i64) -> String {
    fn walk(v: &mut serde_json::Value, copy: u32, shift: i64) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match (key.as_str(), value.as_str()) {
                        ("traceId" | "spanId" | "parentSpanId", Some(id)) if id.len() > 4 => {
                            *value = format!("{copy:04x}{}", &id[4..]).into();
                        }
                        (k, Some(t)) if k.ends_with("UnixNano") => {
                            let t: i64 = t.parse().unwrap();
                            *value = (t + shift).to_string().into();
                        }
                        _ => walk(value, copy, shift),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, copy, shift);
                }
            }
            _ => {}
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/{sample}.otlp.json"));
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (0..copies)
        .map(|k| {
            let mut copy = request.clone();
            walk(&mut copy, k + 1, i64::from(k) * step_ns);
            copy.to_string() + "\n"
        })
        .collect()
}

/// The "findings over time" chart of a minute, a day and a month of
/// findings, laid out by Chromium: the time labels are written for the
/// range and none overlaps another or leaves the chart. A screenshot of
/// each chart is kept in the target folder's `tmp/timeline-*.png` for a
/// person to look at.
#[test]
fn time_axis_reads_well_at_three_ranges_in_chromium() {
    let Some(browser) = browser() else {
        return;
    };
    const S: i64 = 1_000_000_000;
    // A label's shape: its digits as `d`.
    let shape = |label: &str| -> String {
        label
            .chars()
            .map(|c| if c.is_ascii_digit() { 'd' } else { c })
            .collect()
    };
    for (name, copies, step_ns, label_shape) in [
        ("minute", 12, 5 * S, "dd:dd:dd"),
        ("day", 24, 3600 * S, "dd:dd"),
        ("month", 30, 86_400 * S, "dddd-dd-dd"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("spans.jsonl");
        std::fs::write(&lines, spread("duplicate-execution", copies, step_ns)).unwrap();
        stdout(&causet(dir.path(), &["import", lines.to_str().unwrap()]));
        let html = dir.path().join("report.html");
        causet(
            dir.path(),
            &["report", "--max-gap", "0s", "-o", html.to_str().unwrap()],
        );
        // The page has no scripts of its own; this copy measures the labels.
        let probe = dir.path().join("probe.html");
        let page = std::fs::read_to_string(&html).unwrap();
        let script = "<script>const svg=document.getElementById('timeline');\
            const w=svg.getBoundingClientRect();\
            const t=[...svg.querySelectorAll('text.tick')].map(e=>{const r=e.getBoundingClientRect();\
            return {label:e.textContent,left:r.left-w.left,right:r.right-w.left};});\
            document.body.setAttribute('data-ticks',JSON.stringify({width:w.width,ticks:t}));</script></body>";
        std::fs::write(&probe, page.replace("</body>", script)).unwrap();
        let dom = browser.run(&probe, &["--dump-dom".into()]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        let measured = dom
            .split_once("data-ticks=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .unwrap_or_else(|| panic!("{name}: no measurement in {dom}"))
            .0
            .replace("&quot;", "\"");
        let measured: serde_json::Value = serde_json::from_str(&measured).unwrap();
        let ticks = measured["ticks"].as_array().unwrap();
        let width = measured["width"].as_f64().unwrap();
        assert!(ticks.len() >= 3, "{name}: {ticks:?}");
        for tick in ticks {
            let label = tick["label"].as_str().unwrap();
            assert_eq!(shape(label), label_shape, "{name}: label {label:?}");
            assert!(tick["left"].as_f64().unwrap() >= 0.0, "{name}: {tick}");
            assert!(
                tick["right"].as_f64().unwrap() <= width,
                "{name}: {tick} leaves the chart"
            );
        }
        for pair in ticks.windows(2) {
            assert!(
                pair[0]["right"].as_f64().unwrap() <= pair[1]["left"].as_f64().unwrap(),
                "{name}: {} overlaps {}",
                pair[0],
                pair[1]
            );
        }
        // The chart alone, for the screenshot.
        let chart = dir.path().join("chart.html");
        std::fs::write(
            &chart,
            page.replace(
                "</body>",
                "<style>body>*:not(#timeline){display:none}</style></body>",
            ),
        )
        .unwrap();
        let png = dir.path().join(format!("timeline-{name}.png"));
        browser.run(
            &chart,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1000,260".into(),
            ],
        );
        assert!(
            std::fs::read(&png).unwrap().starts_with(b"\x89PNG"),
            "{name}"
        );
        // Kept for a person to look at (the temporary folder is not).
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("timeline-{name}.png"));
        std::fs::copy(&png, keep).unwrap();
    }
}

/// A day without spans inside the range (a collector that was down) is a
/// gap: exit 3 and the report names it, unless `--max-gap 0s`.
#[test]
fn a_gap_in_the_data_has_its_own_exit_status() {
    let dir = imported(&["lamport-seed"]);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/lamport-seed.otlp.json");
    let text = std::fs::read_to_string(sample).unwrap();
    // The same spans a day later, in other traces.
    let later = dir.path().join("later.otlp.json");
    std::fs::write(
        &later,
        text.replace("\"17956008", "\"17956872")
            .replace("5eed", "5eef"),
    )
    .unwrap();
    stdout(&causet(dir.path(), &["import", later.to_str().unwrap()]));

    let out = causet(dir.path(), &["report", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = json["ingest"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(gaps[0]["seconds"].as_i64().unwrap() > 23 * 3600, "{gaps:?}");
    assert_eq!(json["ingest"]["per_hour"].as_array().unwrap().len(), 2);
    let md = causet(dir.path(), &["report", "--format", "md"]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("**Gap.** No spans from 2026-11-25T10:"));

    let out = causet(
        dir.path(),
        &[
            "report",
            "--format",
            "json",
            "--max-gap",
            "0s",
            "--fail-on",
            "info",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ingest"]["gaps"].as_array().map(Vec::len), Some(0));
    let by_findings = if json["summary"]["findings"] == 0 {
        0
    } else {
        1
    };
    assert_eq!(out.status.code(), Some(by_findings));
}

/// Incidents in the JSON, and trends: `--history` marks them new, then
/// continuing; `--fail-on-new` alerts on the new ones only; `--compare-to`
/// lists what is gone as resolved.
#[test]
fn incidents_and_their_trend_across_reports() {
    let dir = imported(&["two-skewed-nodes"]);
    let history = dir.path().join("history");
    let history = history.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["report", "--format", "json", "--history", history];
        args.extend_from_slice(extra);
        let out = causet(dir.path(), &args);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), json)
    };
    let statuses = |json: &serde_json::Value| -> Vec<String> {
        json["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {}", i["fingerprint"], i["status"]).replace('"', ""))
            .collect()
    };

    // First night: every incident is new, and high.
    let (code, first) = run(&["--fail-on-new", "high"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        statuses(&first),
        ["clock_skew:db-1 new", "clock_skew:queue-1 new"]
    );
    let incident = &first["incidents"][0];
    assert_eq!(incident["findings"], 2);
    assert_eq!(incident["example"]["kind"], "skew_exceeds_max_offset");
    let id = incident["id"].as_str().unwrap();
    assert!(
        first["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["incident_id"] == id)
            .count()
            == 2
    );
    assert!(first["trend"]["compared_to"].is_null());

    // The incident's query selects its findings.
    let sql = incident["sql"].as_str().unwrap();
    let out = causet(dir.path(), &["sql", "--format", "json", sql]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("\"kind\"")
            .count(),
        2
    );

    // Second night, same data: continuing, so --fail-on-new stays quiet
    // while --fail-on still fails.
    let (code, second) = run(&["--fail-on-new", "high"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        statuses(&second),
        [
            "clock_skew:db-1 continuing",
            "clock_skew:queue-1 continuing"
        ]
    );
    assert_eq!(second["trend"]["new"], 0);
    assert_eq!(second["trend"]["continuing"], 2);
    assert!(!second["history"].as_array().unwrap().is_empty());
    assert_eq!(run(&[]).0, Some(1));
    let saved = std::fs::read_dir(history).unwrap().count();
    assert!(saved >= 2, "{saved} reports saved");

    // Another folder holding only a conflicting write, against the first
    // night: one new incident, both skews resolved.
    let other = imported(&["concurrent-write"]);
    let previous = dir.path().join("first.json");
    std::fs::write(&previous, first.to_string()).unwrap();
    let out = causet(
        other.path(),
        &[
            "report",
            "--format",
            "json",
            "--compare-to",
            previous.to_str().unwrap(),
            "--fail-on-new",
            "high",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&json), ["write_conflict:cart:1 new"]);
    let resolved: Vec<&str> = json["trend"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(resolved, ["clock_skew:db-1", "clock_skew:queue-1"]);
    let md = causet(
        other.path(),
        &[
            "report",
            "--format",
            "md",
            "--compare-to",
            previous.to_str().unwrap(),
        ],
    );
    assert_eq!(
        md.status.code(),
        Some(1),
        "a high finding fails --fail-on high"
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("1 new, 0 continuing, 2 resolved"), "{md}");

    // A file that is not a report is an error, not an empty comparison.
    let out = causet(
        other.path(),
        &[
            "report",
            "--compare-to",
            dir.path().join("nope.json").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}
