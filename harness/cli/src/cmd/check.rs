//! `contracts check`: Check that schemas, AsyncAPI, fixtures and docs agree (the conformance gate).

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Check that schemas, AsyncAPI, fixtures and docs agree (the conformance gate).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
