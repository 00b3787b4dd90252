//! Tests of the `causet` binary as users run it.

mod child;
mod common;
mod compact;
mod crash;
mod flight;
mod overload;
mod report;
#[cfg(feature = "cloud")]
mod s3;
mod sql;
#[cfg(feature = "distributed")]
mod workers;
