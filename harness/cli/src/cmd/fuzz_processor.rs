//! `contracts fuzz-processor`: Drive a processor (event in, events out) and check what it emits.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Drive a processor (event in, events out) and check what it emits.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
