//! `contracts docs`: Print docs/events.md generated from the schemas.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Print docs/events.md generated from the schemas.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
