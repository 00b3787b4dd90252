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
/// Two map columns (how clocks are stored) are compared in place, without
/// building a [`VectorClock`] per row: a self-join comparing every pair of
/// writes to a key calls this millions of times.
pub fn binary_relation<T>(
    function: &str,
    args: &[ColumnarValue],
    rows: usize,
    f: impl Fn(CausalOrder) -> T,
) -> Result<Vec<Option<T>>> {
    let (a, b) = (args[0].to_array(rows)?, args[1].to_array(rows)?);
    if let (Some(x), Some(y)) = (MapClocks::of(&a), MapClocks::of(&b)) {
        return Ok((0..rows).map(|i| Some(f(x.compare(i, &y, i)?))).collect());
    }
    let (a, b) = (
        vcs(function, &ColumnarValue::Array(a), rows)?,
        vcs(function, &ColumnarValue::Array(b), rows)?,
    );
    Ok(a.iter()
        .zip(&b)
        .map(|(a, b)| Some(f(a.as_ref()?.compare(b.as_ref()?))))
        .collect())
}

/// A map column of node -> counter, read in place.
struct MapClocks<'a> {
    map: &'a arrow::array::MapArray,
    keys: &'a arrow::array::StringArray,
    values: &'a arrow::array::UInt64Array,
}

/// Above this many entry pairs a row is compared through [`VectorClock`]
/// (sorted merge) instead of by lookups.
const LOOKUP_PAIRS: usize = 4096;

impl<'a> MapClocks<'a> {
    fn of(array: &'a ArrayRef) -> Option<MapClocks<'a>> {
        let map = array.as_map_opt()?;
        Some(MapClocks {
            map,
            keys: map.keys().as_string_opt::<i32>()?,
            values: map
                .values()
                .as_primitive_opt::<arrow::datatypes::UInt64Type>()?,
        })
    }

    /// Row `i`'s entries with a counter, as index ranges into keys/values.
    fn entries(&self, i: usize) -> Option<std::ops::Range<usize>> {
        if self.map.is_null(i) {
            return None;
        }
        let offsets = self.map.value_offsets();
        Some(offsets[i] as usize..offsets[i + 1] as usize)
    }

    /// The counter of `node` in row entries `range` (0 when absent).
    fn get(&self, range: &std::ops::Range<usize>, node: &str) -> u64 {
        range
            .clone()
            .find(|&j| self.values.is_valid(j) && self.keys.value(j) == node)
            .map_or(0, |j| self.values.value(j))
    }

    /// Whether every counter of row `a` here is at most the same node's in `b`.
    fn le(
        &self,
        a: &std::ops::Range<usize>,
        other: &MapClocks<'_>,
        b: &std::ops::Range<usize>,
    ) -> bool {
        a.clone().all(|j| {
            !self.values.is_valid(j) || self.values.value(j) <= other.get(b, self.keys.value(j))
        })
    }

    fn compare(&self, i: usize, other: &MapClocks<'_>, k: usize) -> Option<CausalOrder> {
        let (a, b) = (self.entries(i)?, other.entries(k)?);
        if a.len() * b.len() > LOOKUP_PAIRS {
            return Some(vc_at(self.map, i)?.compare(&vc_at(other.map, k)?));
        }
        Some(match (self.le(&a, other, &b), other.le(&b, self, &a)) {
            (true, true) => CausalOrder::Equal,
            (true, false) => CausalOrder::Before,
            (false, true) => CausalOrder::After,
            (false, false) => CausalOrder::Concurrent,
        })
    }
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
