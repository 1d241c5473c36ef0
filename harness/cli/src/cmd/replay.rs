//! `contracts replay`: golden fixtures and kept counterexamples must get exactly their declared verdict.

use crate::cmd::common::{Format, SpecsArgs, emit, record};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::fixtures::{self, FixtureFile};
use std::io::Write;
use std::path::PathBuf;

/// Replay fixtures (fixtures/events/) and the regression corpus (corpus/).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fixture files or directories (default: fixtures/events and corpus).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Replay the events against a consumer or processor program instead of the validator.
    #[command(flatten)]
    program: crate::cmd::fuzz_consumer::ReplayProgramArgs,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("fixtures/events"), PathBuf::from("corpus")]
    } else {
        args.paths.clone()
    };
    let mut files: Vec<FixtureFile> = Vec::new();
    for p in &paths {
        if p.is_file() {
            let fixture = fixtures::load_file(p).map_err(crate::diag::fixture)?;
            files.push(FixtureFile {
                path: p.clone(),
                group: None,
                fixture,
            });
        } else if p.is_dir() {
            files.extend(fixtures::load_dir(p).map_err(crate::diag::fixture)?);
        } else if !args.paths.is_empty() {
            return Err(CliError::Input(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    if args.program.consumer {
        return crate::cmd::fuzz_consumer::replay_program(
            &registry,
            &args.program,
            &files,
            args.format,
            out,
        );
    }
    let results = fixtures::replay(&registry, &files);
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    for r in &results {
        match args.format {
            Format::Human => {
                if let Some(why) = &r.failure {
                    emit(out, &format!("FAIL {}: {why}", r.file.path.display()))?;
                }
            }
            Format::Json => emit(
                out,
                &record(
                    "fixture",
                    serde_json::json!({
                        "file": r.file.path.display().to_string(),
                        "expected_valid": r.file.fixture.valid,
                        "passed": r.failure.is_none(),
                        "failure": r.failure,
                    }),
                ),
            )?,
        }
    }
    let total = results.len();
    match args.format {
        Format::Human => emit(
            out,
            &format!(
                "replayed {total} fixtures: {} passed, {failed} failed",
                total - failed
            ),
        )?,
        Format::Json => emit(
            out,
            &crate::cmd::common::summary(
                serde_json::json!({"fixtures": total, "passed": total - failed, "failed": failed}),
            ),
        )?,
    }
    Ok(Outcome::violated_if(failed > 0))
}
