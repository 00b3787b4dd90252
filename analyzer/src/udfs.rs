//! Scalar functions over clocks. [`register_all`] is the one entry point
//! the CLI, the tests and the benches use.
//!
//! Vector clock arguments are `Map<Utf8, UInt64>` columns (`vc`, `end_vc`,
//! `derived_vc`) or JSON strings like `'{"a":1,"b":2}'`. NULL in gives NULL
//! out; a malformed clock is an execution error naming the value.

mod args;
mod hlc_compare;
mod hlc_to_timestamp;
mod vc_compare;
mod vc_get;
mod vc_merge;
mod vc_predicates;

use datafusion::logical_expr::{DocSection, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use hlc_compare::HlcCompare;
pub use hlc_to_timestamp::HlcToTimestamp;
pub use vc_compare::VcCompare;
pub use vc_get::VcGet;
pub use vc_merge::VcMerge;
pub use vc_predicates::VcPredicate;

/// The documentation section of causet's functions.
pub const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Causality Functions",
    description: Some("Compare and combine vector clocks and hybrid logical clocks."),
};

/// Every scalar UDF.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(VcCompare::new()),
        ScalarUDF::from(VcPredicate::happens_before()),
        ScalarUDF::from(VcPredicate::concurrent()),
        ScalarUDF::from(VcGet::new()),
        ScalarUDF::from(VcMerge::new()),
        ScalarUDF::from(HlcCompare::new()),
        ScalarUDF::from(HlcToTimestamp::new()),
    ]
}

/// Registers every scalar UDF on `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in all() {
        ctx.register_udf(udf);
    }
}
