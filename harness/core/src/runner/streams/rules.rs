//! The stream rules as data: `specs/events/rules/*.rules.json`, one file per family, each holding
//! rules of the five kinds the engine knows.
//!
//! Invariants: every rule id is unique across all files; every event type a rule names is a
//! registry contract (or `*`, any type); every JSON pointer a rule reads is declared by the schema
//! of each type it is read from ([`lint`]). `contracts check` runs both.

use crate::registry::Registry;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where the rule files live, relative to the specs root.
pub const RULES_DIR: &str = "events/rules";
/// The JSON Schema of a rule file, relative to the specs root (outside `events/` so the registry
/// does not load it as an event schema).
pub const RULES_SCHEMA_FILE: &str = "stream-rules.schema.json";
/// What every rule file's name ends with.
pub const RULES_SUFFIX: &str = ".rules.json";

/// One or several JSON pointers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Pointers {
    /// One pointer.
    One(String),
    /// Several pointers (an event can carry several keys, e.g. `asset.merged`).
    Many(Vec<String>),
}

impl Pointers {
    /// The pointers as a slice-like list.
    #[must_use]
    pub fn list(&self) -> Vec<&str> {
        match self {
            Pointers::One(p) => vec![p.as_str()],
            Pointers::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// Which events a rule reads, and where it reads them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The event type, or `*` for every type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Where the key lives: a string value is one key, an array of strings one key per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Pointers>,
    /// Only events whose value at each pointer equals the given value (or one of the given
    /// values, when it is an array).
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, Value>,
    /// Counter: the integer that must progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Counter: the integer that must equal the number of counted events for the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
    /// Counter: this event ends the key (its state is dropped).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last: bool,
    /// Reference: the pointer naming another event's key (`/causation_id`).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// State machine: when the event happened, if not its envelope `timestamp` (an event that
    /// happened before a key's terminal event is not judged after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// One allowed state-machine step.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// Event types that take it.
    pub on: Vec<String>,
    /// States it leaves from.
    pub from: Vec<String>,
    /// The state it enters; absent: the state stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Only for events with these values (as in [`Selector::when`]).
    #[serde(default, rename = "match", skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, Value>,
    /// Only when the key was read at this pointer (an `asset.merged` keys the survivor and the
    /// merged IDs differently).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Counter progression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progression {
    /// Each value is the previous one plus one.
    Contiguous,
    /// Each value is greater than the previous one.
    Increasing,
}

/// Whether a reference must resolve within the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Resolve {
    /// A reference to an event the stream does not hold is not judged (catalogue R3: consumers
    /// must not block on a cause they have not received).
    #[default]
    IfPresent,
    /// The named event must appear earlier in the stream.
    Required,
}

/// A rule's kind and its kind-specific data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// A state machine per key.
    StateMachine {
        /// The events it reads and where their keys are.
        events: Vec<Selector>,
        /// Every state.
        states: Vec<String>,
        /// The state of a key before its first event.
        initial: String,
        /// States after which only explicitly listed transitions may follow.
        #[serde(default)]
        terminal: Vec<String>,
        /// The allowed steps; any other event for the key is a violation.
        transitions: Vec<Transition>,
    },
    /// An integer per key that starts at `start` and progresses.
    Counter {
        /// Counted events (`value`, `total`, or just counted when neither).
        events: Vec<Selector>,
        /// The first value, when fixed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<i64>,
        /// How values progress.
        progression: Progression,
    },
    /// A field names another event (by its key), which must be of the same tenant and not later.
    Reference {
        /// Events holding the reference (`ref` pointer).
        from: Vec<Selector>,
        /// Events that can be named (`key` pointer).
        to: Vec<Selector>,
        /// The named event has the same `tenant_id` (R7).
        #[serde(default)]
        same_tenant: bool,
        /// The named event's `timestamp` is not later than this one's plus this skew (R3).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_later_skew_seconds: Option<u32>,
        /// Whether the named event must be in the stream.
        #[serde(default)]
        resolve: Resolve,
    },
    /// Every A is followed by exactly one B with the same key.
    Pairing {
        /// The opening events.
        a: Vec<Selector>,
        /// The closing events.
        b: Vec<Selector>,
        /// B must come within this many seconds of A (default: `--window`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_seconds: Option<u32>,
    },
    /// A key appears once; with `byte_identical`, a repeat is a re-delivery only when it is
    /// byte-identical (R2).
    Unique {
        /// The events and their keys.
        events: Vec<Selector>,
        /// Whether a byte-identical repeat is a re-delivery rather than a violation.
        #[serde(default)]
        byte_identical_redelivery: bool,
        /// Keys are global (`event_id`, D6) rather than per tenant.
        #[serde(default)]
        global: bool,
    },
}

