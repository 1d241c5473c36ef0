//! The fuzz loop: draw a case, send it, judge the reply, shrink the first of each kind of failure.
//!
//! Invariants:
//! - the runner counts nothing for the report: it emits [`RunEvent`]s and the report adds them up;
//! - the same seed draws the same cases in the same order (proptest's ChaCha RNG, seeded);
//! - a case the registry disagrees with is discarded before it is sent, and counted;
//! - each distinct failure (by [`Finding::signature`]) is shrunk once; later cases that fail the
//!   same way are counted, not shrunk again, so one bug does not eat the whole budget;
//! - the run ends when the cases are done, the time budget is spent, the stop flag is raised
//!   (Ctrl-C), or the program broke down on [`MAX_CONSECUTIVE_BREAKDOWNS`] cases in a row.

use super::cases::{Case, Seeds, case_strategy, generator_for};
use super::corpus;
use super::judge::{Finding, Kind, Mode, Role, judge};
use super::transport::{Transport, TransportError};
use crate::registry::Registry;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Cases in a row that crash or time out before the run gives up on the program: by then it is
/// plainly broken, and going on would only spend `cases x timeout`.
pub const MAX_CONSECUTIVE_BREAKDOWNS: u32 = 25;
/// Replies spent shrinking one failure. A minimal event is usually reached in a few hundred; the
/// cap bounds a run against a slow program (each step may cost a restart or a timeout).
pub const DEFAULT_MAX_SHRINK_STEPS: u32 = 2_000;
/// Draws of one case before giving up on it (the strategies filter: a choice sequence may yield
/// no value, a catalogue mutation may not apply).
const MAX_DRAWS: u32 = 64;

/// What to run.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Consumer or processor.
    pub role: Role,
    /// Strict or tolerant.
    pub mode: Mode,
    /// Cases to send (not counting shrinking steps).
    pub cases: u64,
    /// The RNG seed; the same seed draws the same cases.
    pub seed: u64,
    /// Event types to draw from; empty means every type in the registry.
    pub event_types: Vec<String>,
    /// Replies spent shrinking one failure.
    pub max_shrink_steps: u32,
    /// Stop drawing new cases after this long (the report still comes).
    pub max_time: Option<Duration>,
    /// Raised from outside (Ctrl-C) to stop cleanly after the current reply.
    pub stop: Arc<AtomicBool>,
    /// Where minimal events are saved (`corpus/consumers`), under a directory named for the program.
    pub corpus_dir: Option<PathBuf>,
    /// The directory name under `corpus_dir` (default: the transport's name).
    pub name: Option<String>,
    /// Golden fixtures (`fixtures/events`), drawn from for a type the generator cannot handle.
    pub fixtures_dir: Option<PathBuf>,
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every case was run.
    Completed,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
    /// The time budget ran out.
    TimeBudget,
    /// The program crashed or hung on too many cases in a row.
    ProgramBroken,
}

/// A distinct failure, shrunk.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// What went wrong on the minimal event.
    pub finding: Finding,
    /// The event type drawn.
    pub event_type: String,
    /// 0-based index of the case that first failed (with the seed, it reproduces the draw).
    pub case_index: u64,
    /// Whether the minimal event is valid (the registry's verdict).
    pub event_valid: bool,
    /// The mutation, for an invalid event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aim: Option<super::judge::Aim>,
    /// The minimal event.
    pub event: Value,
    /// Size in bytes of the event as first found, and of the minimal one.
    pub original_bytes: usize,
    /// Size in bytes of the minimal event.
    pub minimal_bytes: usize,
    /// Replies spent shrinking.
    pub shrink_steps: u32,
    /// Where the minimal event was saved, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corpus_file: Option<String>,
    /// Why it could not be saved, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corpus_error: Option<String>,
}

