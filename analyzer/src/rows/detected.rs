//! What the detectors found and estimated, as the rows of `findings`,
//! `incidents`, `node_offsets` and `node_phi`: each table's name, schema
//! and batch, from the engine's typed output. Ids become hex and evidence
//! JSON text here, where they cross into SQL.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, Float64Array, Int64Array, Int64Builder, ListBuilder, RecordBatch, StringArray,
    StringBuilder, TimestampNanosecondArray, TimestampNanosecondBuilder, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use causet_schema::tables::{self, UTC, timestamp_type};

use crate::detect::Finding;
use crate::detect::heartbeats::PhiSample;
use crate::detect::offsets::NodeOffset;
use crate::error::Result;
use crate::incidents::Incident;

/// Names of the `findings` table, its views and their columns.
pub mod names {
    /// Table: every finding.
    pub const FINDINGS: &str = "findings";
    /// View: clock findings.
    pub const CLOCK_FINDINGS: &str = "clock_findings";
    /// View: write conflicts.
    pub const WRITE_CONFLICTS: &str = "write_conflicts";
    /// View: retry findings.
    pub const RETRY_FINDINGS: &str = "retry_findings";
    /// View: failure findings (`suspected`, `partition`,
    /// `node_unreachable`, `gray_failure`).
    pub const FAILURE_FINDINGS: &str = "failure_findings";
    /// Table: estimated node clock offsets.
    pub const NODE_OFFSETS: &str = "node_offsets";
    /// Table: findings grouped by cause.
    pub const INCIDENTS: &str = "incidents";
    /// Table: phi-accrual suspicion at each heartbeat's arrival.
    pub const NODE_PHI: &str = "node_phi";
}

static FINDINGS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let list = || DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("time", timestamp_type(), false),
        Field::new("trace_ids", list(), false),
        Field::new("span_ids", list(), false),
        Field::new("nodes", list(), false),
        Field::new("key", DataType::Utf8, true),
        Field::new("magnitude", DataType::Int64, true),
        Field::new("summary", DataType::Utf8, false),
        Field::new("evidence", DataType::Utf8, false),
        Field::new("witness", DataType::Utf8, false),
        Field::new("incident_id", DataType::Utf8, false),
    ]))
});

/// Schema of `findings`.
pub fn findings_schema() -> SchemaRef {
    Arc::clone(&FINDINGS_SCHEMA)
}

/// `findings` as a batch, each with its incident's id.
pub fn findings_batch(findings: &[Finding], incidents: &[Incident]) -> Result<RecordBatch> {
    let of = crate::incidents::of_findings(incidents, findings.len());
    let (mut kind, mut severity, mut key, mut summary, mut evidence, mut witness) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut time = TimestampNanosecondBuilder::new().with_timezone(tables::UTC);
    let (mut traces, mut spans, mut nodes) = (
        ListBuilder::new(StringBuilder::new()),
        ListBuilder::new(StringBuilder::new()),
        ListBuilder::new(StringBuilder::new()),
    );
    let mut magnitude = Int64Builder::new();
    for f in findings {
        kind.append_value(f.kind.as_str());
        severity.append_value(f.severity.as_str());
        time.append_value(f.time);
        for (builder, values) in [
            (&mut traces, &f.trace_ids),
            (&mut spans, &f.span_ids),
            (&mut nodes, &f.nodes),
        ] {
            for v in values {
                builder.values().append_value(v);
            }
            builder.append(true);
        }
        key.append_option(f.key.as_deref());
        magnitude.append_option(f.magnitude);
        summary.append_value(&f.summary);
        evidence.append_value(f.evidence.to_string());
        witness.append_value(f.witness.to_string());
    }
    let incident_id: StringArray = of
        .iter()
        .map(|&n| incidents.get(n as usize).map(|i| i.id.as_str()))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind.finish()),
        Arc::new(severity.finish()),
        Arc::new(time.finish()),
        Arc::new(traces.finish()),
        Arc::new(spans.finish()),
        Arc::new(nodes.finish()),
        Arc::new(key.finish()),
        Arc::new(magnitude.finish()),
        Arc::new(summary.finish()),
        Arc::new(evidence.finish()),
        Arc::new(witness.finish()),
        Arc::new(incident_id),
    ];
    Ok(RecordBatch::try_new(findings_schema(), columns)?)
}

static INCIDENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let list = || DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    Arc::new(Schema::new(vec![
        Field::new("incident_id", DataType::Utf8, false),
        Field::new("rank", DataType::Int64, false),
        Field::new("cause", DataType::Utf8, false),
        Field::new("anchor", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("first_seen", timestamp_type(), false),
        Field::new("last_seen", timestamp_type(), false),
        Field::new("findings", DataType::Int64, false),
        Field::new("counts", DataType::Utf8, false),
        Field::new("nodes", list(), false),
        Field::new("keys", list(), false),
        Field::new("summary", DataType::Utf8, false),
        Field::new("witness_kind", DataType::Utf8, false),
        Field::new("witness_summary", DataType::Utf8, false),
        Field::new("witness_trace_ids", list(), false),
        Field::new("witness_span_ids", list(), false),
    ]))
});

