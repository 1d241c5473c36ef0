//! Schema evolution: is a new schema compatible with an old one, with proof or a counterexample.
//!
//! Definitions (as schema registries use them):
//! - **backward**: every event valid under the old schema is valid under the new one (new
//!   consumers read old events, stored events still validate);
//! - **forward**: every event valid under the new schema is valid under the old one (old consumers
//!   read new events);
//! - **full**: both.
//!
//! A direction is the question `L(source) ⊆ L(target)` (backward: old ⊆ new; forward:
//! new ⊆ old), decided by a procedure, not by keyword rules:
//! - `normal` brings both schemas into one normal form: a union of typed atoms per node,
//!   `$ref`s inlined into a graph (recursion stays a cycle), `enum`/`const`/`anyOf` of consts
//!   unified, integer bounds closed, `allOf` merged, `anyOf`/`oneOf`/`not`/`if` kept as unions
//!   of intersections and complements (the approach of jsonsubschema, Habib et al., ISSTA 2021);
//! - `decide` decides inclusion per type (numbers as intervals on lattices, strings as
//!   regular languages on a DFA product in `lang`, arrays and objects member by member),
//!   co-inductively on cycles, and builds candidate counterexamples where it fails;
//! - [`evidence`] confirms every candidate with the `jsonschema` reference before it is
//!   reported, and runs the generator-driven search: a second source of counterexamples and a
//!   cross-check of every proof.
//!
//! Reading the verdicts (the safe reading, STYLE "Comments and docs"):
//! - **compatible** only with a proof (or closures identical up to annotations);
//! - **incompatible** only with a counterexample the reference accepts under the source schema
//!   and rejects under the target, from the procedure or from the search;
//! - **undecided** otherwise, naming the keyword the procedure could not decide (a lookahead
//!   pattern, `unevaluatedProperties`, a `multipleOf` lattice it cannot compare);
//! - a search counterexample to a proved inclusion is a defect of the procedure: it is reported
//!   as incompatible with [`Basis::ProofContradicted`], and tests require it never happens.
//!
//! [`rules`] still describes what changed, keyword by keyword (the `changes` of a report and the
//! probes the search places at changed locations); it decides nothing.
//!
//! Layers: [`schemas`] (documents from a directory, a file or a git revision) -> `normal` ->
//! `lang` -> `decide` -> [`evidence`] -> [`compare`] (this file: one verdict per direction)
//! -> [`versioning`] (the D2 MINOR/MAJOR rule of catalogue §2.2 over a whole specs tree), with
//! [`asyncapi`] beside it for the catalogue's messages and channels.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod asyncapi;
pub(crate) mod decide;
pub mod evidence;
pub(crate) mod lang;
pub(crate) mod normal;
#[cfg(test)]
mod properties;
pub mod rules;
pub mod schemas;
pub mod shrink;
pub mod versioning;

pub use evidence::{Counterexample, DEFAULT_CASES, Search, SearchOptions};
pub use rules::{Change, ChangeClass, Effect, Impact};
pub use schemas::{SchemaSet, Subject};
pub use versioning::{
    Baseline, Finding, FindingKind, VersioningReport, baseline, versioning_check,
    versioning_findings,
};

use serde::Serialize;
use std::path::PathBuf;

/// Why a comparison could not be made. A found incompatibility is data, never this.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompatError {
    /// A file or directory could not be read.
    #[error("{path}: cannot read")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not JSON.
    #[error("{origin}:{line}:{column}: not valid JSON: {message}")]
    Parse {
        /// Where the file came from (`specs/x.json`, `HEAD~1:specs/x.json`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// `git` failed or the revision does not exist.
    #[error("git {args}: {message}")]
    Git {
        /// The git arguments.
        args: String,
        /// git's stderr, or why it could not run.
        message: String,
    },
    /// The arguments name nothing usable (a missing file, a directory without schemas).
    #[error("{0}")]
    Usage(String),
    /// The validator refuses a schema.
    #[error("{origin}: the validator refuses the schema: {message}")]
    Compile {
        /// The schema's origin.
        origin: String,
        /// The validator's message.
        message: String,
    },
}

/// One direction of compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Old events valid under the new schema.
    Backward,
    /// New events valid under the old schema.
    Forward,
}

impl Direction {
    /// The output spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

/// Which directions a check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Backward only (the default, as in schema registries).
    #[default]
    Backward,
    /// Forward only.
    Forward,
    /// Both.
    Full,
}

