//! contracts-gen: valid and mutated instances of any JSON Schema (draft 2020-12 and draft 7).
//!
//! Layers, each using only those to its left:
//! `resolve` (documents, offline `$ref`s) -> `ir` (compiled nodes) -> `oracle` (the `jsonschema`
//! validator) -> `source` (choices) -> `generate` (valid by construction) -> `mutate` (invalid,
//! aimed at one keyword at one instance path) -> `strategy` (proptest).
//!
//! ```
//! use contracts_gen::{GenOptions, Generator, RngSource};
//! use serde_json::json;
//!
//! let schema = json!({"type": "object", "required": ["id"],
//!                     "properties": {"id": {"type": "integer", "minimum": 1}}});
//! let generator = Generator::new(&schema, &GenOptions::default())?;
//! let mut src = RngSource::new(42);
//! let value = generator.generate(&mut src)?;
//! assert!(value["id"].as_i64().is_some_and(|id| id >= 1));
//! if let Some(m) = generator.mutate(&value, &mut src)? {
//!     assert!(!generator.is_valid(&m.value));
//! }
//! # Ok::<(), contracts_gen::GenError>(())
//! ```
//!
//! Key decision: generation is one interpreter over a choice `Source` (seeded RNG, a proptest
//! choice sequence, or fuzzer bytes), and the `jsonschema` validator is the referee for every
//! emitted value: construction makes validity the norm, the oracle makes it a guarantee.
#![warn(missing_docs)]

mod analysis;
mod generate;
mod ir;
mod mutate;
mod oracle;
mod resolve;
mod source;
mod strategy;

pub use ir::ty;
pub use mutate::{MutationClass, MutationTarget};
pub use resolve::percent_decode;
pub use source::{ChoiceSource, RngSource, Source, UnstructuredSource};
pub use strategy::{mutant_strategy, valid_strategy};

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn fmt_duration(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The JSON Schema dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Draft {
    /// Draft 2020-12 (the default).
    #[default]
    Draft202012,
    /// Draft 7.
    Draft7,
}

impl Draft {
    pub(crate) fn to_jsonschema(self) -> jsonschema::Draft {
        match self {
            Draft::Draft202012 => jsonschema::Draft::Draft202012,
            Draft::Draft7 => jsonschema::Draft::Draft7,
        }
    }
}

/// How to read a schema.
#[derive(Debug, Clone, Default)]
pub struct GenOptions {
    /// Used when the root has no `$schema`.
    pub default_draft: Draft,
    /// The root's URI, e.g. `file:///abs/specs/events/types/x.v1.schema.json`.
    pub base_uri: Option<String>,
    /// Relative `$ref`s to other files are read from disk, but only under this directory.
    pub file_root: Option<std::path::PathBuf>,
    /// Extra preloaded documents by URI.
    pub resources: Vec<(String, Value)>,
    /// The time budget of this schema, from `Generator::new` on: once it has passed,
    /// generation stops with [`GenError::OutOfTime`]. `None`: no limit.
    pub max_time: Option<Duration>,
}

/// Why the generator could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// The schema is proven to admit no value: it is `false`, its keywords contradict each
    /// other, or it requires an infinite value (a `$ref` cycle with no base case).
    #[error("unsatisfiable schema: {why}")]
    Unsatisfiable {
        /// The proof: what contradicts what, or the cycle.
        why: String,
    },
    /// No value was found within the effort budget; the schema is not proven unsatisfiable.
    #[error("gave up after {attempts} attempts (not proven unsatisfiable): {why}")]
    GaveUp {
        /// Top-level attempts made.
        attempts: u64,
        /// The keyword (in backquotes) or budget behind most failed attempts.
        keyword: String,
        /// What failed, and where when the validator said so.
        why: String,
    },
    /// The time budget (`GenOptions::max_time`) ran out.
    #[error("gave up: the time budget of {} ran out", fmt_duration(*limit))]
    OutOfTime {
        /// The budget.
        limit: Duration,
    },
    /// The schema (or a document it references) cannot be read or compiled.
    #[error("bad schema: {why}")]
    Schema {
        /// What is wrong and where.
        why: String,
    },
}

