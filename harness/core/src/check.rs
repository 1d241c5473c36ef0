//! The conformance gate: schemas, AsyncAPI, fixtures and docs must agree ("update JSON Schema,
//! AsyncAPI, tests and docs together"). Each check yields one [`Case`] per subject (an event type,
//! a file), so reporters can show one test case per event type and check.

use crate::fixtures::{self, FixtureFile};
use crate::registry::{ENVELOPE_FILE, Registry};
use crate::validate::is_persistence_field;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Fewest valid fixtures per event type.
pub const MIN_VALID_FIXTURES: usize = 2;
/// Fewest invalid fixtures per event type (one of them must break an envelope rule).
pub const MIN_INVALID_FIXTURES: usize = 3;

/// The AsyncAPI document, relative to the specs root.
pub const ASYNCAPI_FILE: &str = "events/asyncapi.yaml";
/// The vendored AsyncAPI 3.0.0 JSON Schema, relative to the specs root.
pub const ASYNCAPI_SCHEMA_FILE: &str = "vendor/asyncapi/asyncapi-3.0.0-without-id.json";

/// Where the repository's parts live.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `specs/`.
    pub specs: PathBuf,
    /// `fixtures/events/`.
    pub fixtures: PathBuf,
    /// `corpus/`.
    pub corpus: PathBuf,
    /// `docs/events.md`.
    pub events_doc: PathBuf,
}

impl Layout {
    /// The standard layout under a repository root.
    #[must_use]
    pub fn at(root: &Path) -> Self {
        Layout {
            specs: root.join("specs"),
            fixtures: root.join("fixtures/events"),
            corpus: root.join("corpus"),
            events_doc: root.join("docs/events.md"),
        }
    }
}

/// One check on one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// The check's name (`fixtures`, `asyncapi-message`, ...).
    pub check: &'static str,
    /// What it was applied to: an event type, or a file.
    pub subject: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

/// Everything `contracts check` found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Every case, passed or not.
    pub cases: Vec<Case>,
    /// Schema files loaded.
    pub schemas: usize,
    /// Event types (all MAJORs).
    pub event_types: usize,
    /// AsyncAPI messages.
    pub messages: usize,
    /// Fixture files replayed.
    pub fixtures: usize,
    /// Of which valid.
    pub valid_fixtures: usize,
    /// Of which invalid.
    pub invalid_fixtures: usize,
    /// Corpus files replayed.
    pub corpus: usize,
    /// The versioning baseline revision, when there is one.
    pub baseline: Option<String>,
    /// Event-type schemas compared with the baseline.
    pub versioning_compared: usize,
}

impl Report {
    /// Cases that failed.
    pub fn failed(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| !c.failures.is_empty())
    }

    fn push(&mut self, check: &'static str, subject: impl Into<String>, failures: Vec<String>) {
        self.cases.push(Case {
            check,
            subject: subject.into(),
            failures,
        });
    }
}

/// Run every check. A registry that cannot be built is itself a failed case, not an error:
/// a broken schema is a broken contract.
#[must_use]
pub fn run(layout: &Layout) -> Report {
    let mut report = Report::default();
    let registry = match Registry::load(&layout.specs) {
        Ok(r) => r,
        Err(e) => {
            report.push(
                "registry",
                layout.specs.display().to_string(),
                vec![e.to_string()],
            );
            return report;
        }
    };
    report.push("registry", "specs", Vec::new());
    report.schemas = registry.docs().len();
    report.event_types = registry.contracts().len();
    schema_lints(&registry, &mut report);
    asyncapi(&registry, layout, &mut report);
    fixture_checks(&registry, layout, &mut report);
    coverage_check(&registry, layout, &mut report);
    docs_check(&registry, layout, &mut report);
    stream_checks(&registry, layout, &mut report);
    versioning(layout, &mut report);
    report
}

/// T3 and T4 lints over every schema file: deny-listed names, closed objects, descriptions.
fn schema_lints(registry: &Registry, report: &mut Report) {
    for doc in registry.docs().values() {
        let mut failures = Vec::new();
        let is_type_schema = doc.value.pointer("/allOf/0/$ref").and_then(Value::as_str)
            == Some("../oneprotect.event.schema.json");
        lint(&doc.value, "", false, &mut failures);
        failures.retain(|f| {
            // Closed by what they reference: a type schema's root by the envelope it $refs,
            // and the envelope's payload by each event-type schema's payload.
            !(is_type_schema && f.starts_with("/ ")
                || doc.rel_path == ENVELOPE_FILE && f.starts_with("/properties/payload "))
        });
        report.push("schema-lint", format!("specs/{}", doc.rel_path), failures);
    }
}