impl Mode {
    /// The directions this mode checks.
    #[must_use]
    pub fn directions(self) -> &'static [Direction] {
        match self {
            Mode::Backward => &[Direction::Backward],
            Mode::Forward => &[Direction::Forward],
            Mode::Full => &[Direction::Backward, Direction::Forward],
        }
    }
}

/// The conclusion for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Inclusion proved by the decision procedure (or the two schema closures are identical).
    Compatible,
    /// A counterexample confirmed by the reference validator: valid under the source schema,
    /// invalid under the target.
    Incompatible,
    /// Neither a proof nor a confirmed counterexample; [`DirectionReport::keyword`] names what
    /// the procedure could not decide.
    Undecided,
}

impl Verdict {
    /// The output spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::Incompatible => "incompatible",
            Verdict::Undecided => "undecided",
        }
    }
}

/// What a verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The two closures are equal up to annotations.
    Identical,
    /// The decision procedure proved inclusion ([`DirectionReport::proof`]).
    Proof,
    /// A counterexample built by the decision procedure, confirmed by the reference.
    Procedure,
    /// A counterexample found by the generator-driven search, confirmed by the reference.
    Search,
    /// Neither proof nor counterexample.
    Undecided,
    /// The procedure proved inclusion and the search still found a confirmed counterexample: a
    /// defect of the procedure, reported as incompatible (the counterexample is real).
    ProofContradicted,
}

/// The outcome for one direction of one schema pair.
#[derive(Debug, Clone, Serialize)]
pub struct DirectionReport {
    /// Which direction.
    pub direction: Direction,
    /// The conclusion.
    pub verdict: Verdict,
    /// What the verdict rests on.
    pub basis: Basis,
    /// The steps of the proof, when there is one.
    pub proof: Vec<String>,
    /// The keyword behind a counterexample, or the one that could not be decided.
    pub keyword: Option<String>,
    /// What the bounded search did; a counterexample (from either source) is `Found`.
    pub search: Search,
    /// One line saying why the verdict is what it is.
    pub reason: String,
}

/// The comparison of one old schema with one new schema.
#[derive(Debug, Clone, Serialize)]
pub struct PairReport {
    /// The schema's name: its path relative to the specs root, or the file names.
    pub name: String,
    /// Whether the two schema closures (the schema and every document it references) are equal.
    pub identical: bool,
    /// What changed, keyword by keyword (a description; verdicts come from the procedure).
    pub changes: Vec<Change>,
    /// One report per requested direction.
    pub directions: Vec<DirectionReport>,
}

impl PairReport {
    /// Whether every requested direction is compatible.
    #[must_use]
    pub fn compatible(&self) -> bool {
        self.directions
            .iter()
            .all(|d| d.verdict == Verdict::Compatible)
    }

    /// The report of one direction, when it was requested.
    #[must_use]
    pub fn direction(&self, d: Direction) -> Option<&DirectionReport> {
        self.directions.iter().find(|r| r.direction == d)
    }
}

/// Compare `old` with `new` in `mode`: the decision procedure for every direction, with the
/// generator-driven search as a second source of counterexamples and a cross-check of proofs.
///
/// # Errors
/// `CompatError::Compile` when the validator refuses either schema.
pub fn compare(
    name: &str,
    old: &Subject,
    new: &Subject,
    mode: Mode,
    opts: &SearchOptions,
) -> Result<PairReport, CompatError> {
    // Equal up to annotations (title, description, examples, `x-*`, ...) is equal: annotations
    // never change which events are valid (JSON Schema Validation §9), so this is a proof.
    let strip = |s: &Subject| -> std::collections::BTreeMap<String, serde_json::Value> {
        s.closure()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), rules::strip_annotations(v)))
            .collect()
    };
    let identical = strip(old) == strip(new);
    if identical {
        let directions = mode
            .directions()
            .iter()
            .map(|&direction| DirectionReport {
                direction,
                verdict: Verdict::Compatible,
                basis: Basis::Identical,
                proof: vec!["the two closures are equal up to annotations".to_owned()],
                keyword: None,
                search: Search::Skipped,
                reason: "the two schemas and every document they reference are identical up to annotations".to_owned(),
            })
            .collect();
        return Ok(PairReport {
            name: name.to_owned(),
            identical,
            changes: Vec::new(),
            directions,
        });
    }
    let changes = rules::diff(old, new);
    let (old_c, new_c) = (evidence::Compiled::new(old)?, evidence::Compiled::new(new)?);
    let mut arena = normal::Arena::new();
    let (old_id, new_id) = (arena.subject(old, 0), arena.subject(new, 1));
    let probes: Vec<(String, Vec<serde_json::Value>)> = changes
        .iter()
        .filter(|c| !c.probes.is_empty())
        .map(|c| (c.instance_path.clone(), c.probes.clone()))
        .collect();
    let mut directions = Vec::new();
    for &direction in mode.directions() {
        let (src, tgt, src_id, tgt_id) = match direction {
            Direction::Backward => (&old_c, &new_c, old_id, new_id),
            Direction::Forward => (&new_c, &old_c, new_id, old_id),
        };
        let decision = decide::Decider::new(&mut arena).decide(src_id, tgt_id);
        directions.push(conclude(direction, decision, src, tgt, opts, &probes));
    }
    Ok(PairReport {
        name: name.to_owned(),
        identical,
        changes,
        directions,
    })
}

