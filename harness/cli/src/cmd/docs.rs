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
    /// Print docs/streams.md instead: the stream rules per family and the fixed-seed property run.
    #[arg(long)]
    streams: bool,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    if args.streams {
        let rules = contracts_core::runner::streams::rules::load_checked(&registry)
            .map_err(|e| CliError::Input(format!("cannot load the stream rules: {e}")))?;
        let generators = contracts_core::events::EventGenerators::new(&registry)
            .map_err(|(t, e)| CliError::Input(format!("no generator for {t}: {e}")))?;
        let text = contracts_core::runner::streams::generate::docs_markdown(
            &registry,
            &generators,
            &rules,
        );
        out.write_all(text.as_bytes())
            .map_err(|e| CliError::io("stdout", e))?;
        return Ok(Outcome::Ok);
    }
    out.write_all(contracts_core::docs::events_markdown(&registry).as_bytes())
        .map_err(|e| CliError::io("stdout", e))?;
    Ok(Outcome::Ok)
}