fn lint(schema: &Value, at: &str, in_fragment: bool, out: &mut Vec<String>) {
    let Value::Object(map) = schema else {
        if let Value::Array(items) = schema {
            for (i, item) in items.iter().enumerate() {
                lint(item, &format!("{at}/{i}"), in_fragment, out);
            }
        }
        return;
    };
    let here = if at.is_empty() { "/" } else { at };
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, sub) in props {
            if is_persistence_field(name) {
                out.push(format!(
                    "{here} declares \"{name}\", a persistence-metadata name (catalogue §2.3, T3)"
                ));
            }
            if !in_fragment && sub.get("description").is_none() {
                out.push(format!("{here}/properties/{name} has no description (T4)"));
            }
            if let Some(s) = sub.get("x-sensitivity") {
                if !matches!(s.as_str(), Some("P" | "R" | "H")) {
                    out.push(format!(
                        "{here}/properties/{name} has x-sensitivity {s}: must be \"P\", \"R\" or \"H\""
                    ));
                }
            }
        }
    }
    if let Some(Value::Array(req)) = map.get("required") {
        for name in req.iter().filter_map(Value::as_str) {
            if is_persistence_field(name) {
                out.push(format!(
                    "{here} requires \"{name}\", a persistence-metadata name (catalogue §2.3, T3)"
                ));
            }
        }
    }
    let is_object = map.contains_key("properties")
        || match map.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        };
    if is_object && !in_fragment && map.get("additionalProperties") != Some(&Value::Bool(false)) {
        out.push(format!(
            "{here} is an object schema without \"additionalProperties\": false (T3, §5 rule 4)"
        ));
    }
    for (key, sub) in map {
        let child = format!("{at}/{}", crate::registry::escape_pointer(key));
        let fragment =
            in_fragment || matches!(key.as_str(), "if" | "then" | "else" | "not" | "anyOf");
        match key.as_str() {
            // Values that are data, not schemas.
            "enum" | "const" | "required" | "examples" | "default" | "description" | "title" => {}
            "properties" | "$defs" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(children) = sub {
                    for (name, s) in children {
                        lint(
                            s,
                            &format!("{child}/{}", crate::registry::escape_pointer(name)),
                            fragment,
                            out,
                        );
                    }
                }
            }
            _ => lint(sub, &child, fragment, out),
        }
    }
}

