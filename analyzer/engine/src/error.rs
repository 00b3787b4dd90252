//! Errors of the engine: input rows that are not the ingested tables'.

/// What can go wrong while analysing a window.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Rows of a table the analysis does not read.
    #[error("{0} is not an ingested table the analysis reads")]
    UnknownTable(String),
    /// An input batch lacks a column the analysis reads.
    #[error("column {0} is missing")]
    MissingColumn(String),
    /// An input column has another type than the ingested tables give it.
    #[error("column {column} has type {found}")]
    ColumnType {
        /// The column.
        column: String,
        /// The type it has.
        found: String,
    },
    /// A serialized window or result is not one.
    #[error("not a serialized window: {0}")]
    Encoding(String),
    /// A serialized window's settings or result could not be read or written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Arrow failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

/// Result of the engine's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
