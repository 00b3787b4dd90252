//! Column names and Arrow schemas of the tables the collector writes and the
//! analyzer reads: `spans`, `span_events` and `span_links`.
//!
//! Every OTLP field is kept (ids as lowercase hex, times as
//! `Timestamp(ns, "+00:00")`, every attribute in a map column), next to the causal
//! columns parsed from the conventions' attributes. Attribute values are kept
//! as text: strings as they are, other types in their JSON form (`42`,
//! `true`, `[1,2]`, `{"k":"v"}`; bytes as base64), so SQL can read any
//! attribute with `attributes['http.route']`.
//!
//! On disk, files are Hive-partitioned by the span's start time
//! (`date=YYYY-MM-DD/hour=HH`); [`col::DATE`] and [`col::HOUR`] are partition
//! columns, not stored in the files.
//!
//! ```
//! use causet_schema::tables::{self, col};
//!
//! let spans = tables::spans_schema();
//! assert!(spans.field_with_name(col::LAMPORT).is_ok());
//! assert_eq!(tables::schema_version(&spans), Some(tables::SCHEMA_VERSION));
//! ```

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Version of the table layout, stored in each schema's metadata under
/// [`SCHEMA_VERSION_KEY`]. Bumped on any change to a column.
pub const SCHEMA_VERSION: &str = "1";
/// Metadata key holding [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "causet.schema_version";

/// Table name: one row per span.
pub const SPANS: &str = "spans";
/// Table name: one row per span event.
pub const SPAN_EVENTS: &str = "span_events";
/// Table name: one row per span link.
pub const SPAN_LINKS: &str = "span_links";
/// The three ingested tables, in the order the collector writes them.
pub const INGESTED_TABLES: [&str; 3] = [SPANS, SPAN_EVENTS, SPAN_LINKS];

/// Column names. Each is written here once.
pub mod col {
    /// Trace id, 32 lowercase hex digits.
    pub const TRACE_ID: &str = "trace_id";
    /// Span id, 16 lowercase hex digits.
    pub const SPAN_ID: &str = "span_id";
    /// Parent span id, null for a root span.
    pub const PARENT_SPAN_ID: &str = "parent_span_id";
    /// W3C trace state.
    pub const TRACE_STATE: &str = "trace_state";
    /// W3C trace flags and OTLP's remote-parent bits.
    pub const FLAGS: &str = "flags";
    /// Span or event name.
    pub const NAME: &str = "name";
    /// Span kind: `UNSPECIFIED`, `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER`, `CONSUMER`.
    pub const KIND: &str = "kind";
    /// Span start.
    pub const START_TIME: &str = "start_time";
    /// Span end.
    pub const END_TIME: &str = "end_time";
    /// Status: `UNSET`, `OK` or `ERROR`.
    pub const STATUS_CODE: &str = "status_code";
    /// Status message.
    pub const STATUS_MESSAGE: &str = "status_message";
    /// Attributes as a map of key to text.
    pub const ATTRIBUTES: &str = "attributes";
    /// Attributes the SDK dropped.
    pub const DROPPED_ATTRIBUTES_COUNT: &str = "dropped_attributes_count";
    /// Events the SDK dropped.
    pub const DROPPED_EVENTS_COUNT: &str = "dropped_events_count";
    /// Links the SDK dropped.
    pub const DROPPED_LINKS_COUNT: &str = "dropped_links_count";
    /// The resource's `service.name`, copied out for convenience.
    pub const SERVICE_NAME: &str = "service_name";
    /// Resource attributes.
    pub const RESOURCE_ATTRIBUTES: &str = "resource_attributes";
    /// Resource attributes the SDK dropped.
    pub const RESOURCE_DROPPED_ATTRIBUTES_COUNT: &str = "resource_dropped_attributes_count";
    /// Schema URL of the resource spans.
    pub const RESOURCE_SCHEMA_URL: &str = "resource_schema_url";
    /// Instrumentation scope name.
    pub const SCOPE_NAME: &str = "scope_name";
    /// Instrumentation scope version.
    pub const SCOPE_VERSION: &str = "scope_version";
    /// Instrumentation scope attributes.
    pub const SCOPE_ATTRIBUTES: &str = "scope_attributes";
    /// Scope attributes the SDK dropped.
    pub const SCOPE_DROPPED_ATTRIBUTES_COUNT: &str = "scope_dropped_attributes_count";
    /// Schema URL of the scope spans.
    pub const SCOPE_SCHEMA_URL: &str = "scope_schema_url";

