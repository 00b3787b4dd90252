//! Errors of the collector.

use causet_schema::WalError;

/// What can go wrong while ingesting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request body could not be decoded (OTLP: 400 / INVALID_ARGUMENT).
    #[error("cannot decode request: {0}")]
    Decode(String),
    /// The (decompressed) request is larger than allowed (413 / RESOURCE_EXHAUSTED).
    #[error("request of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// The collector holds as many in-flight bytes as it may (503 / UNAVAILABLE).
    #[error("collector overloaded: {0}")]
    Overloaded(String),
    /// The write-ahead log could not make the export durable (503 / UNAVAILABLE:
    /// retryable, nothing was acknowledged).
    #[error("write-ahead log: {0}")]
    Wal(#[from] WalError),
    /// The collector is shutting down.
    #[error("collector is shutting down")]
    ShuttingDown,
    /// A file system operation outside the WAL failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// Arrow or Parquet failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An object store (the remote data folder) refused or failed a request.
    #[error("{key}: {source}")]
    Upload {
        /// The object's URL.
        key: String,
        /// The store's complaint.
        source: object_store::Error,
    },
    /// A broken invariant; a bug in causet.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The status OTLP/gRPC answers it with. Trouble on the collector's side
    /// that may pass is UNAVAILABLE (retried by exporters), never INTERNAL.
    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            Error::Decode(_) => tonic::Code::InvalidArgument,
            Error::TooLarge { .. } => tonic::Code::ResourceExhausted,
            _ if self.retryable() => tonic::Code::Unavailable,
            _ => tonic::Code::Internal,
        }
    }

    /// The status OTLP/HTTP answers it with.
    pub fn http_status(&self) -> http::StatusCode {
        match self {
            Error::Decode(_) => http::StatusCode::BAD_REQUEST,
            Error::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            _ if self.retryable() => http::StatusCode::SERVICE_UNAVAILABLE,
            _ => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True when the exporter should send the same request again later:
    /// nothing was acknowledged and the cause may pass.
    pub fn retryable(&self) -> bool {
        match self {
            Error::Overloaded(_)
            | Error::Wal(_)
            | Error::Io { .. }
            | Error::Upload { .. }
            | Error::ShuttingDown => true,
            Error::Decode(_)
            | Error::TooLarge { .. }
            | Error::Arrow(_)
            | Error::Parquet(_)
            | Error::Tls(_)
            | Error::Internal(_) => false,
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

/// Result of the collector's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