/// T1 (AsyncAPI structure) and T4 (one message per schema, on its family's channel).
fn asyncapi(registry: &Registry, layout: &Layout, report: &mut Report) {
    let file = format!("specs/{ASYNCAPI_FILE}");
    let text = match std::fs::read_to_string(layout.specs.join(ASYNCAPI_FILE)) {
        Ok(t) => t,
        Err(e) => return report.push("asyncapi-schema", file, vec![format!("cannot read: {e}")]),
    };
    let doc: Value = match serde_norway::from_str(&text) {
        Ok(v) => v,
        Err(e) => return report.push("asyncapi-schema", file, vec![format!("not YAML: {e}")]),
    };
    report.push(
        "asyncapi-schema",
        file.clone(),
        asyncapi_structure(layout, &doc),
    );
    let messages = doc
        .pointer("/components/messages")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    report.messages = messages.len();
    // message key -> channel family, for every channel listing it.
    let mut channel_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut channel_failures = Vec::new();
    if let Some(channels) = doc.get("channels").and_then(Value::as_object) {
        for (ch, channel) in channels {
            let family = channel.get("x-oneprotect-family").and_then(Value::as_str);
            if family.is_none() {
                channel_failures.push(format!("channel {ch} has no x-oneprotect-family"));
            }
            for m in channel
                .get("messages")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let target =
                    m.1.get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/components/messages/"));
                match target {
                    Some(key) if messages.contains_key(key) => channel_of
                        .entry(key.to_owned())
                        .or_default()
                        .push(family.unwrap_or_default().to_owned()),
                    _ => channel_failures.push(format!(
                        "channel {ch} message {} points at no component message",
                        m.0
                    )),
                }
            }
        }
    }
    report.push("asyncapi-channels", file.clone(), channel_failures);
    let mut by_name: BTreeMap<String, (String, &Value)> = BTreeMap::new();
    for (key, msg) in &messages {
        if let Some(name) = msg.get("name").and_then(Value::as_str) {
            by_name.insert(name.to_owned(), (key.clone(), msg));
        }
    }
    let mut seen = BTreeSet::new();
    for c in registry.contracts() {
        let mut failures = Vec::new();
        let want_ref = format!("./types/{}", c.rel_path.trim_start_matches("events/types/"));
        // A later MAJOR would need its own message; today every contract is MAJOR-unique by name.
        match by_name.get(&c.event_type) {
            None => failures.push(format!(
                "no AsyncAPI message named {} in specs/{ASYNCAPI_FILE}",
                c.event_type
            )),
            Some((key, msg)) => {
                seen.insert(c.event_type.clone());
                let got_ref = msg.pointer("/payload/schema/$ref").and_then(Value::as_str);
                if got_ref != Some(want_ref.as_str()) {
                    failures.push(format!(
                        "message {key}: payload.schema.$ref is {got_ref:?}, expected \"{want_ref}\""
                    ));
                }
                if msg.pointer("/payload/schemaFormat").and_then(Value::as_str)
                    != Some("application/schema+json;version=draft-2020-12")
                {
                    failures.push(format!("message {key}: payload.schemaFormat must be application/schema+json;version=draft-2020-12"));
                }
                if msg
                    .pointer("/correlationId/location")
                    .and_then(Value::as_str)
                    != Some("$message.payload#/correlation_id")
                {
                    failures.push(format!("message {key}: correlationId.location must be $message.payload#/correlation_id"));
                }
                match channel_of.get(key) {
                    None => failures.push(format!("message {key} is on no channel")),
                    Some(fams) if !fams.iter().any(|f| f == &c.family) => failures.push(format!(
                        "message {key} is on a channel of {fams:?}, not on its family's ({})",
                        c.family
                    )),
                    Some(_) => {}
                }
            }
        }
        report.push("asyncapi-message", c.event_type.clone(), failures);
    }
    for name in by_name.keys().filter(|n| !seen.contains(*n)) {
        report.push(
            "asyncapi-message",
            name.clone(),
            vec![format!(
                "AsyncAPI message {name} has no event-type schema in specs/events/types/"
            )],
        );
    }
}

fn asyncapi_structure(layout: &Layout, doc: &Value) -> Vec<String> {
    let schema_path = layout.specs.join(ASYNCAPI_SCHEMA_FILE);
    let schema: Value = match std::fs::read_to_string(&schema_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return vec![format!("{}: {e}", schema_path.display())],
    };
    let validator = match jsonschema::draft7::options().offline().build(&schema) {
        Ok(v) => v,
        Err(e) => return vec![format!("{}: cannot compile: {e}", schema_path.display())],
    };
    validator
        .iter_errors(doc)
        .map(|e| {
            format!(
                "not valid AsyncAPI 3.0.0 at {}: {}",
                e.instance_path(),
                e.masked()
            )
        })
        .collect()
}

