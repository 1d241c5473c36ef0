//! The contract registry: every schema under `specs/events/`, loaded, checked and compiled once.
//!
//! Invariants:
//! - nothing is fetched from the network: `$ref`s are resolved only against the files loaded here,
//!   and a `$ref` with a scheme other than `file:` or one whose target leaves the specs tree is refused;
//! - every schema file meta-validates against draft 2020-12 and declares that dialect;
//! - formats are asserted, patterns use the linear-time `regex` engine, e-mail display text is refused;
//! - every `(event_type, MAJOR)` maps to one pre-built validator of the whole event (envelope +
//!   payload), compiled twice from the same schema and options: for `serde_json::Value` and for
//!   the fast path's borrowed tree (`crate::fast::Tree`), which `validate_bytes` uses.

use crate::error::RegistryError;
use crate::fast::Borrowed;
use jsonschema::{EmailOptions, PatternCache, PatternOptions, Validator};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The dialect every contract schema must declare (catalogue §5 rule 1).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// The envelope schema, relative to the specs root.
pub const ENVELOPE_FILE: &str = "events/oneprotect.event.schema.json";
/// Where event-type schemas live, relative to the specs root.
pub const TYPES_DIR: &str = "events/types";
/// Virtual base under which schema files are registered: `file:///specs/<path relative to specs>`.
/// Stable across machines, and never touches the disk or the network.
pub const BASE_URI: &str = "file:///specs/";

/// One schema file as loaded from disk.
#[derive(Debug)]
pub struct SchemaDoc {
    /// Path relative to the specs root, with `/` separators (`events/types/x.v1.schema.json`).
    pub rel_path: String,
    /// The file's text, kept for error positions.
    pub text: String,
    /// The parsed schema.
    pub value: Arc<Value>,
}

/// What the registry knows about one `(event_type, MAJOR)` contract.
#[derive(Debug)]
pub struct EventContract {
    /// The `event_type` this schema pins with `const`.
    pub event_type: String,
    /// The MAJOR of `schema_version` this schema accepts (from the file name `.v<MAJOR>.`).
    pub major: u64,
    /// Path of the schema file relative to the specs root.
    pub rel_path: String,
    /// `x-family`.
    pub family: String,
    /// `x-status`: `implemented` or `contract-designed`.
    pub status: String,
    /// `x-reference`: design documents (OP-035R, ADR-0009, ...).
    pub reference: Vec<String>,
    /// `description`.
    pub description: String,
    /// The schema document.
    pub schema: Arc<Value>,
    /// The compiled validator of the whole event.
    pub validator: Validator,
    /// The same schema compiled for the borrowed tree (what `validate_bytes` judges with).
    pub(crate) tree_validator: Validator<Borrowed>,
    /// The error collector's root for this schema, when it compiled.
    pub(crate) collect_root: Option<crate::collect::SchemaId>,
}

/// The options that give a contract its meaning, for every validator built from the specs
/// (the registry's, coverage's per-node ones, the fast path's format checks): draft 2020-12,
/// formats asserted, the linear-time `regex` engine, e-mail without display text.
pub(crate) fn validator_options() -> jsonschema::ValidationOptions<'static> {
    validator_options_for::<jsonschema::json::SerdeJson>()
}

/// [`validator_options`] for instances in the JSON representation `F`.
pub(crate) fn validator_options_for<F: jsonschema::json::Json>()
-> jsonschema::ValidationOptions<'static, Arc<dyn jsonschema::Retrieve>, F> {
    jsonschema::options_for::<F>()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::regex())
        .with_email_options(EmailOptions::default().without_display_text())
}

