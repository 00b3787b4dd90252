//! Tests of the `causet` binary as users run it.

mod child;
mod common;
mod compact;
mod crash;
mod flight;
mod overload;
mod report;
mod s3;
mod sql;
mod workers;