/// What the runner tells the report, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// The run begins.
    Started {
        /// The program, as `contracts` flags (`--cmd '...'`).
        program: String,
        /// Consumer or processor.
        role: Role,
        /// Strict or tolerant.
        mode: Mode,
        /// The seed.
        seed: u64,
        /// Cases planned.
        cases: u64,
        /// Event types drawn from.
        event_types: Vec<String>,
    },
    /// An event type is left out: its schema gives the generator nothing to draw.
    TypeSkipped {
        /// The type.
        event_type: String,
        /// The generator's reason.
        why: String,
    },
    /// An event type is drawn from its golden fixtures: the generator cannot handle its schema.
    FixtureFallback {
        /// The type.
        event_type: String,
        /// The generator's reason.
        why: String,
    },
    /// A drawn case the registry disagreed with; not sent.
    Discarded {
        /// The type.
        event_type: String,
    },
    /// One case was sent and judged.
    Case {
        /// The type.
        event_type: String,
        /// Whether the input was valid.
        valid: bool,
        /// `None` when the contract held, else the kind of failure.
        failed: Option<Kind>,
    },
    /// A new kind of failure was found; shrinking begins.
    Shrinking {
        /// What is being shrunk.
        signature: String,
    },
    /// A distinct failure, shrunk.
    Failure(Box<Failure>),
    /// The run ended.
    Finished {
        /// Why.
        stop: StopReason,
        /// Wall time.
        elapsed_ms: u64,
        /// Times the program was started (1 = never restarted).
        starts: u64,
    },
}

/// Why a run could not be made at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FuzzError {
    /// The program could not be (re)started.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An event type was asked for that the registry does not know.
    #[error("unknown event type {0}: not in the catalogue")]
    UnknownType(String),
    /// No event type could be generated.
    #[error("no event type to draw from: {0}")]
    NothingToDraw(String),
}

struct Drawn {
    tree: Box<dyn ValueTree<Value = Case>>,
}

fn draw(strategy: &BoxedStrategy<Case>, runner: &mut TestRunner) -> Option<Drawn> {
    for _ in 0..MAX_DRAWS {
        if let Ok(tree) = strategy.new_tree(runner) {
            return Some(Drawn {
                tree: Box::new(tree),
            });
        }
    }
    None
}

/// A seeded proptest runner: the same seed gives the same draws.
fn seeded_runner(seed: u64, max_shrink_steps: u32) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        max_shrink_iters: max_shrink_steps,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Send one case and judge the reply.
///
/// # Errors
/// The program cannot be restarted.
pub fn try_case(
    registry: &Registry,
    transport: &mut dyn Transport,
    role: Role,
    mode: Mode,
    case: &Case,
) -> Result<Option<Finding>, TransportError> {
    let reply = transport.send(&case.event.to_string())?;
    Ok(judge(
        registry,
        role,
        mode,
        &case.event,
        case.aim.as_ref(),
        &reply,
    ))
}

