//! Integration tests of the `contracts` binary: one test binary, one module per subcommand area.

#[cfg(feature = "broker")]
mod broker;
mod check;
mod compat;
mod fuzz;
mod gen_;
mod util;
mod validate;