/// A value aimed to break one keyword at one place, and the place the validator reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutant {
    /// The invalid instance.
    pub value: Value,
    /// The keyword the validator rejects it for, JSON spelling (`"required"`).
    pub keyword: String,
    /// Where, as an RFC 6901 pointer (root `""`).
    pub instance_path: String,
    /// How it was made.
    pub class: MutationClass,
}

/// Why attempts failed: the keyword behind each dead attempt, counted, and the validator's first
/// error for the last candidate it rejected.
#[derive(Debug, Default)]
struct Faults {
    dead: HashMap<String, u64>,
    rejected: u64,
    last_rejection: Option<(String, String, String)>,
}

impl Faults {
    fn dead(&mut self, fault: Option<std::borrow::Cow<'static, str>>) {
        let key = fault.map_or_else(|| "no constructive choice".to_owned(), |f| f.into_owned());
        *self.dead.entry(key).or_default() += 1;
    }

    fn rejected(&mut self, oracle: &oracle::Oracle, v: &Value) {
        self.rejected += 1;
        self.last_rejection = oracle.root().iter_errors(v).next().map(|e| {
            (
                e.kind().keyword().to_owned(),
                e.instance_path().as_str().to_owned(),
                e.schema_path().as_str().to_owned(),
            )
        });
    }

    fn gave_up(&self, attempts: u64) -> GenError {
        let top = self
            .dead
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)));
        match (top, &self.last_rejection) {
            (Some((kw, n)), _) if *n >= self.rejected => GenError::GaveUp {
                attempts,
                keyword: kw.clone(),
                why: format!("{n} attempts could not meet {kw}"),
            },
            (_, Some((kw, path, schema_path))) => GenError::GaveUp {
                attempts,
                keyword: format!("`{kw}`"),
                why: format!(
                    "{} candidates were rejected by the validator, the last for `{kw}` at \
                     instance path {path:?} (schema path {schema_path})",
                    self.rejected
                ),
            },
            _ => GenError::GaveUp {
                attempts,
                keyword: String::new(),
                why: "no candidate could be built".into(),
            },
        }
    }
}

/// Counters since the generator was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Valid instances emitted.
    pub generated: u64,
    /// Candidates the oracle or a filter refused (never emitted).
    pub discarded: u64,
    /// Mutants emitted.
    pub mutants: u64,
    /// Mutant candidates refused (still valid, or invalid only for another keyword or path).
    pub mutants_discarded: u64,
}

#[derive(Debug, Default)]
struct Counters {
    generated: AtomicU64,
    discarded: AtomicU64,
    mutants: AtomicU64,
    mutants_discarded: AtomicU64,
}

/// Top-level attempts of one `generate` call before it reports failure.
const ATTEMPTS: usize = 64;
/// The `Reroll` site of top-level attempts (inner sites are effort counts, far below this).
const ROOT_SITE: u64 = u64::MAX;
/// Attempts (over several seeds) `Generator::new` spends proving a schema satisfiable.
const PROBE_SEEDS: u64 = 4;

/// Compiled schema + oracle: build once, generate many times. `Send + Sync`.
#[derive(Debug)]
pub struct Generator {
    ir: ir::Ir,
    oracle: oracle::Oracle,
    counters: Counters,
    /// Nesting beyond which a branch is abandoned (at least the minimal value's depth).
    hard_depth: usize,
    /// When the time budget runs out, and the budget.
    deadline: Option<(Instant, Duration)>,
    facts: analysis::Facts,
}

