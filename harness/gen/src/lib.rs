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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
}

/// Why the generator could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// The schema admits no value (or none was found within the effort budget).
    #[error("unsatisfiable schema: {why}")]
    Unsatisfiable {
        /// What contradicts what.
        why: String,
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
}

impl Generator {
    /// Compile `schema` and check that it admits a value.
    ///
    /// # Errors
    /// `GenError::Schema` for an unreadable or unresolvable schema, `GenError::Unsatisfiable` for
    /// `false`, contradictions, or when no value is found within a bounded effort.
    pub fn new(schema: &Value, opts: &GenOptions) -> Result<Self, GenError> {
        let g = Self::new_unchecked(schema, opts)?;
        let mut last = None;
        for seed in 0..PROBE_SEEDS {
            match g.generate(&mut RngSource::new(seed)) {
                Ok(_) => {
                    g.counters.generated.store(0, Ordering::Relaxed);
                    g.counters.discarded.store(0, Ordering::Relaxed);
                    return Ok(g);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(GenError::Unsatisfiable {
            why: "no value found".into(),
        }))
    }

    /// Compile `schema` without proving it satisfiable (for mutation of any value).
    ///
    /// # Errors
    /// `GenError::Schema` for an unreadable or unresolvable schema.
    pub fn new_unchecked(schema: &Value, opts: &GenOptions) -> Result<Self, GenError> {
        let docs = Arc::new(resolve::load(schema, opts)?);
        let ir = ir::compile(&docs)?;
        let oracle = oracle::Oracle::new(docs, &ir, schema)?;
        Ok(Self {
            ir,
            oracle,
            counters: Counters::default(),
        })
    }

    /// Is `v` valid for the schema (the oracle's verdict)?
    #[must_use]
    pub fn is_valid(&self, v: &Value) -> bool {
        self.oracle.is_valid(v)
    }

    /// A valid instance; every returned value passed the oracle.
    ///
    /// # Errors
    /// `GenError::Unsatisfiable` when no valid value was built within the effort budget.
    pub fn generate(&self, src: &mut dyn Source) -> Result<Value, GenError> {
        let mut why_root = false;
        for attempt in 0..ATTEMPTS {
            let mut g = generate::Gen::new(&self.ir, &self.oracle);
            // Attempt 0 of an exhausted source is the minimal instance; later ones re-draw.
            let src = &mut source::Reroll::new(src, attempt as u64, ROOT_SITE);
            let res = g.build(&[self.ir.root], &[], src, 0);
            self.counters
                .discarded
                .fetch_add(g.discarded, Ordering::Relaxed);
            match res {
                Ok(v) if self.oracle.is_valid(&v) => {
                    self.counters.generated.fetch_add(1, Ordering::Relaxed);
                    return Ok(v);
                }
                Ok(_) => {
                    why_root = true;
                    self.counters.discarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(generate::Dead) => {}
            }
        }
        Err(GenError::Unsatisfiable {
            why: self.explain(why_root),
        })
    }

    fn explain(&self, built_some: bool) -> String {
        if matches!(self.ir.nodes.get(self.ir.root), Some(ir::Node::Bool(false))) {
            return "the schema is `false`".into();
        }
        if built_some {
            format!("every candidate of {ATTEMPTS} attempts was rejected by the validator")
        } else {
            format!(
                "no candidate could be built in {ATTEMPTS} attempts (contradictory keywords, or \
                 an empty intersection of enum/const/type)"
            )
        }
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
