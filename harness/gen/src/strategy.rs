//! proptest strategies: a choice sequence drawn and shrunk by proptest, read by the generator.
//!
//! Invariant: shrinking the sequence (shorter, smaller choices) re-runs the generator, so every
//! shrunk value is again oracle-checked valid (or a checked mutant); a sequence that yields
//! nothing is filtered, never emitted.

use crate::source::ChoiceSource;
use crate::{Generator, Mutant};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;

/// Choices in one sequence: enough for instances of a few hundred nodes; the rest reads as 0.
const MAX_CHOICES: usize = 512;

fn choices() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(any::<u64>(), 0..MAX_CHOICES)
}

/// Valid instances of `generator`'s schema; shrinks towards the minimal valid instance.
pub fn valid_strategy(generator: Arc<Generator>) -> BoxedStrategy<Value> {
    choices()
        .prop_filter_map("no valid instance for this choice sequence", move |c| {
            generator.generate(&mut ChoiceSource::new(&c)).ok()
        })
        .boxed()
}

/// Mutants: a valid instance from the first half of the choices, a mutation from the rest.
pub fn mutant_strategy(generator: Arc<Generator>) -> BoxedStrategy<Mutant> {
    (choices(), choices())
        .prop_filter_map("no mutant for this choice sequence", move |(a, b)| {
            let valid = generator.generate(&mut ChoiceSource::new(&a)).ok()?;
            generator.mutate(&valid, &mut ChoiceSource::new(&b)).ok()?
        })
        .boxed()
}
