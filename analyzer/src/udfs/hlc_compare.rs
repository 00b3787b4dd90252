//! `hlc_compare(wall_a, logical_a, wall_b, logical_b)`.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, Int32Array};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{output, rows_of};

/// Orders two HLC timestamps: -1, 0 or 1, like a comparator.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HlcCompare {
    signature: Signature,
}

impl HlcCompare {
    /// The UDF.
    pub fn new() -> Self {
        HlcCompare {
            signature: Signature::uniform(4, vec![DataType::Int64], Volatility::Immutable),
        }
    }
}

impl Default for HlcCompare {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        super::DOC_SECTION,
        "Orders HLC timestamp (wall_a, logical_a) against (wall_b, logical_b): -1 if a is earlier, 0 if equal, 1 if later. HLC order is total and respects happens-before (e -> f implies hlc(e) < hlc(f)), but an earlier HLC does not prove happens-before. A NULL logical part counts as 0; a NULL wall part gives NULL.",
        "hlc_compare(wall_a, logical_a, wall_b, logical_b)",
    )
    .with_argument("wall_a", "HLC wall part of a (`hlc_wall_ns`), nanoseconds.")
    .with_argument("logical_a", "HLC logical part of a (`hlc_logical`).")
    .with_argument("wall_b", "HLC wall part of b.")
    .with_argument("logical_b", "HLC logical part of b.")
    .with_sql_example("```sql\n> SELECT hlc_compare(100, 2, 100, 5);\n-- -1\n```")
    .build()
});

impl ScalarUDFImpl for HlcCompare {
    fn name(&self) -> &str {
        "hlc_compare"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let [wa, la, wb, lb] = [0, 1, 2, 3].map(|i| arrays[i].as_primitive::<Int64Type>());
        let values: Int32Array = (0..rows)
            .map(|i| {
                if wa.is_null(i) || wb.is_null(i) {
                    return None;
                }
                let logical =
                    |l: &arrow::array::Int64Array| if l.is_null(i) { 0 } else { l.value(i) };
                let a = (wa.value(i), logical(la));
                let b = (wb.value(i), logical(lb));
                Some(a.cmp(&b) as i32)
            })
            .collect();
        output(&args.args, Arc::new(values))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
