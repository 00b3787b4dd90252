//! Integration tests of the analyzer over data ingested by the real collector code.

mod common;
mod conflicts;
mod cut;
mod graph_windows;
mod lamport_seed;
mod layers;
mod limits;
mod samples;
mod slt;
mod windows;
