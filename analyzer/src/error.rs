//! Errors of the analyzer.

/// What can go wrong while analysing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion refused or failed a query (the message is DataFusion's).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// The engine refused a window's rows.
    #[error(transparent)]
    Engine(#[from] causet_engine::Error),
    /// The write-ahead log could not be read.
    #[error(transparent)]
    Wal(#[from] causet_schema::WalError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The data folder does not exist, or causet never wrote to it (a
    /// mistyped `--data`): read commands refuse it rather than report
    /// nothing found.
    #[error(
        "{path} is not a causet data folder: {why} (`causet collect` and `causet import` \
         make one; check --data or CAUSET_DATA)"
    )]
    NotADataFolder {
        /// The folder asked for.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The user asked for something that does not exist or does not fit.
    /// An object store (a remote data folder) refused or failed a request.
    #[error("{url}: {source}")]
    Store {
        /// The data folder's URL.
        url: String,
        /// The store's complaint.
        source: object_store::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// A query or the analysis needed more memory than the limit allows,
    /// even spilling what can spill.
    #[error(
        "over the memory limit of {}: {detail}; raise --memory-limit, or ask for less \
         (a time range, fewer columns)",
        crate::fmt::human_bytes(*limit)
    )]
    MemoryLimit {
        /// The limit, in bytes.
        limit: usize,
        /// What ran out (DataFusion's words, naming the largest consumers).
        detail: String,
    },
}

impl Error {
    /// [`Error::MemoryLimit`] when `error` is the memory pool refusing an
    /// allocation (however deeply DataFusion wrapped it), else `error`.
    pub fn with_limit(error: Error, limit: usize) -> Error {
        use datafusion::error::DataFusionError;
        match error {
            Error::DataFusion(e) => match e.find_root() {
                DataFusionError::ResourcesExhausted(detail) => Error::MemoryLimit {
                    limit,
                    detail: detail.clone(),
                },
                _ => Error::DataFusion(e),
            },
            other => other,
        }
    }

    /// An I/O error at `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Result of the analyzer's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// For errors that must cross into DataFusion (inside a table provider).
pub fn to_datafusion(error: Error) -> datafusion::error::DataFusionError {
    match error {
        Error::DataFusion(e) => e,
        other => datafusion::error::DataFusionError::External(Box::new(other)),
    }
}