impl Kind {
    /// The kind's name as written in the data.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::StateMachine { .. } => "state_machine",
            Kind::Counter { .. } => "counter",
            Kind::Reference { .. } => "reference",
            Kind::Pairing { .. } => "pairing",
            Kind::Unique { .. } => "unique",
        }
    }

    /// Every selector of the rule.
    #[must_use]
    pub fn selectors(&self) -> Vec<&Selector> {
        match self {
            Kind::StateMachine { events, .. }
            | Kind::Counter { events, .. }
            | Kind::Unique { events, .. } => events.iter().collect(),
            Kind::Reference { from, to, .. } => from.iter().chain(to).collect(),
            Kind::Pairing { a, b, .. } => a.iter().chain(b).collect(),
        }
    }
}

/// One rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `ticket.status-order` (what violations name).
    pub id: String,
    /// The catalogue section it comes from (`2.4 R3`, `7.7`).
    pub section: String,
    /// The rule in words.
    pub description: String,
    /// What the engine checks.
    #[serde(flatten)]
    pub kind: Kind,
}

/// One rule file: the rules of one family (or of the envelope, §2.4).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RuleFile {
    /// The family name as in the schemas' `x-family` (or `Envelope rules`).
    pub family: String,
    /// The catalogue section of the family.
    pub section: String,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// A rule file with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// Path relative to the specs root.
    pub rel_path: String,
    /// The parsed file.
    pub file: RuleFile,
}

/// Every rule file, in file-name order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The files.
    pub files: Vec<LoadedFile>,
}

impl RuleSet {
    /// Every rule with its family, in file then rule order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &Rule)> {
        self.files
            .iter()
            .flat_map(|f| f.file.rules.iter().map(|r| (f.file.family.as_str(), r)))
    }
}

/// Why the rules could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// A file or directory could not be read.
    #[error("{path}: cannot read")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not JSON, or not in rule-file form.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file does not follow `specs/stream-rules.schema.json`.
    #[error("{path}: not a valid rule file:\n  {}", problems.join("\n  "))]
    Schema {
        /// The path.
        path: String,
        /// One line per schema violation, with its JSON path.
        problems: Vec<String>,
    },
    /// A rule names something the contracts do not have (see [`lint`]).
    #[error("{}", problems.join("\n"))]
    Lint {
        /// One line per problem: file, rule id, JSON path, what is wrong.
        problems: Vec<String>,
    },
}

/// Read every `*.rules.json` under `<specs>/events/rules/`. A missing directory is no rules.
///
/// # Errors
/// An unreadable file, or one that is not a rule file (with line and column).
pub fn load(specs: &Path) -> Result<RuleSet, RulesError> {
    let dir = specs.join(RULES_DIR);
    let mut paths: Vec<PathBuf> = Vec::new();
    if dir.is_dir() {
        let io = |e| RulesError::Io {
            path: dir.display().to_string(),
            source: e,
        };
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(RULES_SUFFIX))
            {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut files = Vec::new();
    if paths.is_empty() {
        return Ok(RuleSet { files });
    }
    let validator = rules_validator(specs)?;
    for path in paths {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| RulesError::Io {
            path: shown.clone(),
            source,
        })?;
        let parse = |e: serde_json::Error| RulesError::Parse {
            path: shown.clone(),
            line: e.line(),
            column: e.column(),
            message: format!("not a rule file: {e}"),
        };
        let value: Value = serde_json::from_str(&text).map_err(parse)?;
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("at {}: {}", e.instance_path(), e))
            .collect();
        if !problems.is_empty() {
            return Err(RulesError::Schema {
                path: shown,
                problems,
            });
        }
        let file: RuleFile = serde_json::from_value(value).map_err(|e| RulesError::Parse {
            path: shown.clone(),
            line: 0,
            column: 0,
            message: format!("not a rule file: {e}"),
        })?;
        let rel_path = path
            .strip_prefix(specs)
            .map_or(shown, |p| p.display().to_string());
        files.push(LoadedFile { rel_path, file });
    }
    Ok(RuleSet { files })
}

