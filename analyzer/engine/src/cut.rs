//! `causet cut --at TIME`: the state of the system at a moment, as a
//! consistent cut rather than a wall-clock snapshot.
//!
//! A wall-clock snapshot ("every event before 10:04:05 on its node's
//! clock") is inconsistent when clocks are skewed: it can hold a receive
//! whose send it leaves out, a reply without its request. The consistent
//! cut at TIME is the largest set of events closed under happens-before
//! (every cause of an event in it is in it) none of whose events is later
//! than TIME on its own node's clock, *corrected* by the node's estimated
//! offset (from the same estimate as `node_offsets`: the middle of its
//! bounds, when both are known). It is found by removing every event later
//! than TIME and then everything that happened after one of those.
//!
//! For each node the cut gives its frontier (its last event in the cut);
//! for each key written, the value state at the cut: the last write inside
//! it, or several when the last writes are concurrent (siblings). And it
//! says where the naive snapshot differs: the events it includes whose
//! causes it leaves out.

use std::collections::BTreeMap;

use hashbrown::HashMap;

use crate::detect::facts::{Facts, Write};
use crate::detect::offsets::NodeOffset;
use crate::graph::{EventId, Graph};

/// One node's frontier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    /// The node.
    pub node: String,
    /// Its last event in the cut, if any.
    pub event: Option<EventId>,
    /// Its events in the cut.
    pub events: usize,
    /// The offset subtracted from its clock at TIME, ns (None: unknown, 0 used).
    pub offset_ns: Option<i64>,
}

/// An event the wall-clock snapshot holds without one of its causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inconsistency {
    /// The event the snapshot includes.
    pub event: EventId,
    /// A cause it leaves out (after TIME on its node's raw clock).
    pub cause: EventId,
}

/// The last writes of a key inside the cut: one, or several concurrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    /// The key.
    pub key: String,
    /// The writes: (event, value).
    pub writes: Vec<(EventId, Option<String>)>,
}

/// A consistent cut and how the naive snapshot differs from it.
#[derive(Debug, Clone, Default)]
pub struct Cut {
    /// TIME, ns since the epoch.
    pub at_ns: i64,
    /// Events in the cut.
    pub events: usize,
    /// Per node, by name.
    pub frontier: Vec<Frontier>,
    /// Events the wall-clock snapshot includes whose causes it leaves out.
    pub inconsistent: Vec<Inconsistency>,
    /// Events the snapshot leaves out that the cut includes (a clock
    /// behind, corrected).
    pub corrected_in: usize,
    /// Per key, by key.
    pub keys: Vec<KeyState>,
}

/// Each node's offset in the window holding `at_ns`: the middle of its
/// bounds when both are known.
fn offsets_at(offsets: &[NodeOffset], at_ns: i64, window_ns: i64) -> HashMap<&str, i64> {
    let window = at_ns.div_euclid(window_ns.max(1)) * window_ns.max(1);
    offsets
        .iter()
        .filter(|o| o.window_start == window)
        .filter_map(|o| Some((o.node.as_str(), (o.lower_ns? / 2) + (o.upper_ns? / 2))))
        .collect()
}

/// Events that are not in `keep`, and everything after them, as excluded;
/// for each, the first excluded event it follows.
fn closure(g: &Graph, keep: impl Fn(EventId) -> bool) -> Vec<u32> {
    const IN: u32 = u32::MAX;
    let mut root = vec![IN; g.event_count()];
    let mut queue: Vec<EventId> = Vec::new();
    for e in 0..g.event_count() as EventId {
        if !keep(e) {
            root[e as usize] = e;
            queue.push(e);
        }
    }
    while let Some(e) = queue.pop() {
        for (next, _) in g.out_of(e) {
            if root[next as usize] == IN {
                root[next as usize] = root[e as usize];
                queue.push(next);
            }
        }
    }
    root
}

/// The consistent cut of `g` at `at_ns`, with the offsets `offsets`
/// estimated per `window_ns`; with `facts`, the key states for `keys`
/// (every key when empty).
pub fn cut(
    g: &Graph,
    facts: Option<&Facts>,
    offsets: &[NodeOffset],
    window_ns: i64,
    at_ns: i64,
    keys: &[String],
) -> Cut {
    const IN: u32 = u32::MAX;
    let by_node = offsets_at(offsets, at_ns, window_ns);
    let node_offset: Vec<Option<i64>> = g
        .nodes
        .iter()
        .map(|n| by_node.get(n.as_str()).copied())
        .collect();
    let corrected = |e: EventId| {
        let ev = g.event(e);
        ev.time - node_offset[ev.node as usize].unwrap_or(0)
    };
    let cut = closure(g, |e| corrected(e) <= at_ns);
    let naive = closure(g, |e| g.time_of(e) <= at_ns);

    let mut frontier: Vec<Frontier> = g
        .nodes
        .iter()
        .zip(&node_offset)
        .map(|(node, offset)| Frontier {
            node: node.clone(),
            event: None,
            events: 0,
            offset_ns: *offset,
        })
        .collect();
    let (mut events, mut corrected_in) = (0, 0);
    let mut inconsistent = Vec::new();
    for e in 0..g.event_count() as EventId {
        let ev = g.event(e);
        if naive[e as usize] != IN && ev.time <= at_ns {
            inconsistent.push(Inconsistency {
                event: e,
                cause: naive[e as usize],
            });
        }
        if cut[e as usize] != IN {
            continue;
        }
        events += 1;
        if ev.time > at_ns {
            corrected_in += 1;
        }
        let f = &mut frontier[ev.node as usize];
        f.events += 1;
        let later = f
            .event
            .is_none_or(|last| (corrected(e), g.lamport(e)) > (corrected(last), g.lamport(last)));
        if later {
            f.event = Some(e);
        }
    }
    frontier.sort_by(|a, b| a.node.cmp(&b.node));

    let mut writes: BTreeMap<&str, Vec<&Write>> = BTreeMap::new();
    let Some(facts) = facts else {
        return Cut {
            at_ns,
            events,
            frontier,
            inconsistent,
            corrected_in,
            keys: Vec::new(),
        };
    };
    for w in &facts.writes {
        let key = facts.text.resolve(w.key);
        if cut[w.event as usize] == IN && (keys.is_empty() || keys.iter().any(|k| k == key)) {
            writes.entry(key).or_default().push(w);
        }
    }
    let keys = writes
        .into_iter()
        .map(|(key, mut ws)| {
            // The last writes: those no other write in the cut follows. In a
            // linear extension of happens-before (derived Lamport number), a
            // write can only follow writes met before it, so a sweep keeping
            // the writes nothing has followed yet finds them.
            ws.sort_by_key(|w| (g.lamport(w.event).unwrap_or(u64::MAX), w.event));
            let mut last: Vec<&Write> = Vec::new();
            for w in ws {
                last.retain(|f| !crate::detect::writes::before(g, f, w));
                last.push(w);
            }
            let last: Vec<(EventId, Option<String>)> = last
                .iter()
                .map(|w| (w.event, facts.str(w.value).map(str::to_owned)))
                .collect();
            KeyState {
                key: key.to_owned(),
                writes: last,
            }
        })
        .collect();
    Cut {
        at_ns,
        events,
        frontier,
        inconsistent,
        corrected_in,
        keys,
    }
}
