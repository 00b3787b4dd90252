//! Tests of the `causet` binary as users run it.

mod common;
mod crash;
mod report;
mod sql;
