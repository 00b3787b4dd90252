//! `happens_before(a, b)` and `concurrent(a, b)`: the two yes/no questions
//! `vc_compare` answers in full, as predicates for `WHERE` clauses.

use std::sync::{Arc, LazyLock};

use arrow::array::BooleanArray;
use arrow::datatypes::DataType;
use causet_schema::clocks::CausalOrder;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{binary_relation, check_vc_type, output, rows_of};

/// A predicate over two vector clocks: true when `vc_compare(a, b)` is `order`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VcPredicate {
    name: &'static str,
    order: CausalOrder,
    signature: Signature,
}

impl VcPredicate {
    /// `happens_before(a, b)`: a's event happened before b's.
    pub fn happens_before() -> Self {
        Self::new("happens_before", CausalOrder::Before)
    }

    /// `concurrent(a, b)`: neither event happened before the other.
    pub fn concurrent() -> Self {
        Self::new("concurrent", CausalOrder::Concurrent)
    }

    fn new(name: &'static str, order: CausalOrder) -> Self {
        VcPredicate {
            name,
            order,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn doc(name: &str, description: &str, example: &str) -> Documentation {
    Documentation::builder(super::DOC_SECTION, description, format!("{name}(a, b)"))
        .with_argument(
            "a",
            "A vector clock: a map of node to counter or a JSON object string.",
        )
        .with_argument("b", "A vector clock, as `a`.")
        .with_sql_example(format!("```sql\n> SELECT {example};\n-- true\n```"))
        .with_related_udf("vc_compare")
        .build()
}

static HAPPENS_BEFORE_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "happens_before",
        "True when the event stamped with vector clock `a` happens before the event stamped `b`: every entry of `a` is at most `b`'s, and the clocks differ.",
        r#"happens_before('{"a":1}', '{"a":2}')"#,
    )
});

static CONCURRENT_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    doc(
        "concurrent",
        "True when neither of the events stamped `a` and `b` happens before the other: each clock has an entry larger than the other's.",
        r#"concurrent('{"a":1}', '{"b":1}')"#,
    )
});

impl ScalarUDFImpl for VcPredicate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        for (i, ty) in arg_types.iter().enumerate() {
            check_vc_type(self.name, i + 1, ty)?;
        }
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = rows_of(&args.args, args.number_rows);
        let values = binary_relation(self.name, &args.args, rows, |o| o == self.order)?;
        output(&args.args, Arc::new(BooleanArray::from(values)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.order {
            CausalOrder::Before => &HAPPENS_BEFORE_DOC,
            _ => &CONCURRENT_DOC,
        })
    }
}
