//! Integration tests of the schema crate against the committed samples.

mod samples;
