//! One module per subcommand, each with its clap `Args` and a `run` function.

pub(crate) mod common;
pub(crate) mod gen_;
pub(crate) mod replay;
pub(crate) mod validate;