    /// Clock owner: `causet.node`, else `service.instance.id`, else `service.name`.
    pub const NODE: &str = "node";
    /// Lamport time at span start (or at the event).
    pub const LAMPORT: &str = "lamport";
    /// HLC wall part at span start (or at the event).
    pub const HLC_WALL_NS: &str = "hlc_wall_ns";
    /// HLC logical part at span start (or at the event).
    pub const HLC_LOGICAL: &str = "hlc_logical";
    /// Vector clock at span start (or at the event), a map of node to counter.
    pub const VC: &str = "vc";
    /// Lamport time at span end.
    pub const END_LAMPORT: &str = "end_lamport";
    /// HLC wall part at span end.
    pub const END_HLC_WALL_NS: &str = "end_hlc_wall_ns";
    /// HLC logical part at span end.
    pub const END_HLC_LOGICAL: &str = "end_hlc_logical";
    /// Vector clock at span end.
    pub const END_VC: &str = "end_vc";
    /// Key written.
    pub const WRITE_KEY: &str = "write_key";
    /// Value written.
    pub const WRITE_VALUE: &str = "write_value";
    /// Key read.
    pub const READ_KEY: &str = "read_key";
    /// Value read.
    pub const READ_VALUE: &str = "read_value";
    /// Idempotency key of the logical request.
    pub const IDEMPOTENCY_KEY: &str = "idempotency_key";
    /// The server answered from its deduplication cache.
    pub const IDEMPOTENCY_REPLAYED: &str = "idempotency_replayed";
    /// Retry attempt number (0 = first).
    pub const RETRY_ATTEMPT: &str = "retry_attempt";
    /// Message id of a `causet.send` / `causet.receive`.
    pub const MSG_ID: &str = "msg_id";
    /// Why a clock attribute could not be parsed; the raw value stays in `attributes`.
    pub const CLOCK_ERROR: &str = "clock_error";

    /// Position of an event within its span (0-based, as exported).
    pub const EVENT_INDEX: &str = "event_index";
    /// Event time.
    pub const TIME: &str = "time";
    /// Position of a link within its span (0-based, as exported).
    pub const LINK_INDEX: &str = "link_index";
    /// Trace id the link points to.
    pub const LINKED_TRACE_ID: &str = "linked_trace_id";
    /// Span id the link points to.
    pub const LINKED_SPAN_ID: &str = "linked_span_id";

    /// Hive partition column: the span's start date, `YYYY-MM-DD` (UTC).
    pub const DATE: &str = "date";
    /// Hive partition column: the span's start hour, `HH` (UTC).
    pub const HOUR: &str = "hour";
}

/// Names of the fields inside a map column, as arrow's `MapBuilder` writes them.
pub mod map_fields {
    /// The entries struct.
    pub const ENTRIES: &str = "entries";
    /// The key field.
    pub const KEYS: &str = "keys";
    /// The value field.
    pub const VALUES: &str = "values";
}

/// Time zone of every time column: UTC, spelled as an offset so that Arrow
/// formats it without a time zone database.
pub const UTC: &str = "+00:00";

/// The timestamp type of every time column: nanoseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into()))
}

