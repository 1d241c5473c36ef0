//! `contracts coverage`: Report which schema locations fixtures and generated events exercise.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Report which schema locations fixtures and generated events exercise.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
