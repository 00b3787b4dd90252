//! Trends: this report against the ones before it.
//!
//! `--compare-to PREVIOUS.json` reads an earlier JSON report (any
//! `causet.report/1`; only its incidents and hourly counts are read) and
//! marks each incident `new` (its fingerprint, `CAUSE:ANCHOR`, was not in
//! the earlier report) or `continuing`; the earlier incidents not seen now
//! are listed as resolved. `--history DIR` does the same against the newest
//! report in DIR, then saves this one there (`report-YYYYMMDDTHHMMSS.mmmZ.json`,
//! each incident's best findings only, so the folder stays small), and
//! charts findings per hour over the last [`CHARTED`] reports.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Bucket, Report, SCHEMA};
use crate::detect::Severity;
use crate::error::{Error, Result};

/// Reports charted by `--history`, newest last.
pub const CHARTED: usize = 14;

/// An incident against the earlier report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not in the earlier report.
    New,
    /// Also in the earlier report.
    Continuing,
}

/// This report against an earlier one.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// The earlier report's file (null: there was none yet, so every
    /// incident is new).
    pub compared_to: Option<String>,
    /// When the earlier report was made.
    pub previous_generated_at: Option<String>,
    /// Incidents not in the earlier report.
    pub new: usize,
    /// Incidents also in the earlier report.
    pub continuing: usize,
    /// Incidents of the earlier report not seen in this one.
    pub resolved: Vec<Earlier>,
}

/// What is read of an earlier report's incident.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Earlier {
    /// `CAUSE:ANCHOR`.
    pub fingerprint: String,
    /// Its severity then.
    pub severity: Severity,
    /// Its summary then.
    pub summary: String,
    /// Its last finding then (RFC 3339).
    pub last_seen: String,
    /// Its findings then.
    pub findings: usize,
}

/// What is read of an earlier report.
#[derive(Debug, Clone, Deserialize)]
pub struct EarlierReport {
    schema: String,
    /// When it was made (RFC 3339).
    pub generated_at: String,
    /// Its incidents (none in reports made before incidents existed).
    #[serde(default)]
    pub incidents: Vec<Earlier>,
    /// Its findings per hour.
    #[serde(default)]
    pub hourly: Vec<Bucket>,
}

/// Reads an earlier JSON report.
pub fn read(path: &Path) -> Result<EarlierReport> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let earlier: EarlierReport = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not a causet JSON report ({e}); make one with `causet report --format json`",
            path.display()
        ))
    })?;
    if earlier.schema != SCHEMA {
        return Err(Error::Usage(format!(
            "{}: schema {} is not {SCHEMA}",
            path.display(),
            earlier.schema
        )));
    }
    Ok(earlier)
}

/// Marks `report`'s incidents new or continuing against `earlier` (read
/// from `name`), and lists the resolved ones; without an earlier report
/// (the first of a `--history`), every incident is new.
pub fn compare(report: &mut Report, earlier: Option<(&EarlierReport, &str)>) {
    let empty = Vec::new();
    let incidents = earlier.map_or(&empty, |(e, _)| &e.incidents);
    let before: HashSet<&str> = incidents.iter().map(|i| i.fingerprint.as_str()).collect();
    let now: HashSet<String> = report
        .incidents
        .iter()
        .map(|i| i.fingerprint.clone())
        .collect();
    let (mut new, mut continuing) = (0, 0);
    for incident in &mut report.incidents {
        let status = if before.contains(incident.fingerprint.as_str()) {
            continuing += 1;
            Status::Continuing
        } else {
            new += 1;
            Status::New
        };
        incident.status = Some(status);
    }
    // One line per cause resolved, though the earlier report may have split
    // it in time.
    let mut resolved: Vec<Earlier> = Vec::new();
    for e in incidents {
        if now.contains(&e.fingerprint) {
            continue;
        }
        match resolved.iter_mut().find(|r| r.fingerprint == e.fingerprint) {
            Some(r) => r.findings += e.findings,
            None => resolved.push(e.clone()),
        }
    }
    report.trend = Some(Trend {
        compared_to: earlier.map(|(_, name)| name.to_owned()),
        previous_generated_at: earlier.map(|(e, _)| e.generated_at.clone()),
        new,
        continuing,
        resolved,
    });
}

/// Whether an incident new since the earlier report (every incident, when
/// not compared) reaches `threshold`.
pub fn new_reaches(report: &Report, threshold: Severity) -> bool {
    report
        .incidents
        .iter()
        .any(|i| i.status != Some(Status::Continuing) && i.severity >= threshold)
}

/// The reports of a `--history` folder, oldest first.
pub fn history(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("report-") && name.ends_with(".json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The file name `--history` saves a report made at `generated_at_ns` as.
pub fn history_name(generated_at_ns: i64) -> String {
    let time = chrono::DateTime::from_timestamp_nanos(generated_at_ns);
    format!("report-{}.json", time.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// Findings per hour over `earlier` reports (oldest first; the caller
/// passes at most [`CHARTED`] - 1) and `report`: where two cover the same
/// hour, the later one's count. Hours between them without findings are
/// drawn empty.
pub fn chart(report: &mut Report, earlier: &[EarlierReport]) {
    let mut hours: BTreeMap<String, &Bucket> = BTreeMap::new();
    for bucket in earlier
        .iter()
        .flat_map(|e| e.hourly.iter())
        .chain(report.hourly.iter())
    {
        hours.insert(bucket.start.clone(), bucket);
    }
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let (Some(first), Some(last)) = (
        hours.keys().next().and_then(|s| parse(s)),
        hours.keys().next_back().and_then(|s| parse(s)),
    ) else {
        return;
    };
    // At most CHARTED days of hours, the newest.
    let from = first.max(last - chrono::Duration::hours(24 * CHARTED as i64));
    let mut filled = Vec::new();
    let mut t = from;
    while t <= last {
        let start = crate::fmt::rfc3339(t.timestamp() * 1_000_000_000);
        filled.push(Bucket {
            by_severity: hours
                .get(&start)
                .map(|b| b.by_severity.clone())
                .unwrap_or_default(),
            start,
            width_s: 3600,
        });
        t += chrono::Duration::hours(1);
    }
    report.history = filled;
}
