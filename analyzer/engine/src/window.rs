//! One window's analysis as a unit: its rows and settings in, the findings
//! and estimates anchored in it out, either side serializable, so a window
//! can be analysed on any thread or by another process.
//!
//! A long history is analysed window by window (the analyzer plans the
//! windows and reads each one's rows: the spans that start in it, a lead
//! before and a horizon after). Each window keeps the findings *anchored*
//! in it, the earliest of the events a finding is about, so every finding
//! belongs to exactly one window whatever the others hold. What crosses
//! windows is settled when their results are put together, in time order
//! ([`Merge`]): a retry chain seen in part by two windows is reported by
//! the first.
//!
//! ```
//! use causet_engine::detect::DetectConfig;
//! use causet_engine::graph::Input;
//! use causet_engine::window::{Bounds, TimeRange, WindowFindings, WindowInput};
//!
//! let input = WindowInput {
//!     bounds: Bounds { keep: TimeRange::ALL, end: 0, read_until: None },
//!     config: DetectConfig::default(),
//!     rows: Input::default(),
//! };
//! // What a client sends a worker, and what comes back.
//! let sent = WindowInput::decode(&input.encode()?)?;
//! let back = WindowFindings::decode(&sent.analyse()?.encode()?)?;
//! assert_eq!(back, input.analyse()?);
//! # Ok::<(), causet_engine::Error>(())
//! ```

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use causet_schema::tables::{SPAN_EVENTS, SPAN_LINKS, SPANS};

use crate::detect::facts::FactsLoader;
use crate::detect::{self, DetectConfig, Estimates, Facts, Family, Finding};
use crate::error::{Error, Result};
use crate::graph::load::Loader;
use crate::graph::{Graph, Input};

/// Start times, in ns since the epoch: `from` inclusive, `to` exclusive;
/// `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// First instant in the range.
    pub from_ns: Option<i64>,
    /// First instant after it.
    pub to_ns: Option<i64>,
}

impl TimeRange {
    /// Everything.
    pub const ALL: TimeRange = TimeRange {
        from_ns: None,
        to_ns: None,
    };

    /// Whether the range is open on both sides.
    pub fn is_all(&self) -> bool {
        self.from_ns.is_none() && self.to_ns.is_none()
    }

    /// The range widened by `horizon_ns` on each bounded side.
    pub fn widened(&self, horizon_ns: i64) -> TimeRange {
        self.extended(horizon_ns, horizon_ns)
    }

    /// The range starting `before_ns` earlier and ending `after_ns` later
    /// (on its bounded sides).
    pub fn extended(&self, before_ns: i64, after_ns: i64) -> TimeRange {
        TimeRange {
            from_ns: self.from_ns.map(|f| f.saturating_sub(before_ns)),
            to_ns: self.to_ns.map(|t| t.saturating_add(after_ns)),
        }
    }

    /// Whether `t` is in the range.
    pub fn contains(&self, t: i64) -> bool {
        self.from_ns.is_none_or(|f| t >= f) && self.to_ns.is_none_or(|to| t < to)
    }
}

/// Where a window lies: what it keeps and where what it read ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Findings and estimates anchored here are the window's (the first
    /// window is open before, the last after).
    pub keep: TimeRange,
    /// Where the window ends, ns: a retry chain older than a horizon
    /// before it is no longer followed.
    pub end: i64,
    /// Where the rows read end when more follow that were not read (the
    /// horizon after a window that is not the last); `None`: the data's
    /// own end. A silence that reaches it is open, not over.
    pub read_until: Option<i64>,
}

/// What one window found and estimated, anchored in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowFindings {
    /// Findings, in report order ([`detect::sort`]); their `events` are
    /// ids of the window's graph.
    pub findings: Vec<Finding>,
    /// Each finding's anchor, ns: the earliest of its events' times.
    pub anchors: Vec<i64>,
    /// Node offsets and phi samples.
    pub estimates: Estimates,
    /// Spans read (lead and horizon included).
    pub spans: usize,
    /// Bytes the graph and facts took.
    pub bytes: usize,
}