/// `Map<Utf8, value>` with the field names of [`map_fields`].
pub fn map_type(value: DataType) -> DataType {
    let entries = Field::new(
        map_fields::ENTRIES,
        DataType::Struct(Fields::from(vec![
            Field::new(map_fields::KEYS, DataType::Utf8, false),
            Field::new(map_fields::VALUES, value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// The type of attribute columns: key to text.
pub fn attributes_type() -> DataType {
    map_type(DataType::Utf8)
}

/// The type of vector clock columns: node to counter.
pub fn vc_type() -> DataType {
    map_type(DataType::UInt64)
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn with_version(fields: Vec<Field>) -> SchemaRef {
    let metadata = HashMap::from([(SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_owned())]);
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

/// The start-position clock columns, shared by spans and span events.
fn clock_fields() -> Vec<Field> {
    vec![
        Field::new(col::LAMPORT, DataType::UInt64, true),
        Field::new(col::HLC_WALL_NS, DataType::Int64, true),
        Field::new(col::HLC_LOGICAL, DataType::UInt32, true),
        Field::new(col::VC, vc_type(), true),
    ]
}

/// Write and read columns, shared by spans and span events.
fn access_fields() -> Vec<Field> {
    vec![
        utf8(col::WRITE_KEY, true),
        utf8(col::WRITE_VALUE, true),
        utf8(col::READ_KEY, true),
        utf8(col::READ_VALUE, true),
    ]
}

static SPANS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        utf8(col::TRACE_ID, false),
        utf8(col::SPAN_ID, false),
        utf8(col::PARENT_SPAN_ID, true),
        utf8(col::TRACE_STATE, true),
        Field::new(col::FLAGS, DataType::UInt32, false),
        utf8(col::NAME, false),
        utf8(col::KIND, false),
        Field::new(col::START_TIME, timestamp_type(), false),
        Field::new(col::END_TIME, timestamp_type(), false),
        utf8(col::STATUS_CODE, false),
        utf8(col::STATUS_MESSAGE, true),
        Field::new(col::ATTRIBUTES, attributes_type(), false),
        Field::new(col::DROPPED_ATTRIBUTES_COUNT, DataType::UInt32, false),
        Field::new(col::DROPPED_EVENTS_COUNT, DataType::UInt32, false),
        Field::new(col::DROPPED_LINKS_COUNT, DataType::UInt32, false),
        utf8(col::SERVICE_NAME, true),
        Field::new(col::RESOURCE_ATTRIBUTES, attributes_type(), false),
        Field::new(
            col::RESOURCE_DROPPED_ATTRIBUTES_COUNT,
            DataType::UInt32,
            false,
        ),
        utf8(col::RESOURCE_SCHEMA_URL, true),
        utf8(col::SCOPE_NAME, true),
        utf8(col::SCOPE_VERSION, true),
        Field::new(col::SCOPE_ATTRIBUTES, attributes_type(), false),
        Field::new(col::SCOPE_DROPPED_ATTRIBUTES_COUNT, DataType::UInt32, false),
        utf8(col::SCOPE_SCHEMA_URL, true),
        utf8(col::NODE, false),
    ];
    fields.extend(clock_fields());
    fields.extend([
        Field::new(col::END_LAMPORT, DataType::UInt64, true),
        Field::new(col::END_HLC_WALL_NS, DataType::Int64, true),
        Field::new(col::END_HLC_LOGICAL, DataType::UInt32, true),
        Field::new(col::END_VC, vc_type(), true),
    ]);
    fields.extend(access_fields());
    fields.extend([
        utf8(col::IDEMPOTENCY_KEY, true),
        Field::new(col::IDEMPOTENCY_REPLAYED, DataType::Boolean, true),
        Field::new(col::RETRY_ATTEMPT, DataType::Int64, true),
        utf8(col::MSG_ID, true),
        utf8(col::CLOCK_ERROR, true),
    ]);
    with_version(fields)
});

static SPAN_EVENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        utf8(col::TRACE_ID, false),
        utf8(col::SPAN_ID, false),
        Field::new(col::EVENT_INDEX, DataType::UInt32, false),
        Field::new(col::TIME, timestamp_type(), false),
        utf8(col::NAME, false),
        Field::new(col::ATTRIBUTES, attributes_type(), false),
        Field::new(col::DROPPED_ATTRIBUTES_COUNT, DataType::UInt32, false),
        utf8(col::NODE, false),
    ];
    fields.extend(clock_fields());
    fields.extend(access_fields());
    fields.extend([utf8(col::MSG_ID, true), utf8(col::CLOCK_ERROR, true)]);
    with_version(fields)
});

static SPAN_LINKS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    with_version(vec![
        utf8(col::TRACE_ID, false),
        utf8(col::SPAN_ID, false),
        Field::new(col::LINK_INDEX, DataType::UInt32, false),
        utf8(col::LINKED_TRACE_ID, false),
        utf8(col::LINKED_SPAN_ID, false),
        utf8(col::TRACE_STATE, true),
        Field::new(col::FLAGS, DataType::UInt32, false),
        Field::new(col::ATTRIBUTES, attributes_type(), false),
        Field::new(col::DROPPED_ATTRIBUTES_COUNT, DataType::UInt32, false),
    ])
});

/// Schema of `spans`: one row per span.
pub fn spans_schema() -> SchemaRef {
    Arc::clone(&SPANS_SCHEMA)
}

/// Schema of `span_events`: one row per span event.
pub fn span_events_schema() -> SchemaRef {
    Arc::clone(&SPAN_EVENTS_SCHEMA)
}

/// Schema of `span_links`: one row per span link.
pub fn span_links_schema() -> SchemaRef {
    Arc::clone(&SPAN_LINKS_SCHEMA)
}

/// The schema of an ingested table by name.
pub fn schema_for(table: &str) -> Option<SchemaRef> {
    match table {
        SPANS => Some(spans_schema()),
        SPAN_EVENTS => Some(span_events_schema()),
        SPAN_LINKS => Some(span_links_schema()),
        _ => None,
    }
}

/// The schema version recorded in `schema`'s metadata, if any.
pub fn schema_version(schema: &Schema) -> Option<&str> {
    schema
        .metadata()
        .get(SCHEMA_VERSION_KEY)
        .map(String::as_str)
}

