//! Evidence: a bounded search for an event valid under the source schema and invalid under the
//! target, shrunk to a minimal one when found.
//!
//! Invariants:
//! - every candidate comes from `contracts-gen`: values generated from the source schema, and
//!   mutants of those values aimed by the *target*'s generator at one of its keywords (a mutant
//!   that breaks the target exactly where it narrowed is the counterexample a random value
//!   rarely hits: a string one longer than the new `maxLength`, the newly required member
//!   missing);
//! - the referee is a `jsonschema` validator built here, with the registry's options (formats
//!   asserted, linear-time regexes), never the generator's own verdict;
//! - the search is bounded by [`SearchOptions::cases`] and the same seed gives the same result.
#![deny(clippy::wildcard_enum_match_arm)]

use super::CompatError;
use super::schemas::Subject;
use super::shrink;
use contracts_gen::{GenError, GenOptions, Generator, RngSource};
use jsonschema::{EmailOptions, PatternOptions, Validator};
use serde::Serialize;
use serde_json::Value;

/// Cases per direction. Each case is one generated source event, one mutant of it aimed at the
/// target, and one mutant of a target event: the fixture table finds every counterexample in
/// its first 40 cases (`cargo test -p contracts-core compat`), so 200 leaves a wide margin while
/// a 53-schema comparison stays around a second per changed schema on the 2-core CI machine.
/// `--cases` raises it.
pub const DEFAULT_CASES: u32 = 200;
/// For the first cases, every mutation target of the source event is tried, not one at random:
/// narrowings sit at specific keywords, and a sweep over all of them finds each one early.
const SWEEP_CASES: u32 = 4;
/// Validator calls the shrinker may spend: enough to reduce a whole envelope event to its
/// required members, small next to the search itself.
const SHRINK_BUDGET: usize = 4000;
/// Target errors kept with a counterexample: the first few say why; the rest is noise.
const MAX_ERRORS: usize = 5;

/// How much searching, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Cases per direction.
    pub cases: u32,
    /// Seed of the first case; case `i` uses `seed + i`.
    pub seed: u64,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            cases: DEFAULT_CASES,
            seed: 0,
        }
    }
}

/// A minimal event valid under the source schema and invalid under the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterexample {
    /// The shrunk event.
    pub event: Value,
    /// How it was found (`generated` or `mutant <keyword> at <path>`).
    pub found_by: String,
    /// The case it was found in (reproduce with the same seed and at least this many cases).
    pub case: u32,
    /// Why the target rejects it.
    pub target_errors: Vec<TargetError>,
}

/// One reason the target schema rejects a counterexample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetError {
    /// The failing keyword.
    pub keyword: String,
    /// Where in the event.
    pub instance_path: String,
    /// The validator's message.
    pub message: String,
}

/// What the search did for one direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Search {
    /// Not run: the two schema closures are identical.
    Skipped,
    /// A counterexample.
    Found(Counterexample),
    /// All cases ran, none was a counterexample.
    Clean {
        /// Cases run.
        cases: u32,
        /// Source events generated.
        generated: u64,
        /// Mutants checked against the source.
        mutants: u64,
    },
    /// The generator could not produce a source event.
    SourceEmpty {
        /// The generator's reason.
        why: String,
    },
    /// The generator cannot read the source schema.
    Unavailable {
        /// The generator's reason.
        why: String,
    },
}

/// A subject compiled for the search: the referee, and the generator when it can read it.
pub(crate) struct Compiled {
    validator: Validator,
    generator: Result<Generator, GenError>,
}

impl Compiled {
    pub(crate) fn new(subject: &Subject) -> Result<Self, CompatError> {
        Ok(Self {
            validator: validator(subject)?,
            generator: Generator::new(subject.value(), &gen_options(subject)),
        })
    }

    fn valid(&self, v: &Value) -> bool {
        self.validator.is_valid(v)
    }

    fn errors(&self, v: &Value) -> Vec<TargetError> {
        self.validator
            .iter_errors(v)
            .take(MAX_ERRORS)
            .map(|e| TargetError {
                keyword: e.kind().keyword().to_owned(),
                instance_path: e.instance_path().as_str().to_owned(),
                message: e.to_string(),
            })
            .collect()
    }
}

/// The validator for `subject`, with the registry's options and every document of its set.
///
/// # Errors
/// `CompatError::Compile` when the validator refuses the schema or a document it references.
pub fn validator(subject: &Subject) -> Result<Validator, CompatError> {
    let refuse = |message: String| CompatError::Compile {
        origin: format!("{}:{}", subject.set.origin(), subject.entry),
        message,
    };
    let resources = subject
        .set
        .docs()
        .iter()
        .map(|(rel, v)| (subject.set.uri(rel), v.clone()));
    let registry = jsonschema::Registry::new()
        .extend(resources)
        .and_then(jsonschema::RegistryBuilder::prepare)
        .map_err(|e| refuse(e.to_string()))?;
    jsonschema::options()
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::regex())
        .with_email_options(EmailOptions::default().without_display_text())
        .with_registry(&registry)
        .with_base_uri(subject.uri())
        .offline()
        .build(subject.value())
        .map_err(|e| refuse(e.to_string()))
}