/// The compiled `specs/stream-rules.schema.json`.
fn rules_validator(specs: &Path) -> Result<jsonschema::Validator, RulesError> {
    let path = specs.join(RULES_SCHEMA_FILE);
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| RulesError::Io {
        path: shown.clone(),
        source,
    })?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| RulesError::Parse {
        path: shown.clone(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    jsonschema::draft202012::options()
        .offline()
        .build(&schema)
        .map_err(|e| RulesError::Schema {
            path: shown,
            problems: vec![format!("cannot compile: {e}")],
        })
}

/// Load, then [`lint`] against the registry.
///
/// # Errors
/// As [`load`], or every lint problem at once.
pub fn load_checked(registry: &Registry) -> Result<RuleSet, RulesError> {
    let set = load(registry.root())?;
    let problems = lint(registry, &set);
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(RulesError::Lint { problems })
    }
}

/// Every problem of the rule data against the registry: a duplicate rule id, an unknown event
/// type, a pointer the type's schema does not declare, a transition naming an unknown state or a
/// type the rule does not read, a kind-specific pointer missing.
#[must_use]
pub fn lint(registry: &Registry, set: &RuleSet) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for f in &set.files {
        for (i, rule) in f.file.rules.iter().enumerate() {
            let at = |what: &str| format!("specs/{} /rules/{i} ({}): {what}", f.rel_path, rule.id);
            if !ids.insert(rule.id.clone()) {
                problems.push(at("duplicate rule id"));
            }
            for (j, sel) in rule.kind.selectors().into_iter().enumerate() {
                lint_selector(
                    registry,
                    sel,
                    &|w| at(&format!("selector {j}: {w}")),
                    &mut problems,
                );
            }
            lint_kind(registry, &rule.kind, &at, &mut problems);
        }
    }
    problems
}

fn lint_kind(registry: &Registry, kind: &Kind, at: &dyn Fn(&str) -> String, out: &mut Vec<String>) {
    match kind {
        Kind::StateMachine {
            events,
            states,
            initial,
            terminal,
            transitions,
        } => {
            let known: BTreeSet<&str> = states.iter().map(String::as_str).collect();
            let read: BTreeSet<&str> = events.iter().map(|s| s.event_type.as_str()).collect();
            for s in std::iter::once(initial).chain(terminal) {
                if !known.contains(s.as_str()) {
                    out.push(at(&format!("state \"{s}\" is not in states")));
                }
            }
            for (k, t) in transitions.iter().enumerate() {
                for s in t.from.iter().chain(&t.to) {
                    if !known.contains(s.as_str()) {
                        out.push(at(&format!("transition {k}: unknown state \"{s}\"")));
                    }
                }
                for ty in &t.on {
                    if !read.contains(ty.as_str()) {
                        out.push(at(&format!(
                            "transition {k}: event type {ty} is not among the rule's events"
                        )));
                    }
                    for p in t.when.keys().chain(&t.via) {
                        lint_pointer(
                            registry,
                            ty,
                            p,
                            &|w| at(&format!("transition {k}: {w}")),
                            out,
                        );
                    }
                }
            }
            for s in events {
                if s.key.is_none() {
                    out.push(at(&format!(
                        "{}: a state machine event needs a key",
                        s.event_type
                    )));
                }
            }
        }
        Kind::Counter { events, .. } | Kind::Unique { events, .. } => {
            for s in events {
                if s.key.is_none() {
                    out.push(at(&format!("{}: needs a key", s.event_type)));
                }
            }
        }
        Kind::Reference { from, to, .. } => {
            for s in from {
                if s.reference.is_none() {
                    out.push(at(&format!(
                        "{}: a `from` selector needs `ref`",
                        s.event_type
                    )));
                }
            }
            for s in to {
                if s.key.is_none() {
                    out.push(at(&format!(
                        "{}: a `to` selector needs `key`",
                        s.event_type
                    )));
                }
            }
        }
        Kind::Pairing { a, b, .. } => {
            for s in a.iter().chain(b) {
                if s.key.is_none() {
                    out.push(at(&format!("{}: needs a key", s.event_type)));
                }
            }
        }
    }
}

