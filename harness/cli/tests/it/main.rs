//! Integration tests of the `contracts` binary: one test binary, one module per subcommand area.

#[cfg(feature = "broker")]
mod broker;
mod check;
mod compat;
mod fuzz;
mod gen_;
mod output;
mod report;
mod sarif;
mod streams;
mod util;
mod validate;