impl Generator {
    /// Compile `schema` and check that it admits a value.
    ///
    /// # Errors
    /// `GenError::Schema` for an unreadable or unresolvable schema, `GenError::Unsatisfiable` for
    /// `false`, contradictions, or when no value is found within a bounded effort.
    pub fn new(schema: &Value, opts: &GenOptions) -> Result<Self, GenError> {
        let g = Self::new_unchecked(schema, opts)?;
        if let Some(why) = g.proof_of_emptiness() {
            return Err(GenError::Unsatisfiable { why });
        }
        let mut faults = Faults::default();
        for seed in 0..PROBE_SEEDS {
            match g.attempts(&mut RngSource::new(seed), &mut faults) {
                Ok(_) => {
                    g.counters.generated.store(0, Ordering::Relaxed);
                    g.counters.discarded.store(0, Ordering::Relaxed);
                    return Ok(g);
                }
                Err(Some(e)) => return Err(e),
                Err(None) => {}
            }
        }
        Err(faults.gave_up(PROBE_SEEDS * ATTEMPTS as u64))
    }

    /// Compile `schema` without proving it satisfiable (for mutation of any value).
    ///
    /// # Errors
    /// `GenError::Schema` for an unreadable or unresolvable schema.
    pub fn new_unchecked(schema: &Value, opts: &GenOptions) -> Result<Self, GenError> {
        let start = Instant::now();
        let docs = Arc::new(resolve::load(schema, opts)?);
        let ir = ir::compile(&docs)?;
        let oracle = oracle::Oracle::new(docs, &ir, schema)?;
        let facts = analysis::Facts::of(&ir);
        let hard_depth = (facts.depth(ir.root) + generate::HARD_DEPTH / 6)
            .clamp(generate::HARD_DEPTH, generate::MAX_DEPTH);
        Ok(Self {
            ir,
            oracle,
            counters: Counters::default(),
            hard_depth,
            deadline: opts.max_time.map(|d| (start + d, d)),
            facts,
        })
    }

