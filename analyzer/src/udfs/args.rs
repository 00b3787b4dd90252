//! Reading clock arguments: maps or JSON strings, arrays or scalars, NULLs.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use causet_schema::clocks::{CausalOrder, VectorClock};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;

use crate::graph::load::vc_at;

/// Checks at planning time that `ty` can hold a vector clock.
pub fn check_vc_type(function: &str, position: usize, ty: &DataType) -> Result<()> {
    match ty {
        DataType::Map(..)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Null => Ok(()),
        other => plan_err!(
            "{function}: argument {position} must be a vector clock (a map of node to counter, or a JSON object string), got {other}"
        ),
    }
}

/// The vector clocks of one argument, one per row.
pub fn vcs(function: &str, arg: &ColumnarValue, rows: usize) -> Result<Vec<Option<VectorClock>>> {
    let array = arg.to_array(rows)?;
    match array.data_type() {
        DataType::Null => Ok(vec![None; rows]),
        DataType::Map(..) => Ok((0..array.len()).map(|i| vc_at(array.as_map(), i)).collect()),
        _ => {
            let strings: ArrayRef = arrow::compute::cast(&array, &DataType::Utf8)?;
            let strings = strings.as_string::<i32>();
            (0..strings.len())
                .map(|i| {
                    if strings.is_null(i) {
                        return Ok(None);
                    }
                    match VectorClock::parse_json(function, strings.value(i)) {
                        Ok(vc) => Ok(Some(vc)),
                        Err(e) => exec_err!("{e}"),
                    }
                })
                .collect()
        }
    }
}

/// Applies `f` to the two vector-clock arguments row by row; NULL in, NULL out.
pub fn binary_relation<T>(
    function: &str,
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(CausalOrder) -> T,
) -> Result<Vec<Option<T>>> {
    let (a, b) = (
        vcs(function, &args[0], rows)?,
        vcs(function, &args[1], rows)?,
    );
    Ok(a.iter()
        .zip(&b)
        .map(|(a, b)| Some(f(a.as_ref()?.compare(b.as_ref()?))))
        .collect())
}

/// The number of rows to produce: 1 when every argument is a scalar.
pub fn rows_of(args: &[ColumnarValue], number_rows: usize) -> usize {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        1
    } else {
        number_rows
    }
}

/// Wraps a result array: a scalar when every argument was one.
pub fn output(args: &[ColumnarValue], array: ArrayRef) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        Ok(ColumnarValue::Scalar(
            datafusion::common::ScalarValue::try_from_array(&array, 0)?,
        ))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}
