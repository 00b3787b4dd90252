//! The domain's closed vocabularies, each spelled once: what a finding is,
//! how bad, how a node's clock was judged, and what kind a span is.
//!
//! Every string a table column, a report or the demo's truth file holds for
//! one of these comes from its `as_str`; code compares the enums, so a
//! `match` shows every place a new kind must be handled.
//!
//! ```
//! use causet_schema::kinds::{Family, FindingKind, Severity};
//!
//! let kind: FindingKind = "duplicate_execution".parse().unwrap();
//! assert_eq!(kind, FindingKind::DuplicateExecution);
//! assert_eq!(kind.family(), Family::Retry);
//! assert!(Severity::High > Severity::Medium);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum with its one spelling per variant: `as_str`,
/// `Display`, `FromStr`, `ALL`, and serde as that spelling.
macro_rules! vocabulary {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Its one spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownWord {
                        what: stringify!($name),
                        word: s.to_owned(),
                        known: &[$($text,)+],
                    }),
                }
            }
        }
    };
}

/// A word that is not one of a vocabulary's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{word:?} is not a {what}: use {}", known.join(", "))]
pub struct UnknownWord {
    /// The vocabulary.
    pub what: &'static str,
    /// What was given.
    pub word: String,
    /// What it could have been.
    pub known: &'static [&'static str],
}

vocabulary! {
    /// What a finding says happened.
    pub enum FindingKind {
        /// An effect's wall time precedes its cause's across two nodes.
        CausalityViolation = "causality_violation",
        /// A node's clock is off by more than the maximum offset.
        SkewExceedsMaxOffset = "skew_exceeds_max_offset",
        /// No clock offsets explain a node pair's RPC timings.
        OffsetInconsistent = "offset_inconsistent",
        /// A node's own logical clock and wall clock disagree on order.
        ClockJump = "clock_jump",
        /// An HLC runs ahead of physical time by more than the maximum offset.
        HlcDrift = "hlc_drift",
        /// An HLC does not grow along an edge.
        HlcRegression = "hlc_regression",
        /// A vector clock does not dominate its cause's.
        VcViolation = "vc_violation",
        /// A Lamport time does not grow along an edge.
        LamportViolation = "lamport_violation",
        /// A clock attribute could not be parsed (the span was kept).
        MalformedClock = "malformed_clock",
        /// Two writes to one key, neither before the other.
        ConcurrentWrite = "concurrent_write",
        /// Two writes to one key that nothing collected orders, though
        /// spans or messages that were not collected could.
        PossibleConcurrentWrite = "possible_concurrent_write",
        /// Last-writer-wins would keep the causally older write.
        LwwInversion = "lww_inversion",
        /// A non-idempotent request ran twice on the server.
        DuplicateExecution = "duplicate_execution",
        /// An attempt of unknown outcome was retried without a key.
        PossibleDuplicate = "possible_duplicate",
        /// A non-idempotent request was retried after an uncertain outcome.
        UnsafeRetry = "unsafe_retry",
        /// A retry was answered from the server's deduplication cache.
        Deduplicated = "deduplicated",
        /// A monitor's phi-accrual suspicion of a node passed the threshold:
        /// its heartbeats stopped arriving.
        Suspected = "suspected",
        /// Node sets that stopped reaching each other: calls across failed
        /// while calls within each side kept succeeding.
        Partition = "partition",
        /// Every caller failed to reach one node.
        NodeUnreachable = "node_unreachable",
        /// One instance serves an operation much worse than its peers
        /// (latency or errors) while it keeps answering otherwise.
        GrayFailure = "gray_failure",
    }
}

/// The families of finding kinds, each with its view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Clocks: `clock_findings`.
    Clock,
    /// Conflicting writes: `write_conflicts`.
    Write,
    /// Retries: `retry_findings`.
    Retry,
    /// Failures of nodes and links: `failure_findings`.
    Failure,
}

impl FindingKind {
    /// The family the kind belongs to.
    pub fn family(self) -> Family {
        use FindingKind::*;
        match self {
            CausalityViolation | SkewExceedsMaxOffset | OffsetInconsistent | ClockJump
            | HlcDrift | HlcRegression | VcViolation | LamportViolation | MalformedClock => {
                Family::Clock
            }
            ConcurrentWrite | PossibleConcurrentWrite | LwwInversion => Family::Write,
            DuplicateExecution | PossibleDuplicate | UnsafeRetry | Deduplicated => Family::Retry,
            Suspected | Partition | NodeUnreachable | GrayFailure => Family::Failure,
        }
    }

    /// The kinds of `family`.
    pub fn of(family: Family) -> impl Iterator<Item = FindingKind> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |k| k.family() == family)
    }
}

