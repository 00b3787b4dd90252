//! What the demo injected, and how the findings compare with it.

use std::collections::{BTreeMap, HashMap};

use causet_analyzer::detect::{Finding, FindingKind};
use serde::{Deserialize, Serialize};

/// One injected fault and a finding it should produce.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Truth {
    /// The finding kind expected.
    pub kind: FindingKind,
    /// What it is about: a node, a key, or the first attempt's span id.
    pub subject: String,
    /// The spans a finding about it must name, every one (the two writes
    /// of a conflict, a retry chain's first attempt). Such an item is one
    /// finding: a second finding about the same spans is a false positive.
    /// Empty: any finding of the kind about `subject` (an aggregate, such
    /// as one per node and offset window).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<String>,
    /// Must be found (recall counts it); otherwise only allowed (a
    /// consequence that may or may not show, never a false positive).
    pub required: bool,
    /// What was done.
    pub note: String,
}

impl Truth {
    /// An aggregate item: any number of findings of `kind` that name
    /// `subject` (a node, a key).
    pub fn about(kind: FindingKind, subject: &str, required: bool, note: &str) -> Truth {
        Truth {
            kind,
            subject: subject.to_owned(),
            spans: Vec::new(),
            required,
            note: note.to_owned(),
        }
    }
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

/// What a finding names, as scoring compares it with the truth: from a
/// [`Finding`], or from a report's JSON.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    /// Its kind.
    pub kind: FindingKind,
    /// Its key, if any.
    pub key: Option<&'a str>,
    /// The nodes it names.
    pub nodes: &'a [String],
    /// The spans it names.
    pub span_ids: &'a [String],
}

impl<'a> From<&'a Finding> for Named<'a> {
    fn from(f: &'a Finding) -> Self {
        Named {
            kind: f.kind,
            key: f.key.as_deref(),
            nodes: &f.nodes,
            span_ids: &f.span_ids,
        }
    }
}

impl Named<'_> {
    /// Every name it carries: key, nodes, spans.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.key
            .into_iter()
            .chain(self.nodes.iter().map(String::as_str))
            .chain(self.span_ids.iter().map(String::as_str))
    }

    /// Whether it is about `truth`: the same kind, and every span the
    /// truth names, or else its subject among its names.
    fn is_about(&self, truth: &Truth) -> bool {
        self.kind == truth.kind
            && if truth.spans.is_empty() {
                self.names().any(|n| n == truth.subject)
            } else {
                truth.spans.iter().all(|s| self.span_ids.contains(s))
            }
    }
}

/// Scores per kind, over every kind that was found or expected. Each
/// finding is matched to the truth by the entities it names: a finding
/// of a kind nobody injected, or about other entities, or a second finding
/// about an item that is one finding ([`Truth::spans`]), is a false
/// positive. Linear in findings and truth (both indexed).
pub fn score<'a>(
    findings: impl IntoIterator<Item = Named<'a>>,
    truth: &[Truth],
) -> BTreeMap<FindingKind, Score> {
    // Truth items by (kind, the name a finding about them must carry).
    let mut index: HashMap<(FindingKind, &str), Vec<usize>> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        let name = t.spans.first().unwrap_or(&t.subject);
        index.entry((t.kind, name.as_str())).or_default().push(i);
    }
    let mut matched = vec![false; truth.len()];
    // Per kind: [found, true positives, expected, recalled].
    let mut counts: BTreeMap<FindingKind, [usize; 4]> = BTreeMap::new();
    for f in findings {
        let mut candidates: Vec<usize> = f
            .names()
            .filter_map(|n| index.get(&(f.kind, n)))
            .flatten()
            .copied()
            .filter(|&i| f.is_about(&truth[i]))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        // An item that is one finding explains the first about it; an
        // aggregate item any number (an unmatched one first, so items with
        // the same subject are each recalled).
        let unmatched = candidates.iter().copied().find(|&i| !matched[i]);
        let aggregate = candidates
            .iter()
            .copied()
            .find(|&i| truth[i].spans.is_empty());
        let explained = match unmatched.or(aggregate) {
            Some(i) => {
                matched[i] = true;
                true
            }
            None => false,
        };
        let entry = counts.entry(f.kind).or_default();
        entry[0] += 1;
        entry[1] += usize::from(explained);
    }
    for (i, t) in truth.iter().enumerate() {
        let entry = counts.entry(t.kind).or_default();
        if t.required {
            entry[2] += 1;
            entry[3] += usize::from(matched[i]);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    counts
        .into_iter()
        .map(|(kind, [found, true_positives, expected, recalled])| {
            (
                kind,
                Score {
                    found,
                    true_positives,
                    expected,
                    recalled,
                    precision: ratio(true_positives, found),
                    recall: ratio(recalled, expected),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(kind: FindingKind, nodes: &'a [String], spans: &'a [String]) -> Named<'a> {
        Named {
            kind,
            key: None,
            nodes,
            span_ids: spans,
        }
    }

    #[test]
    fn each_finding_is_matched_to_one_item_by_its_entities() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let truth = vec![
            Truth {
                kind: FindingKind::ConcurrentWrite,
                subject: "k".into(),
                spans: s(&["a", "b"]),
                required: true,
                note: String::new(),
            },
            Truth {
                kind: FindingKind::SkewExceedsMaxOffset,
                subject: "n1".into(),
                spans: Vec::new(),
                required: true,
                note: String::new(),
            },
        ];
        let (none, ab, ac, n1, n2) = (
            s(&[]),
            s(&["b", "a"]),
            s(&["a", "c"]),
            s(&["n1"]),
            s(&["n2"]),
        );
        let findings = [
            // The pair, found twice: the second is a false positive.
            named(FindingKind::ConcurrentWrite, &none, &ab),
            named(FindingKind::ConcurrentWrite, &none, &ab),
            // One of its writes with another: not the injected pair.
            named(FindingKind::ConcurrentWrite, &none, &ac),
            // An aggregate explains one finding per window.
            named(FindingKind::SkewExceedsMaxOffset, &n1, &none),
            named(FindingKind::SkewExceedsMaxOffset, &n1, &none),
            named(FindingKind::SkewExceedsMaxOffset, &n2, &none),
            // A kind nobody injected.
            named(FindingKind::ClockJump, &n1, &none),
        ];
        let scores = score(findings, &truth);
        let cw = &scores[&FindingKind::ConcurrentWrite];
        assert_eq!((cw.found, cw.true_positives, cw.recalled), (3, 1, 1));
        let skew = &scores[&FindingKind::SkewExceedsMaxOffset];
        assert_eq!((skew.found, skew.true_positives, skew.recall), (3, 2, 1.0));
        assert_eq!(scores[&FindingKind::ClockJump].precision, 0.0);
    }
}
