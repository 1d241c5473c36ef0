//! The D2 versioning rule (catalogue §2.2, §9) over a whole specs tree: compared with a baseline,
//! an event-type schema file `<event_type>.v<MAJOR>.schema.json` may only change in ways that
//! are backward compatible (a MINOR change); anything else needs a new MAJOR file. A schema file
//! removed from the tree must have been marked `"deprecated": true` in the baseline.
//!
//! Invariants: only the backward direction is checked (D2: "MINOR = backward-compatible for
//! readers of the same MAJOR"); a new MAJOR file is a new contract and never a finding by
//! itself; an undecided comparison fails like an incompatible one (the safe reading, `compat`
//! module docs), with its own kind so the message can say "could not show compatible".
#![deny(clippy::wildcard_enum_match_arm)]

use super::schemas::{SchemaSet, Subject, git, repo_root};
use super::{CompatError, Direction, Mode, PairReport, SearchOptions, Verdict, compare};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file, inside the specs directory, that may name the baseline revision (first line that is
/// not blank and not a `#` comment). Without it, the last tag reachable from `HEAD` is used.
pub const BASELINE_FILE: &str = "BASELINE";

/// What is wrong (or noteworthy) about one event-type schema against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A backward-incompatible change to an existing MAJOR (needs a new MAJOR file). Fails.
    IncompatibleWithoutMajorBump,
    /// A change the rules and the search could not show backward compatible. Fails.
    UndecidedWithoutMajorBump,
    /// A schema file gone without `"deprecated": true` in the baseline. Fails.
    RemovedWithoutDeprecation,
    /// A deprecated schema file removed. Informational.
    RemovedAfterDeprecation,
    /// A new event type or a new MAJOR. Informational.
    Added,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// The schema file, relative to the specs root (`events/types/x.v1.schema.json`).
    pub file: String,
    /// The event type, when the file name parses.
    pub event_type: Option<String>,
    /// The MAJOR, when the file name parses.
    pub major: Option<u64>,
    /// For people, naming the change and the counterexample when there is one.
    pub message: String,
    /// The full comparison, for changed files.
    pub report: Option<PairReport>,
}

impl Finding {
    /// Whether this finding fails the check.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        match self.kind {
            FindingKind::IncompatibleWithoutMajorBump
            | FindingKind::UndecidedWithoutMajorBump
            | FindingKind::RemovedWithoutDeprecation => true,
            FindingKind::RemovedAfterDeprecation | FindingKind::Added => false,
        }
    }
}

/// Where the baseline comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Baseline {
    /// The revision (as written in the file, or the tag name).
    pub rev: String,
    /// How it was chosen: `specs/BASELINE` or `last tag`.
    pub source: String,
}

/// The outcome of the versioning check.
#[derive(Debug, Clone, Serialize)]
pub struct VersioningReport {
    /// The baseline used; `None` when there is none (no baseline file, no tag): nothing checked.
    pub baseline: Option<Baseline>,
    /// Every finding, failures and information.
    pub findings: Vec<Finding>,
    /// Event-type schema files compared.
    pub compared: usize,
}

impl VersioningReport {
    /// Whether any finding fails the check.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.findings.iter().any(Finding::is_failure)
    }
}

/// The baseline revision for the repository holding `specs_dir`: the first line of
/// `<specs_dir>/BASELINE`, else the last tag reachable from `HEAD`, else `None`.
///
/// # Errors
/// An unreadable `BASELINE` file, or `git` failing for another reason than "no tag".
pub fn baseline(specs_dir: &Path) -> Result<Option<Baseline>, CompatError> {
    let file = specs_dir.join(BASELINE_FILE);
    if file.is_file() {
        let text = std::fs::read_to_string(&file).map_err(|source| CompatError::Io {
            path: file.clone(),
            source,
        })?;
        let rev = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| CompatError::Usage(format!("{}: names no revision", file.display())))?;
        return Ok(Some(Baseline {
            rev: rev.to_owned(),
            source: format!("{}", file.display()),
        }));
    }
    let repo = repo_root(specs_dir)?;
    match git(&repo, &["describe", "--tags", "--abbrev=0", "HEAD"]) {
        Ok(tag) => Ok(Some(Baseline {
            rev: tag.trim().to_owned(),
            source: "last tag".into(),
        })),
        Err(_) => Ok(None),
    }
}

/// The versioning check of `specs_dir` (a specs tree in a git repository) against its
/// [`baseline`]: what `contracts check` / `make validate-contracts` calls.
///
/// # Errors
/// No git repository, an unknown baseline revision, unreadable or non-JSON schema files.
pub fn versioning_check(
    specs_dir: &Path,
    opts: &SearchOptions,
) -> Result<VersioningReport, CompatError> {
    let Some(base) = baseline(specs_dir)? else {
        return Ok(VersioningReport {
            baseline: None,
            findings: Vec::new(),
            compared: 0,
        });
    };
    let repo = repo_root(specs_dir)?;
    let rel = relative_to_repo(&repo, specs_dir)?;
    let old = SchemaSet::from_git_dir(&repo, &base.rev, &rel)?;
    let new = SchemaSet::from_dir(specs_dir)?;
    let (findings, compared) = versioning_findings(&old, &new, opts)?;
    Ok(VersioningReport {
        baseline: Some(base),
        findings,
        compared,
    })
}

