//! Interned text and vector clocks: what the graph holds once, however many
//! events repeat it.
//!
//! A node name, a span name, a message id or a vector clock's key is stored
//! once in [`Symbols`] and named by a 4-byte [`Sym`]. Vector clocks live in
//! one [`VcArena`]: every clock's entries side by side in two flat arrays
//! (keys and counters), a clock being a range of them named by a [`VcId`].
//! An event then costs a few words, not a heap allocation per clock and per
//! clock entry (the analysis held 1.3-1.9 KB per span that way).

use hashbrown::HashMap;
use std::num::NonZeroU32;

use causet_schema::clocks::CausalOrder;

/// An interned string of one [`Symbols`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

impl Sym {
    fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// Strings stored once each.
#[derive(Debug, Default)]
pub struct Symbols {
    text: String,
    ends: Vec<u32>,
    index: HashMap<Box<str>, Sym>,
}

impl Symbols {
    /// The symbol of `s`, adding it on first sight.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.index.get(s) {
            return sym;
        }
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
        let sym = Sym(NonZeroU32::new(self.ends.len() as u32).expect("at least one symbol"));
        self.index.insert(s.into(), sym);
        sym
    }

    /// The symbol of `s`, if it was interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.index.get(s).copied()
    }

    /// The text of `sym`.
    pub fn resolve(&self, sym: Sym) -> &str {
        let i = sym.index();
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        // The index keeps a second copy of each string, plus a table slot.
        self.text.capacity()
            + self.ends.capacity() * 4
            + self.index.capacity() * (std::mem::size_of::<(Box<str>, Sym)>() + 1)
            + self.text.len()
    }
}

/// A vector clock stored in a [`VcArena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VcId(u32);

/// Vector clocks as ranges of two flat arrays, entries sorted by key symbol.
#[derive(Debug)]
pub struct VcArena {
    keys: Vec<Sym>,
    counters: Vec<u64>,
    /// `offsets[id]..offsets[id + 1]` are clock `id`'s entries.
    offsets: Vec<u32>,
}

impl Default for VcArena {
    fn default() -> Self {
        VcArena {
            keys: Vec::new(),
            counters: Vec::new(),
            offsets: vec![0],
        }
    }
}

impl VcArena {
    /// Stores a clock from `(key, counter)` entries in any order; zero
    /// counters are dropped. A clock equal to the one stored last is not
    /// stored again (a span's end clock often repeats its start clock).
    pub fn push(&mut self, entries: impl IntoIterator<Item = (Sym, u64)>) -> VcId {
        let start = *self.offsets.last().expect("offsets start with 0") as usize;
        for (key, counter) in entries {
            if counter > 0 {
                self.keys.push(key);
                self.counters.push(counter);
            }
        }
        // Sort the new entries by key (they are usually few and often sorted).
        let n = self.keys.len() - start;
        if !self.keys[start..].is_sorted() {
            let mut pairs: Vec<(Sym, u64)> = self.keys[start..]
                .iter()
                .copied()
                .zip(self.counters[start..].iter().copied())
                .collect();
            pairs.sort_unstable();
            for (i, (k, c)) in pairs.into_iter().enumerate() {
                self.keys[start + i] = k;
                self.counters[start + i] = c;
            }
        }
        let count = self.offsets.len() - 1;
        if count > 0 {
            let prev = self.offsets[count - 1] as usize;
            if start - prev == n
                && self.keys[prev..start] == self.keys[start..]
                && self.counters[prev..start] == self.counters[start..]
            {
                self.keys.truncate(start);
                self.counters.truncate(start);
                return VcId(count as u32 - 1);
            }
        }
        self.offsets.push(self.keys.len() as u32);
        VcId(count as u32)
    }

    /// Clock `id`.
    pub fn get(&self, id: VcId) -> Vc<'_> {
        let (a, b) = (
            self.offsets[id.0 as usize] as usize,
            self.offsets[id.0 as usize + 1] as usize,
        );
        Vc {
            keys: &self.keys[a..b],
            counters: &self.counters[a..b],
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * 4 + self.counters.capacity() * 8 + self.offsets.capacity() * 4
    }

    pub(super) fn shrink(&mut self) {
        self.keys.shrink_to_fit();
        self.counters.shrink_to_fit();
        self.offsets.shrink_to_fit();
    }
}

/// A vector clock borrowed from a [`VcArena`]: entries sorted by key symbol.
#[derive(Debug, Clone, Copy)]
pub struct Vc<'a> {
    keys: &'a [Sym],
    counters: &'a [u64],
}