/// All contracts under one specs root, compiled. Build once, share by reference (it is `Sync`).
pub struct Registry {
    root: PathBuf,
    docs: BTreeMap<String, SchemaDoc>,
    envelope: Validator,
    /// [`Registry::envelope`] for the borrowed tree.
    tree_envelope: Validator<Borrowed>,
    by_type: HashMap<String, BTreeMap<u64, EventContract>>,
    /// The fast path's compiled validators, built with the reference validators.
    fast: crate::fast::FastPath,
    /// Every contract compiled once more for the error list of an event read into the tree.
    collector: crate::collect::Collector,
    /// The envelope's root in `collector`.
    envelope_root: Option<crate::collect::SchemaId>,
    /// Whether `validate_bytes` tries the fast path first.
    fast_on: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("root", &self.root)
            .field("schemas", &self.docs.len())
            .field("event_types", &self.by_type.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Load, check and compile every `*.schema.json` under `<root>/events`.
    ///
    /// # Errors
    /// Any unreadable or malformed schema file, a schema that fails draft 2020-12 meta-validation,
    /// a remote `$ref` or one leaving the specs tree, an event-type schema whose name, `const` or
    /// annotations disagree, or a schema the validator cannot compile.
    pub fn load(root: &Path) -> Result<Self, RegistryError> {
        let docs = load_docs(root)?;
        let ids = embedded_ids(&docs);
        for doc in docs.values() {
            check_dialect(doc)?;
            meta_validate(doc)?;
            check_refs(doc, &docs, &ids)?;
        }
        check_ref_cycles(&docs)?;
        let resources = docs
            .values()
            .map(|d| (format!("{BASE_URI}{}", d.rel_path), (*d.value).clone()));
        let registry = jsonschema::Registry::new()
            .extend(resources)
            .and_then(jsonschema::RegistryBuilder::prepare)
            .map_err(|e| RegistryError::Resolve {
                file: root.display().to_string(),
                message: e.to_string(),
            })?;
        let cache = PatternCache::new();
        fn compile<F: jsonschema::json::Json>(
            doc: &SchemaDoc,
            registry: &jsonschema::Registry<'_>,
            cache: &PatternCache,
        ) -> Result<Validator<F>, RegistryError> {
            validator_options_for::<F>()
                .with_pattern_cache(cache.clone())
                .with_registry(registry)
                .with_base_uri(format!("{BASE_URI}{}", doc.rel_path))
                .offline()
                .build(&doc.value)
                .map_err(|e| RegistryError::Compile {
                    file: doc.rel_path.clone(),
                    message: e.to_string(),
                })
        }
        let build = |doc: &SchemaDoc| -> Result<(Validator, Validator<Borrowed>), RegistryError> {
            Ok((
                compile(doc, &registry, &cache)?,
                compile(doc, &registry, &cache)?,
            ))
        };
        let envelope_doc = docs
            .get(ENVELOPE_FILE)
            .ok_or_else(|| RegistryError::Missing {
                file: format!("{}/{ENVELOPE_FILE}", root.display()),
            })?;
        let (envelope, tree_envelope) = build(envelope_doc)?;
        let mut by_type: HashMap<String, BTreeMap<u64, EventContract>> = HashMap::new();
        for doc in docs.values() {
            let Some(file_name) = doc.rel_path.strip_prefix(&format!("{TYPES_DIR}/")) else {
                continue;
            };
            let (event_type, major) =
                parse_type_file_name(file_name).ok_or_else(|| RegistryError::Contract {
                    file: doc.rel_path.clone(),
                    message:
                        "event-type schema file name must be <event_type>.v<MAJOR>.schema.json"
                            .into(),
                })?;
            let meta = contract_meta(doc, &event_type, major)?;
            let (validator, tree_validator) = build(doc)?;
            by_type.entry(event_type.clone()).or_default().insert(
                major,
                EventContract {
                    event_type,
                    major,
                    rel_path: doc.rel_path.clone(),
                    family: meta.family,
                    status: meta.status,
                    reference: meta.reference,
                    description: meta.description,
                    schema: Arc::clone(&doc.value),
                    validator,
                    tree_validator,
                    collect_root: None,
                },
            );
        }
        let (fast, collector) = {
            let files = compiled_files(&docs);
            let mut contracts: Vec<(String, u64, String)> = by_type
                .values()
                .flat_map(BTreeMap::values)
                .map(|c| (c.event_type.clone(), c.major, c.rel_path.clone()))
                .collect();
            contracts.sort();
            let mut collected: Vec<String> = contracts.iter().map(|c| c.2.clone()).collect();
            collected.push(ENVELOPE_FILE.to_owned());
            let fast = crate::fast::FastPath::build(&files, &contracts);
            let collector = crate::collect::Collector::build(&files, &collected, fast.patterns());
            (fast, collector)
        };
        for contract in by_type.values_mut().flat_map(BTreeMap::values_mut) {
            contract.collect_root = collector.root(&contract.rel_path);
        }
        Ok(Registry {
            root: root.to_path_buf(),
            docs,
            envelope,
            tree_envelope,
            by_type,
            fast,
            envelope_root: collector.root(ENVELOPE_FILE),
            collector,
            fast_on: crate::fast::default_on(),
        })
    }

    /// The fast path's compiled validators; [`crate::fast::FastPath::fallbacks`] lists the event
    /// types it could not compile (they use the reference path).
    #[must_use]
    pub fn fast_path(&self) -> &crate::fast::FastPath {
        &self.fast
    }

    /// The error collector: every contract compiled for the error list on the tree.
    pub(crate) fn collector(&self) -> &crate::collect::Collector {
        &self.collector
    }

    /// The envelope's root in [`Registry::collector`].
    pub(crate) fn envelope_root(&self) -> Option<crate::collect::SchemaId> {
        self.envelope_root
    }

    /// Schema files whose error lists the `jsonschema` crate collects, with the reason.
    #[must_use]
    pub fn collector_fallbacks(&self) -> &[(String, String)] {
        self.collector.fallbacks()
    }

    /// Whether `validate_bytes` tries the fast path first.
    #[must_use]
    pub fn fast_path_on(&self) -> bool {
        self.fast_on
    }

    /// Turn the fast path on or off (`false`: every event takes the reference path).
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast_on = on;
    }

