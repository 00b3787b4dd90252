//! Export to ShiViz, for a second opinion on a trace's space-time diagram.
//!
//! Each event is two lines: a description, then the host and its vector
//! clock as JSON. Hosts are the chains of causet's derived vector clocks
//! (a node, or `node#k` for a node whose events were not totally ordered),
//! so every host's own entry grows by one per event, as ShiViz requires.

use std::fmt::Write as _;

use crate::graph::{EventId, Graph};

/// The regular expression to give ShiViz for this log.
pub const REGEX: &str = r"(?<event>.*)\n(?<host>\S*) (?<clock>{.*})";

/// The ShiViz log of `events` (ids of `graph`), in a linear extension of
/// happens-before. Events without a derived clock (on a cycle, or in a
/// component too wide to keep clocks for) are skipped.
pub fn log(graph: &Graph, events: &[EventId]) -> String {
    let mut ordered: Vec<EventId> = events
        .iter()
        .copied()
        .filter(|&e| graph.lamport(e).is_some())
        .collect();
    ordered.sort_by_key(|&e| (graph.lamport(e), graph.time_of(e), e));
    let mut out = String::new();
    for e in ordered {
        let host = &graph.chain_names[graph.position[e as usize].chain as usize];
        let Some(dvc) = graph.dvc(e) else { continue };
        let clock: serde_json::Map<String, serde_json::Value> = dvc
            .iter()
            .map(|&(c, p)| (graph.chain_names[c as usize].clone(), p.into()))
            .collect();
        let _ = writeln!(out, "{}", crate::why::describe(graph, e).replace('\n', " "));
        let _ = writeln!(out, "{host} {}", serde_json::Value::Object(clock));
    }
    out
}
