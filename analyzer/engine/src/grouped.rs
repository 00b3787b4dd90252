//! Small lists by key without a vector per key.
//!
//! The graph's rules and the detectors group millions of spans and events
//! by a key (a parent, a message id, an idempotency key), most groups of one
//! or two. A map of vectors allocates once per group; a window's worth of
//! those allocations and frees was a tenth of a report's time in the
//! allocator. One array of (key, value) pairs sorted by key holds the same
//! groups: each is a run, found by binary search.

/// Values grouped by key: one sorted array of (key, value) pairs.
#[derive(Debug, Clone)]
pub struct Grouped<K, V> {
    pairs: Vec<(K, V)>,
}

impl<K: Ord + Copy, V: Ord + Copy> Grouped<K, V> {
    /// The groups of `pairs`; within a group, values ascending.
    pub fn new(mut pairs: Vec<(K, V)>) -> Self {
        pairs.sort_unstable();
        Grouped { pairs }
    }

    /// The values of `key`'s group (none when it has no group).
    pub fn get(&self, key: K) -> impl Iterator<Item = V> + '_ {
        let at = self.pairs.partition_point(|(k, _)| *k < key);
        self.pairs[at..]
            .iter()
            .take_while(move |(k, _)| *k == key)
            .map(|&(_, v)| v)
    }

    /// Whether `key` has a group.
    pub fn contains(&self, key: K) -> bool {
        self.get(key).next().is_some()
    }

    /// Each group's key and values, by key.
    pub fn groups(&self) -> impl Iterator<Item = (K, impl Iterator<Item = V> + '_)> + '_ {
        self.pairs
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run.iter().map(|&(_, v)| v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_runs_by_key() {
        let g = Grouped::new(vec![(2, 'b'), (1, 'z'), (2, 'a'), (5, 'c')]);
        assert_eq!(g.get(2).collect::<String>(), "ab");
        assert_eq!(g.get(3).count(), 0);
        assert!(g.contains(5) && !g.contains(0));
        let groups: Vec<(i32, String)> = g.groups().map(|(k, v)| (k, v.collect())).collect();
        assert_eq!(groups, [(1, "z".into()), (2, "ab".into()), (5, "c".into())]);
    }
}