impl<'a> Vc<'a> {
    /// The counter of `key` (0 when absent).
    pub fn get(self, key: Sym) -> u64 {
        self.keys
            .binary_search(&key)
            .map_or(0, |i| self.counters[i])
    }

    /// The entries, by key symbol.
    pub fn iter(self) -> impl Iterator<Item = (Sym, u64)> + 'a {
        self.keys.iter().copied().zip(self.counters.iter().copied())
    }

    /// How `self` and `other` are ordered: one merge walk.
    pub fn compare(self, other: Vc<'_>) -> CausalOrder {
        let (mut less, mut greater) = (false, false);
        let (mut i, mut j) = (0, 0);
        while i < self.keys.len() || j < other.keys.len() {
            let (a, b) = match (self.keys.get(i), other.keys.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                    (self.counters[i - 1], other.counters[j - 1])
                }
                (Some(x), Some(y)) if x < y => {
                    i += 1;
                    (self.counters[i - 1], 0)
                }
                (Some(_), None) => {
                    i += 1;
                    (self.counters[i - 1], 0)
                }
                _ => {
                    j += 1;
                    (0, other.counters[j - 1])
                }
            };
            less |= a < b;
            greater |= a > b;
        }
        match (less, greater) {
            (false, false) => CausalOrder::Equal,
            (true, false) => CausalOrder::Before,
            (false, true) => CausalOrder::After,
            (true, true) => CausalOrder::Concurrent,
        }
    }

    /// As a JSON object `{"node": counter, ...}`, keys as text.
    pub fn to_json(self, symbols: &Symbols) -> serde_json::Value {
        let mut entries: Vec<(&str, u64)> =
            self.iter().map(|(k, c)| (symbols.resolve(k), c)).collect();
        entries.sort_unstable();
        serde_json::Value::Object(
            entries
                .into_iter()
                .map(|(k, c)| (k.to_owned(), c.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_and_repeat() {
        let mut s = Symbols::default();
        let a = s.intern("kv-1");
        let b = s.intern("");
        let c = s.intern("kv-2");
        assert_eq!(s.intern("kv-1"), a);
        assert_eq!(
            (s.resolve(a), s.resolve(b), s.resolve(c)),
            ("kv-1", "", "kv-2")
        );
        assert_eq!(s.get("kv-3"), None);
    }

    #[test]
    fn clocks_compare_like_the_schema_clocks() {
        use causet_schema::clocks::VectorClock;
        let mut s = Symbols::default();
        let mut arena = VcArena::default();
        let cases = [
            (r#"{"a":1}"#, r#"{"a":1,"b":2}"#),
            (r#"{"a":2,"b":1}"#, r#"{"a":1,"b":2}"#),
            (r#"{"b":3,"a":1}"#, r#"{"a":1,"b":3}"#),
            (r#"{"c":1}"#, r#"{}"#),
            (r#"{"a":0,"b":1}"#, r#"{"b":1}"#),
        ];
        for (x, y) in cases {
            let (vx, vy) = (
                VectorClock::parse_json("vc", x).unwrap(),
                VectorClock::parse_json("vc", y).unwrap(),
            );
            let mut store = |v: &VectorClock| {
                let entries: Vec<(Sym, u64)> = v.iter().map(|(k, c)| (s.intern(k), c)).collect();
                arena.push(entries)
            };
            let (ix, iy) = (store(&vx), store(&vy));
            let (ax, ay) = (arena.get(ix), arena.get(iy));
            assert_eq!(ax.compare(ay), vx.compare(&vy), "{x} vs {y}");
            assert_eq!(ay.compare(ax), vy.compare(&vx), "{y} vs {x}");
            for (k, c) in vx.iter() {
                assert_eq!(ax.get(s.get(k).unwrap()), c);
            }
        }
    }

    #[test]
    fn a_repeated_clock_is_stored_once() {
        let mut s = Symbols::default();
        let (a, b) = (s.intern("a"), s.intern("b"));
        let mut arena = VcArena::default();
        let first = arena.push([(b, 2), (a, 1)]);
        let again = arena.push([(a, 1), (b, 2)]);
        let other = arena.push([(a, 1)]);
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(
            arena.get(first).iter().collect::<Vec<_>>(),
            [(a, 1), (b, 2)]
        );
        assert_eq!(arena.get(other).iter().collect::<Vec<_>>(), [(a, 1)]);
    }
}
