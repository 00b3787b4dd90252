//! Errors raised while reading clocks out of span attributes.
//!
//! Every variant carries the offending text so that the collector can store
//! it next to the span (the span is never dropped for a bad clock) and the
//! analyzer can report it as a `malformed_clock` finding a person can act on.

/// Why a clock attribute could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// A vector clock string that is not JSON at all.
    #[error("{attribute}: not valid JSON ({reason}): {text:?}")]
    InvalidJson {
        attribute: String,
        reason: String,
        text: String,
    },
    /// A vector clock that is JSON but not an object of counters.
    #[error("{attribute}: expected a JSON object of node -> counter, got {text:?}")]
    NotAnObject { attribute: String, text: String },
    /// A counter that is negative, fractional, too large or not a number.
    #[error("{attribute}: counter for node {node:?} is not an unsigned 64-bit integer: {text}")]
    InvalidCounter {
        attribute: String,
        node: String,
        text: String,
    },
    /// A vector clock entry whose node name is empty.
    #[error("{attribute}: empty node name")]
    EmptyNode { attribute: String },
    /// A vector clock with more entries than any real system has nodes.
    #[error("{attribute}: {count} entries, more than the limit of {max}")]
    TooManyEntries {
        attribute: String,
        count: usize,
        max: usize,
    },
    /// An attribute of the wrong OTLP type (for example a Lamport clock sent as a double).
    #[error("{attribute}: expected {expected}, got {found}")]
    WrongType {
        attribute: String,
        expected: &'static str,
        found: String,
    },
    /// An integer outside the range the clock allows (a negative Lamport time, say).
    #[error("{attribute}: {value} is out of range ({range})")]
    OutOfRange {
        attribute: String,
        value: String,
        range: &'static str,
    },
    /// An HLC logical counter without the wall-clock half it belongs to.
    #[error("{attribute} is set but {missing} is not")]
    Incomplete {
        attribute: String,
        missing: &'static str,
    },
}

/// Result of the clock parsers.
pub type Result<T, E = ClockError> = std::result::Result<T, E>;

/// Why a write-ahead log segment could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file in the WAL folder that is not a causet segment.
    #[error("{path}: not a causet WAL segment (bad header)")]
    BadHeader { path: String },
    /// Arrow IPC could not encode or decode a batch.
    #[error("arrow IPC: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A record names a table this version does not know.
    #[error("unknown table id {0} in WAL record")]
    UnknownTable(u8),
}
