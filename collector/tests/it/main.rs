//! Integration tests of the collector over real sockets and real files.

mod auth;
mod common;
mod disk_full;
mod exporters;
mod fuzz;
mod hostile;
mod import;
mod status;
mod store;
mod tls;
