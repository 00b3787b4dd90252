//! Paths and causal cones.

use std::collections::VecDeque;

use super::{EventId, Graph};

/// The shortest path of edges from `from` to `to` (edge indices), if `from`
/// happens before `to`.
pub fn path(g: &Graph, from: EventId, to: EventId) -> Option<Vec<u32>> {
    if from == to {
        return None;
    }
    let mut via: Vec<Option<(EventId, u32)>> = vec![None; g.events.len()];
    let mut seen = vec![false; g.events.len()];
    let mut queue = VecDeque::from([from]);
    seen[from as usize] = true;
    while let Some(v) = queue.pop_front() {
        for (w, edge) in g.out.of(v) {
            if seen[w as usize] {
                continue;
            }
            seen[w as usize] = true;
            via[w as usize] = Some((v, edge));
            if w == to {
                let mut edges = Vec::new();
                let mut at = to;
                while let Some((prev, edge)) = via[at as usize] {
                    edges.push(edge);
                    at = prev;
                }
                edges.reverse();
                return Some(edges);
            }
            queue.push_back(w);
        }
    }
    None
}

/// Every event that happens before `target` (`past`) or after it.
pub fn cone(g: &Graph, target: EventId, past: bool) -> Vec<EventId> {
    let adjacency = if past { &g.inn } else { &g.out };
    let mut seen = vec![false; g.events.len()];
    seen[target as usize] = true;
    let mut stack = vec![target];
    let mut out = Vec::new();
    while let Some(v) = stack.pop() {
        for (w, _) in adjacency.of(v) {
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
        for (w, _) in g.out.of(v) {
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
        for (p, _) in g.inn.of(v) {
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
