//! `causet cut --at TIME` as text: the consistent cut (see
//! [`causet_engine::cut`]) with each node's frontier, where the wall-clock
//! snapshot differs, and the key states.

use causet_engine::cut::Cut;

use crate::graph::{EventId, Graph};

/// Keys whose state the text shows; `--key` picks others.
const SHOWN_KEYS: usize = 100;

/// The cut as text: frontier, where the snapshot differs, key states.
pub fn to_text(g: &Graph, cut: &Cut) -> String {
    use std::fmt::Write as _;
    let describe = |e: EventId| crate::why::describe(g, e);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "consistent cut at {}: {} events, closed under happens-before, none later than the time on its node's corrected clock",
        crate::fmt::rfc3339(cut.at_ns),
        cut.events
    );
    let _ = writeln!(out, "\nfrontier (each node's last event in the cut):");
    for f in &cut.frontier {
        let offset = match f.offset_ns {
            Some(o) => format!("clock offset {} subtracted", crate::fmt::human_ns(o)),
            None => "offset unknown, raw clock".to_owned(),
        };
        let corrected = match (f.event, f.offset_ns) {
            (Some(e), Some(o)) if o != 0 => {
                format!(" (corrected: {})", crate::fmt::rfc3339(g.time_of(e) - o))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} ({offset}; {} events): {}{corrected}",
            f.node,
            f.events,
            f.event
                .map(describe)
                .unwrap_or_else(|| "nothing yet".into())
        );
    }
    if cut.inconsistent.is_empty() {
        let _ = writeln!(
            out,
            "\nThe wall-clock snapshot at that time is consistent: it leaves out no cause of what it holds."
        );
    } else {
        let _ = writeln!(
            out,
            "\nThe wall-clock snapshot at that time is inconsistent: it holds {} events whose causes it leaves out, e.g.:",
            cut.inconsistent.len()
        );
        for i in cut.inconsistent.iter().take(10) {
            let _ = writeln!(
                out,
                "  {}\n    follows {}",
                describe(i.event),
                describe(i.cause)
            );
        }
    }
    if cut.corrected_in > 0 {
        let _ = writeln!(
            out,
            "{} events later than that time on their node's raw clock are in the cut once the clock is corrected.",
            cut.corrected_in
        );
    }
    if !cut.keys.is_empty() {
        let _ = writeln!(out, "\nkeys at the cut (the last write inside it):");
    }
    for k in cut.keys.iter().take(SHOWN_KEYS) {
        let value = |(e, v): &(EventId, Option<String>)| {
            format!(
                "{} by {} at {}",
                v.as_deref()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_else(|| "(value not recorded)".into()),
                g.nodes[g.node_of(*e) as usize],
                crate::fmt::rfc3339(g.time_of(*e))
            )
        };
        match &k.writes[..] {
            [one] => {
                let _ = writeln!(out, "  {} = {}", k.key, value(one));
            }
            many => {
                let _ = writeln!(
                    out,
                    "  {} has {} concurrent last writes (siblings): {}",
                    k.key,
                    many.len(),
                    many.iter().map(value).collect::<Vec<_>>().join("; ")
                );
            }
        }
    }
    if cut.keys.len() > SHOWN_KEYS {
        let _ = writeln!(
            out,
            "  ... and {} more keys (--key K shows any)",
            cut.keys.len() - SHOWN_KEYS
        );
    }
    out
}
