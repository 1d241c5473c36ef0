//! `contracts docs`: print docs/events.md generated from the schemas.

use crate::cmd::common::SpecsArgs;
use crate::error::CliError;
use crate::exit::Outcome;
use std::io::Write;

/// Print docs/events.md generated from the schemas (family, status, reference, field tables).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    out.write_all(contracts_core::docs::events_markdown(&registry).as_bytes())
        .map_err(|e| CliError::io("stdout", e))?;
    Ok(Outcome::Ok)
}