/// Run the fuzz loop against `transport`, telling `sink` everything that happens.
///
/// # Errors
/// An unknown event type, no type the generator can draw from, or a program that cannot be
/// restarted. Contract failures are events, not errors.
pub fn run(
    registry: &Registry,
    transport: &mut dyn Transport,
    opts: &FuzzOptions,
    sink: &mut dyn FnMut(&RunEvent),
) -> Result<(), FuzzError> {
    let start = Instant::now();
    let mut types: Vec<String> = if opts.event_types.is_empty() {
        registry
            .contracts()
            .iter()
            .map(|c| c.event_type.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        opts.event_types.clone()
    };
    for t in &types {
        if !registry.knows_type(t) {
            return Err(FuzzError::UnknownType(t.clone()));
        }
    }
    let fixtures = match &opts.fixtures_dir {
        Some(dir) => crate::fixtures::load_dir(dir).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut strategies = Vec::new();
    let mut last_why = String::new();
    types.retain(|t| match generator_for(registry, t) {
        Ok(g) => {
            strategies.push(case_strategy(&Seeds::Generator(g), t, true));
            true
        }
        Err(why) => {
            let valid: Vec<Value> = fixtures
                .iter()
                .filter(|f| {
                    f.fixture.valid
                        && f.fixture.event.get("event_type").and_then(Value::as_str) == Some(t)
                })
                .map(|f| f.fixture.event.clone())
                .filter(|e| registry.validate_value(e).is_valid())
                .collect();
            if valid.is_empty() {
                sink(&RunEvent::TypeSkipped {
                    event_type: t.clone(),
                    why: why.clone(),
                });
                last_why = why;
                false
            } else {
                sink(&RunEvent::FixtureFallback {
                    event_type: t.clone(),
                    why,
                });
                strategies.push(case_strategy(&Seeds::Fixtures(valid), t, true));
                true
            }
        }
    });
    if types.is_empty() {
        return Err(FuzzError::NothingToDraw(last_why));
    }
    sink(&RunEvent::Started {
        program: transport.describe(),
        role: opts.role,
        mode: opts.mode,
        seed: opts.seed,
        cases: opts.cases,
        event_types: types.clone(),
    });
    let mut runner = seeded_runner(opts.seed, opts.max_shrink_steps);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut breakdowns = 0u32;
    let out_of_time = |now: Instant| {
        opts.max_time
            .is_some_and(|t| now.duration_since(start) >= t)
    };
    let mut stop = StopReason::Completed;
    for index in 0..opts.cases {
        if opts.stop.load(Ordering::Relaxed) {
            stop = StopReason::Interrupted;
            break;
        }
        if out_of_time(Instant::now()) {
            stop = StopReason::TimeBudget;
            break;
        }
        #[allow(clippy::cast_possible_truncation)] // index % len < len, a usize
        let slot = (index % types.len() as u64) as usize;
        let event_type = &types[slot];
        let Some(mut drawn) = draw(&strategies[slot], &mut runner) else {
            sink(&RunEvent::Discarded {
                event_type: event_type.clone(),
            });
            continue;
        };
        let case = drawn.tree.current();
        if !case.consistent(registry) {
            sink(&RunEvent::Discarded {
                event_type: event_type.clone(),
            });
            continue;
        }
        let finding = try_case(registry, transport, opts.role, opts.mode, &case)?;
        sink(&RunEvent::Case {
            event_type: event_type.clone(),
            valid: case.aim.is_none(),
            failed: finding.as_ref().map(|f| f.kind),
        });
        let Some(finding) = finding else {
            breakdowns = 0;
            continue;
        };
        if finding.kind.is_breakdown() {
            breakdowns += 1;
        } else {
            breakdowns = 0;
        }
        let signature = finding.signature();
        if seen.insert(signature.clone()) {
            sink(&RunEvent::Shrinking {
                signature: signature.clone(),
            });
            let failure = shrink(
                registry, transport, opts, &mut drawn, case, finding, index, &start,
            )?;
            sink(&RunEvent::Failure(Box::new(failure)));
        }
        if breakdowns >= MAX_CONSECUTIVE_BREAKDOWNS {
            stop = StopReason::ProgramBroken;
            break;
        }
    }
    sink(&RunEvent::Finished {
        stop,
        elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        starts: transport.starts(),
    });
    Ok(())
}

/// proptest's shrinking loop, run by hand so that each step is one reply from a real program and
/// the stop flag and the time budget are honoured: simplify while the failure keeps its
/// signature, complicate when it does not, until neither moves.
#[allow(clippy::too_many_arguments)]
fn shrink(
    registry: &Registry,
    transport: &mut dyn Transport,
    opts: &FuzzOptions,
    drawn: &mut Drawn,
    first: Case,
    finding: Finding,
    index: u64,
    start: &Instant,
) -> Result<Failure, TransportError> {
    let signature = finding.signature();
    let original_bytes = first.event.to_string().len();
    let mut best = (first, finding);
    let mut steps = 0u32;
    let budget_left = |steps: u32| {
        steps < opts.max_shrink_steps
            && !opts.stop.load(Ordering::Relaxed)
            && opts.max_time.is_none_or(|t| start.elapsed() < t)
    };
    if drawn.tree.simplify() {
        while budget_left(steps) {
            let cand = drawn.tree.current();
            let still = if cand.consistent(registry) {
                steps += 1;
                try_case(registry, transport, opts.role, opts.mode, &cand)?
                    .filter(|f| f.signature() == signature)
            } else {
                None
            };
            let moved = if let Some(f) = still {
                best = (cand, f);
                drawn.tree.simplify()
            } else {
                drawn.tree.complicate()
            };
            if !moved {
                break;
            }
        }
    }
    let (case, finding) = best;
    let mut failure = Failure {
        event_valid: case.aim.is_none(),
        minimal_bytes: case.event.to_string().len(),
        finding,
        event_type: case.event_type.clone(),
        case_index: index,
        aim: case.aim.clone(),
        event: case.event,
        original_bytes,
        shrink_steps: steps,
        corpus_file: None,
        corpus_error: None,
    };
    if let Some(dir) = &opts.corpus_dir {
        let name = opts.name.clone().unwrap_or_else(|| transport.name());
        let command = match opts.role {
            Role::Consumer => "fuzz-consumer",
            Role::Processor => "fuzz-processor",
        };
        let program = format!("contracts {command} {}", transport.describe());
        match corpus::save(registry, &dir.join(name), &failure, &program, opts.seed) {
            Ok(path) => failure.corpus_file = Some(path.display().to_string()),
            Err(e) => failure.corpus_error = Some(e.to_string()),
        }
    }
    Ok(failure)
}
