//! Stream fixtures: `fixtures/streams/<family>/<name>.jsonl`, each beside `<name>.expect.json`
//! naming the rule ids it must violate and those left pending. Replay passes only when both sets
//! are exactly the expected ones; a schema-invalid event counts as the pseudo-rule `schema`.

use super::rules::RuleSet;
use super::run::{self, EventStatus, Input, Options, Record};
use super::select::FindingStatus;
use crate::registry::Registry;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The pseudo-rule id of a schema-invalid or unreadable event in expectations.
pub const SCHEMA: &str = "schema";

/// What a stream fixture must come to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// What the stream shows.
    pub description: String,
    /// Where it comes from (catalogue examples).
    #[serde(default)]
    pub origin: Option<String>,
    /// Rule ids violated (empty: the stream passes).
    pub violations: BTreeSet<String>,
    /// Rule ids pending at the end of the stream.
    #[serde(default)]
    pub pending: BTreeSet<String>,
}

/// One stream fixture.
#[derive(Debug, Clone)]
pub struct StreamFixture {
    /// The `.jsonl` file.
    pub path: PathBuf,
    /// Its directory's name: the family's rule-file stem.
    pub family: String,
    /// Its expectation.
    pub expect: Expectation,
}

/// Every fixture under `dir` (`<family>/<name>.jsonl` + `.expect.json`), sorted by path. A
/// missing directory holds none.
///
/// # Errors
/// An unreadable directory, a stream without its expectation (or the reverse), an expectation
/// that is not JSON in the expected form (with line and column).
pub fn load_dir(dir: &Path) -> Result<Vec<StreamFixture>, String> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let list = |d: &Path| -> Result<Vec<PathBuf>, String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    for family_dir in list(dir)?.into_iter().filter(|p| p.is_dir()) {
        let family = family_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for path in list(&family_dir)? {
            let name = path.to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".expect.json") {
                if !Path::new(&format!("{stem}.jsonl")).is_file() {
                    return Err(format!("{name}: no {stem}.jsonl beside it"));
                }
                continue;
            }
            let Some(stem) = name.strip_suffix(".jsonl") else {
                return Err(format!(
                    "{name}: neither a .jsonl stream nor its .expect.json"
                ));
            };
            let expect_path = format!("{stem}.expect.json");
            let text = std::fs::read_to_string(&expect_path).map_err(|e| {
                format!("{expect_path}: {e} (every stream fixture declares its expectation)")
            })?;
            let expect: Expectation = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{expect_path}:{}:{}: not an expectation: {e}",
                    e.line(),
                    e.column()
                )
            })?;
            out.push(StreamFixture {
                path,
                family: family.clone(),
                expect,
            });
        }
    }
    Ok(out)
}

/// What a replayed fixture came to: the rule ids violated and pending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Violated rule ids (and `schema`).
    pub violations: BTreeSet<String>,
    /// Pending rule ids.
    pub pending: BTreeSet<String>,
    /// The first line of each finding, for failure messages.
    pub details: Vec<String>,
}

/// Run `path` as one stream.
///
/// # Errors
/// An unreadable file.
pub fn outcome(registry: &Registry, rules: &RuleSet, path: &Path) -> Result<Outcome, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let input = Input {
        name: path.display().to_string(),
        reader: Box::new(std::io::BufReader::new(f)),
    };
    outcome_of(registry, rules, input)
}

/// Run events held in memory as one stream (JSON Lines, one event a line).
#[must_use]
pub fn outcome_of_events(
    registry: &Registry,
    rules: &RuleSet,
    events: &[serde_json::Value],
) -> Outcome {
    let mut bytes = Vec::new();
    for e in events {
        bytes.extend_from_slice(e.to_string().as_bytes());
        bytes.push(b'\n');
    }
    let input = Input {
        name: "generated".into(),
        reader: Box::new(std::io::Cursor::new(bytes)),
    };
    outcome_of(registry, rules, input).unwrap_or_else(|e| Outcome {
        violations: [format!("unreadable: {e}")].into_iter().collect(),
        ..Outcome::default()
    })
}

fn outcome_of(registry: &Registry, rules: &RuleSet, input: Input) -> Result<Outcome, String> {
    let opts = Options {
        window_ms: run::DEFAULT_WINDOW_MS,
        merge: false,
    };
    let mut got = Outcome::default();
    run::run(registry, rules, vec![input], opts, &mut |r| {
        match r {
            Record::Event(v)
                if matches!(v.status, EventStatus::Invalid | EventStatus::Unreadable) =>
            {
                got.violations.insert(SCHEMA.into());
                for x in &v.violations {
                    got.details.push(format!(
                        "line {}: {} at {}: {}",
                        v.line, x.keyword, x.instance_path, x.message
                    ));
                }
            }
            Record::Event(_) => {}
            Record::Finding(f) => {
                let set = match f.status {
                    FindingStatus::Violation => &mut got.violations,
                    FindingStatus::Pending => &mut got.pending,
                };
                set.insert(f.rule.to_string());
                got.details
                    .push(format!("line {}: [{}] {}", f.at.line, f.rule, f.message));
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(got)
}

/// Replay one fixture: `None` when it came to exactly its expectation, else why not.
#[must_use]
pub fn replay(registry: &Registry, rules: &RuleSet, fixture: &StreamFixture) -> Option<String> {
    let got = match outcome(registry, rules, &fixture.path) {
        Ok(g) => g,
        Err(e) => return Some(e),
    };
    let known: BTreeSet<String> = rules.rules().map(|(_, r)| r.id.clone()).collect();
    let unknown: Vec<&String> = fixture
        .expect
        .violations
        .iter()
        .chain(&fixture.expect.pending)
        .filter(|id| id.as_str() != SCHEMA && !known.contains(*id))
        .collect();
    if !unknown.is_empty() {
        return Some(format!("expects unknown rule ids {unknown:?}"));
    }
    (got.violations != fixture.expect.violations || got.pending != fixture.expect.pending).then(
        || {
            format!(
                "expected violations {:?} and pending {:?}, got violations {:?} and pending {:?}{}",
                fixture.expect.violations,
                fixture.expect.pending,
                got.violations,
                got.pending,
                if got.details.is_empty() {
                    String::new()
                } else {
                    format!(": {}", got.details.join("; "))
                }
            )
        },
    )
}
