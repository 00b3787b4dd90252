//! causet's analysis engine: the rows of one window in, the happens-before
//! graph, findings and estimates out.
//!
//! The engine sits between the schema (columns, attribute keys, the
//! vocabularies of [`causet_schema::kinds`]) and the analyzer's SQL layer.
//! It knows Arrow record batches of the ingested tables and nothing of
//! DataFusion, of the report or of the CLI: this crate does not depend on
//! them, so the compiler keeps every import pointing down.
//!
//! ```text
//! causet (CLI)  ->  causet-analyzer: SQL session, scans, windows, tables, report, postmortem tools
//!                        |  RecordBatches of spans, span_events, span_links (one window)
//!                        v
//!                   causet-engine:  graph (load -> edges -> order) -> detect -> incidents
//!                        |
//!                        v
//!                   causet-schema:  columns, attribute keys, clocks, kinds
//! ```
//!
//! - [`graph`]: the happens-before graph of a window, struct-of-arrays, ids
//!   binary, text and clocks interned; reachability and paths.
//! - [`detect`]: every detector, over the graph and the [`detect::Facts`]
//!   read beside it; [`detect::run_all`] gives the findings and estimates.
//! - [`window`]: one window's analysis as a serializable unit (rows and
//!   settings in, the findings anchored in it out), and their merge.
//! - [`incidents`]: findings grouped by cause, a pure function of them.
//! - [`cut`]: the consistent cut at a moment (`causet cut`, `consistent_cut`).
//! - [`fmt`]: how numbers and times read in text (the leaf).
//!
//! ```
//! use causet_engine::detect::{self, DetectConfig};
//! use causet_engine::graph::load::Loader;
//! use causet_engine::detect::facts::FactsLoader;
//! # fn window(spans: &[arrow::array::RecordBatch]) -> causet_engine::Result<()> {
//! // Each batch of `spans` rows of the window, as a scan hands them over
//! // (`Input::SPAN_COLUMNS` and the facts' columns); events and links likewise.
//! let (mut graph, mut facts) = (Loader::default(), FactsLoader::default());
//! for batch in spans {
//!     graph.spans(batch)?;
//!     facts.spans(batch)?;
//! }
//! let graph = graph.finish();
//! let facts = facts.finish(&graph);
//! let (findings, estimates) = detect::run_all(&graph, &facts, &DetectConfig::default());
//! # let _ = (findings, estimates);
//! # Ok(()) }
//! # window(&[]).unwrap();
//! ```

pub mod cut;
pub mod detect;
pub mod error;
pub mod fmt;
pub mod graph;
pub mod grouped;
pub mod incidents;
pub mod window;

pub use error::{Error, Result};
