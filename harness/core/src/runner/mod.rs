//! Runners: each drives the registry (and the generator) over some inputs and yields results
//! that the CLI's reporters render.

pub mod compat;
pub mod coverage;
pub mod fuzz;
pub mod producer;
pub mod streams;
