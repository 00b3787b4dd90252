//! Ingest health of a time range: did the spans a report judges arrive?
//!
//! A report of a range with no spans, or with an hour-long hole, says "no
//! findings" about data that is not there: a nightly job whose collector
//! died would stay green. This counts the spans of the range per minute and
//! per hour and service (one aggregate over `start_time` and `service_name`,
//! the copies of a re-sent export included), and names the gaps longer than
//! a limit: between the range's start and its first span, between spans,
//! and from the last span to the range's end (now, for a range open at the
//! end that has a start, as `--since` gives).

use serde::Serialize;

use crate::derived::GraphCache;
use crate::error::Result;
use crate::fmt::rfc3339;
use crate::settings::TimeRange;

const MINUTE_NS: i64 = 60_000_000_000;
const HOUR_NS: i64 = 60 * MINUTE_NS;

/// Spans received in a range, and where they are missing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IngestHealth {
    /// Spans in the range.
    pub spans: u64,
    /// The minute of the oldest span's start (RFC 3339), if any.
    pub first: Option<String>,
    /// The minute of the newest span's start.
    pub last: Option<String>,
    /// Seconds from the newest span's minute to when the report was made.
    pub newest_age_s: Option<i64>,
    /// Spans per hour and service, by hour.
    pub per_hour: Vec<HourCount>,
    /// The longest stretch without spans that is not reported as a gap, s
    /// (0: gaps are not looked for).
    pub max_gap_s: i64,
    /// Stretches without a span longer than `max_gap_s`, by time.
    pub gaps: Vec<Gap>,
}

/// Spans of one service in one hour.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HourCount {
    /// Hour start (RFC 3339).
    pub hour: String,
    /// `service.name`.
    pub service: String,
    /// Spans.
    pub spans: u64,
}

/// A stretch without spans.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    /// Start of the first minute without spans (RFC 3339).
    pub from: String,
    /// End of the last one.
    pub to: String,
    /// Its length, s.
    pub seconds: i64,
}

impl IngestHealth {
    /// Whether the range has spans and no gap: the report can be trusted
    /// to have seen the range.
    pub fn ok(&self) -> bool {
        self.spans > 0 && self.gaps.is_empty()
    }
}

/// The ingest health of `range` in `cache`'s snapshot, at `now_ns`, gaps
/// longer than `max_gap_ns` (none looked for when 0).
pub async fn measure(
    cache: &GraphCache,
    range: TimeRange,
    max_gap_ns: i64,
    now_ns: i64,
) -> Result<IngestHealth> {
    let rows = cache.span_counts(range, MINUTE_NS).await?;
    Ok(summarise(rows.to_vec(), range, max_gap_ns, now_ns))
}

fn summarise(
    mut rows: Vec<(i64, String, u64)>,
    range: TimeRange,
    max_gap_ns: i64,
    now_ns: i64,
) -> IngestHealth {
    rows.sort_unstable();
    let spans = rows.iter().map(|r| r.2).sum();
    let mut per_hour: Vec<HourCount> = Vec::new();
    let mut hours: Vec<(i64, &str, u64)> = rows
        .iter()
        .map(|(m, s, n)| {
            (
                (m * MINUTE_NS).div_euclid(HOUR_NS) * HOUR_NS,
                s.as_str(),
                *n,
            )
        })
        .collect();
    hours.sort_unstable();
    for run in hours.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        per_hour.push(HourCount {
            hour: rfc3339(run[0].0),
            service: run[0].1.to_owned(),
            spans: run.iter().map(|r| r.2).sum(),
        });
    }
    let mut minutes: Vec<i64> = rows.iter().map(|r| r.0 * MINUTE_NS).collect();
    minutes.dedup();
    let (first, last) = (minutes.first().copied(), minutes.last().copied());
    let mut gaps = Vec::new();
    if max_gap_ns > 0 {
        // Stretches without spans: the range's start to the first minute
        // with spans, between such minutes, and the last to the range's end
        // (now, when the range has a start and no end).
        let start = range.from_ns;
        let end = range.to_ns.or(range.from_ns.map(|_| now_ns));
        let mut bounds: Vec<(i64, i64)> = Vec::new();
        match (first, last) {
            (Some(first), Some(last)) => {
                bounds.extend(start.map(|s| (s, first)));
                bounds.extend(minutes.windows(2).map(|w| (w[0] + MINUTE_NS, w[1])));
                bounds.extend(end.map(|e| (last + MINUTE_NS, e)));
            }
            _ => bounds.extend(start.zip(end)),
        }
        gaps = bounds
            .into_iter()
            .filter(|(from, to)| to - from > max_gap_ns)
            .map(|(from, to)| Gap {
                from: rfc3339(from),
                to: rfc3339(to),
                seconds: (to - from) / 1_000_000_000,
            })
            .collect();
    }
    IngestHealth {
        spans,
        first: first.map(rfc3339),
        last: last.map(rfc3339),
        newest_age_s: last.map(|l| (now_ns - l).max(0) / 1_000_000_000),
        per_hour,
        max_gap_s: max_gap_ns / 1_000_000_000,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_795_600_800_000_000_000; // 2026-11-25T10:00:00Z

    fn row(minute_offset: i64, service: &str, spans: u64) -> (i64, String, u64) {
        (T / MINUTE_NS + minute_offset, service.to_owned(), spans)
    }

    #[test]
    fn gaps_longer_than_the_limit_are_named() {
        let rows = vec![row(0, "api", 5), row(1, "db", 2), row(90, "api", 1)];
        let health = summarise(rows, TimeRange::ALL, HOUR_NS, T + 100 * MINUTE_NS);
        assert_eq!(health.spans, 8);
        assert_eq!(health.gaps.len(), 1, "{health:?}");
        assert_eq!(health.gaps[0].seconds, 88 * 60);
        assert_eq!(health.per_hour.len(), 3, "{:?}", health.per_hour);
        assert!(!health.ok());
        // Without a limit, no gaps.
        let rows = vec![row(0, "api", 5), row(90, "api", 1)];
        assert!(summarise(rows, TimeRange::ALL, 0, T).ok());
    }

    #[test]
    fn a_range_with_a_start_runs_to_now() {
        let since = TimeRange {
            from_ns: Some(T),
            to_ns: None,
        };
        // Spans in the first ten minutes, now two hours later: a gap.
        let health = summarise(vec![row(9, "api", 1)], since, HOUR_NS, T + 2 * HOUR_NS);
        assert_eq!(health.gaps.len(), 1);
        assert_eq!(
            health.newest_age_s,
            Some((2 * HOUR_NS - 9 * MINUTE_NS) / 1_000_000_000)
        );
        // No spans at all: not ok, and the whole range is the gap.
        let empty = summarise(Vec::new(), since, HOUR_NS, T + 2 * HOUR_NS);
        assert_eq!((empty.spans, empty.gaps.len()), (0, 1));
        assert!(!empty.ok());
        // An open range with no spans is not ok either, gap or not.
        assert!(!summarise(Vec::new(), TimeRange::ALL, HOUR_NS, T).ok());
    }
}