    /// The specs root this registry was loaded from.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every loaded schema file, by path relative to the specs root.
    #[must_use]
    pub fn docs(&self) -> &BTreeMap<String, SchemaDoc> {
        &self.docs
    }

    /// The envelope-only validator (used when the event type or its MAJOR is unknown).
    #[must_use]
    pub fn envelope(&self) -> &Validator {
        &self.envelope
    }

    /// [`Registry::envelope`] for the borrowed tree.
    pub(crate) fn tree_envelope(&self) -> &Validator<Borrowed> {
        &self.tree_envelope
    }

    /// The contract for `event_type` at `major`, if any.
    #[must_use]
    pub fn contract(&self, event_type: &str, major: u64) -> Option<&EventContract> {
        self.by_type.get(event_type)?.get(&major)
    }

    /// Whether any MAJOR of `event_type` is known.
    #[must_use]
    pub fn knows_type(&self, event_type: &str) -> bool {
        self.by_type.contains_key(event_type)
    }

    /// Every contract, sorted by event type then MAJOR.
    #[must_use]
    pub fn contracts(&self) -> Vec<&EventContract> {
        let mut all: Vec<&EventContract> =
            self.by_type.values().flat_map(BTreeMap::values).collect();
        all.sort_by(|a, b| (&a.event_type, a.major).cmp(&(&b.event_type, b.major)));
        all
    }

    /// The newest MAJOR of `event_type`.
    #[must_use]
    pub fn newest(&self, event_type: &str) -> Option<&EventContract> {
        self.by_type.get(event_type)?.values().next_back()
    }

    /// All schema documents as `(uri, value)` pairs, for tools that build their own validators
    /// (the generator's oracle) over the same files.
    #[must_use]
    pub fn resources(&self) -> Vec<(String, Value)> {
        self.docs
            .values()
            .map(|d| (format!("{BASE_URI}{}", d.rel_path), (*d.value).clone()))
            .collect()
    }
}

/// `asset.discovered.v1.schema.json` -> `("asset.discovered", 1)`.
#[must_use]
pub fn parse_type_file_name(name: &str) -> Option<(String, u64)> {
    let stem = name.strip_suffix(".schema.json")?;
    let (event_type, v) = stem.rsplit_once(".v")?;
    let major = v.parse().ok()?;
    if event_type.is_empty() || v.starts_with('0') && v != "0" {
        return None;
    }
    Some((event_type.to_owned(), major))
}

