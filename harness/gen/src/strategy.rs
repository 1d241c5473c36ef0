//! proptest strategies: a choice sequence drawn and shrunk by proptest, read by the generator.
//!
//! Invariants:
//! - shrinking the sequence (shorter, then zeroed choices) re-runs the generator, so every shrunk
//!   value is again oracle-checked valid (or a checked mutant); a sequence that yields nothing is
//!   filtered, never emitted;
//! - the sequence shrinks in the order the generator reads it (Hypothesis' order, not proptest's
//!   element-by-element `Vec` shrinking): the empty sequence is tried first, then a binary search
//!   for the shortest failing prefix, then blocks of choices set to 0, coarse to fine. proptest
//!   allows `4 × cases` shrink steps by default, and a 500-choice sequence needs ~10 steps to reach
//!   its shortest failing prefix this way (500 one by one).

use crate::source::ChoiceSource;
use crate::{Generator, Mutant};
use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;
use std::sync::Arc;

/// Choices in one sequence: enough for instances of a few hundred nodes; the rest reads as 0.
const MAX_CHOICES: usize = 512;
/// Block sizes of the zeroing pass, coarse to fine.
const ZERO_BLOCKS: [usize; 3] = [16, 4, 1];

/// Random choice sequences of `0..MAX_CHOICES` choices, each any `u64`.
#[derive(Debug, Clone, Copy)]
struct Choices;

impl Strategy for Choices {
    type Tree = ChoiceTree;
    type Value = Vec<u64>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let drawn = proptest::collection::vec(any::<u64>(), 0..MAX_CHOICES)
            .new_tree(runner)?
            .current();
        Ok(ChoiceTree {
            accepted: drawn,
            trial: None,
            phase: Phase::Truncate { lo: 0, first: true },
            truncations: 0,
        })
    }
}

/// Where the shrinker is.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Binary search for the shortest failing prefix; prefixes shorter than `lo` passed.
    Truncate {
        lo: usize,
        first: bool,
    },
    /// Set `ZERO_BLOCKS[size]` choices from `at` to 0.
    Zero {
        size: usize,
        at: usize,
    },
    Done,
}

/// The simplest sequence known to fail, and the candidate under test.
#[derive(Debug, Clone)]
struct ChoiceTree {
    accepted: Vec<u64>,
    trial: Option<Vec<u64>>,
    phase: Phase,
    /// Truncation passes run (a second one follows the zeroing pass).
    truncations: u8,
}

impl ChoiceTree {
    /// The next candidate simpler than `accepted`, advancing the phase; `None` when done.
    fn propose(&mut self) -> Option<Vec<u64>> {
        loop {
            let len = self.accepted.len();
            match self.phase {
                Phase::Truncate { lo, first } => {
                    if lo >= len {
                        self.truncations += 1;
                        self.phase = if self.truncations == 1 {
                            Phase::Zero { size: 0, at: 0 }
                        } else {
                            Phase::Done
                        };
                        continue;
                    }
                    let cut = if first { lo } else { lo + (len - lo) / 2 };
                    self.phase = Phase::Truncate { lo, first: false };
                    return Some(self.accepted[..cut].to_vec());
                }
                Phase::Zero { size, at } => {
                    let Some(&block) = ZERO_BLOCKS.get(size) else {
                        self.phase = Phase::Truncate { lo: 0, first: true };
                        continue;
                    };
                    if at >= len {
                        self.phase = Phase::Zero {
                            size: size + 1,
                            at: 0,
                        };
                        continue;
                    }
                    let end = (at + block).min(len);
                    self.phase = Phase::Zero { size, at: end };
                    if self.accepted[at..end].iter().all(|&c| c == 0) {
                        continue;
                    }
                    let mut t = self.accepted.clone();
                    t[at..end].fill(0);
                    return Some(t);
                }
                Phase::Done => return None,
            }
        }
    }
}

impl ValueTree for ChoiceTree {
    type Value = Vec<u64>;

    fn current(&self) -> Vec<u64> {
        self.trial.clone().unwrap_or_else(|| self.accepted.clone())
    }

    /// The current sequence still fails: keep it, and propose a simpler one.
    fn simplify(&mut self) -> bool {
        if let Some(t) = self.trial.take() {
            self.accepted = t;
        }
        self.trial = self.propose();
        self.trial.is_some()
    }

    /// The candidate passed (or yielded nothing): drop it, and propose the next one, or fall
    /// back to the simplest failing sequence (a change of value too, hence `true`).
    fn complicate(&mut self) -> bool {
        let Some(t) = self.trial.take() else {
            return false;
        };
        if let Phase::Truncate { lo, .. } = &mut self.phase {
            *lo = (*lo).max(t.len() + 1);
        }
        self.trial = self.propose();
        true
    }
}

fn choices() -> impl Strategy<Value = Vec<u64>> {
    Choices
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive a tree as proptest's runner does, with `fails` as the test: the minimal failing
    /// sequence, and the step after which its length was reached.
    fn shrink(start: Vec<u64>, fails: impl Fn(&[u64]) -> bool) -> (usize, Vec<u64>) {
        let mut t = ChoiceTree {
            accepted: start,
            trial: None,
            phase: Phase::Truncate { lo: 0, first: true },
            truncations: 0,
        };
        let mut lengths = Vec::new();
        if t.simplify() {
            loop {
                let more = if fails(&t.current()) {
                    t.simplify()
                } else {
                    t.complicate()
                };
                lengths.push(t.accepted.len());
                if !more {
                    break;
                }
            }
        }
        let min = t.current();
        let at = lengths
            .iter()
            .position(|&l| l == min.len())
            .map_or(0, |p| p + 1);
        (at, min)
    }

    #[test]
    fn always_failing_shrinks_to_empty_in_one_step() {
        let (steps, min) = shrink((1..400).collect(), |_| true);
        assert!(min.is_empty());
        assert_eq!(steps, 1);
    }

    #[test]
    fn shortest_failing_prefix_is_found_by_bisection() {
        // Fails once choice 300 (value 301) is read, and only while it is nonzero.
        let (steps, min) = shrink((1..500).collect(), |c| c.get(300).is_some_and(|&x| x != 0));
        assert_eq!(min.len(), 301);
        assert!(min[..300].iter().all(|&c| c == 0), "the rest is zeroed");
        assert_eq!(min[300], 301);
        assert!(steps <= 12, "shortest prefix after {steps} steps");
    }
}