/// How every Parquet file of the ingested tables is written: the
/// collector's flushes, compaction and generated datasets.
///
/// - zstd level 1: compression was a fifth of the flusher's CPU at level 3.
/// - No dictionaries. Interning every value (hashing it, comparing it with
///   its match) was a quarter of the flusher's CPU, and behind zstd they do
///   not even make the files smaller: plain pages of repeated text compress
///   as well as dictionary indices do. `cargo bench -p causet-bench --bench
///   ingest -- parquet` (BENCHMARKS.md, Ingest): writing 0.71x the time,
///   files 0.90x the bytes, reading them back within noise.
/// - No min/max statistics where they prune nothing: ids (random hex) and
///   map entries (attributes and vector clocks). Times, nodes and the other
///   columns keep theirs.
pub fn parquet_properties() -> parquet::file::properties::WriterPropertiesBuilder {
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::{EnabledStatistics, WriterProperties};

    // Level 1 is always valid; the fallback is unreachable.
    let zstd = ZstdLevel::try_new(1).unwrap_or_default();
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_dictionary_enabled(false);
    for path in unprunable_columns() {
        builder = builder.set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    builder
}

/// The Parquet columns written without statistics: ids, and the leaves of
/// every map column.
fn unprunable_columns() -> Vec<parquet::schema::types::ColumnPath> {
    use parquet::schema::types::ColumnPath;

    let ids = [
        col::TRACE_ID,
        col::SPAN_ID,
        col::PARENT_SPAN_ID,
        col::LINKED_TRACE_ID,
        col::LINKED_SPAN_ID,
        col::IDEMPOTENCY_KEY,
        col::MSG_ID,
    ];
    let maps = [
        col::ATTRIBUTES,
        col::RESOURCE_ATTRIBUTES,
        col::SCOPE_ATTRIBUTES,
        col::VC,
        col::END_VC,
    ];
    let entries = maps.into_iter().flat_map(|map| {
        [map_fields::KEYS, map_fields::VALUES]
            .map(|leaf| ColumnPath::new(vec![map.into(), map_fields::ENTRIES.into(), leaf.into()]))
    });
    ids.into_iter()
        .map(ColumnPath::from)
        .chain(entries)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line per column: the contract readers rely on. A change here is a
    /// schema change: bump [`SCHEMA_VERSION`] and review the snapshot.
    fn describe(schema: &Schema) -> String {
        let mut out = format!("version {}\n", schema_version(schema).unwrap_or("none"));
        for f in schema.fields() {
            let null = if f.is_nullable() { "null" } else { "not null" };
            out.push_str(&format!("{}: {} {null}\n", f.name(), f.data_type()));
        }
        out
    }

    #[test]
    fn spans_schema_snapshot() {
        insta::assert_snapshot!(describe(&spans_schema()));
    }

    #[test]
    fn span_events_schema_snapshot() {
        insta::assert_snapshot!(describe(&span_events_schema()));
    }

    #[test]
    fn span_links_schema_snapshot() {
        insta::assert_snapshot!(describe(&span_links_schema()));
    }

    #[test]
    fn schema_for_knows_every_ingested_table() {
        for table in INGESTED_TABLES {
            let schema = schema_for(table).expect(table);
            assert_eq!(schema_version(&schema), Some(SCHEMA_VERSION));
        }
        assert!(schema_for("nope").is_none());
    }

    /// Every column named in the writer properties is a leaf of some
    /// ingested table's Parquet schema (a misspelt path would silently
    /// keep its statistics), the time columns keep theirs, and no column
    /// has a dictionary.
    #[test]
    fn statistics_are_off_exactly_where_named() {
        use parquet::arrow::ArrowSchemaConverter;
        use parquet::file::properties::EnabledStatistics;
        use parquet::schema::types::ColumnPath;

        let props = parquet_properties().build();
        let mut leaves = Vec::new();
        for table in INGESTED_TABLES {
            let schema = schema_for(table).expect(table);
            let descr = ArrowSchemaConverter::new().convert(&schema).unwrap();
            leaves.extend(descr.columns().iter().map(|c| c.path().clone()));
        }
        for path in unprunable_columns() {
            assert!(leaves.contains(&path), "{path} is no column");
            assert_eq!(props.statistics_enabled(&path), EnabledStatistics::None);
        }
        for kept in [col::START_TIME, col::TIME, col::NODE, col::SERVICE_NAME] {
            let path = ColumnPath::from(kept);
            assert!(leaves.contains(&path));
            assert_eq!(props.statistics_enabled(&path), EnabledStatistics::Page);
        }
        for path in &leaves {
            assert!(!props.dictionary_enabled(path), "{path} has a dictionary");
        }
    }

    #[test]
    fn column_names_are_unique_per_table() {
        for table in INGESTED_TABLES {
            let schema = schema_for(table).expect(table);
            let mut names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let before = names.len();
            names.sort();
            names.dedup();
            assert_eq!(before, names.len(), "duplicate column in {table}");
        }
    }
}