fn load_docs(root: &Path) -> Result<BTreeMap<String, SchemaDoc>, RegistryError> {
    let events = root.join("events");
    if !events.is_dir() {
        return Err(RegistryError::Missing {
            file: events.display().to_string(),
        });
    }
    let mut files = Vec::new();
    let mut visited = std::collections::HashSet::new();
    collect_schema_files(&events, &mut visited, &mut files)?;
    files.sort();
    let mut docs = BTreeMap::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| RegistryError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let rel_path = rel_to(root, &path);
        let value: Value = serde_json::from_str(&text).map_err(|e| RegistryError::Parse {
            file: rel_path.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        docs.insert(
            rel_path.clone(),
            SchemaDoc {
                rel_path,
                text,
                value: Arc::new(value),
            },
        );
    }
    Ok(docs)
}

/// Every `*.schema.json` under `dir`, following symbolic links but never into a directory
/// already walked (a link back up the tree would otherwise be followed until the system's
/// 40-level limit).
fn collect_schema_files(
    dir: &Path,
    visited: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<(), RegistryError> {
    let io = |source| RegistryError::Io {
        file: dir.display().to_string(),
        source,
    };
    let real = dir.canonicalize().map_err(io)?;
    if !visited.insert(real.clone()) {
        return Err(RegistryError::SymlinkLoop {
            file: dir.display().to_string(),
            target: real.display().to_string(),
        });
    }
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_schema_files(&path, visited, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".schema.json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root`, `/`-separated whatever the platform.
pub(crate) fn rel_to(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn check_dialect(doc: &SchemaDoc) -> Result<(), RegistryError> {
    match doc.value.get("$schema").and_then(Value::as_str) {
        Some(DIALECT) => Ok(()),
        other => Err(RegistryError::Contract {
            file: doc.rel_path.clone(),
            message: format!(
                "\"$schema\" must be \"{DIALECT}\" (catalogue §5 rule 1), found {}",
                other.map_or_else(|| "none".to_owned(), |s| format!("\"{s}\""))
            ),
        }),
    }
}

fn meta_validate(doc: &SchemaDoc) -> Result<(), RegistryError> {
    let validator = jsonschema::draft202012::meta::validator();
    let errors: Vec<String> = validator
        .iter_errors(&doc.value)
        .map(|e| {
            let at = e.instance_path().as_str().to_owned();
            format!(
                "{} (at {}, line {})",
                e,
                if at.is_empty() { "/" } else { &at },
                line_of_pointer(&doc.text, &at)
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RegistryError::MetaSchema {
            file: doc.rel_path.clone(),
            errors,
        })
    }
}

/// Refuse remote `$ref`s and any `$ref` whose target leaves the specs tree or names no loaded file.
///
/// References resolve as JSON Schema 2020-12 says (Core §8.2.1): against the base URI of the
/// nearest enclosing `$id`, else the file's own URI. A reference whose document is an embedded
/// resource (some loaded schema's `$id`) is accepted and left to the `jsonschema` registry, which
/// holds every loaded file and never fetches anything.
fn check_refs(
    doc: &SchemaDoc,
    docs: &BTreeMap<String, SchemaDoc>,
    ids: &std::collections::HashSet<String>,
) -> Result<(), RegistryError> {
    let mut refs = Vec::new();
    collect_refs(&doc.value, String::new(), &mut refs);
    let file_uri = format!("{BASE_URI}{}", doc.rel_path);
    for (pointer, reference) in refs {
        let base = base_at(&doc.value, &pointer, &file_uri);
        let resolved = resolve_uri(&base, &reference);
        if resolved
            .as_deref()
            .is_some_and(|r| ids.contains(document_part(r)))
        {
            continue; // an embedded resource of a loaded file
        }
        if base != file_uri {
            return Err(RegistryError::Ref {
                file: doc.rel_path.clone(),
                line: line_of_text(&doc.text, &reference),
                pointer: pointer.clone(),
                reference: reference.clone(),
                message: format!(
                    "resolves to {} against the base URI {base} (from $id): no loaded schema has that $id, and schemas are never fetched",
                    resolved.as_deref().unwrap_or("an invalid URI")
                ),
            });
        }
        let err = |message: String| RegistryError::Ref {
            file: doc.rel_path.clone(),
            line: line_of_text(&doc.text, &reference),
            pointer: pointer.clone(),
            reference: reference.clone(),
            message,
        };
        let (target, _fragment) = reference.split_once('#').unwrap_or((&reference, ""));
        if target.is_empty() {
            continue; // same document
        }
        if target.starts_with('/') {
            return Err(err(
                "absolute path refused: a $ref names a schema file relative to the one it is in (specs are never read from outside their tree)".into(),
            ));
        }
        if let Some((scheme, rest)) = split_scheme(target) {
            if scheme != "file" {
                return Err(err(format!(
                    "remote reference refused: schemas are never fetched ({scheme}: scheme)"
                )));
            }
            let Some(path) = rest.strip_prefix("///specs/") else {
                return Err(err("reference leaves the specs tree".into()));
            };
            check_target(&normalize(path), docs).map_err(err)?;
            continue;
        }
        let base_dir = doc.rel_path.rsplit_once('/').map_or("", |(d, _)| d);
        let joined = if base_dir.is_empty() {
            target.to_owned()
        } else {
            format!("{base_dir}/{target}")
        };
        let Some(resolved) = normalize(&joined) else {
            return Err(err("reference leaves the specs tree".into()));
        };
        check_target(&Some(resolved), docs).map_err(err)?;
    }
    Ok(())
}

/// Keywords that apply a subschema to the same instance location (JSON Schema 2020-12 Core
/// §10.2): a cycle made only of these and `$ref`s never reaches a smaller part of the instance.
const IN_PLACE: [&str; 6] = ["not", "if", "then", "else", "$ref", "$dynamicRef"];
const IN_PLACE_LISTS: [&str; 3] = ["allOf", "anyOf", "oneOf"];

/// Refuse a cycle of `$ref`s and in-place applicators: `a -> b -> a` with nothing that descends
/// into the instance on the way (a recursive tree whose `$ref` sits under `properties` or `items`
/// has a base case, the instance's depth, and is fine).
fn check_ref_cycles(docs: &BTreeMap<String, SchemaDoc>) -> Result<(), RegistryError> {
    let values: BTreeMap<String, Arc<Value>> = docs
        .iter()
        .map(|(k, d)| (k.clone(), Arc::clone(&d.value)))
        .collect();
    // 1: on the current path, 2: finished (no cycle through it).
    let mut state: HashMap<(String, String), u8> = HashMap::new();
    let mut path: Vec<(String, String)> = Vec::new();
    for (file, doc) in &values {
        let mut starts = Vec::new();
        every_object(doc, String::new(), &mut starts);
        for pointer in starts {
            if let Some(cycle) = cycle_from(&values, (file.clone(), pointer), &mut state, &mut path)
            {
                return Err(RegistryError::RefCycle {
                    file: cycle.first().map(|(f, _)| f.clone()).unwrap_or_default(),
                    cycle: cycle.iter().map(|(f, p)| format!("{f}#{p}")).collect(),
                });
            }
        }
    }
    Ok(())
}

/// Pointers of every object in `value` holding a `$ref` or `$dynamicRef`: a cycle of in-place
/// edges must take one (the others only go deeper into the document).
fn every_object(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                every_object(v, format!("{pointer}/{}", escape_pointer(k)), out);
            }
            if map.contains_key("$ref") || map.contains_key("$dynamicRef") {
                out.push(pointer);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                every_object(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Depth-first over in-place edges from `node`; the cycle, first node repeated last, if any.
fn cycle_from(
    docs: &BTreeMap<String, Arc<Value>>,
    node: (String, String),
    state: &mut HashMap<(String, String), u8>,
    path: &mut Vec<(String, String)>,
) -> Option<Vec<(String, String)>> {
    match state.get(&node) {
        Some(2) => return None,
        Some(_) => {
            let at = path.iter().position(|n| *n == node).unwrap_or(0);
            let mut cycle = path[at..].to_vec();
            cycle.push(node);
            return Some(cycle);
        }
        None => {}
    }
    let Some(Value::Object(schema)) = docs.get(&node.0).and_then(|d| d.pointer(&node.1)) else {
        state.insert(node, 2);
        return None;
    };
    let mut next = Vec::new();
    for (k, v) in schema {
        let here = format!("{}/{}", node.1, escape_pointer(k));
        match (k.as_str(), v) {
            ("$ref" | "$dynamicRef", Value::String(r)) => {
                // Unresolvable references are `check_refs`' to report.
                if let Ok((_, file, pointer)) = resolve_ref(docs, r, &node.0) {
                    next.push((file, pointer.to_owned()));
                }
            }
            (k, Value::Object(_)) if IN_PLACE.contains(&k) => next.push((node.0.clone(), here)),
            (k, Value::Array(items)) if IN_PLACE_LISTS.contains(&k) => {
                next.extend((0..items.len()).map(|i| (node.0.clone(), format!("{here}/{i}"))));
            }
            _ => {}
        }
    }
    state.insert(node.clone(), 1);
    path.push(node.clone());
    for n in next {
        if let Some(cycle) = cycle_from(docs, n, state, path) {
            return Some(cycle);
        }
    }
    path.pop();
    state.insert(node, 2);
    None
}

/// `reference` resolved against `base` (RFC 3986 §5.2), or `None` when either is no URI.
fn resolve_uri(base: &str, reference: &str) -> Option<String> {
    let base = jsonschema::uri::from_str(base).ok()?;
    jsonschema::uri::resolve_against(&base.borrow(), reference)
        .ok()
        .map(|u| u.as_str().to_owned())
}

/// A URI without its fragment.
fn document_part(uri: &str) -> &str {
    uri.split_once('#').map_or(uri, |(d, _)| d)
}

/// The base URI in effect at the member `pointer` of `root`: each `$id` on the way from the root
/// (the member's own object included) resolves against the one before, starting from `file_uri`.
fn base_at(root: &Value, pointer: &str, file_uri: &str) -> String {
    let mut base = file_uri.to_owned();
    let mut at = root;
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, token) in tokens.iter().enumerate() {
        if let Some(id) = at.get("$id").and_then(Value::as_str) {
            if let Some(b) = resolve_uri(&base, id) {
                base = document_part(&b).to_owned();
            }
        }
        if i + 1 == tokens.len() {
            break; // the `$ref` member itself
        }
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match at {
            Value::Object(map) => map.get(&token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => break,
        }
    }
    base
}

/// The URI (without fragment) of every embedded resource: each `$id` of every loaded file,
/// resolved against its enclosing base.
fn embedded_ids(docs: &BTreeMap<String, SchemaDoc>) -> std::collections::HashSet<String> {
    fn walk(v: &Value, base: &str, out: &mut std::collections::HashSet<String>) {
        match v {
            Value::Object(map) => {
                let mut here = base.to_owned();
                if let Some(id) = map.get("$id").and_then(Value::as_str) {
                    if let Some(b) = resolve_uri(base, id) {
                        here = document_part(&b).to_owned();
                        out.insert(here.clone());
                    }
                }
                for child in map.values() {
                    walk(child, &here, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|c| walk(c, base, out)),
            _ => {}
        }
    }
    let mut out = std::collections::HashSet::new();
    for doc in docs.values() {
        walk(&doc.value, &format!("{BASE_URI}{}", doc.rel_path), &mut out);
    }
    out
}

/// Why a file is missing from the compilers' set, said wherever one reports a missing file.
pub(crate) const EMBEDDED_NOTE: &str =
    " (files with $id, $anchor or $dynamicAnchor are left to the reference path)";

/// The files the fast path and the error collector compile: every loaded file without embedded
/// resources. A file with `$id`, `$anchor` or `$dynamicAnchor` has `$ref`s that resolve against
/// bases these compilers (which read schema files as paths) do not model, so it, and every
/// contract reaching it, stays on the reference path rather than resolve against a wrong base.
fn compiled_files(docs: &BTreeMap<String, SchemaDoc>) -> BTreeMap<String, Arc<Value>> {
    docs.iter()
        .filter(|(_, d)| !has_embedded_resources(&d.value))
        .map(|(k, d)| (k.clone(), Arc::clone(&d.value)))
        .collect()
}

/// Whether `v` holds `$id`, `$anchor` or `$dynamicAnchor` anywhere.
fn has_embedded_resources(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            map.contains_key("$id")
                || map.contains_key("$anchor")
                || map.contains_key("$dynamicAnchor")
                || map.values().any(has_embedded_resources)
        }
        Value::Array(items) => items.iter().any(has_embedded_resources),
        _ => false,
    }
}

fn check_target(
    resolved: &Option<String>,
    docs: &BTreeMap<String, SchemaDoc>,
) -> Result<(), String> {
    match resolved {
        None => Err("reference leaves the specs tree".into()),
        Some(path) if docs.contains_key(path) => Ok(()),
        Some(path) => Err(format!("no schema file specs/{path}")),
    }
}

fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some((scheme, rest))
}

/// Where a relative `$ref` met in the schema file `base` points: the target schema, its file
/// and its JSON pointer, for the compilers that read the schemas themselves (the fast path's and
/// the error collector's). `Err` for a reference with a scheme, one that leaves the tree, a
/// pointer with escapes (`~`, `%`: neither compiler models them), a missing file or target.
/// `docs` holds only files without embedded resources ([`compiled_files`]).
pub(crate) fn resolve_ref<'d, 'r>(
    docs: &'d BTreeMap<String, Arc<Value>>,
    reference: &'r str,
    base: &str,
) -> Result<(&'d Value, String, &'r str), String> {
    let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
    let file = if file.is_empty() {
        base.to_owned()
    } else {
        if file.contains(':') {
            return Err(format!(
                "$ref {reference}: only relative references compile"
            ));
        }
        let dir = base.rsplit_once('/').map_or("", |(d, _)| d);
        normalize(&format!("{dir}/{file}"))
            .ok_or_else(|| format!("$ref {reference} leaves the tree"))?
    };
    let doc = docs.get(&file).ok_or_else(|| {
        format!("$ref {reference}: no file {file} among the compiled ones{EMBEDDED_NOTE}")
    })?;
    if pointer.contains('%') || pointer.contains('~') {
        return Err(format!("$ref {reference}: escaped pointer"));
    }
    let target = doc
        .pointer(pointer)
        .ok_or_else(|| format!("$ref {reference}: no target"))?;
    Ok((target, file, pointer))
}

/// Resolve `.` and `..` in a `/`-separated relative path; `None` when it climbs above the root.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

fn collect_refs(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{pointer}/{}", escape_pointer(k));
                if matches!(k.as_str(), "$ref" | "$dynamicRef") {
                    if let Some(s) = v.as_str() {
                        out.push((p.clone(), s.to_owned()));
                    }
                }
                collect_refs(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// RFC 6901 escaping of one reference token (defined beside the reader, which names members by
/// pointer too).
pub use crate::parse::escape_pointer;

/// 1-based line of the first occurrence of `needle` (as a JSON string) in `text`, else 1.
fn line_of_text(text: &str, needle: &str) -> usize {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    text.find(&quoted)
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

/// Best-effort 1-based line of the member a JSON pointer names: the line of its last key.
fn line_of_pointer(text: &str, pointer: &str) -> usize {
    match pointer.rsplit('/').next() {
        Some(last) if !last.is_empty() && last.parse::<usize>().is_err() => {
            let key = last.replace("~1", "/").replace("~0", "~");
            line_of_text(text, &key)
        }
        _ => 1,
    }
}

struct ContractMeta {
    family: String,
    status: String,
    reference: Vec<String>,
    description: String,
}

fn contract_meta(
    doc: &SchemaDoc,
    event_type: &str,
    major: u64,
) -> Result<ContractMeta, RegistryError> {
    let bad = |message: String| RegistryError::Contract {
        file: doc.rel_path.clone(),
        message,
    };
    let v = &doc.value;
    let konst = v
        .pointer("/properties/event_type/const")
        .and_then(Value::as_str);
    if konst != Some(event_type) {
        return Err(bad(format!(
            "/properties/event_type/const must be \"{event_type}\" (the file name), found {konst:?}"
        )));
    }
    let pattern = v
        .pointer("/properties/schema_version/pattern")
        .and_then(Value::as_str);
    let want = format!("^{major}\\.(0|[1-9][0-9]*)$");
    if pattern != Some(want.as_str()) {
        return Err(bad(format!(
            "/properties/schema_version/pattern must be \"{want}\" (MAJOR {major} from the file name), found {pattern:?}"
        )));
    }
    let text = |key: &str| -> Result<String, RegistryError> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("missing string annotation \"{key}\"")))
    };
    let status = text("x-status")?;
    if !matches!(status.as_str(), "implemented" | "contract-designed") {
        return Err(bad(format!(
            "\"x-status\" must be \"implemented\" or \"contract-designed\", found \"{status}\""
        )));
    }
    let reference = v
        .get("x-reference")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|r| r.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| bad("\"x-reference\" must be an array of strings".into()))?;
    Ok(ContractMeta {
        family: text("x-family")?,
        status,
        reference,
        description: text("description")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("asset.discovered.v1.schema.json", Some(("asset.discovered", 1)))]
    #[case::major_ten("ticket.delivery.failed.v10.schema.json", Some(("ticket.delivery.failed", 10)))]
    #[case::no_major("asset.discovered.schema.json", None)]
    #[case::leading_zero("asset.discovered.v01.schema.json", None)]
    fn type_file_names_parse(#[case] name: &str, #[case] want: Option<(&str, u64)>) {
        assert_eq!(
            parse_type_file_name(name),
            want.map(|(t, m)| (t.to_owned(), m))
        );
    }

    #[rstest]
    #[case::sibling(
        "events/types/../common.schema.json",
        Some("events/common.schema.json")
    )]
    #[case::climbs_out("events/../../etc/passwd", None)]
    #[case::dot("events/./x.json", Some("events/x.json"))]
    fn paths_normalize(#[case] path: &str, #[case] want: Option<&str>) {
        assert_eq!(normalize(path).as_deref(), want);
    }
}
