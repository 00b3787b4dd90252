//! What the demo injected, and how the findings compare with it.

use std::collections::BTreeMap;

use causet_analyzer::detect::{Finding, FindingKind};
use serde::Serialize;

/// One injected fault and a finding it should produce.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Truth {
    /// The finding kind expected.
    pub kind: FindingKind,
    /// What it is about: a node, a key, or the first attempt's span id.
    pub subject: String,
    /// Must be found (recall counts it); otherwise only allowed (a
    /// consequence that may or may not show, never a false positive).
    pub required: bool,
    /// What was done.
    pub note: String,
}

/// Precision and recall of one finding kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Score {
    /// Findings of this kind.
    pub found: usize,
    /// Of those, explained by an injected fault.
    pub true_positives: usize,
    /// Required truth items of this kind.
    pub expected: usize,
    /// Of those, found.
    pub recalled: usize,
    /// true_positives / found (1 when nothing was found).
    pub precision: f64,
    /// recalled / expected (1 when nothing was expected).
    pub recall: f64,
}

/// Whether `finding` is about `truth`'s subject.
fn matches(finding: &Finding, truth: &Truth) -> bool {
    finding.kind == truth.kind
        && (finding.nodes.contains(&truth.subject)
            || finding.key.as_deref() == Some(truth.subject.as_str())
            || finding.span_ids.contains(&truth.subject))
}

/// Scores per kind, over every kind that was found or expected.
pub fn score(findings: &[Finding], truth: &[Truth]) -> BTreeMap<FindingKind, Score> {
    let mut kinds: Vec<FindingKind> = findings
        .iter()
        .map(|f| f.kind)
        .chain(truth.iter().map(|t| t.kind))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&Finding> = findings.iter().filter(|f| f.kind == kind).collect();
            let required: Vec<&Truth> = truth
                .iter()
                .filter(|t| t.kind == kind && t.required)
                .collect();
            let true_positives = of_kind
                .iter()
                .filter(|f| truth.iter().any(|t| matches(f, t)))
                .count();
            let recalled = required
                .iter()
                .filter(|t| of_kind.iter().any(|f| matches(f, t)))
                .count();
            let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
            (
                kind,
                Score {
                    found: of_kind.len(),
                    true_positives,
                    expected: required.len(),
                    recalled,
                    precision: ratio(true_positives, of_kind.len()),
                    recall: ratio(recalled, required.len()),
                },
            )
        })
        .collect()
}