/// One direction's verdict from the procedure's decision, the reference and the search (the
/// safe reading: compatible only with a proof, incompatible only with a confirmed
/// counterexample, else undecided naming the keyword).
fn conclude(
    direction: Direction,
    decision: decide::Decision,
    src: &evidence::Compiled,
    tgt: &evidence::Compiled,
    opts: &SearchOptions,
    probes: &[(String, Vec<serde_json::Value>)],
) -> DirectionReport {
    let report = |verdict, basis, proof, keyword, search, reason| DirectionReport {
        direction,
        verdict,
        basis,
        proof,
        keyword,
        search,
        reason,
    };
    match decision {
        decide::Decision::Proved(steps) => {
            // The search cross-checks every proof: a confirmed counterexample to a proved
            // inclusion is a defect of the procedure, and the counterexample wins.
            let search = evidence::search(src, tgt, opts, probes);
            if let Search::Found(_) = &search {
                return report(
                    Verdict::Incompatible,
                    Basis::ProofContradicted,
                    steps,
                    None,
                    search,
                    "the procedure proved inclusion but the search found a confirmed counterexample (a defect of the procedure)".to_owned(),
                );
            }
            let reason = format!("proved by the decision procedure ({} step(s))", steps.len());
            report(
                Verdict::Compatible,
                Basis::Proof,
                steps,
                None,
                search,
                reason,
            )
        }
        decide::Decision::Refuted(candidates, keyword) => {
            if let Some(c) = evidence::confirm(src, tgt, candidates, &keyword) {
                let reason = format!(
                    "a counterexample built by the decision procedure ({keyword}), confirmed by the reference"
                );
                return report(
                    Verdict::Incompatible,
                    Basis::Procedure,
                    Vec::new(),
                    Some(keyword),
                    Search::Found(c),
                    reason,
                );
            }
            from_search(direction, keyword, src, tgt, opts, probes)
        }
        decide::Decision::Unknown(keyword) => {
            from_search(direction, keyword, src, tgt, opts, probes)
        }
    }
}

fn from_search(
    direction: Direction,
    keyword: String,
    src: &evidence::Compiled,
    tgt: &evidence::Compiled,
    opts: &SearchOptions,
    probes: &[(String, Vec<serde_json::Value>)],
) -> DirectionReport {
    let search = evidence::search(src, tgt, opts, probes);
    let (verdict, basis, reason) = match &search {
        Search::Found(_) => (
            Verdict::Incompatible,
            Basis::Search,
            format!(
                "the procedure could not decide `{keyword}`; the search found a counterexample, confirmed by the reference"
            ),
        ),
        Search::Clean { cases, .. } => (
            Verdict::Undecided,
            Basis::Undecided,
            format!(
                "the procedure could not decide `{keyword}` and the search found no counterexample in {cases} cases"
            ),
        ),
        Search::SourceEmpty { why } | Search::Unavailable { why } => (
            Verdict::Undecided,
            Basis::Undecided,
            format!(
                "the procedure could not decide `{keyword}` and no source event could be generated ({why})"
            ),
        ),
        Search::Skipped => (
            Verdict::Undecided,
            Basis::Undecided,
            format!("the procedure could not decide `{keyword}`"),
        ),
    };
    DirectionReport {
        direction,
        verdict,
        basis,
        proof: Vec::new(),
        keyword: Some(keyword),
        search,
        reason,
    }
}