/// T2 (replay) and the fixture quota per event type.
fn fixture_checks(registry: &Registry, layout: &Layout, report: &mut Report) {
    let files = match fixtures::load_dir(&layout.fixtures) {
        Ok(f) => f,
        Err(e) => {
            return report.push(
                "fixtures",
                layout.fixtures.display().to_string(),
                vec![e.to_string()],
            );
        }
    };
    let corpus = match fixtures::load_dir(&layout.corpus) {
        Ok(f) => f,
        Err(e) => {
            return report.push(
                "corpus",
                layout.corpus.display().to_string(),
                vec![e.to_string()],
            );
        }
    };
    report.fixtures = files.len();
    report.corpus = corpus.len();
    report.valid_fixtures = files.iter().filter(|f| f.fixture.valid).count();
    report.invalid_fixtures = files.len() - report.valid_fixtures;
    let mut by_type: BTreeMap<&str, Vec<&FixtureFile>> = BTreeMap::new();
    for f in &files {
        by_type
            .entry(f.group.as_deref().unwrap_or(""))
            .or_default()
            .push(f);
    }
    let known: BTreeSet<&str> = registry
        .contracts()
        .iter()
        .map(|c| c.event_type.as_str())
        .collect();
    for dir in by_type.keys().filter(|d| !known.contains(*d)) {
        report.push(
            "fixtures",
            (*dir).to_owned(),
            vec![format!(
                "fixtures/events/{dir}/ names no event type in specs/events/types/"
            )],
        );
    }
    for t in &known {
        let list = by_type.get(t).map(Vec::as_slice).unwrap_or_default();
        let valid = list.iter().filter(|f| f.fixture.valid).count();
        let invalid: Vec<_> = list.iter().filter(|f| !f.fixture.valid).collect();
        let mut failures = Vec::new();
        if valid < MIN_VALID_FIXTURES {
            failures.push(format!(
                "fixtures/events/{t}/ has {valid} valid fixtures; at least {MIN_VALID_FIXTURES} are required"
            ));
        }
        if invalid.len() < MIN_INVALID_FIXTURES {
            failures.push(format!(
                "fixtures/events/{t}/ has {} invalid fixtures; at least {MIN_INVALID_FIXTURES} are required",
                invalid.len()
            ));
        }
        let envelope_breaker = invalid.iter().any(|f| {
            f.fixture
                .violations
                .iter()
                .any(|v| !v.instance_path.starts_with("/payload"))
        });
        if !invalid.is_empty() && !envelope_breaker {
            failures.push(format!(
                "fixtures/events/{t}/ has no invalid fixture breaking an envelope rule"
            ));
        }
        report.push("fixtures", (*t).to_owned(), failures);
        let replayed_files: Vec<FixtureFile> = list.iter().map(|f| (*f).clone()).collect();
        let failures = fixtures::replay(registry, &replayed_files)
            .into_iter()
            .filter_map(|r| {
                r.failure
                    .map(|why| format!("{}: {why}", r.file.path.display()))
            })
            .collect();
        report.push("replay", (*t).to_owned(), failures);
    }
    let failures = fixtures::replay(registry, &corpus)
        .into_iter()
        .filter_map(|r| {
            r.failure
                .map(|why| format!("{}: {why}", r.file.path.display()))
        })
        .collect();
    report.push("replay", "corpus", failures);
}

/// Every enum value, anyOf/oneOf branch and if-direction of a payload is exercised by at least one
/// valid fixture, unless `fixtures/coverage-exemptions.json` says why no valid event can.
fn coverage_check(registry: &Registry, layout: &Layout, report: &mut Report) {
    use crate::runner::coverage;
    let exemptions_path = layout.fixtures.with_file_name("coverage-exemptions.json");
    let exemptions = match coverage::load_exemptions(&exemptions_path) {
        Ok(e) => e,
        Err(e) => return report.push("coverage", "coverage-exemptions.json", vec![e]),
    };
    let events: Vec<Value> = match fixtures::load_dir(&layout.fixtures) {
        Ok(files) => files
            .into_iter()
            .filter(|f| f.fixture.valid)
            .map(|f| f.fixture.event)
            .collect(),
        Err(_) => return, // already reported by the fixtures check
    };
    let cov = match coverage::Coverage::new(registry) {
        Ok(c) => c,
        Err(e) => return report.push("coverage", "specs", vec![e]),
    };
    let measured = coverage::by_type(&cov, registry, &events);
    for (event_type, failures) in coverage::gaps(&measured, &exemptions) {
        report.push("coverage", event_type, failures);
    }
    let known: BTreeSet<&str> = measured.iter().map(|t| t.event_type.as_str()).collect();
    let orphans: Vec<String> = exemptions
        .iter()
        .filter(|e| !known.contains(e.event_type.as_str()))
        .map(|e| format!("exemption for unknown event type {}", e.event_type))
        .collect();
    if !orphans.is_empty() {
        report.push("coverage", "coverage-exemptions.json", orphans);
    }
}

