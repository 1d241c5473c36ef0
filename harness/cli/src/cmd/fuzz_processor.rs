//! `contracts fuzz-processor`: drive a processor (event in, events out) and check what it emits.
//!
//! Same flags, shrinking, corpus and exit codes as `fuzz-consumer` (whose module holds the shared
//! code); the reply is the JSON array of emitted events, each held to validity and lineage.

use crate::cmd::fuzz_consumer::{FuzzArgs, run_fuzz};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::runner::fuzz::Role;
use std::io::Write;

/// Drive a processor (event in, events out) and check what it emits.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    fuzz: FuzzArgs,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    run_fuzz(Role::Processor, &args.fuzz, out)
}