    /// Why the schema admits no value, when that is proven (never a guess).
    fn proof_of_emptiness(&self) -> Option<String> {
        if matches!(self.ir.nodes.get(self.ir.root), Some(ir::Node::Bool(false))) {
            return Some("the schema is `false`".into());
        }
        if let Some(why) = self.facts.explain(&self.ir, self.ir.root) {
            return Some(why);
        }
        // An `enum`/`const` every value must meet lists every candidate: none valid is a proof.
        let mut stack = vec![self.ir.root];
        let mut seen = Vec::new();
        while let Some(id) = stack.pop() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            let Some(ir::Node::Schema(k)) = self.ir.nodes.get(id) else {
                continue;
            };
            let listed = k
                .const_
                .as_ref()
                .map(std::slice::from_ref)
                .or(k.enum_.as_deref());
            if let Some(members) = listed {
                if !members.iter().any(|m| self.oracle.is_valid(m)) {
                    let kw = if k.const_.is_some() { "const" } else { "enum" };
                    return Some(format!(
                        "no member of `{kw}` at {} is valid for the whole schema",
                        self.ir.uris.get(id).map_or("?", String::as_str)
                    ));
                }
            }
            stack.extend(k.refs.iter().chain(&k.all_of));
        }
        None
    }

    /// Is `v` valid for the schema (the oracle's verdict)?
    #[must_use]
    pub fn is_valid(&self, v: &Value) -> bool {
        self.oracle.is_valid(v)
    }

    /// A valid instance; every returned value passed the oracle.
    ///
    /// # Errors
    /// `GenError::GaveUp` when no valid value was built within the effort budget (naming the
    /// keyword behind most failures), `GenError::OutOfTime` once the time budget has run out.
    pub fn generate(&self, src: &mut dyn Source) -> Result<Value, GenError> {
        let mut faults = Faults::default();
        self.attempts(src, &mut faults)
            .map_err(|e| e.unwrap_or_else(|| faults.gave_up(ATTEMPTS as u64)))
    }

    /// Up to `ATTEMPTS` top-level attempts; `Err(None)` when all failed (see `faults`).
    fn attempts(
        &self,
        src: &mut dyn Source,
        faults: &mut Faults,
    ) -> Result<Value, Option<GenError>> {
        for attempt in 0..ATTEMPTS {
            if let Some((deadline, limit)) = self.deadline {
                if Instant::now() >= deadline {
                    return Err(Some(GenError::OutOfTime { limit }));
                }
            }
            let mut g = generate::Gen::new(&self.ir, &self.oracle);
            g.hard_depth = self.hard_depth;
            g.deadline = self.deadline.map(|d| d.0);
            // Attempt 0 of an exhausted source is the minimal instance; later ones re-draw.
            let src = &mut source::Reroll::new(src, attempt as u64, ROOT_SITE);
            let res = g.build(&[self.ir.root], &[], src, 0);
            self.counters
                .discarded
                .fetch_add(g.discarded, Ordering::Relaxed);
            match res {
                Ok(v) => {
                    if self.oracle.is_valid(&v) {
                        self.counters.generated.fetch_add(1, Ordering::Relaxed);
                        return Ok(v);
                    }
                    self.counters.discarded.fetch_add(1, Ordering::Relaxed);
                    faults.rejected(&self.oracle, &v);
                }
                Err(generate::Dead) => {
                    if g.out_of_time {
                        if let Some((_, limit)) = self.deadline {
                            return Err(Some(GenError::OutOfTime { limit }));
                        }
                    }
                    faults.dead(g.fault.take());
                }
            }
        }
        Err(None)
    }

    /// An invalid instance derived from `valid`, aimed at one keyword at one path.
    ///
    /// # Errors
    /// Currently never; reserved for oracle failures.
    pub fn mutate(&self, valid: &Value, src: &mut dyn Source) -> Result<Option<Mutant>, GenError> {
        let targets = self.mutation_targets(valid);
        if targets.is_empty() {
            return Ok(None);
        }
        let start = src.choose(targets.len());
        for i in 0..targets.len() {
            let t = &targets[(start + i) % targets.len()];
            if let Some(m) = self.mutate_target(valid, t, src)? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Every (class, keyword, instance path) that applies to `valid`.
    #[must_use]
    pub fn mutation_targets(&self, valid: &Value) -> Vec<MutationTarget> {
        mutate::targets(&self.ir, &self.oracle, valid)
    }

    /// Apply one mutation; `None` when no candidate broke exactly that keyword at that path.
    ///
    /// # Errors
    /// Currently never; reserved for oracle failures.
    pub fn mutate_target(
        &self,
        valid: &Value,
        target: &MutationTarget,
        src: &mut dyn Source,
    ) -> Result<Option<Mutant>, GenError> {
        let (m, discarded) = mutate::apply(&self.ir, &self.oracle, valid, target, src);
        self.counters
            .mutants_discarded
            .fetch_add(discarded, Ordering::Relaxed);
        if m.is_some() {
            self.counters.mutants.fetch_add(1, Ordering::Relaxed);
        }
        Ok(m)
    }

    /// Any invalid value (for schemas with no valid instance to mutate), annotated with the first
    /// error the validator reports.
    pub fn invalid_any(&self, src: &mut dyn Source) -> Option<Mutant> {
        let m = mutate::any_invalid(&self.oracle, src);
        if m.is_some() {
            self.counters.mutants.fetch_add(1, Ordering::Relaxed);
        }
        m
    }

    /// Counters since construction.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            generated: self.counters.generated.load(Ordering::Relaxed),
            discarded: self.counters.discarded.load(Ordering::Relaxed),
            mutants: self.counters.mutants.load(Ordering::Relaxed),
            mutants_discarded: self.counters.mutants_discarded.load(Ordering::Relaxed),
        }
    }
}