fn gen_options(subject: &Subject) -> GenOptions {
    GenOptions {
        base_uri: Some(subject.uri()),
        resources: subject
            .set
            .docs()
            .iter()
            .map(|(rel, v)| (subject.set.uri(rel), v.clone()))
            .collect(),
        ..GenOptions::default()
    }
}

/// The first of `candidates` the reference accepts under `src` and rejects under `tgt`,
/// shrunk and with the target's errors; `None` when the reference confirms none.
pub(crate) fn confirm(
    src: &Compiled,
    tgt: &Compiled,
    candidates: Vec<Value>,
    keyword: &str,
) -> Option<Counterexample> {
    let is_counter = |v: &Value| src.valid(v) && !tgt.valid(v);
    let v = candidates.into_iter().find(|v| is_counter(v))?;
    let event = shrink::shrink(v, &is_counter, SHRINK_BUDGET);
    Some(Counterexample {
        target_errors: tgt.errors(&event),
        event,
        found_by: format!("the decision procedure ({keyword})"),
        case: 0,
    })
}

/// Search for an event valid under `src` and invalid under `tgt`.
///
/// `probes` are `(instance path, values)` from the rules: for the first cases each value is also
/// tried at that path of the generated event.
pub(crate) fn search(
    src: &Compiled,
    tgt: &Compiled,
    opts: &SearchOptions,
    probes: &[(String, Vec<Value>)],
) -> Search {
    let src_gen = match &src.generator {
        Ok(g) => g,
        Err(GenError::Unsatisfiable { why }) => return Search::SourceEmpty { why: why.clone() },
        Err(e) => return Search::Unavailable { why: e.to_string() },
    };
    let tgt_gen = tgt.generator.as_ref().ok();
    let is_counter = |v: &Value| src.valid(v) && !tgt.valid(v);
    let found = |v: Value, found_by: String, case: u32| {
        let event = shrink::shrink(v, &is_counter, SHRINK_BUDGET);
        Search::Found(Counterexample {
            target_errors: tgt.errors(&event),
            event,
            found_by,
            case,
        })
    };
    let (mut generated, mut mutants) = (0u64, 0u64);
    for case in 0..opts.cases {
        let mut rng = RngSource::new(opts.seed.wrapping_add(u64::from(case)));
        let Ok(v) = src_gen.generate(&mut rng) else {
            continue;
        };
        generated += 1;
        if !tgt.valid(&v) {
            return found(v, "generated from the source schema".into(), case);
        }
        let Some(tg) = tgt_gen else { continue };
        if case < SWEEP_CASES {
            for (path, values) in probes {
                for value in values {
                    for p in set_at(&v, path, value) {
                        if is_counter(&p) {
                            return found(p, format!("a rule probe ({value} at {path})"), case);
                        }
                    }
                }
            }
        }
        let mut candidates = Vec::new();
        if case < SWEEP_CASES {
            for t in tg.mutation_targets(&v) {
                if let Ok(Some(m)) = tg.mutate_target(&v, &t, &mut rng) {
                    candidates.push(m);
                }
            }
        } else if let Ok(Some(m)) = tg.mutate(&v, &mut rng) {
            candidates.push(m);
        }
        if let Ok(w) = tg.generate(&mut rng) {
            if let Ok(Some(m)) = tg.mutate(&w, &mut rng) {
                candidates.push(m);
            }
        }
        for m in candidates {
            mutants += 1;
            if is_counter(&m.value) {
                let how = format!(
                    "a target mutant ({} at {})",
                    m.keyword,
                    if m.instance_path.is_empty() {
                        "/"
                    } else {
                        &m.instance_path
                    }
                );
                return found(m.value, how, case);
            }
        }
    }
    Search::Clean {
        cases: opts.cases,
        generated,
        mutants,
    }
}

/// `v` with `value` placed at `path` (RFC 6901, `*` = every existing member or item); the last
/// member is created when its parent object exists.
fn set_at(v: &Value, path: &str, value: &Value) -> Vec<Value> {
    let segs: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut out = Vec::new();
    place(v, &segs, value, &mut out);
    out
}

fn place(v: &Value, segs: &[String], value: &Value, out: &mut Vec<Value>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(value.clone());
        return;
    };
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = if first == "*" {
                map.keys().cloned().collect()
            } else {
                vec![first.clone()]
            };
            for k in keys {
                let mut subs = Vec::new();
                match map.get(&k) {
                    Some(child) => place(child, rest, value, &mut subs),
                    None if rest.is_empty() => subs.push(value.clone()),
                    None => {}
                }
                for s in subs {
                    let mut m = map.clone();
                    m.insert(k.clone(), s);
                    out.push(Value::Object(m));
                }
            }
        }
        Value::Array(items) => {
            let idx: Vec<usize> = if first == "*" {
                (0..items.len()).collect()
            } else {
                first
                    .parse()
                    .into_iter()
                    .filter(|i| *i < items.len())
                    .collect()
            };
            for i in idx {
                let mut subs = Vec::new();
                place(&items[i], rest, value, &mut subs);
                for s in subs {
                    let mut a = items.clone();
                    a[i] = s;
                    out.push(Value::Array(a));
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}
