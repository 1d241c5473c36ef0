//! Integration tests of contracts-core against the repository's own specs.

mod common;
mod envelope_rules;
mod fastpath;
mod hostile;
mod loading;
mod properties;
mod streams;
mod scratch;
mod suite;