/// Runs every detector over a window's graph and keeps what is anchored
/// in the window.
pub fn analyse(
    graph: &Graph,
    facts: &Facts,
    bounds: &Bounds,
    config: &DetectConfig,
) -> WindowFindings {
    let config = DetectConfig {
        read_until: bounds.read_until,
        ..config.clone()
    };
    let (found, estimated) = detect::run_all(graph, facts, &config);
    let keep = bounds.keep;
    let anchor = |f: &Finding| {
        f.events
            .iter()
            .map(|&e| graph.time_of(e))
            .min()
            .unwrap_or(f.time)
    };
    let (anchors, findings) = found
        .into_iter()
        .map(|f| (anchor(&f), f))
        .filter(|(at, _)| keep.contains(*at))
        .unzip();
    WindowFindings {
        findings,
        anchors,
        estimates: Estimates {
            offsets: estimated
                .offsets
                .into_iter()
                .filter(|o| keep.contains(o.window_start))
                .collect(),
            phi: estimated
                .phi
                .into_iter()
                .filter(|p| keep.contains(p.at))
                .collect(),
        },
        spans: graph.spans.len(),
        bytes: graph.memory().total() + facts.heap_bytes(),
    }
}

/// A window's graph and the detectors' facts, loaded batch by batch as a
/// scan hands them over: each batch is copied into both, then may go.
#[derive(Debug, Default)]
pub struct WindowLoader {
    graph: Loader,
    facts: FactsLoader,
}

impl WindowLoader {
    /// A batch of the ingested table `table` (`spans`, `span_events` or
    /// `span_links`), with the graph's columns ([`Input`]) and those of
    /// the facts ([`detect::facts`]).
    pub fn push(&mut self, table: &str, batch: &RecordBatch) -> Result<()> {
        match table {
            SPANS => {
                self.graph.spans(batch)?;
                self.facts.spans(batch)
            }
            SPAN_EVENTS => {
                self.graph.points(batch)?;
                self.facts.points(batch)
            }
            SPAN_LINKS => self.graph.links(batch),
            other => Err(Error::UnknownTable(other.to_owned())),
        }
    }

    /// Heap bytes finishing will hold at most: the graph's rows twice (they
    /// are sorted into id order) and the facts.
    pub fn peak_bytes(&self) -> usize {
        2 * self.graph.heap_bytes() + self.facts.heap_bytes()
    }

    /// The graph, and the facts resolved against it.
    pub fn finish(self) -> (Graph, Facts) {
        let graph = self.graph.finish();
        let facts = self.facts.finish(&graph);
        (graph, facts)
    }
}

/// A window's rows and settings: everything its analysis reads.
#[derive(Debug, Clone)]
pub struct WindowInput {
    /// Where the window lies.
    pub bounds: Bounds,
    /// The detectors' settings.
    pub config: DetectConfig,
    /// Its rows, with the graph's columns ([`Input`]) and those the
    /// settings' detectors read ([`detect::facts::span_columns`],
    /// [`detect::facts::EVENT_COLUMNS`]).
    pub rows: Input,
}

/// The settings half of a serialized [`WindowInput`].
#[derive(Serialize, Deserialize)]
struct Header {
    bounds: Bounds,
    config: DetectConfig,
}

impl WindowInput {
    /// Builds the window's graph and facts and analyses them.
    pub fn analyse(&self) -> Result<WindowFindings> {
        let mut loader = WindowLoader::default();
        for (table, batches) in self.rows.tables() {
            for batch in batches {
                loader.push(table, batch)?;
            }
        }
        let (graph, facts) = loader.finish();
        Ok(analyse(&graph, &facts, &self.bounds, &self.config))
    }

