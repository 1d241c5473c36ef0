//! Schema evolution: is a new schema compatible with an old one, with proof or a counterexample.
//!
//! Definitions (as schema registries use them):
//! - **backward**: every event valid under the old schema is valid under the new one (new
//!   consumers read old events, stored events still validate);
//! - **forward**: every event valid under the new schema is valid under the old one (old consumers
//!   read new events);
//! - **full**: both.
//!
//! Two independent sources decide a direction:
//! - [`rules`]: a structural comparison of the two schemas that classifies each change
//!   ([`ChangeClass`]) with the JSON pointer where it happens and the direction it breaks
//!   ([`Effect`]);
//! - [`evidence`]: a bounded search that generates events from the source schema (and mutants of
//!   the target schema) with `contracts-gen` and validates them against the target; a hit is
//!   shrunk to a minimal counterexample.
//!
//! Reading the undecided cases (the safe reading, STYLE "Comments and docs"):
//! - a counterexample always wins: the direction is incompatible, whatever the rules said;
//! - "compatible" needs both the rules finding nothing that can break **and** a clean search
//!   beside them; identical schema closures are compatible by identity (a proof, not a rule);
//! - rules that say "breaks" stand even when the search finds nothing (incompatible, unproven);
//! - rules that say "may break" (a changed pattern, a changed `oneOf` branch) with a clean search
//!   give [`Verdict::Undecided`], which the CLI and the versioning check treat as not compatible.
//!
//! Layers: [`schemas`] (documents from a directory, a file or a git revision) -> [`rules`] ->
//! [`evidence`] -> [`compare`] (this file: one verdict per direction) -> [`versioning`] (the D2
//! MINOR/MAJOR rule of catalogue §2.2 over a whole specs tree).
#![deny(clippy::wildcard_enum_match_arm)]

pub mod evidence;
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
    /// Rules found nothing that can break and the bounded search found no counterexample (or the
    /// two schema closures are identical).
    Compatible,
    /// A counterexample was found, or a rule says the change breaks this direction.
    Incompatible,
    /// Rules cannot decide (e.g. a changed regex) and the search found no counterexample.
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

/// The outcome for one direction of one schema pair.
#[derive(Debug, Clone, Serialize)]
pub struct DirectionReport {
    /// Which direction.
    pub direction: Direction,
    /// The conclusion.
    pub verdict: Verdict,
    /// The strongest rule impact over all changes, for this direction.
    pub rule: Impact,
    /// What the bounded search did.
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
    /// Every classified change.
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

/// Compare `old` with `new` in `mode`: rules, then the bounded search for every direction.
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
    let changes = if identical {
        Vec::new()
    } else {
        rules::diff(old, new)
    };
    let mut directions = Vec::new();
    let (old_c, new_c) = if identical {
        (None, None)
    } else {
        (
            Some(evidence::Compiled::new(old)?),
            Some(evidence::Compiled::new(new)?),
        )
    };
    for &direction in mode.directions() {
        let rule = changes
            .iter()
            .map(|c| c.effect.get(direction))
            .max()
            .unwrap_or(Impact::Safe);
        let (search, verdict, reason) = match (&old_c, &new_c) {
            (Some(o), Some(n)) => {
                let (src, tgt) = match direction {
                    Direction::Backward => (o, n),
                    Direction::Forward => (n, o),
                };
                let probes: Vec<(String, Vec<serde_json::Value>)> = changes
                    .iter()
                    .filter(|c| !c.probes.is_empty())
                    .map(|c| (c.instance_path.clone(), c.probes.clone()))
                    .collect();
                let search = evidence::search(src, tgt, opts, &probes);
                let (verdict, reason) = decide(rule, &search);
                (search, verdict, reason)
            }
            _ => (
                Search::Skipped,
                Verdict::Compatible,
                "the two schemas and every document they reference are identical up to annotations"
                    .to_owned(),
            ),
        };
        directions.push(DirectionReport {
            direction,
            verdict,
            rule,
            search,
            reason,
        });
    }
    Ok(PairReport {
        name: name.to_owned(),
        identical,
        changes,
        directions,
    })
}

/// The safe reading of rules + search (module docs).
fn decide(rule: Impact, search: &Search) -> (Verdict, String) {
    match search {
        Search::Found(_) => (
            Verdict::Incompatible,
            "a counterexample was found".to_owned(),
        ),
        Search::Clean { cases, .. } => match rule {
            Impact::Breaks => (
                Verdict::Incompatible,
                format!(
                    "a rule says this direction breaks; no counterexample in {cases} cases (unproven)"
                ),
            ),
            Impact::MayBreak => (
                Verdict::Undecided,
                format!(
                    "the rules cannot decide a change and no counterexample was found in {cases} cases"
                ),
            ),
            Impact::Safe => (
                Verdict::Compatible,
                format!("no rule breaks it and no counterexample was found in {cases} cases"),
            ),
        },
        // The generator's "unsatisfiable" may be its effort budget, not a proof that the source
        // admits nothing: a rule that breaks still stands, nothing is called compatible.
        Search::SourceEmpty { why } | Search::Unavailable { why } => match rule {
            Impact::Breaks => (
                Verdict::Incompatible,
                format!(
                    "a rule says this direction breaks; no source event could be generated to show it ({why})"
                ),
            ),
            Impact::Safe | Impact::MayBreak => (
                Verdict::Undecided,
                format!(
                    "no source event could be generated, so the rules alone cannot say compatible ({why})"
                ),
            ),
        },
        Search::Skipped => (
            Verdict::Compatible,
            "the two schema closures are identical".to_owned(),
        ),
    }
}