/// Catalogue D2 against the baseline (`specs/BASELINE`, else the last tag): a backward-incompatible
/// change without a MAJOR bump, or a type removed without deprecation, fails.
fn versioning(layout: &Layout, report: &mut Report) {
    use crate::runner::compat::{SearchOptions, versioning_check};
    match versioning_check(&layout.specs, &SearchOptions::default()) {
        Err(e) => report.push(
            "versioning",
            "specs/BASELINE",
            vec![format!("cannot compare with the baseline: {e}")],
        ),
        Ok(v) => {
            let subject = v.baseline.as_ref().map_or_else(
                || "no baseline".to_owned(),
                |b| format!("baseline {} ({})", b.rev, b.source),
            );
            let failures = v
                .findings
                .iter()
                .filter(|f| f.is_failure())
                .map(|f| format!("specs/{}: {}", f.file, f.message))
                .collect();
            report.versioning_compared = v.compared;
            report.baseline = v.baseline.map(|b| b.rev);
            report.push("versioning", subject, failures);
        }
    }
}

fn docs_check(registry: &Registry, layout: &Layout, report: &mut Report) {
    let want = crate::docs::events_markdown(registry);
    let name = "docs/events.md".to_owned();
    let failures = match std::fs::read_to_string(&layout.events_doc) {
        Err(e) => vec![format!("cannot read ({e}); run `make docs`")],
        Ok(got) if got == want => Vec::new(),
        Ok(got) => {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || got.lines().count().min(want.lines().count()) + 1,
                    |i| i + 1,
                );
            vec![format!(
                "differs from what `contracts docs` generates from the schemas (first difference at line {line}); do not edit it by hand: run `make docs`"
            )]
        }
    };
    report.push("docs", name, failures);
}

/// The stream rules (`specs/events/rules/`): they load and name only known event types and
/// fields; every family's fixtures under `fixtures/streams/<family>/` (at least one passing and
/// one violating stream each) come to exactly their expected rule ids; `docs/streams.md` is what
/// the rule data generates (its property results are checked by a test that redoes the run).
fn stream_checks(registry: &Registry, layout: &Layout, report: &mut Report) {
    use crate::runner::streams::{docs, fixtures as stream_fixtures, generate, rules};
    let rules_dir = format!("specs/{}", rules::RULES_DIR);
    let set = match rules::load_checked(registry) {
        Ok(s) => {
            report.push("stream-rules", rules_dir, Vec::new());
            s
        }
        Err(e) => {
            let failures = match e {
                rules::RulesError::Lint { problems } => problems,
                other => vec![other.to_string()],
            };
            return report.push("stream-rules", rules_dir, failures);
        }
    };
    let dir = layout.fixtures.with_file_name("streams");
    let all = match stream_fixtures::load_dir(&dir) {
        Ok(f) => f,
        Err(e) => return report.push("stream-fixtures", "fixtures/streams", vec![e]),
    };
    let stems: BTreeSet<String> = set
        .files
        .iter()
        .map(|f| generate::stem(&f.rel_path))
        .collect();
    for orphan in all.iter().map(|f| &f.family).collect::<BTreeSet<_>>() {
        if !stems.contains(orphan) {
            report.push(
                "stream-fixtures",
                format!("fixtures/streams/{orphan}"),
                vec![format!(
                    "names no rule file specs/{}/{orphan}{}",
                    rules::RULES_DIR,
                    rules::RULES_SUFFIX
                )],
            );
        }
    }
    for family in &stems {
        let list: Vec<_> = all.iter().filter(|f| &f.family == family).collect();
        let mut failures = Vec::new();
        if !list.iter().any(|f| f.expect.violations.is_empty()) {
            failures.push(format!(
                "fixtures/streams/{family}/ has no stream that passes"
            ));
        }
        if !list.iter().any(|f| !f.expect.violations.is_empty()) {
            failures.push(format!(
                "fixtures/streams/{family}/ has no stream that violates a rule"
            ));
        }
        for f in &list {
            if let Some(why) = stream_fixtures::replay(registry, &set, f) {
                failures.push(format!("{}: {why}", f.path.display()));
            }
        }
        report.push("stream-fixtures", family.clone(), failures);
    }
    let doc = layout.events_doc.with_file_name("streams.md");
    let want = docs::without_results(&docs::streams_markdown(&set, &[]));
    let failures = match std::fs::read_to_string(&doc) {
        Err(e) => vec![format!("cannot read ({e}); run `make docs`")],
        Ok(got) if docs::without_results(&got) == want => Vec::new(),
        Ok(_) => vec![
            "differs from what `contracts docs --streams` generates from specs/events/rules/; do not edit it by hand: run `make docs`".to_owned(),
        ],
    };
    report.push("docs", "docs/streams.md", failures);
}
