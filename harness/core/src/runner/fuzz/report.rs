//! The fuzz report: it consumes the runner's [`RunEvent`]s and owns every count.

use super::judge::{Kind, Mode, Role};
use super::run::{Failure, RunEvent, StopReason};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts for one event type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCounts {
    /// Valid events sent.
    pub valid: u64,
    /// Invalid events sent.
    pub invalid: u64,
    /// Cases that broke the contract.
    pub failed: u64,
    /// Drawn cases discarded before sending.
    pub discarded: u64,
}

/// Everything a fuzz run found, added up from its events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FuzzReport {
    /// The program, as `contracts` flags.
    pub program: String,
    /// Consumer or processor.
    pub role: Option<Role>,
    /// Strict or tolerant.
    pub mode: Option<Mode>,
    /// The seed.
    pub seed: u64,
    /// Cases planned.
    pub planned: u64,
    /// Cases sent and judged.
    pub cases: u64,
    /// Of which valid events.
    pub valid_cases: u64,
    /// Of which invalid events.
    pub invalid_cases: u64,
    /// Cases that broke the contract (all of them, including repeats of a known failure).
    pub failed_cases: u64,
    /// Failed cases by kind.
    pub failed_by_kind: BTreeMap<String, u64>,
    /// Drawn cases discarded (the registry disagreed with the label, or no value was drawn).
    pub discarded: u64,
    /// Per event type.
    pub by_type: BTreeMap<String, TypeCounts>,
    /// Types left out, with why.
    pub skipped_types: BTreeMap<String, String>,
    /// Types drawn from golden fixtures instead of the generator, with why.
    pub fixture_types: BTreeMap<String, String>,
    /// Distinct failures, shrunk, in the order found.
    pub failures: Vec<Failure>,
    /// Why the run ended (`None` while running).
    pub stop: Option<StopReason>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Times the program was started.
    pub starts: u64,
}

impl FuzzReport {
    /// Add one event.
    pub fn apply(&mut self, e: &RunEvent) {
        match e {
            RunEvent::Started {
                program,
                role,
                mode,
                seed,
                cases,
                event_types,
            } => {
                self.program.clone_from(program);
                self.role = Some(*role);
                self.mode = Some(*mode);
                self.seed = *seed;
                self.planned = *cases;
                for t in event_types {
                    self.by_type.entry(t.clone()).or_default();
                }
            }
            RunEvent::TypeSkipped { event_type, why } => {
                self.skipped_types.insert(event_type.clone(), why.clone());
            }
            RunEvent::FixtureFallback { event_type, why } => {
                self.fixture_types.insert(event_type.clone(), why.clone());
            }
            RunEvent::Discarded { event_type } => {
                self.discarded += 1;
                self.by_type
                    .entry(event_type.clone())
                    .or_default()
                    .discarded += 1;
            }
            RunEvent::Case {
                event_type,
                valid,
                failed,
            } => {
                self.cases += 1;
                let t = self.by_type.entry(event_type.clone()).or_default();
                if *valid {
                    self.valid_cases += 1;
                    t.valid += 1;
                } else {
                    self.invalid_cases += 1;
                    t.invalid += 1;
                }
                if let Some(kind) = failed {
                    self.failed_cases += 1;
                    t.failed += 1;
                    *self
                        .failed_by_kind
                        .entry(kind.as_str().to_owned())
                        .or_default() += 1;
                }
            }
            RunEvent::Shrinking { .. } => {}
            RunEvent::Failure(f) => self.failures.push((**f).clone()),
            RunEvent::Finished {
                stop,
                elapsed_ms,
                starts,
            } => {
                self.stop = Some(*stop);
                self.elapsed_ms = *elapsed_ms;
                self.starts = *starts;
            }
        }
    }

    /// Whether any contract was broken.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed_cases > 0 || !self.failures.is_empty()
    }

    /// Whether any failure crossed a tenant boundary.
    #[must_use]
    pub fn security_failure(&self) -> bool {
        self.failures.iter().any(|f| f.finding.kind.is_security())
            || self
                .failed_by_kind
                .contains_key(Kind::TenantCrossed.as_str())
    }

    /// Cases per second over the whole run.
    #[must_use]
    pub fn rate(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let r = self.cases as f64 * 1000.0 / (self.elapsed_ms.max(1) as f64);
        r
    }
}
