//! Tests of the `causet` binary as users run it.

mod crash;
mod sql;
