//! Attribute keys of the annotation conventions (see `schemas/CONVENTIONS.md`).
//!
//! Each key is written here once; the collector parses these keys into typed
//! columns and the analyzer never looks for a key by its literal name.
//!
//! ```
//! use causet_schema::attributes;
//! use opentelemetry::KeyValue;
//!
//! let attrs = [
//!     KeyValue::new(attributes::WRITE_KEY, "cart:42"),
//!     KeyValue::new(attributes::IDEMPOTENCY_KEY, "order-7f3a"),
//! ];
//! assert_eq!(attrs[0].key.as_str(), "causet.write.key");
//! ```

/// Prefix of every attribute causet defines.
pub const PREFIX: &str = "causet.";

/// Clock owner (replica or process) of the span's clocks, a string.
/// Defaults to the resource's [`SERVICE_INSTANCE_ID`], else [`SERVICE_NAME`].
pub const NODE: &str = "causet.node";

/// Lamport timestamp at span start (or at the span event), a non-negative int.
pub const LAMPORT: &str = "causet.lamport";
/// Hybrid logical clock wall component `l` at span start, int nanoseconds since the Unix epoch.
pub const HLC_WALL_NS: &str = "causet.hlc.wall_ns";
/// Hybrid logical clock logical component `c` at span start, a non-negative int below 2^32.
pub const HLC_LOGICAL: &str = "causet.hlc.logical";
/// Vector clock at span start: a string holding a JSON object `{"node":counter,...}`,
/// or an OTLP key-value list of int counters.
pub const VC: &str = "causet.vc";

/// Lamport timestamp at span end.
pub const END_LAMPORT: &str = "causet.end.lamport";
/// HLC wall component at span end.
pub const END_HLC_WALL_NS: &str = "causet.end.hlc.wall_ns";
/// HLC logical component at span end.
pub const END_HLC_LOGICAL: &str = "causet.end.hlc.logical";
/// Vector clock at span end.
pub const END_VC: &str = "causet.end.vc";

/// Key written by the span (or span event), a string.
pub const WRITE_KEY: &str = "causet.write.key";
/// Value (or a digest of it) written to [`WRITE_KEY`], a string.
pub const WRITE_VALUE: &str = "causet.write.value";
/// Key read by the span (or span event), a string.
pub const READ_KEY: &str = "causet.read.key";
/// Value (or digest) read from [`READ_KEY`], a string.
pub const READ_VALUE: &str = "causet.read.value";

/// Identity of one logical request across its retries, a string.
pub const IDEMPOTENCY_KEY: &str = "causet.idempotency_key";
/// The same identity as carried by the `Idempotency-Key` HTTP header, in the
/// semantic conventions' header form (a string array; the first element is used).
pub const HTTP_IDEMPOTENCY_KEY_HEADER: &str = "http.request.header.idempotency-key";
/// Set by a server span that answered from its deduplication cache instead of executing, a bool.
pub const IDEMPOTENCY_REPLAYED: &str = "causet.idempotency.replayed";

/// Retry attempt number of a client span, an int (0 = first attempt).
pub const RETRY_ATTEMPT: &str = "causet.retry.attempt";
/// The semantic conventions' resend count of an HTTP client span, an int.
/// Used when [`RETRY_ATTEMPT`] is absent.
pub const HTTP_RESEND_COUNT: &str = "http.request.resend_count";

/// Span event name: the node sent message [`MSG_ID`].
pub const EVENT_SEND: &str = "causet.send";
/// Span event name: the node received message [`MSG_ID`].
pub const EVENT_RECEIVE: &str = "causet.receive";
/// Message identity joining a [`EVENT_SEND`] to its [`EVENT_RECEIVE`], a string.
pub const MSG_ID: &str = "causet.msg.id";

/// On a heartbeat span: the node whose heartbeat it is (the monitored
/// node), a string; the span's own node is the monitor that received it,
/// and the span's start is the arrival. See `suspected` findings.
pub const HEARTBEAT_FROM: &str = "causet.heartbeat.from";

/// Resource attribute naming the service instance (semantic conventions).
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";
/// Resource attribute naming the service (semantic conventions).
pub const SERVICE_NAME: &str = "service.name";

/// Semantic conventions: HTTP request method of a client or server span.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// Semantic conventions: HTTP response status code.
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// Semantic conventions: the matched route of an HTTP server span.
pub const HTTP_ROUTE: &str = "http.route";
/// Semantic conventions: the URL template of an HTTP client span.
pub const URL_TEMPLATE: &str = "url.template";
/// Semantic conventions: the RPC method.
pub const RPC_METHOD: &str = "rpc.method";
/// Semantic conventions: the RPC service.
pub const RPC_SERVICE: &str = "rpc.service";
/// Semantic conventions: the gRPC status code (an int).
pub const RPC_GRPC_STATUS_CODE: &str = "rpc.grpc.status_code";
/// Semantic conventions: the class of error an operation ended with (`timeout`, ...).
pub const ERROR_TYPE: &str = "error.type";
/// Semantic conventions: the server's address as the client saw it.
pub const SERVER_ADDRESS: &str = "server.address";
/// Semantic conventions: the logical name of the remote service.
pub const PEER_SERVICE: &str = "peer.service";
/// Semantic conventions: the database operation (`SELECT`, `INSERT`, `SET`, ...).
pub const DB_OPERATION_NAME: &str = "db.operation.name";
/// Semantic conventions: the table or collection an operation touches.
pub const DB_COLLECTION_NAME: &str = "db.collection.name";

/// Every clock attribute, start and end: a parse failure of any of these
/// becomes the span's clock error.
pub const CLOCK_ATTRIBUTES: [&str; 8] = [
    LAMPORT,
    HLC_WALL_NS,
    HLC_LOGICAL,
    VC,
    END_LAMPORT,
    END_HLC_WALL_NS,
    END_HLC_LOGICAL,
    END_VC,
];