fn lint_selector(
    registry: &Registry,
    sel: &Selector,
    at: &dyn Fn(&str) -> String,
    out: &mut Vec<String>,
) {
    let ty = sel.event_type.as_str();
    if ty != "*" && !registry.knows_type(ty) {
        out.push(at(&format!(
            "unknown event type {ty} (no schema in specs/events/types/)"
        )));
        return;
    }
    let pointers = sel
        .key
        .iter()
        .flat_map(Pointers::list)
        .chain(sel.when.keys().map(String::as_str))
        .chain(
            [&sel.value, &sel.total, &sel.reference, &sel.time]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    for p in pointers {
        lint_pointer(registry, ty, p, at, out);
    }
}

fn lint_pointer(
    registry: &Registry,
    ty: &str,
    pointer: &str,
    at: &dyn Fn(&str) -> String,
    out: &mut Vec<String>,
) {
    let declared = if ty == "*" {
        declares(registry, crate::registry::ENVELOPE_FILE, pointer)
    } else {
        registry
            .newest(ty)
            .is_some_and(|c| declares(registry, &c.rel_path, pointer))
    };
    if !declared {
        out.push(at(&format!(
            "{ty} has no field {pointer} (not declared by its schema)"
        )));
    }
}

/// Whether the schema file `rel_path` declares the location `pointer` (following `$ref`, `allOf`,
/// `anyOf`, `oneOf`, `then` and `else`).
fn declares(registry: &Registry, rel_path: &str, pointer: &str) -> bool {
    let Some(doc) = registry.docs().get(rel_path) else {
        return false;
    };
    let Some(tokens) = pointer.strip_prefix('/') else {
        return false;
    };
    let tokens: Vec<String> = tokens
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut frontier = vec![(rel_path.to_owned(), (*doc.value).clone())];
    for token in &tokens {
        let mut next = Vec::new();
        for (file, schema) in &frontier {
            let mut found = Vec::new();
            property(registry, file, schema, token, 0, &mut found);
            next.extend(found);
        }
        if next.is_empty() {
            return false;
        }
        frontier = next;
    }
    true
}

/// Budget for following `$ref`s and combinators while looking for one property.
const DECLARE_DEPTH: usize = 16;

fn property(
    registry: &Registry,
    file: &str,
    schema: &Value,
    name: &str,
    depth: usize,
    out: &mut Vec<(String, Value)>,
) {
    if depth > DECLARE_DEPTH {
        return;
    }
    let Value::Object(map) = schema else { return };
    if let Some(sub) = map.get("properties").and_then(|p| p.get(name)) {
        out.push((file.to_owned(), sub.clone()));
    }
    if let Some(Value::String(r)) = map.get("$ref") {
        if let Some((target_file, target)) = resolve_ref(registry, file, r) {
            property(registry, &target_file, &target, name, depth + 1, out);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = map.get(key) {
            for item in items {
                property(registry, file, item, name, depth + 1, out);
            }
        }
    }
    for key in ["then", "else"] {
        if let Some(sub) = map.get(key) {
            property(registry, file, sub, name, depth + 1, out);
        }
    }
}

fn resolve_ref(registry: &Registry, file: &str, r: &str) -> Option<(String, Value)> {
    let (path, fragment) = r.split_once('#').unwrap_or((r, ""));
    let target_file = if path.is_empty() {
        file.to_owned()
    } else {
        let base = Path::new(file).parent().unwrap_or(Path::new(""));
        normalise(&base.join(path))
    };
    let doc = registry.docs().get(&target_file)?;
    let value = if fragment.is_empty() {
        (*doc.value).clone()
    } else {
        doc.value.pointer(fragment)?.clone()
    };
    Some((target_file, value))
}

fn normalise(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}
