//! `contracts coverage`: which schema locations the valid fixtures (and generated events) exercise.

use crate::cmd::common::{Format, JSON_FORMAT_VERSION, SpecsArgs, emit, record};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::fixtures;
use contracts_core::runner::coverage::{self, Coverage, REQUIRED_KINDS, TypeCoverage};
use std::io::Write;
use std::path::PathBuf;

/// Report which schema locations the valid fixtures exercise, per event type.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fixture directory whose valid events are measured.
    #[arg(long, value_name = "DIR", default_value = "fixtures/events")]
    fixtures: PathBuf,
    /// Exit 1 when an enum value, anyOf/oneOf branch or if/else direction is covered by no valid fixture.
    #[arg(long)]
    require: bool,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let files = fixtures::load_dir(&args.fixtures).map_err(|e| CliError::Input(e.to_string()))?;
    let events: Vec<serde_json::Value> = files
        .into_iter()
        .filter(|f| f.fixture.valid)
        .map(|f| f.fixture.event)
        .collect();
    let cov = Coverage::new(&registry).map_err(CliError::Input)?;
    let report = coverage::by_type(&cov, &registry, &events);
    let gaps: usize = report
        .iter()
        .map(|t| t.missing_of(&REQUIRED_KINDS).len())
        .sum();
    for t in &report {
        match args.format {
            Format::Human => human(t, out)?,
            Format::Json => {
                let missing: Vec<_> = t.missing().collect();
                emit(
                    out,
                    &record(
                        "coverage",
                        serde_json::json!({
                            "event_type": t.event_type,
                            "major": t.major,
                            "source": "fixtures",
                            "events": t.events,
                            "items": t.items.len(),
                            "covered": t.covered.len(),
                            "missing": missing,
                        }),
                    ),
                )?;
            }
        }
    }
    let items: usize = report.iter().map(|t| t.items.len()).sum();
    let covered: usize = report.iter().map(|t| t.covered.len()).sum();
    match args.format {
        Format::Human => emit(
            out,
            &format!(
                "fixtures cover {covered} of {items} schema items across {} event types; {gaps} enum values, branches or if-directions covered by no valid fixture",
                report.len()
            ),
        )?,
        Format::Json => emit(
            out,
            &record(
                "summary",
                serde_json::json!({"format_version": JSON_FORMAT_VERSION, "items": items, "covered": covered, "required_gaps": gaps}),
            ),
        )?,
    }
    Ok(Outcome::violated_if(args.require && gaps > 0))
}

fn human(t: &TypeCoverage, out: &mut dyn Write) -> Result<(), CliError> {
    emit(
        out,
        &format!(
            "{} v{}: {}/{} items from {} valid fixtures",
            t.event_type,
            t.major,
            t.covered.len(),
            t.items.len(),
            t.events
        ),
    )?;
    for item in t.missing() {
        let kind = serde_json::to_value(item.kind).ok();
        let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("?");
        let detail = if item.detail.is_empty() {
            String::new()
        } else {
            format!(" {}", item.detail)
        };
        emit(out, &format!("  missing {kind} at {}{detail}", item.path))?;
    }
    Ok(())
}