/// Schema of `incidents`.
pub fn incidents_schema() -> SchemaRef {
    Arc::clone(&INCIDENTS_SCHEMA)
}

/// `incidents` as a batch: one row per incident, ranked (1 is the worst);
/// `counts` is a JSON object of findings per kind; the witness is the
/// incident's best finding.
pub fn incidents_batch(incidents: &[Incident], findings: &[Finding]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&Incident) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(incidents.iter().map(f)))
    };
    let time = |f: &dyn Fn(&Incident) -> i64| -> ArrayRef {
        Arc::new(
            TimestampNanosecondArray::from_iter_values(incidents.iter().map(f)).with_timezone(UTC),
        )
    };
    let lists = |f: &dyn Fn(&Incident) -> Vec<String>| -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for incident in incidents {
            for v in f(incident) {
                builder.values().append_value(v);
            }
            builder.append(true);
        }
        Arc::new(builder.finish())
    };
    let best = |i: &Incident| &findings[i.best()];
    let columns: Vec<ArrayRef> = vec![
        text(&|i| i.id.clone()),
        Arc::new(Int64Array::from_iter_values(1..=incidents.len() as i64)),
        text(&|i| i.cause.to_string()),
        text(&|i| i.anchor.clone()),
        text(&|i| i.severity.to_string()),
        time(&|i| i.first_ns),
        time(&|i| i.last_ns),
        Arc::new(Int64Array::from_iter_values(
            incidents.iter().map(|i| i.findings.len() as i64),
        )),
        text(&|i| serde_json::to_string(&i.counts).unwrap_or_default()),
        lists(&|i| i.nodes.clone()),
        lists(&|i| i.keys.clone()),
        text(&|i| i.summary.clone()),
        text(&|i| best(i).kind.to_string()),
        text(&|i| best(i).summary.clone()),
        lists(&|i| best(i).trace_ids.clone()),
        lists(&|i| best(i).span_ids.clone()),
    ];
    Ok(RecordBatch::try_new(incidents_schema(), columns)?)
}

static OFFSETS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("window_start", timestamp_type(), false),
        Field::new("node", DataType::Utf8, false),
        Field::new("reference", DataType::Utf8, false),
        Field::new("lower_ns", DataType::Int64, true),
        Field::new("upper_ns", DataType::Int64, true),
        Field::new("verdict", DataType::Utf8, false),
        Field::new("rpc_pairs", DataType::UInt64, false),
    ]))
});

/// Schema of `node_offsets`.
pub fn offsets_schema() -> SchemaRef {
    Arc::clone(&OFFSETS_SCHEMA)
}

pub fn offsets_batch(offsets: &[NodeOffset]) -> Result<RecordBatch> {
    let window: TimestampNanosecondArray = offsets.iter().map(|o| Some(o.window_start)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(window.with_timezone(UTC)),
        Arc::new(StringArray::from_iter_values(
            offsets.iter().map(|o| o.node.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            offsets.iter().map(|o| o.reference.as_str()),
        )),
        Arc::new(Int64Array::from_iter(offsets.iter().map(|o| o.lower_ns))),
        Arc::new(Int64Array::from_iter(offsets.iter().map(|o| o.upper_ns))),
        Arc::new(StringArray::from_iter_values(
            offsets.iter().map(|o| o.verdict.as_str()),
        )),
        Arc::new(UInt64Array::from_iter_values(
            offsets.iter().map(|o| o.rpc_pairs),
        )),
    ];
    Ok(RecordBatch::try_new(offsets_schema(), columns)?)
}

static PHI_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("monitor", DataType::Utf8, false),
        Field::new("node", DataType::Utf8, false),
        Field::new("time", timestamp_type(), false),
        Field::new("phi", DataType::Float64, false),
    ]))
});

/// Schema of `node_phi`: per heartbeat arrival, the monitor's suspicion of
/// the node just before it (see [`crate::detect::heartbeats`]).
pub fn phi_schema() -> SchemaRef {
    Arc::clone(&PHI_SCHEMA)
}

pub fn phi_batch(phi: &[PhiSample]) -> Result<RecordBatch> {
    let at: TimestampNanosecondArray = phi.iter().map(|p| Some(p.at)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            phi.iter().map(|p| p.monitor.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            phi.iter().map(|p| p.node.as_str()),
        )),
        Arc::new(at.with_timezone(UTC)),
        Arc::new(Float64Array::from_iter_values(phi.iter().map(|p| p.phi))),
    ];
    Ok(RecordBatch::try_new(phi_schema(), columns)?)
}
