//! How an [`Analyzer`](crate::Analyzer) analyses: detector settings, the
//! time range it reads, and the memory it may use.
//!
//! **Range and horizon.** With a range, the analysis reads the spans that
//! start inside it, plus a horizon on both sides (default 5 minutes, longer
//! than the RPC timeouts and retry chains the detectors follow), and only
//! the `date=`/`hour=` folders that hold them. The horizon gives the
//! events at the range's edges their causes and effects: a retry whose
//! first attempt began just before the range is still judged as one chain,
//! a conflicting write just outside still pairs with one inside. Findings
//! are kept when they fall in the range (the report's filter), so a
//! finding in the horizon belongs to the neighbouring range's report.
//!
//! **Memory.** SQL runs under a DataFusion memory pool of `memory_limit`
//! bytes: sorts, joins and aggregates spill to temporary files when they
//! would pass it, and a query that cannot fit even so ends with
//! [`Error::MemoryLimit`](crate::Error::MemoryLimit) instead of the process
//! being killed. The graph and the detectors' facts are charged to the same
//! pool once built.

use std::sync::Arc;

use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

use crate::error::Result;
use crate::{DetectConfig, Location};

/// Default [`Settings::memory_limit`]: 2 GiB, a laptop's share.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;
/// Default [`Settings::worker_task_bytes`]: 16 MiB, DataFusion
/// distributed's own default.
pub const DEFAULT_WORKER_TASK_BYTES: usize = 16 << 20;
/// Default [`Settings::horizon_ns`]: 5 minutes.
pub const DEFAULT_HORIZON_NS: i64 = 5 * 60 * 1_000_000_000;

pub use causet_engine::window::TimeRange;

/// How long the windows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSize {
    /// This many ns (rounded up to whole offset windows).
    Fixed(i64),
    /// As long as the memory limit allows: consecutive offset windows are
    /// packed into one analysis window while the spans it reads (lead and
    /// horizon included) fit [`Settings::memory_limit`](crate::Settings) at
    /// [`BUDGET_BYTES_PER_SPAN`](crate::windows::BUDGET_BYTES_PER_SPAN) each.
    Auto,
}

/// The spans an analysis reads: those that start in `starts`, and those
/// that started up to `running_since` earlier and were still running when
/// `starts` begins (a long span whose end, or whose children's replies,
/// fall inside it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// Spans starting here are read.
    pub starts: TimeRange,
    /// Spans starting from here to `starts` are read if they end inside it.
    pub running_since: Option<i64>,
    /// Only this trace's spans (a diagram of one trace).
    pub trace: Option<u128>,
}

impl From<TimeRange> for Reach {
    fn from(starts: TimeRange) -> Self {
        Reach {
            starts,
            running_since: None,
            trace: None,
        }
    }
}

impl Reach {
    /// Whether it reads a span that starts at `start` and ends at `end`
    /// (what [`reach_filter`](crate::ingested::reach_filter) selects).
    pub fn reads(&self, start: i64, end: i64) -> bool {
        self.outer().contains(start)
            && self
                .starts
                .from_ns
                .is_none_or(|from| start >= from || end >= from)
    }

    /// The start times of every span it may read.
    pub fn outer(&self) -> TimeRange {
        TimeRange {
            from_ns: match (self.running_since, self.starts.from_ns) {
                (Some(since), Some(from)) => Some(since.min(from)),
                (_, from) => from,
            },
            to_ns: self.starts.to_ns,
        }
    }
}

/// Everything an analyzer is told.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Detector settings.
    pub detect: DetectConfig,
    /// Spans the graph tables and the findings are made from.
    pub range: TimeRange,
    /// How far past the range's edges spans are read.
    pub horizon_ns: i64,
    /// How long the windows of the graph tables, table functions and
    /// findings are (see [`crate::windows`]).
    pub window: WindowSize,
    /// Bytes SQL and the analysis may hold in memory.
    pub memory_limit: usize,
    /// `causet worker`s that run the stages of queries and of the
    /// analysis's scans (see [`crate::workers`]); none: all in this process.
    pub workers: Vec<url::Url>,
    /// With workers: bytes of Parquet per scan task (the unit the files of
    /// a scan are divided among the workers by).
    pub worker_task_bytes: usize,
    /// The bearer token the workers were started with
    /// (`causet worker --auth-token-file`), sent with every request to them.
    pub worker_token: Option<WorkerToken>,
}

/// A bearer token for `causet worker`s; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerToken(pub String);

impl std::fmt::Debug for WorkerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerToken(..)")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            detect: DetectConfig::default(),
            range: TimeRange::ALL,
            horizon_ns: DEFAULT_HORIZON_NS,
            window: WindowSize::Auto,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            workers: Vec::new(),
            worker_task_bytes: DEFAULT_WORKER_TASK_BYTES,
            worker_token: None,
        }
    }
}

impl Settings {
    /// How far before a window's start its analysis reads: one offset
    /// window (1 minute), or the horizon if that is shorter. A window
    /// reads its lead before it and its horizon after it; see
    /// [`crate::windows`] for why the lead can be the shorter of the two.
    pub fn lead_ns(&self) -> i64 {
        self.horizon_ns.min(self.detect.window_ns).max(0)
    }

    /// The default settings with these detector settings.
    pub fn with_detect(detect: DetectConfig) -> Self {
        Settings {
            detect,
            ..Settings::default()
        }
    }

    /// The runtime every session of the analyzer shares: its memory pool
    /// (fair among spilling operators, naming the largest consumers when
    /// it is exhausted) and the temporary-file manager spills go through.
    pub(crate) fn runtime(&self) -> Result<Arc<RuntimeEnv>> {
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(self.memory_limit),
            std::num::NonZeroUsize::new(3).expect("3 > 0"),
        );
        Ok(RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .build_arc()?)
    }

    /// [`runtime`](Self::runtime), able to read `data` (an object store's
    /// client registered for its URL).
    pub(crate) fn runtime_for(&self, data: &Location) -> Result<Arc<RuntimeEnv>> {
        let runtime = self.runtime()?;
        if let Location::Remote(remote) = data {
            runtime.register_object_store(&remote.store_url(), Arc::clone(remote.store()));
        }
        Ok(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_widen_and_contain() {
        let r = TimeRange {
            from_ns: Some(100),
            to_ns: Some(200),
        };
        assert!(r.contains(100) && r.contains(199) && !r.contains(200) && !r.contains(99));
        let w = r.widened(10);
        assert_eq!((w.from_ns, w.to_ns), (Some(90), Some(210)));
        assert!(TimeRange::ALL.widened(10).is_all());
        assert!(TimeRange::ALL.contains(i64::MIN));
    }

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(crate::fmt::human_bytes(80), "80 B");
        assert_eq!(crate::fmt::human_bytes(DEFAULT_MEMORY_LIMIT), "2.0 GiB");
        assert_eq!(crate::fmt::human_bytes(3 << 19), "1.5 MiB");
    }
}
