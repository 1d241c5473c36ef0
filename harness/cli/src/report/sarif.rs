//! SARIF 2.1.0 output (`--format sarif`), for code-scanning uploads that show findings inline.
//!
//! A [`SarifReport`] collects [`Finding`]s from any command and renders one log with one run.
//! Invariants that keep uploads useful:
//! - a rule id is a fixed `area/name` string (`event/required`, `check/schema-lint`,
//!   `fuzz/crash`), so the same defect keeps its rule across runs and tool versions;
//! - every result names a real file and, where the finding has one, a real line (schema pointers
//!   are mapped to lines by [`super::spans`]);
//! - `partialFingerprints` hash the rule, the file and the finding's logical identity (a JSON
//!   pointer, an instance path, an event type), never a line number, so a re-upload after an
//!   unrelated edit matches the existing alert instead of opening a new one.

use crate::error::CliError;
use serde_sarif::sarif;
use std::collections::BTreeMap;
use std::path::Path;

/// The SARIF version and the schema URI written into every log.
const SARIF_VERSION: &str = "2.1.0";
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of our fingerprint in `partialFingerprints` (versioned: a new hashing gets a new key).
pub(crate) const FINGERPRINT_KEY: &str = "contractsFinding/v1";
/// Results kept per log. A file of a million invalid events must not become a gigabyte of SARIF
/// that no code-scanning service accepts (GitHub takes at most 25,000 results per run); the
/// count of the rest is kept in the run's `properties.omitted_results`.
pub(crate) const MAX_RESULTS: usize = 10_000;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// A contract is violated.
    Error,
    /// Something that weakens a pass (a coverage gap).
    Warning,
}

/// A place in a file: a path relative to the working directory and, when known, a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loc {
    /// The file, relative to where `contracts` runs (which is the repository root in CI).
    pub(crate) uri: String,
    /// 1-based line and column.
    pub(crate) line: Option<(usize, usize)>,
    /// What this place is, for related locations ("the old schema").
    pub(crate) message: Option<String>,
}

impl Loc {
    /// `path` with no line.
    pub(crate) fn file(path: impl AsRef<Path>) -> Self {
        Loc {
            uri: relative_uri(path.as_ref()),
            line: None,
            message: None,
        }
    }

    /// `path` at a 1-based line and column.
    pub(crate) fn at(path: impl AsRef<Path>, line: usize, column: usize) -> Self {
        Loc {
            line: Some((line, column)),
            ..Loc::file(path)
        }
    }

    /// `path` at the line of JSON `pointer` in `text` (the file's content); line-less when the
    /// pointer names nothing there.
    pub(crate) fn pointer(path: impl AsRef<Path>, text: &str, pointer: &str) -> Self {
        Loc {
            line: super::spans::pointer_line(text, pointer),
            ..Loc::file(path)
        }
    }

    /// The same place, described.
    #[must_use]
    pub(crate) fn described(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// One result.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// `area/name`, see [`rule_text`].
    pub(crate) rule_id: String,
    pub(crate) level: Level,
    /// One or more lines; the first is the headline.
    pub(crate) message: String,
    pub(crate) location: Option<Loc>,
    /// The other side: the schema a violated event broke, the old schema of a compat change.
    pub(crate) related: Vec<Loc>,
    /// What makes this finding itself, independent of lines: hashed into the fingerprint.
    pub(crate) identity: String,
}

/// The findings of one command, rendered as one SARIF log.
#[derive(Debug)]
pub(crate) struct SarifReport {
    command: String,
    findings: Vec<Finding>,
    omitted: usize,
}

impl SarifReport {
    /// An empty log for `contracts <command>`.
    pub(crate) fn new(command: impl Into<String>) -> Self {
        SarifReport {
            command: command.into(),
            findings: Vec::new(),
            omitted: 0,
        }
    }

    /// Add a finding (counted but dropped past [`MAX_RESULTS`]).
    pub(crate) fn push(&mut self, f: Finding) {
        if self.findings.len() < MAX_RESULTS {
            self.findings.push(f);
        } else {
            self.omitted += 1;
        }
    }

