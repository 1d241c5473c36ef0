//! `contracts fuzz-consumer`: Drive a consumer with generated valid and mutated events.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Drive a consumer with generated valid and mutated events.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
