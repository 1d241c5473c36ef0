//! `contracts compat`: Compare two schema versions: rule verdict plus generated counterexamples.

use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Compare two schema versions: rule verdict plus generated counterexamples.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args, _out: &mut dyn Write) -> Result<Outcome, CliError> {
    Err(CliError::Usage("not implemented yet".into()))
}
