//! Integration tests of contracts-core against the repository's own specs.

mod common;
mod envelope_rules;
mod fastpath;
mod hostile;
mod loading;
mod properties;
mod scratch;
mod streams;
mod suite;
