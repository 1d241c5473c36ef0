//! `contracts check-producer`: Validate what a producer emits.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Validate what a producer emits.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
