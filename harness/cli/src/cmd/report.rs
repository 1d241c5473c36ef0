//! `contracts report --out DIR`: run the conformance gate and write one self-contained
//! `DIR/index.html` with the verdict, warnings, failures, coverage, compat and benchmark history.

use crate::cmd::common::emit;
use crate::error::CliError;
use crate::exit::Outcome;
use crate::report::page::{self, Inputs};
use std::io::Write;
use std::path::PathBuf;

/// Run the gate and write an HTML report a person can read (one file, no network).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Repository root holding specs/, fixtures/, corpus/ and docs/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Directory to write index.html into (created when absent).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Output of `fuzz-consumer`/`fuzz-processor --format json` to include (repeatable).
    #[arg(long, value_name = "FILE")]
    fuzz: Vec<PathBuf>,
    /// Output of `compat --format json` to include (repeatable).
    #[arg(long, value_name = "FILE")]
    compat: Vec<PathBuf>,
    /// `bench-track` summaries, files or directories of them, one point per commit
    /// (default: ROOT/target/bench when it exists).
    #[arg(long, value_name = "PATH")]
    bench: Vec<PathBuf>,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let report = page::run_gate(&args.root);
    let mut bench = args.bench.clone();
    let default_bench = args.root.join("target/bench");
    if bench.is_empty() && default_bench.is_dir() {
        bench.push(default_bench);
    }
    let inputs = Inputs {
        fuzz: args.fuzz.clone(),
        compat: args.compat.clone(),
        bench,
    };
    let data = page::write(&args.root, &report, &inputs, &args.out).map_err(CliError::Input)?;
    emit(
        out,
        &format!(
            "{}: {} ({} failure(s), {} warning(s))",
            args.out.join("index.html").display(),
            if data.passed { "PASS" } else { "FAIL" },
            data.failures.len(),
            data.warnings.len()
        ),
    )?;
    Ok(Outcome::violated_if(!data.passed))
}
