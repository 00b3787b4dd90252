//! `vc_merge(a, b)`.

use std::sync::LazyLock;

use arrow::array::{MapBuilder, StringBuilder, UInt64Builder};
use arrow::datatypes::DataType;
use causet_schema::tables::vc_type;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{check_vc_type, output, rows_of, vcs};

/// The pointwise maximum of two vector clocks: the earliest clock after both.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VcMerge {
    signature: Signature,
}

impl VcMerge {
    /// The UDF.
    pub fn new() -> Self {
        VcMerge {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for VcMerge {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        super::DOC_SECTION,
        "The pointwise maximum of two vector clocks (their least upper bound), as a map of node to counter.",
        "vc_merge(a, b)",
    )
    .with_argument("a", "A vector clock: a map of node to counter or a JSON object string.")
    .with_argument("b", "A vector clock, as `a`.")
    .with_sql_example("```sql\n> SELECT vc_merge('{\"a\":3,\"b\":1}', '{\"b\":4}');\n-- {a: 3, b: 4}\n```")
    .build()
});

impl ScalarUDFImpl for VcMerge {
    fn name(&self) -> &str {
        "vc_merge"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        for (i, ty) in arg_types.iter().enumerate() {
            check_vc_type(self.name(), i + 1, ty)?;
        }
        Ok(vc_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let (a, b) = (
            vcs(self.name(), &args.args[0], rows)?,
            vcs(self.name(), &args.args[1], rows)?,
        );
        let mut builder = MapBuilder::new(None, StringBuilder::new(), UInt64Builder::new());
        for (a, b) in a.iter().zip(&b) {
            match (a, b) {
                (Some(a), Some(b)) => {
                    for (node, counter) in a.merged(b).iter() {
                        builder.keys().append_value(node);
                        builder.values().append_value(counter);
                    }
                    builder.append(true)?;
                }
                _ => builder.append(false)?,
            }
        }
        output(&args.args, std::sync::Arc::new(builder.finish()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
