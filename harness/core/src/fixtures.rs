//! Golden fixtures and kept counterexamples: events that declare their own expected verdict.
//!
//! A fixture file is `{"description", "valid", "violations": [{"keyword", "instance_path"}], "event"}`
//! (catalogue §5 rule 2). Replay passes a fixture only when the verdict matches AND, for an invalid
//! one, the set of `(keyword, instance_path)` pairs is exactly the declared set: a fixture rejected
//! for another reason fails.

use crate::registry::Registry;
use crate::validate::Verdict;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One expected violation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// JSON Schema keyword or harness rule.
    pub keyword: String,
    /// RFC 6901 pointer; root is `""`.
    pub instance_path: String,
}

/// A fixture file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the event is and, for an invalid one, what it breaks.
    pub description: String,
    /// Where it came from (a catalogue example, a fuzz campaign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The expected verdict.
    pub valid: bool,
    /// The exact expected violations (empty when valid).
    #[serde(default)]
    pub violations: Vec<Expected>,
    /// A cross-event rule this schema-valid event breaks (checked by contract tests, not here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_event_rule: Option<String>,
    /// The event.
    pub event: serde_json::Value,
}

/// A fixture with the file it came from.
#[derive(Debug, Clone)]
pub struct FixtureFile {
    /// Path as given or found.
    pub path: PathBuf,
    /// The directory name under `fixtures/events/` (the event type it belongs to), if any.
    pub group: Option<String>,
    /// The parsed fixture.
    pub fixture: Fixture,
}

/// Why a fixture file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FixtureError {
    /// The file.
    pub path: String,
    /// What is wrong, with line and column for JSON errors.
    pub message: String,
}

/// The result of replaying one fixture.
#[derive(Debug)]
pub struct Replayed<'a> {
    /// The fixture.
    pub file: &'a FixtureFile,
    /// The verdict the registry gave.
    pub verdict: Verdict,
    /// `None` when the fixture passed, else why it failed.
    pub failure: Option<String>,
}

/// Every `*.json` fixture file under `dir` (recursively), sorted by path. A missing dir is empty.
///
/// # Errors
/// A directory that cannot be listed, a file that is not JSON or not in fixture form.
pub fn load_dir(dir: &Path) -> Result<Vec<FixtureFile>, FixtureError> {
    let mut paths = Vec::new();
    if dir.exists() {
        collect(dir, &mut paths)?;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let group = path
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned());
            load_file(&path).map(|fixture| FixtureFile {
                path,
                group,
                fixture,
            })
        })
        .collect()
}

/// Parse one fixture file.
///
/// # Errors
/// Unreadable, not JSON, or not in fixture form (the message names line and column).
pub fn load_file(path: &Path) -> Result<Fixture, FixtureError> {
    let err = |message: String| FixtureError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let fixture: Fixture = serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "line {} column {}: not a fixture: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if fixture.valid && !fixture.violations.is_empty() {
        return Err(err("a valid fixture cannot declare violations".into()));
    }
    if !fixture.valid && fixture.violations.is_empty() {
        return Err(err(
            "an invalid fixture must declare the violations it expects".into(),
        ));
    }
    Ok(fixture)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FixtureError> {
    let err = |e: std::io::Error| FixtureError {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Replay fixtures against the registry.
#[must_use]
pub fn replay<'a>(registry: &Registry, files: &'a [FixtureFile]) -> Vec<Replayed<'a>> {
    files
        .iter()
        .map(|file| {
            let verdict = registry.validate_value(&file.fixture.event);
            let failure = judge(&file.fixture, &verdict);
            Replayed {
                file,
                verdict,
                failure,
            }
        })
        .collect()
}

/// `None` when `verdict` is what `fixture` expects, else the difference in words.
#[must_use]
pub fn judge(fixture: &Fixture, verdict: &Verdict) -> Option<String> {
    let got: BTreeSet<Expected> = verdict
        .violations
        .iter()
        .map(|v| Expected {
            keyword: v.keyword.clone(),
            instance_path: v.instance_path.clone(),
        })
        .collect();
    let want: BTreeSet<Expected> = fixture.violations.iter().cloned().collect();
    let show = |set: &BTreeSet<Expected>| {
        set.iter()
            .map(|e| format!("{} at \"{}\"", e.keyword, e.instance_path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (fixture.valid, verdict.is_valid()) {
        (true, true) => None,
        (true, false) => Some(format!("expected valid, got invalid: {}", show(&got))),
        (false, true) => Some(format!("expected invalid ({}), got valid", show(&want))),
        (false, false) if got == want => None,
        (false, false) => {
            let missing: BTreeSet<_> = want.difference(&got).cloned().collect();
            let extra: BTreeSet<_> = got.difference(&want).cloned().collect();
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("expected but not reported: {}", show(&missing)));
            }
            if !extra.is_empty() {
                parts.push(format!("reported but not expected: {}", show(&extra)));
            }
            Some(format!("rejected for another reason: {}", parts.join("; ")))
        }
    }
}