vocabulary! {
    /// What an incident is: the one cause its findings share (see
    /// `FindingKind::cause`).
    pub enum Cause {
        /// A node's wall clock is off: skew, jumps, HLC drift and what they
        /// make look wrong (causality violations, LWW inversions).
        ClockSkew = "clock_skew",
        /// A node's logical clock (HLC, vector, Lamport) does not follow its
        /// protocol: it did not grow along an edge.
        ClockProtocol = "clock_protocol",
        /// A node sends clock attributes that cannot be parsed.
        Instrumentation = "instrumentation",
        /// Writes to one key that nothing orders.
        WriteConflict = "write_conflict",
        /// One client's retries of one operation after uncertain outcomes.
        Retry = "retry",
        /// A node its monitors stopped hearing from, or its callers stopped
        /// reaching (dead, paused or cut off).
        NodeFailure = "node_failure",
        /// Node sets that stopped reaching each other.
        NetworkPartition = "network_partition",
        /// An instance worse than its peers at one operation.
        GrayFailure = "gray_failure",
    }
}

impl FindingKind {
    /// The kind of cause a finding of this kind is grouped under.
    pub fn cause(self) -> Cause {
        use FindingKind::*;
        match self {
            CausalityViolation | SkewExceedsMaxOffset | OffsetInconsistent | ClockJump
            | HlcDrift | LwwInversion => Cause::ClockSkew,
            HlcRegression | VcViolation | LamportViolation => Cause::ClockProtocol,
            MalformedClock => Cause::Instrumentation,
            ConcurrentWrite | PossibleConcurrentWrite => Cause::WriteConflict,
            DuplicateExecution | PossibleDuplicate | UnsafeRetry | Deduplicated => Cause::Retry,
            Suspected | NodeUnreachable => Cause::NodeFailure,
            Partition => Cause::NetworkPartition,
            GrayFailure => Cause::GrayFailure,
        }
    }
}

vocabulary! {
    /// How bad a finding is, least first.
    pub enum Severity {
        /// Proof that a defence works, or context.
        Info = "info",
        /// Worth knowing.
        Low = "low",
        /// Likely a problem.
        Medium = "medium",
        /// A problem.
        High = "high",
    }
}

vocabulary! {
    /// How a node's clock offset in a window was judged.
    pub enum Verdict {
        /// Within the maximum offset of the reference.
        Healthy = "healthy",
        /// Off by more than the maximum offset.
        Unhealthy = "unhealthy",
        /// The bounds allow both.
        Ambiguous = "ambiguous",
        /// No RPC bounded it.
        Unknown = "unknown",
    }
}

vocabulary! {
    /// OTLP span kinds, as in the `kind` column.
    pub enum SpanKind {
        /// Unspecified or unknown.
        Unspecified = "UNSPECIFIED",
        /// Internal.
        Internal = "INTERNAL",
        /// Server side of an RPC.
        Server = "SERVER",
        /// Client side of an RPC.
        Client = "CLIENT",
        /// Sender of an asynchronous message.
        Producer = "PRODUCER",
        /// Receiver of an asynchronous message.
        Consumer = "CONSUMER",
    }
}

impl SpanKind {
    /// From OTLP's numbering (`Span.kind`); unknown numbers are unspecified.
    pub fn from_otlp(kind: i32) -> SpanKind {
        match kind {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    /// From the `kind` column's text; anything else is unspecified.
    pub fn parse_lenient(kind: &str) -> SpanKind {
        kind.parse().unwrap_or(SpanKind::Unspecified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_through_text_and_json() {
        for kind in FindingKind::ALL {
            assert_eq!(kind.as_str().parse::<FindingKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<FindingKind>(&json).unwrap(), *kind);
        }
        for kind in SpanKind::ALL {
            assert_eq!(kind.as_str().parse::<SpanKind>(), Ok(*kind));
        }
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(*v));
        }
        for c in Cause::ALL {
            assert_eq!(c.as_str().parse::<Cause>(), Ok(*c));
        }
    }

    #[test]
    fn families_cover_every_kind_once() {
        let total: usize = [Family::Clock, Family::Write, Family::Retry, Family::Failure]
            .into_iter()
            .map(|f| FindingKind::of(f).count())
            .sum();
        assert_eq!(total, FindingKind::ALL.len());
    }

    #[test]
    fn unknown_words_say_what_would_do() {
        let error = "severe".parse::<Severity>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"severe\" is not a Severity: use info, low, medium, high"
        );
        assert_eq!(SpanKind::parse_lenient("bogus"), SpanKind::Unspecified);
        assert_eq!(SpanKind::from_otlp(3), SpanKind::Client);
    }
}
