//! Derived clocks: a topological order, Lamport numbers, and vector clocks
//! over a chain decomposition.

use std::collections::HashMap;

use super::{EventId, Graph, Position};

/// Widest derived vector clock kept. A clock over more chains than this
/// (a huge causally connected component, such as a replication stream that
/// joins every trace) is not stored: memory stays linear in the events, and
/// reachability for such events falls back to a search of the graph.
pub const MAX_DVC_ENTRIES: usize = 64;

pub(super) fn derive(g: &mut Graph) {
    let n = g.events.len();
    let mut indegree = vec![0u32; n];
    for edge in &g.edges {
        indegree[edge.to as usize] += 1;
    }
    let mut ready: Vec<EventId> = (0..n as EventId)
        .filter(|&v| indegree[v as usize] == 0)
        .collect();
    // Lower ids first keeps the order deterministic and close to input order.
    ready.reverse();
    let mut topo = Vec::with_capacity(n);
    while let Some(v) = ready.pop() {
        topo.push(v);
        for (w, _) in g.out.of(v) {
            indegree[w as usize] -= 1;
            if indegree[w as usize] == 0 {
                ready.push(w);
            }
        }
    }
    g.cyclic = (0..n as EventId)
        .filter(|&v| indegree[v as usize] > 0)
        .collect();

    g.lamport = vec![None; n];
    g.position = vec![Position::default(); n];
    // Chain tips: for each chain, its last event.
    let mut tips: Vec<EventId> = Vec::new();
    let mut node_chains: HashMap<u32, u32> = HashMap::new();
    let mut dvcs: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    g.dvc_known = vec![false; n];
    for &v in &topo {
        let mut lamport = 0;
        let mut chain = None;
        let mut merged: Vec<(u32, u32)> = Vec::new();
        let mut known = true;
        for (p, _) in g.inn.of(v) {
            let Some(l) = g.lamport[p as usize] else {
                continue;
            };
            lamport = lamport.max(l + 1);
            known &= g.dvc_known[p as usize];
            let pos = g.position[p as usize];
            // Extend a chain whose tip is a predecessor, preferring one of this node.
            if tips[pos.chain as usize] == p {
                let same_node = g.events[p as usize].node == g.events[v as usize].node;
                if chain.is_none() || same_node {
                    chain = Some((pos.chain, pos.pos + 1));
                }
            }
            if known {
                merged = merge(&merged, &dvcs[p as usize]);
                known = merged.len() <= MAX_DVC_ENTRIES;
            }
        }
        let (chain, pos) = chain.unwrap_or_else(|| {
            let node = g.events[v as usize].node;
            let k = node_chains.entry(node).or_insert(0);
            *k += 1;
            let name = if *k == 1 {
                g.nodes[node as usize].clone()
            } else {
                format!("{}#{k}", g.nodes[node as usize])
            };
            g.chain_names.push(name);
            tips.push(v);
            (tips.len() as u32 - 1, 1)
        });
        tips[chain as usize] = v;
        g.lamport[v as usize] = Some(lamport);
        g.position[v as usize] = Position { chain, pos };
        if known {
            merged = merge(&merged, &[(chain, pos)]);
            known = merged.len() <= MAX_DVC_ENTRIES;
        }
        g.dvc_known[v as usize] = known;
        if known {
            dvcs[v as usize] = merged;
        }
    }

    g.dvc_offsets = Vec::with_capacity(n + 1);
    g.dvc_offsets.push(0);
    for dvc in dvcs {
        g.dvc_entries.extend(dvc);
        g.dvc_offsets.push(g.dvc_entries.len() as u32);
    }
}

/// Pointwise maximum of two sparse clocks sorted by chain.
fn merge(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}
