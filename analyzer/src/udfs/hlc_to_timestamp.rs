//! `hlc_to_timestamp(wall_ns)`.

use std::sync::{Arc, LazyLock};

use arrow::array::{AsArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Int64Type};
use causet_schema::tables::{UTC, timestamp_type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{output, rows_of};

/// An HLC wall part as a UTC timestamp.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HlcToTimestamp {
    signature: Signature,
}

impl HlcToTimestamp {
    /// The UDF.
    pub fn new() -> Self {
        HlcToTimestamp {
            signature: Signature::uniform(1, vec![DataType::Int64], Volatility::Immutable),
        }
    }
}

impl Default for HlcToTimestamp {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        super::DOC_SECTION,
        "The wall part of an HLC timestamp (nanoseconds since the Unix epoch) as a UTC timestamp, to compare with span times.",
        "hlc_to_timestamp(wall_ns)",
    )
    .with_argument("wall_ns", "HLC wall part (`hlc_wall_ns`).")
    .with_sql_example("```sql\n> SELECT hlc_to_timestamp(1795600800000000000);\n-- 2026-11-25T10:00:00Z\n```")
    .build()
});

impl ScalarUDFImpl for HlcToTimestamp {
    fn name(&self) -> &str {
        "hlc_to_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let walls = args.args[0].to_array(rows)?;
        let values: TimestampNanosecondArray = walls.as_primitive::<Int64Type>().iter().collect();
        output(&args.args, Arc::new(values.with_timezone(UTC)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
