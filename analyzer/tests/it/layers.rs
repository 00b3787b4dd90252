//! The analyzer's layers, as its `crate::` paths show them: each module
//! belongs to a layer and refers only to its own layer and those below,
//! and no modules refer to each other in a loop, but for the one loop
//! named here that is still to be broken (the test fails when it grows,
//! and when it is gone, so the list stays true).
//!
//! The engine (`causet-engine`) is a crate of its own below all of them:
//! the compiler keeps it from reaching up, and this test keeps it free of
//! DataFusion and its modules free of loops.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The analyzer's layers, lowest first.
const ANALYZER: &[(&str, &[&str])] = &[
    ("leaf", &["error"]),
    (
        "sql",
        &[
            "wal_tail", "ingested", "settings", "workers", "udfs", "scan", "windows", "windowed",
            "derived", "rows", "udtfs", "compact", "flight", "health",
        ],
    ),
    (
        "presentation",
        &[
            "output", "shell", "report", "explain", "why", "cut", "diff", "shiviz",
        ],
    ),
];

/// The engine's layers, lowest first.
const ENGINE: &[(&str, &[&str])] = &[
    ("leaf", &["error", "fmt", "grouped"]),
    ("graph", &["graph"]),
    ("detect", &["detect"]),
    ("on findings", &["incidents", "cut", "window"]),
];

/// Loops among the analyzer's modules not yet broken: the table providers
/// and the windows they are served from call each other.
const KNOWN_LOOPS: &[&[&str]] = &[&["derived", "udtfs", "windowed", "windows"]];

/// Each top-level module of the crate under `src` and the modules it
/// refers to through `crate::` (tests and comments left out).
fn references(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect(src, &mut files);
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs").to_owned();
        if top == "lib" || rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let entry = refs.entry(top.clone()).or_default();
        for name in crate_paths(&code) {
            if name != top {
                entry.insert(name);
            }
        }
    }
    let modules: BTreeSet<String> = refs.keys().cloned().collect();
    for targets in refs.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    refs
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The first name after each `crate::`, and each first name in a
/// `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            names.push(ident(rest));
            continue;
        };
        // Top-level items of the group: split at commas outside braces.
        let (mut depth, mut start) = (0usize, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Module -> layer index; every module must have one.
fn layer_of(layers: &[(&str, &[&str])], modules: &BTreeSet<String>) -> BTreeMap<String, usize> {
    let mut of = BTreeMap::new();
    for (i, (_, members)) in layers.iter().enumerate() {
        for m in *members {
            of.insert((*m).to_owned(), i);
        }
    }
    let unplaced: Vec<&String> = modules.iter().filter(|m| !of.contains_key(*m)).collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer (add them to tests/it/layers.rs): {unplaced:?}"
    );
    of
}

/// References from a module to one in a higher layer.
fn upward(refs: &BTreeMap<String, BTreeSet<String>>, layers: &[(&str, &[&str])]) -> Vec<String> {
    let modules = refs.keys().cloned().collect();
    let of = layer_of(layers, &modules);
    let mut up = Vec::new();
    for (from, targets) in refs {
        for to in targets {
            if of[to] > of[from] {
                up.push(format!(
                    "{from} ({}) -> {to} ({})",
                    layers[of[from]].0, layers[of[to]].0
                ));
            }
        }
    }
    up
}

/// The strongly connected components of more than one module (Tarjan's).
fn loops(refs: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        refs: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.refs[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        refs,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in refs.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found.sort();
    state.found
}

fn analyzer_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn engine_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("engine")
}

#[test]
fn the_analyzer_refers_only_down_and_in_no_new_loop() {
    let refs = references(&analyzer_src());
    assert!(refs.len() >= 20, "{refs:?}");
    let up = upward(&refs, ANALYZER);
    assert!(up.is_empty(), "references to a higher layer: {up:#?}");
    let known: Vec<Vec<String>> = KNOWN_LOOPS
        .iter()
        .map(|l| l.iter().map(|m| (*m).to_owned()).collect())
        .collect();
    assert_eq!(
        loops(&refs),
        known,
        "the loops among the analyzer's modules changed (a new one, or a known one \
         broken: then shorten KNOWN_LOOPS)"
    );
}

#[test]
fn the_engine_refers_only_down_in_no_loop_and_knows_no_sql() {
    let refs = references(&engine_dir().join("src"));
    assert!(refs.contains_key("window"), "{refs:?}");
    let up = upward(&refs, ENGINE);
    assert!(up.is_empty(), "references to a higher layer: {up:#?}");
    assert_eq!(loops(&refs), Vec::<Vec<String>>::new());
    let manifest = std::fs::read_to_string(engine_dir().join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|d| d.split("\n[").next())
        .unwrap();
    for above in [
        "datafusion",
        "causet-analyzer",
        "tonic",
        "tokio",
        "object_store",
    ] {
        assert!(
            !dependencies.contains(above),
            "the engine must not depend on {above}"
        );
    }
}

#[test]
fn the_checker_sees_grouped_and_nested_paths() {
    let code = "use crate::{a, b::{c, d}, e as f};\nlet x = crate::g::h(crate::i);";
    assert_eq!(crate_paths(code), ["a", "b", "e", "g", "i"]);
    let refs: BTreeMap<String, BTreeSet<String>> = [
        ("x", &["y"][..]),
        ("y", &["z"][..]),
        ("z", &["x"][..]),
        ("w", &["x"][..]),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_owned(), t.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    assert_eq!(loops(&refs), vec![vec!["x", "y", "z"]]);
}
