//! One module per subcommand, each with its clap `Args` and a `run` function.

#[cfg(feature = "broker")]
pub(crate) mod broker;
pub(crate) mod check;
pub(crate) mod check_producer;
pub(crate) mod check_stream;
pub(crate) mod common;
pub(crate) mod compat;
pub(crate) mod coverage;
pub(crate) mod docs;
pub(crate) mod fuzz_consumer;
pub(crate) mod fuzz_processor;
pub(crate) mod gen_;
pub(crate) mod gen_stream;
#[cfg(feature = "broker")]
pub(crate) mod monitor;
#[cfg(feature = "broker")]
pub(crate) mod publish;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod validate;
