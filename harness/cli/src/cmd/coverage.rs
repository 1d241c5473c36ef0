//! `contracts coverage`: which schema locations the valid fixtures (and generated events) exercise.

use crate::cmd::common::{Format, OutputFormat, SpecsArgs, emit, record};
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
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Fixture directory whose valid events are measured.
    #[arg(long, value_name = "DIR", default_value = "fixtures/events")]
    fixtures: PathBuf,
    /// Exit 1 when an enum value, anyOf/oneOf branch or if/else direction is covered by no valid fixture.
    #[arg(long)]
    require: bool,
    /// Also measure N generated valid events per event type (and the mutation classes they admit).
    #[arg(long, value_name = "N", default_value_t = 0)]
    generated: u64,
    /// Seed of the generated events.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
}

/// Coverage by generated events, and the mutation classes exercised, per event type.
struct Generated {
    coverage: Vec<TypeCoverage>,
    classes: std::collections::BTreeMap<String, std::collections::BTreeSet<&'static str>>,
}

fn generated(
    registry: &contracts_core::Registry,
    cov: &Coverage<'_>,
    per_type: u64,
    seed: u64,
) -> Result<Generated, CliError> {
    let generators = contracts_core::events::EventGenerators::new(registry)
        .map_err(|(t, e)| CliError::Input(format!("{t}: cannot generate: {e}")))?;
    let mut coverage = Vec::new();
    let mut classes = std::collections::BTreeMap::new();
    let all = generators.all();
    let progress = crate::progress::Progress::bar(
        per_type.saturating_mul(all.len() as u64),
        "coverage --generated",
        "events",
    );
    for g in all {
        progress.set_message(g.event_type().to_owned());
        let mut events = Vec::new();
        let set: &mut std::collections::BTreeSet<&'static str> =
            classes.entry(g.event_type().to_owned()).or_default();
        for i in 0..per_type {
            progress.inc(1);
            let mut src =
                contracts_gen::RngSource::new(seed.wrapping_mul(1_000_003).wrapping_add(i));
            let Ok(event) = g.valid(&mut src) else {
                continue;
            };
            for target in g.generator().mutation_targets(&event) {
                if set.contains(target.class.as_str()) {
                    continue;
                }
                if let Ok(Some(m)) = g.generator().mutate_target(&event, &target, &mut src) {
                    if !registry.validate_value(&m.value).is_valid() {
                        set.insert(m.class.as_str());
                    }
                }
            }
            events.push(event);
        }
        let refs: Vec<&serde_json::Value> = events.iter().collect();
        if let Some(c) = registry.contract(g.event_type(), g.major()) {
            coverage.push(cov.measure(c, &refs));
        }
    }
    Ok(Generated { coverage, classes })
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let files = fixtures::load_dir(&args.fixtures).map_err(crate::diag::fixture)?;
    let events: Vec<serde_json::Value> = files
        .into_iter()
        .filter(|f| f.fixture.valid)
        .map(|f| f.fixture.event)
        .collect();
    let cov = Coverage::new(&registry).map_err(CliError::Input)?;
    let report = coverage::by_type(&cov, &registry, &events);
    let Some(format) = args.format.plain() else {
        return crate::report::run::coverage(
            &registry,
            &args.specs.specs,
            &report,
            args.require,
            out,
        );
    };
    let gaps: usize = report
        .iter()
        .map(|t| t.missing_of(&REQUIRED_KINDS).len())
        .sum();
    let generated = if args.generated > 0 {
        Some(generated(&registry, &cov, args.generated, args.seed)?)
    } else {
        None
    };
    for t in &report {
        let by_gen = generated
            .as_ref()
            .and_then(|g| g.coverage.iter().find(|c| c.event_type == t.event_type));
        let classes: Vec<&str> = generated
            .as_ref()
            .and_then(|g| g.classes.get(&t.event_type))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        match format {
            Format::Human => {
                human(t, out)?;
                if let Some(g) = by_gen {
                    emit(
                        out,
                        &format!(
                            "  generated: {}/{} items from {} events; mutation classes rejected: {}",
                            g.covered.len(),
                            g.items.len(),
                            g.events,
                            classes.join(", ")
                        ),
                    )?;
                }
            }
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
                            "generated": by_gen.map(|g| serde_json::json!({
                                "events": g.events,
                                "covered": g.covered.len(),
                                "missing": g.missing().collect::<Vec<_>>(),
                                "mutation_classes": classes,
                            })),
                        }),
                    ),
                )?;
            }
        }
    }
    let items: usize = report.iter().map(|t| t.items.len()).sum();
    let covered: usize = report.iter().map(|t| t.covered.len()).sum();
    match format {
        Format::Human => emit(
            out,
            &format!(
                "fixtures cover {covered} of {items} schema items across {} event types; {gaps} enum values, branches or if-directions covered by no valid fixture",
                report.len()
            ),
        )?,
        Format::Json => emit(
            out,
            &crate::cmd::common::summary(
                serde_json::json!({"items": items, "covered": covered, "required_gaps": gaps}),
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
