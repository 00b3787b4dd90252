//! `vc_compare(a, b)`.

use std::sync::{Arc, LazyLock};

use arrow::array::StringArray;
use arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{binary_relation, check_vc_type, output, rows_of};

/// How two vector clocks relate: `before`, `after`, `equal` or `concurrent`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VcCompare {
    signature: Signature,
}

impl VcCompare {
    /// The UDF.
    pub fn new() -> Self {
        VcCompare {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for VcCompare {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        super::DOC_SECTION,
        "How the event stamped with vector clock `a` relates to the event stamped `b` under happens-before: 'before', 'after', 'equal' or 'concurrent'. A missing entry counts as 0.",
        "vc_compare(a, b)",
    )
    .with_argument("a", "A vector clock: a map of node to counter (`vc`, `end_vc`, `derived_vc`) or a JSON object string.")
    .with_argument("b", "A vector clock, as `a`.")
    .with_sql_example(
        r#"```sql
> SELECT vc_compare('{"a":1}', '{"a":1,"b":2}');
+---------------------------------------------------+
| vc_compare(Utf8("{"a":1}"),Utf8("{"a":1,"b":2}")) |
+---------------------------------------------------+
| before                                            |
+---------------------------------------------------+
```"#,
    )
    .build()
});

impl ScalarUDFImpl for VcCompare {
    fn name(&self) -> &str {
        "vc_compare"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        for (i, ty) in arg_types.iter().enumerate() {
            check_vc_type(self.name(), i + 1, ty)?;
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let values = binary_relation(self.name(), &args.args, rows, |o| o.as_str())?;
        output(&args.args, Arc::new(StringArray::from(values)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
