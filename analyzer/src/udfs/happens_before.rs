//! `happens_before(a, b)`.

use std::sync::{Arc, LazyLock};

use arrow::array::BooleanArray;
use arrow::datatypes::DataType;
use causet_schema::clocks::CausalOrder;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{binary_relation, check_vc_type, output, rows_of};

/// True when the event stamped with vector clock `a` happens before the event stamped `b`: every entry of `a` is at most `b`'s, and the clocks differ.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HappensBefore {
    signature: Signature,
}

impl HappensBefore {
    /// The UDF.
    pub fn new() -> Self {
        HappensBefore {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl Default for HappensBefore {
    fn default() -> Self {
        Self::new()
    }
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(super::DOC_SECTION, "True when the event stamped with vector clock `a` happens before the event stamped `b`: every entry of `a` is at most `b`'s, and the clocks differ.", "happens_before(a, b)")
        .with_argument("a", "A vector clock: a map of node to counter or a JSON object string.")
        .with_argument("b", "A vector clock, as `a`.")
        .with_sql_example("```sql\n> SELECT happens_before('{\"a\":1}', '{\"a\":2}');\n-- true\n```")
        .with_related_udf("vc_compare")
        .build()
});

impl ScalarUDFImpl for HappensBefore {
    fn name(&self) -> &str {
        "happens_before"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        for (i, ty) in arg_types.iter().enumerate() {
            check_vc_type(self.name(), i + 1, ty)?;
        }
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let values = binary_relation(self.name(), &args.args, rows, |o| o == CausalOrder::Before)?;
        output(&args.args, Arc::new(BooleanArray::from(values)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
