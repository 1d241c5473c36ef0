//! Integration tests of the `contracts` binary: one test binary, one module per subcommand area.

mod check;
mod compat;
mod fuzz;
mod gen_;
mod streams;
mod util;
mod validate;
