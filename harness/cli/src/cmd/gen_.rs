//! `contracts gen`: placeholder, written by the generator work.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Generate valid or mutated instances of a JSON Schema as JSON Lines.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not yet".into()))
}
