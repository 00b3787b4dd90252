//! The contract between causet's collector and analyzer.
//!
//! - [`clocks`]: vector clocks, hybrid logical clocks and Lamport timestamps:
//!   parse them from span attributes, compare, merge, and keep them in a Rust
//!   service with the send/receive rules built in.
//! - [`attributes`]: the attribute keys applications annotate spans with
//!   (normative text: `schemas/CONVENTIONS.md`).
//! - [`otlp`]: OTLP attribute values borrowed from protobuf bytes or prost
//!   structs, and the protobuf wire reader the collector decodes with.
//! - [`location`]: where a data folder lives: a local folder or an object
//!   store prefix (`--data s3://bucket/prefix`).
//! - [`tables`]: column names and Arrow schemas of `spans`, `span_events` and
//!   `span_links`, with the schema version.
//!
//! The collector turns OTLP into rows of [`tables`] using [`clocks`] to parse
//! the conventions' attributes; the analyzer reads those rows. Neither writes
//! a column name or attribute key of its own.
//!
//! ```
//! use causet_schema::clocks::{Hlc, Lamport, VectorClock};
//! use opentelemetry::KeyValue;
//!
//! let mut vc = VectorClock::new();
//! let mut hlc = Hlc::default();
//! let mut lamport = Lamport::default();
//! vc.increment("replica-1");
//! hlc.tick(1_700_000_000_000_000_000);
//! lamport.tick();
//!
//! // One line per clock to annotate the current span:
//! let mut attrs: Vec<KeyValue> = Vec::new();
//! attrs.extend(vc.to_attributes());
//! attrs.extend(hlc.to_attributes());
//! attrs.push(lamport.to_attribute());
//! assert_eq!(attrs.len(), 4);
//! ```

pub mod attributes;
pub mod clocks;
pub mod error;
pub mod kinds;
pub mod location;
pub mod otlp;
pub mod partition;
pub mod tables;
pub mod wal;

pub use error::{ClockError, Result, WalError};

/// The annotation conventions, `schemas/CONVENTIONS.md`, included here so its
/// Rust example is compiled and tested with the crate.
#[doc = include_str!("../CONVENTIONS.md")]
pub mod conventions {}
