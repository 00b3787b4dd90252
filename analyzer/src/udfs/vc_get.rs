//! `vc_get(vc, node)`.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, UInt64Array};
use arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{check_vc_type, output, rows_of, vcs};

/// A node's counter in a vector clock; 0 when the clock has no entry for it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VcGet {
    signature: Signature,
}

impl VcGet {
    /// The UDF.
    pub fn new() -> Self {
        VcGet {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for VcGet {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        super::DOC_SECTION,
        "The counter of `node` in vector clock `vc`; 0 when the clock has no entry for it, NULL when either argument is NULL.",
        "vc_get(vc, node)",
    )
    .with_argument("vc", "A vector clock: a map of node to counter or a JSON object string.")
    .with_argument("node", "A node name.")
    .with_sql_example("```sql\n> SELECT vc_get('{\"a\":3}', 'a'), vc_get('{\"a\":3}', 'b');\n-- 3, 0\n```")
    .build()
});

impl ScalarUDFImpl for VcGet {
    fn name(&self) -> &str {
        "vc_get"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        check_vc_type(self.name(), 1, &arg_types[0])?;
        match &arg_types[1] {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                Ok(DataType::UInt64)
            }
            other => plan_err!("vc_get: argument 2 must be a node name (a string), got {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let clocks = vcs(self.name(), &args.args[0], rows)?;
        let nodes = arrow::compute::cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let nodes = nodes.as_string::<i32>();
        let values: UInt64Array = clocks
            .iter()
            .enumerate()
            .map(|(i, vc)| Some(vc.as_ref()?.get(nodes.is_valid(i).then(|| nodes.value(i))?)))
            .collect();
        output(&args.args, Arc::new(values))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