    /// The window as bytes: a JSON header (bounds and settings), then the
    /// three tables' rows as Arrow IPC streams, each part after its length
    /// (u64, little-endian).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let header = Header {
            bounds: self.bounds,
            config: self.config.clone(),
        };
        let mut out = Vec::new();
        put(&mut out, &serde_json::to_vec(&header)?);
        for (_, batches) in self.rows.tables() {
            put(&mut out, &ipc(batches)?);
        }
        Ok(out)
    }

    /// A window from [`encode`](Self::encode)'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<WindowInput> {
        let mut rest = bytes;
        let header: Header = serde_json::from_slice(take(&mut rest)?)?;
        let rows = Input {
            spans: from_ipc(take(&mut rest)?)?,
            events: from_ipc(take(&mut rest)?)?,
            links: from_ipc(take(&mut rest)?)?,
        };
        if !rest.is_empty() {
            return Err(Error::Encoding(format!(
                "{} bytes after the window",
                rest.len()
            )));
        }
        Ok(WindowInput {
            bounds: header.bounds,
            config: header.config,
            rows,
        })
    }
}

impl WindowFindings {
    /// The findings as bytes (JSON).
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Findings from [`encode`](Self::encode)'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<WindowFindings> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

fn put(out: &mut Vec<u8>, part: &[u8]) {
    out.extend_from_slice(&(part.len() as u64).to_le_bytes());
    out.extend_from_slice(part);
}

fn take<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8]> {
    let short = || Error::Encoding("the window ends early".into());
    let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(short)?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| short())?;
    if tail.len() < len {
        return Err(short());
    }
    let (part, tail) = tail.split_at(len);
    *rest = tail;
    Ok(part)
}

/// Batches as one IPC stream (empty when there are none: no schema to write).
fn ipc(batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut writer = StreamWriter::try_new(Vec::new(), &first.schema())?;
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(writer.into_inner()?)
}

fn from_ipc(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

/// The results of consecutive windows put together, in time order.
#[derive(Debug)]
pub struct Merge {
    horizon_ns: i64,
    findings: Vec<Finding>,
    estimates: Estimates,
    /// Spans of the retry chains reported, with their chain's anchor.
    chains: HashMap<String, i64>,
}

impl Merge {
    /// Nothing merged yet; retry chains are followed `horizon_ns` past
    /// their anchor.
    pub fn new(horizon_ns: i64) -> Merge {
        Merge {
            horizon_ns,
            findings: Vec::new(),
            estimates: Estimates::default(),
            chains: HashMap::new(),
        }
    }

    /// Adds the next window's results. A retry finding about spans of a
    /// chain an earlier window reported is that chain again, seen in part
    /// (it began before this window's lead), and is dropped.
    pub fn push(&mut self, bounds: &Bounds, found: WindowFindings) {
        let chains = &mut self.chains;
        let is_retry = |f: &Finding| f.kind.family() == Family::Retry;
        let kept: Vec<(i64, Finding)> = found
            .anchors
            .into_iter()
            .zip(found.findings)
            .filter(|(_, f)| !is_retry(f) || !f.span_ids.iter().any(|s| chains.contains_key(s)))
            .collect();
        for (at, f) in kept.iter().filter(|(_, f)| is_retry(f)) {
            chains.extend(f.span_ids.iter().map(|s| (s.clone(), *at)));
        }
        // Beyond the horizon a chain is not followed.
        let horizon = self.horizon_ns;
        chains.retain(|_, at| at.saturating_add(horizon) >= bounds.end);
        self.findings.extend(kept.into_iter().map(|(_, f)| f));
        self.estimates.offsets.extend(found.estimates.offsets);
        self.estimates.phi.extend(found.estimates.phi);
    }

    /// Every finding in report order, and the estimates in window order
    /// (each window's offsets by node as its graph numbered them).
    pub fn finish(mut self) -> (Vec<Finding>, Estimates) {
        detect::sort(&mut self.findings);
        (self.findings, self.estimates)
    }
}
