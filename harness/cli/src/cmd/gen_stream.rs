//! `contracts gen-stream`: a generated event stream of one family as JSON Lines, valid by
//! construction from the rule data, or (with `--invalid`) mutated to break exactly one rule.
//!
//! The valid stream is written as it is generated, so `--length 1000000` runs in the memory of
//! the model (its live keys), not of the stream. `--invalid` holds the stream to mutate it.

use crate::cmd::common::SpecsArgs;
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::events::EventGenerators;
use contracts_core::runner::streams::generate::{self, Family};
use contracts_core::runner::streams::rules;
use std::io::Write;

/// Generate a valid (or, with --invalid, mutated) event stream of one family as JSON Lines.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// The family: the stem of its rule file under specs/events/rules/ (`ticket`, `browser-ssh`).
    #[arg(long)]
    family: String,
    /// Keys per tenant and lifecycle (tickets, sessions, deliveries ...).
    #[arg(long, default_value_t = 4)]
    keys: u8,
    /// Steps to take (events written; a step the model cannot take is skipped and counted).
    #[arg(long, default_value_t = 40)]
    length: usize,
    /// The seed: same seed, same stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write one mutant of the stream instead, aimed at one rule (named on stderr).
    #[arg(long)]
    invalid: bool,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let rules = rules::load_checked(&registry)
        .map_err(|e| CliError::Input(format!("cannot load the stream rules: {e}")))?;
    let generators = EventGenerators::new(&registry)
        .map_err(|(t, e)| CliError::Input(format!("no generator for {t}: {e}")))?;
    let known: Vec<String> = rules
        .files
        .iter()
        .map(|f| generate::stem(&f.rel_path))
        .collect();
    let family = Family::new(
        &registry,
        &generators,
        &rules,
        &args.family,
        args.keys,
        args.seed,
    )
    .ok_or_else(|| {
        CliError::Usage(format!(
            "no rule file for family `{}`; one of: {}",
            args.family,
            known.join(", ")
        ))
    })?;
    if !family.drivable() {
        return Err(CliError::Usage(format!(
            "family `{}` has no lifecycle to drive (no state machine, no pairing keyed by a payload field); fixtures/streams/{} covers its rules",
            args.family, args.family
        )));
    }
    let mut model = family.start();
    let line = |e: &serde_json::Value, out: &mut dyn Write| {
        writeln!(out, "{e}").map_err(|e| CliError::io("stdout", e))
    };
    let steps = generate::seeded_steps(args.seed ^ generate::stem_hash(&args.family), args.length);
    if args.invalid {
        for s in steps {
            family.step(&mut model, s);
        }
        let mutants = family.mutants(&model);
        if mutants.is_empty() {
            return Err(CliError::Usage(format!(
                "no mutant fits this stream of {} events; try another --seed or a larger --length",
                model.events.len()
            )));
        }
        let pick = usize::try_from(args.seed % mutants.len() as u64).unwrap_or(0);
        let m = &mutants[pick];
        let _ = writeln!(
            std::io::stderr(),
            "gen-stream: mutant `{}` aimed at rule {} ({} events)",
            m.operator,
            m.aimed,
            m.events.len()
        );
        for e in &m.events {
            line(e, out)?;
        }
    } else {
        for s in steps {
            family.step(&mut model, s);
            for e in model.events.drain(..) {
                line(&e, out)?;
            }
            model.meta.clear();
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "gen-stream: family {}, seed {}: {} steps skipped, {} base events re-drawn",
        args.family,
        args.seed,
        model.skipped,
        model.discarded
    );
    Ok(Outcome::Ok)
}
