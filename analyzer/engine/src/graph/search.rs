//! Paths and causal cones.

use std::collections::VecDeque;

use super::{EventId, Graph};

/// The shortest path of edges from `from` to `to` (edge indices), if `from`
/// happens before `to`.
///
/// Breadth-first, remembering only the events it visits (a map, not an
/// array over the whole graph: a report asks this for every conflict, and
/// a window holds millions of events). When `to` has a derived Lamport
/// number, only events below it are explored: every event in `to`'s past
/// has a lower one, so nothing else can lead there.
pub fn path(g: &Graph, from: EventId, to: EventId) -> Option<Vec<u32>> {
    if from == to {
        return None;
    }
    let limit = g.lamport(to);
    let may_lead_to_to = |w: EventId| match limit {
        Some(limit) => g.lamport(w).is_some_and(|l| l < limit),
        None => true,
    };
    if !may_lead_to_to(from) {
        return None;
    }
    // Each visited event and the (previous event, edge) it was reached by.
    let mut via: hashbrown::HashMap<EventId, (EventId, u32)> = hashbrown::HashMap::new();
    via.insert(from, (from, u32::MAX));
    let mut queue = VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for (w, edge) in g.out_of(v) {
            if w == to {
                let mut edges = vec![edge];
                let mut at = v;
                while at != from {
                    let (prev, edge) = via[&at];
                    edges.push(edge);
                    at = prev;
                }
                edges.reverse();
                return Some(edges);
            }
            if may_lead_to_to(w) && !via.contains_key(&w) {
                via.insert(w, (v, edge));
                queue.push_back(w);
            }
        }
    }
    None
}

/// Every event that happens before `target` (`past`) or after it.
pub fn cone(g: &Graph, target: EventId, past: bool) -> Vec<EventId> {
    cone_of(g, &[target], past)
}

/// Every event that happens before one of `targets` (`past`) or after
/// one, the targets excepted, by id.
pub fn cone_of(g: &Graph, targets: &[EventId], past: bool) -> Vec<EventId> {
    let mut seen = vec![false; g.event_count()];
    for &t in targets {
        seen[t as usize] = true;
    }
    let mut stack = targets.to_vec();
    let mut out = Vec::new();
    while let Some(v) = stack.pop() {
        let (mut before, mut after);
        let next: &mut dyn Iterator<Item = EventId> = if past {
            before = g.in_of(v);
            &mut before
        } else {
            after = g.out_of(v).map(|(w, _)| w);
            &mut after
        };
        for w in next {
            if !seen[w as usize] {
                seen[w as usize] = true;
                out.push(w);
                stack.push(w);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Whether `from` reaches `to`, visiting only events whose derived Lamport
/// number is below `limit` (= `to`'s): nothing above it can lead to `to`.
pub fn reaches_below(g: &Graph, from: EventId, to: EventId, limit: u64) -> bool {
    let mut seen: hashbrown::HashSet<EventId> = [from].into_iter().collect();
    let mut stack = vec![from];
    while let Some(v) = stack.pop() {
        for (w, _) in g.out_of(v) {
            if w == to {
                return true;
            }
            if g.lamport(w).is_some_and(|l| l < limit) && seen.insert(w) {
                stack.push(w);
            }
        }
    }
    false
}

/// The last event both `a` and `b` causally follow (or are): the one with
/// the highest derived Lamport number in both causal pasts. Explores
/// backwards from both in decreasing Lamport order, so it stops at the fork
/// instead of walking the whole past; events on a cycle are not considered.
pub fn last_common_ancestor(g: &Graph, a: EventId, b: EventId) -> Option<EventId> {
    use hashbrown::HashMap;
    use std::collections::BinaryHeap;
    const FROM_A: u8 = 1;
    const FROM_B: u8 = 2;
    let mut marks: HashMap<EventId, u8> = HashMap::new();
    let mut heap = BinaryHeap::new();
    for (start, mark) in [(a, FROM_A), (b, FROM_B)] {
        let l = g.lamport(start)?;
        let entry = marks.entry(start).or_insert(0);
        if *entry == 0 {
            heap.push((l, std::cmp::Reverse(start)));
        }
        *entry |= mark;
    }
    while let Some((_, std::cmp::Reverse(v))) = heap.pop() {
        let mark = marks[&v];
        if mark == FROM_A | FROM_B {
            return Some(v);
        }
        for p in g.in_of(v) {
            let Some(l) = g.lamport(p) else {
                continue;
            };
            let entry = marks.entry(p).or_insert(0);
            if *entry == 0 {
                heap.push((l, std::cmp::Reverse(p)));
            }
            *entry |= mark;
        }
    }
    None
}