/// `specs_dir` relative to the repository root, with `/` separators (`specs`).
///
/// # Errors
/// `specs_dir` missing or outside `repo`.
pub fn relative_to_repo(repo: &Path, dir: &Path) -> Result<String, CompatError> {
    let canon = |p: &Path| -> Result<PathBuf, CompatError> {
        p.canonicalize().map_err(|source| CompatError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let (repo, dir) = (canon(repo)?, canon(dir)?);
    let rel = dir.strip_prefix(&repo).map_err(|_| {
        CompatError::Usage(format!(
            "{} is outside the repository {}",
            dir.display(),
            repo.display()
        ))
    })?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// The D2 rule between two specs trees: one finding per changed, removed or added event-type
/// schema file, and how many files present in both were compared.
///
/// # Errors
/// `CompatError::Compile` when the validator refuses a schema.
pub fn versioning_findings(
    old: &SchemaSet,
    new: &SchemaSet,
    opts: &SearchOptions,
) -> Result<(Vec<Finding>, usize), CompatError> {
    let (old, new) = (Arc::new(old.clone()), Arc::new(new.clone()));
    let old_files = old.subjects();
    let new_files = new.subjects();
    let mut findings = Vec::new();
    let mut compared = 0;
    for file in &old_files {
        let parsed = file
            .rsplit_once('/')
            .and_then(|(_, name)| crate::registry::parse_type_file_name(name));
        let (event_type, major) = parsed.map_or((None, None), |(t, m)| (Some(t), Some(m)));
        let label = match (&event_type, major) {
            (Some(t), Some(m)) => format!("{t} v{m}"),
            _ => file.clone(),
        };
        if !new_files.contains(file) {
            let deprecated = old
                .doc(file)
                .and_then(|d| d.get("deprecated"))
                .and_then(serde_json::Value::as_bool)
                == Some(true);
            let (kind, message) = if deprecated {
                (
                    FindingKind::RemovedAfterDeprecation,
                    format!("{label}: removed after deprecation"),
                )
            } else {
                (
                    FindingKind::RemovedWithoutDeprecation,
                    format!(
                        "{label}: schema removed without deprecation (mark it \"deprecated\": true in a release first)"
                    ),
                )
            };
            findings.push(Finding {
                kind,
                file: file.clone(),
                event_type,
                major,
                message,
                report: None,
            });
            continue;
        }
        compared += 1;
        let o = Subject {
            set: Arc::clone(&old),
            entry: file.clone(),
        };
        let n = Subject {
            set: Arc::clone(&new),
            entry: file.clone(),
        };
        let report = compare(file, &o, &n, Mode::Backward, opts)?;
        let Some(d) = report.direction(Direction::Backward) else {
            continue;
        };
        let kind = match d.verdict {
            Verdict::Compatible => continue,
            Verdict::Incompatible => FindingKind::IncompatibleWithoutMajorBump,
            Verdict::Undecided => FindingKind::UndecidedWithoutMajorBump,
        };
        let next = major.map_or_else(|| "a new MAJOR".to_owned(), |m| format!("v{}", m + 1));
        // What changed (a description), then the keyword the verdict rests on.
        let what = report
            .changes
            .iter()
            .map(|c| format!("{} at {}", c.class.as_str(), c.pointer))
            .chain(d.keyword.iter().map(|k| format!("decided on `{k}`")))
            .collect::<Vec<_>>()
            .join(", ");
        let counter = match &d.search {
            super::Search::Found(c) => format!("; counterexample: {}", c.event),
            super::Search::Skipped
            | super::Search::Clean { .. }
            | super::Search::SourceEmpty { .. }
            | super::Search::Unavailable { .. } => String::new(),
        };
        let message = format!(
            "{label}: {} change without a MAJOR bump ({}){counter}; keep {file} backward compatible or add {next}",
            match d.verdict {
                Verdict::Undecided => "possibly backward-incompatible",
                Verdict::Compatible | Verdict::Incompatible => "backward-incompatible",
            },
            if what.is_empty() {
                d.reason.clone()
            } else {
                what
            },
        );
        findings.push(Finding {
            kind,
            file: file.clone(),
            event_type,
            major,
            message,
            report: Some(report),
        });
    }
    for file in new_files.iter().filter(|f| !old_files.contains(f)) {
        let parsed = file
            .rsplit_once('/')
            .and_then(|(_, name)| crate::registry::parse_type_file_name(name));
        let (event_type, major) = parsed.map_or((None, None), |(t, m)| (Some(t), Some(m)));
        findings.push(Finding {
            kind: FindingKind::Added,
            file: file.clone(),
            event_type,
            major,
            message: format!("{file}: new contract"),
            report: None,
        });
    }
    Ok((findings, compared))
}
