//! Deterministic randomness: SplitMix64, so a seed gives the same run on
//! every machine and every version (a general-purpose RNG crate does not
//! promise its streams stay the same across releases).

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::IdGenerator;

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / ((1u64 << 53) as f64)) < p
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Trace and span ids from a seeded generator shared by every simulated
/// node, so a seed gives the same ids.
#[derive(Debug, Clone)]
pub struct SeededIds(pub Arc<Mutex<Rng>>);

impl IdGenerator for SeededIds {
    fn new_trace_id(&self) -> TraceId {
        let mut rng = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let id = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        TraceId::from(id.max(1))
    }

    fn new_span_id(&self) -> SpanId {
        let mut rng = self.0.lock().unwrap_or_else(|p| p.into_inner());
        SpanId::from(rng.next_u64().max(1))
    }
}