    /// The log as a `serde_sarif` value.
    pub(crate) fn to_sarif(&self) -> sarif::Sarif {
        let mut rule_ids: Vec<&str> = self.findings.iter().map(|f| f.rule_id.as_str()).collect();
        rule_ids.sort_unstable();
        rule_ids.dedup();
        let index: BTreeMap<&str, usize> =
            rule_ids.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        let rules: Vec<sarif::ReportingDescriptor> = rule_ids.iter().map(|id| rule(id)).collect();
        let results: Vec<sarif::Result> = self
            .findings
            .iter()
            .map(|f| result(f, index.get(f.rule_id.as_str()).copied()))
            .collect();
        let driver = sarif::ToolComponent::builder()
            .name("contracts")
            .full_name(format!("OneProtect contracts {}", self.command))
            .version(env!("CARGO_PKG_VERSION"))
            .semantic_version(env!("CARGO_PKG_VERSION"))
            .rules(rules)
            .build();
        let mut props = BTreeMap::new();
        props.insert("command".to_owned(), self.command.clone().into());
        props.insert("omitted_results".to_owned(), self.omitted.into());
        let run = sarif::Run::builder()
            .tool(sarif::Tool::builder().driver(driver).build())
            .results(results)
            .column_kind(serde_json::Value::from("unicodeCodePoints"))
            .properties(
                sarif::PropertyBag::builder()
                    .additional_properties(props)
                    .build(),
            )
            .build();
        sarif::Sarif::builder()
            .schema(SARIF_SCHEMA)
            .version(serde_json::Value::from(SARIF_VERSION))
            .runs(vec![run])
            .build()
    }

