//! Derived clocks: a topological order, Lamport numbers, and vector clocks
//! over a chain decomposition.

use hashbrown::HashMap;

use super::{EventId, Graph, NO_DVC, NO_LAMPORT, Position};

/// Widest derived vector clock kept. A clock over more chains than this
/// (a huge causally connected component, such as a replication stream that
/// joins every trace) is not stored: memory stays linear in the events, and
/// reachability for such events falls back to a search of the graph.
pub const MAX_DVC_ENTRIES: usize = 64;

pub(super) fn derive(g: &mut Graph) {
    let n = g.event_count();
    let mut indegree: Vec<u32> = (0..n as EventId).map(|v| g.in_of(v).len() as u32).collect();
    let mut ready: Vec<EventId> = (0..n as EventId)
        .filter(|&v| indegree[v as usize] == 0)
        .collect();
    // Lower ids first keeps the order deterministic and close to input order.
    ready.reverse();
    let mut topo = Vec::with_capacity(n);
    while let Some(v) = ready.pop() {
        topo.push(v);
        for (w, _) in g.out_of(v) {
            indegree[w as usize] -= 1;
            if indegree[w as usize] == 0 {
                ready.push(w);
            }
        }
    }
    g.cyclic = (0..n as EventId)
        .filter(|&v| indegree[v as usize] > 0)
        .collect();
    drop(indegree);

    g.derived_lamport = vec![NO_LAMPORT; n];
    g.position = vec![Position::default(); n];
    // Chain tips: for each chain, its last event.
    let mut tips: Vec<EventId> = Vec::new();
    let mut node_chains: HashMap<u32, u32> = HashMap::new();
    // Derived clocks are appended in topological order to one array; each
    // event's slice is recorded as (start, length), NO_DVC when not kept.
    let mut slices: Vec<(u32, u32)> = vec![(0, NO_DVC); n];
    let mut entries: Vec<(u32, u32)> = Vec::new();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    let mut scratch: Vec<(u32, u32)> = Vec::new();
    for &v in &topo {
        let mut lamport = 0u32;
        let mut chain = None;
        merged.clear();
        let mut known = true;
        for p in g.in_of(v) {
            let l = g.derived_lamport[p as usize];
            if l == NO_LAMPORT {
                continue;
            }
            lamport = lamport.max(l + 1);
            let pos = g.position[p as usize];
            // Extend a chain whose tip is a predecessor, preferring one of this node.
            if tips[pos.chain as usize] == p {
                let same_node = g.node_of(p) == g.node_of(v);
                if chain.is_none() || same_node {
                    chain = Some((pos.chain, pos.pos + 1));
                }
            }
            let (start, len) = slices[p as usize];
            known &= len != NO_DVC;
            if known {
                let theirs = &entries[start as usize..(start + len) as usize];
                merge_into(&merged, theirs, &mut scratch);
                std::mem::swap(&mut merged, &mut scratch);
                known = merged.len() <= MAX_DVC_ENTRIES;
            }
        }
        let (chain, pos) = chain.unwrap_or_else(|| {
            let node = g.node_of(v);
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
        g.derived_lamport[v as usize] = lamport;
        g.position[v as usize] = Position { chain, pos };
        if known {
            merge_into(&merged, &[(chain, pos)], &mut scratch);
            known = scratch.len() <= MAX_DVC_ENTRIES;
            if known {
                slices[v as usize] = (entries.len() as u32, scratch.len() as u32);
                entries.extend_from_slice(&scratch);
            }
        }
    }
    drop(topo);

    // Lay the clocks out in event order, so `dvc_offsets` can be one array.
    g.dvc_entries = Vec::with_capacity(entries.len());
    g.dvc_offsets = Vec::with_capacity(n + 1);
    g.dvc_offsets.push(0);
    for &(start, len) in &slices {
        let at = g.dvc_entries.len() as u32;
        if len == NO_DVC {
            g.dvc_offsets.push(at | NO_DVC);
        } else {
            g.dvc_entries
                .extend_from_slice(&entries[start as usize..(start + len) as usize]);
            g.dvc_offsets.push(g.dvc_entries.len() as u32);
        }
    }
}

/// Pointwise maximum of two sparse clocks sorted by chain, into `out`.
fn merge_into(a: &[(u32, u32)], b: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
    out.clear();
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
}
