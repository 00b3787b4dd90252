//! The rows of the derived tables, from the engine's typed output: each
//! table's name, schema and batch builder. Table providers ([`crate::derived`],
//! [`crate::windowed`], [`crate::udtfs`]) serve what these build.

pub mod detected;
pub mod graph;