    /// Write the log, pretty-printed, to `out`.
    pub(crate) fn write(&self, out: &mut dyn std::io::Write) -> Result<(), CliError> {
        serde_json::to_writer_pretty(&mut *out, &self.to_sarif()).map_err(|e| {
            match e.io_error_kind() {
                Some(kind) => CliError::io("stdout", std::io::Error::from(kind)),
                None => CliError::Input(format!("cannot render SARIF: {e}")),
            }
        })?;
        writeln!(out).map_err(|e| CliError::io("stdout", e))
    }
}

fn message(text: impl Into<String>) -> sarif::Message {
    sarif::Message::builder().text(text.into()).build()
}

fn location(l: &Loc) -> sarif::Location {
    let artifact = sarif::ArtifactLocation::builder()
        .uri(l.uri.clone())
        .build();
    let physical = match l.line {
        Some((line, column)) => sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(
                sarif::Region::builder()
                    .start_line(to_i64(line))
                    .start_column(to_i64(column))
                    .build(),
            )
            .build(),
        None => sarif::PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    match &l.message {
        Some(m) => sarif::Location::builder()
            .physical_location(physical)
            .message(message(m.clone()))
            .build(),
        None => sarif::Location::builder()
            .physical_location(physical)
            .build(),
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn result(f: &Finding, rule_index: Option<usize>) -> sarif::Result {
    let level = match f.level {
        Level::Error => sarif::ResultLevel::Error,
        Level::Warning => sarif::ResultLevel::Warning,
    };
    let mut fp = BTreeMap::new();
    fp.insert(
        FINGERPRINT_KEY.to_owned(),
        fingerprint(&[
            &f.rule_id,
            f.location.as_ref().map_or("", |l| l.uri.as_str()),
            &f.identity,
        ]),
    );
    let base = sarif::Result::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(to_i64(rule_index.unwrap_or(0)))
        .level(level)
        .message(message(f.message.clone()))
        .partial_fingerprints(fp)
        .locations(f.location.iter().map(location).collect::<Vec<_>>());
    if f.related.is_empty() {
        base.build()
    } else {
        let related: Vec<sarif::Location> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut loc = location(l);
                loc.id = Some(to_i64(i));
                loc
            })
            .collect();
        let mut r = base.build();
        r.related_locations = Some(related);
        r
    }
}

/// FNV-1a over the parts (separated by a zero byte): stable across Rust releases and platforms,
/// unlike `std`'s hasher, so fingerprints survive a toolchain upgrade.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// `path` as a URI reference relative to the working directory when it lies under it, with `/`
/// separators, as code-scanning services match results to repository files by relative path.
pub(crate) fn relative_uri(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = match (path.is_absolute(), &cwd) {
        (true, Some(cwd)) => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    rel.to_string_lossy().replace('\\', "/")
}

/// A rule's short description, full description and help, in plain text.
pub(crate) struct RuleText {
    pub(crate) short: String,
    pub(crate) full: String,
    pub(crate) help: String,
}

/// The text of rule `id` (`area/name`). Known names get their own words; an unknown name in a
/// known area gets the area's words, so a new keyword still yields a well-formed rule.
pub(crate) fn rule_text(id: &str) -> RuleText {
    let (area, name) = id.split_once('/').unwrap_or(("contracts", id));
    let t = |short: &str, full: &str, help: &str| RuleText {
        short: short.to_owned(),
        full: full.to_owned(),
        help: help.to_owned(),
    };
    match (area, name) {
        ("event", "parse") => t(
            "Event is not readable JSON",
            "A line or document could not be parsed as JSON, so no contract could be checked.",
            "Emit one JSON object per line (JSON Lines); `contracts validate FILE` names the line.",
        ),
        ("event", "persistence_metadata") => t(
            "Event carries persistence metadata",
            "A persistence-metadata name (catalogue §2.3, such as received_at) appears in a transport event; storage adds these fields, producers never send them.",
            "Remove the field from the event before publishing.",
        ),
        ("event", "unknown_event_type") => t(
            "Event type is not in the catalogue",
            "The event_type names no schema under specs/events/types/.",
            "Use a catalogued event_type, or add its schema, AsyncAPI message, fixtures and docs together.",
        ),
        ("event", "unknown_schema_version") => t(
            "Schema version is not known",
            "The event's schema_version names a MAJOR for which no schema exists.",
            "Emit a schema_version whose MAJOR has a schema in specs/events/types/.",
        ),
        ("event", "self_causation") => t(
            "Event causes itself",
            "causation_id equals event_id, which breaks the causal chain.",
            "Set causation_id to the id of the event that caused this one (or to this event's correlation root).",
        ),
        ("event", kw) => RuleText {
            short: format!("Event violates JSON Schema keyword `{kw}`"),
            full: format!(
                "A value in the event fails the `{kw}` keyword of its envelope or event-type schema (JSON Schema draft 2020-12)."
            ),
            help: "The result names the event's line and instance path; the related location is the schema keyword it breaks. Reproduce with `contracts validate FILE`.".to_owned(),
        },
        ("check", "registry") => t(
            "Schemas cannot be loaded",
            "A schema file is unreadable, not JSON, not a valid draft 2020-12 schema, or holds a $ref that leaves the specs tree.",
            "Fix the file at the reported line; `contracts check` re-runs the gate.",
        ),
        ("check", "schema-lint") => t(
            "Schema breaks a catalogue lint",
            "A schema declares a persistence-metadata name, leaves an object open (no additionalProperties: false) or a property undescribed (catalogue T3/T4).",
            "Fix the schema location the result points at; `contracts check` re-runs the gate.",
        ),
        ("check", "replay") => t(
            "Fixture does not get its declared verdict",
            "A golden fixture or corpus file declares a verdict and violations that validation no longer gives.",
            "Fix the schema or the fixture so they agree; `contracts replay FILE` replays one file.",
        ),
        ("check", "fixtures") => t(
            "Event type lacks golden fixtures",
            "Every event type needs enough valid and invalid fixtures, one of which breaks an envelope rule.",
            "Add fixtures under fixtures/events/<event_type>/.",
        ),
        ("check", c) if c.starts_with("asyncapi") => t(
            "AsyncAPI disagrees with the schemas",
            "The AsyncAPI document is invalid or its channels and messages do not match the event-type schemas.",
            "Change JSON Schema and AsyncAPI together; `contracts check` re-runs the gate.",
        ),
        ("check", "coverage") => t(
            "Fixtures leave schema locations uncovered",
            "An enum value, branch or if-direction is exercised by no valid fixture and is not exempted.",
            "Add a valid fixture that exercises it, or exempt it with a reason in fixtures/coverage-exemptions.json.",
        ),
        ("check", "docs") => t(
            "Generated docs are stale",
            "docs/events.md differs from what the schemas generate.",
            "Run `make docs` and commit the result.",
        ),
        ("check", "versioning") => t(
            "Schema change breaks its version",
            "An event-type schema changed incompatibly against the baseline without a new MAJOR.",
            "Bump the MAJOR (a new schema file) or make the change compatible; see docs/compat.md.",
        ),
        ("check", other) => RuleText {
            short: format!("Conformance check `{other}` failed"),
            full: format!("The conformance gate's `{other}` check found schemas, AsyncAPI, fixtures or docs that disagree."),
            help: "Fix the reported file; `contracts check` re-runs the gate (docs/conformance.md).".to_owned(),
        },
        ("coverage", kind) => RuleText {
            short: format!("Uncovered {}", kind.replace('_', " ")),
            full: format!(
                "A schema location of kind `{kind}` is exercised by no valid golden fixture, so a change that breaks it passes the gate unnoticed."
            ),
            help: "Add a valid fixture under fixtures/events/<event_type>/ that exercises it (docs/coverage.md).".to_owned(),
        },
        ("fuzz", kind) => RuleText {
            short: format!("Program under test: {kind}"),
            full: fuzz_full(kind).to_owned(),
            help: "The result carries the minimal event and the replay command; `contracts replay --consumer ... FILE` replays the kept event.".to_owned(),
        },
        ("compat", "undecided") => t(
            "Schema change neither proved compatible nor refuted",
            "The change is outside what the decision procedure proves and the bounded counterexample search found no event that breaks it; the direction is undecided.",
            "Review the change by hand, or rerun `contracts compat` with more --cases; the message names the keyword (docs/compat.md).",
        ),
        ("compat", rule) => RuleText {
            short: format!("Incompatible schema change: {}", rule.replace(['_', '-'], " ")),
            full: format!(
                "The new schema breaks compatibility rule `{rule}`: some event valid on one side is refused on the other. The related location is the other side."
            ),
            help: "Make the change compatible or publish it as a new MAJOR (docs/compat.md).".to_owned(),
        },
        (area, name) => RuleText {
            short: format!("{area}: {name}"),
            full: format!("A finding of `contracts` in area `{area}`: {name}."),
            help: "See the result's message.".to_owned(),
        },
    }
}

fn fuzz_full(kind: &str) -> &'static str {
    match kind {
        "rejected-valid" => "The program refused an event that the contract accepts.",
        "accepted-invalid" => {
            "The program accepted an event that the contract refuses (strict mode)."
        }
        "crash" => "The program exited while handling an event.",
        "timeout" => "The program did not answer within the timeout.",
        "protocol-error" => "The program's answer did not follow the stdio or HTTP protocol.",
        "invalid-output" => "A processor emitted an event that violates the contract.",
        "tenant-crossed" => {
            "SECURITY: a processor emitted an event for another tenant than its input's."
        }
        "broken-lineage" => {
            "A processor's output does not carry its input's correlation and causation ids."
        }
        _ => "The program under test misbehaved on a generated event.",
    }
}

fn rule(id: &str) -> sarif::ReportingDescriptor {
    let text = rule_text(id);
    let mm = |s: String| sarif::MultiformatMessageString::builder().text(s).build();
    sarif::ReportingDescriptor::builder()
        .id(id)
        .name(id.replace(['/', '-', '_'], " "))
        .short_description(mm(text.short))
        .full_description(mm(text.full))
        .help(mm(text.help))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_separates_parts() {
        // Pinned: a change here re-opens every alert a code-scanning service holds.
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }

    #[test]
    fn every_area_gives_non_empty_rule_text() {
        for id in [
            "event/required",
            "check/x",
            "coverage/enum_value",
            "fuzz/crash",
            "compat/x",
            "odd",
        ] {
            let t = rule_text(id);
            assert!(
                !t.short.is_empty() && !t.full.is_empty() && !t.help.is_empty(),
                "{id}"
            );
        }
    }
}
