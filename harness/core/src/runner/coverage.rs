//! Schema coverage: which locations of an event-type schema a set of events exercises.
//!
//! The universe of items is found by walking the schema (following `$ref`s across files); the hits
//! by walking each event along the same schema. Both walks are one function, so an item is counted
//! only where the universe has it. Items: each optional property present and absent, each `enum`
//! value, each `anyOf`/`oneOf` branch taken, each `if` taken both ways (`then` / `else`). A branch
//! counts only when the event is valid under it, and what lies inside a branch counts only when the
//! branch applies.

use crate::registry::{BASE_URI, EventContract, Registry};
use jsonschema::Validator;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// What kind of location an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// An optional property present.
    Present,
    /// An optional property absent.
    Absent,
    /// One `enum` value taken.
    EnumValue,
    /// One `anyOf`/`oneOf` branch taken.
    Branch,
    /// An `if` that held (`then` applied).
    Then,
    /// An `if` that did not hold (`else`, or nothing, applied).
    Else,
}

/// One coverage item of one event type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Item {
    /// The kind.
    pub kind: ItemKind,
    /// Instance-shaped path of the location: `/payload/asset/device_type`, `[]` for array items.
    pub path: String,
    /// The enum value or branch index, when the kind has one.
    pub detail: String,
}

/// Coverage of one event type by a set of events.
#[derive(Debug, Clone, Serialize)]
pub struct TypeCoverage {
    /// The event type.
    pub event_type: String,
    /// MAJOR.
    pub major: u64,
    /// Every item the schema has.
    pub items: BTreeSet<Item>,
    /// Items at least one event exercised.
    pub covered: BTreeSet<Item>,
    /// Events that contributed (valid events of this type).
    pub events: usize,
}

impl TypeCoverage {
    /// Items no event exercised.
    pub fn missing(&self) -> impl Iterator<Item = &Item> {
        self.items.difference(&self.covered)
    }

    /// Items of `kinds` no event exercised.
    pub fn missing_of(&self, kinds: &[ItemKind]) -> Vec<&Item> {
        self.missing().filter(|i| kinds.contains(&i.kind)).collect()
    }
}

/// Measures coverage with branch validators compiled on first use and then reused.
pub struct Coverage<'r> {
    registry: &'r Registry,
    schemas: jsonschema::Registry<'static>,
    branch_validators: Mutex<HashMap<String, std::sync::Arc<Validator>>>,
}

impl std::fmt::Debug for Coverage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coverage").finish_non_exhaustive()
    }
}

/// A schema node and where it lives.
#[derive(Clone)]
struct Node<'a> {
    value: &'a Value,
    /// Schema file, relative to the specs root.
    doc: &'a str,
    /// JSON pointer of `value` in that file.
    pointer: String,
}

impl<'r> Coverage<'r> {
    /// Prepare coverage measurement over a registry.
    ///
    /// # Errors
    /// When the registry's documents cannot be indexed (they already were once, so only on a bug).
    pub fn new(registry: &'r Registry) -> Result<Self, String> {
        let schemas = jsonschema::Registry::new()
            .extend(registry.resources())
            .and_then(jsonschema::RegistryBuilder::prepare)
            .map_err(|e| e.to_string())?;
        Ok(Coverage {
            registry,
            schemas,
            branch_validators: Mutex::new(HashMap::new()),
        })
    }

    /// Coverage of `contract` by `events` (only events valid under it should be passed).
    #[must_use]
    pub fn measure(&self, contract: &EventContract, events: &[&Value]) -> TypeCoverage {
        let root = Node {
            value: &contract.schema,
            doc: &contract.rel_path,
            pointer: String::new(),
        };
        let mut items = BTreeSet::new();
        self.walk(&root, "", None, &mut items, 0);
        let mut covered = BTreeSet::new();
        for event in events {
            self.walk(&root, "", Some(event), &mut covered, 0);
        }
        // A property another applicable schema requires (the envelope requires event_type even
        // though the type schema only lists it) is never absent: it has no present/absent items.
        let mut required = BTreeSet::new();
        self.required_paths(&root, "", &mut required, 0);
        let keep = |i: &Item| {
            i.path.starts_with("/payload")
                && !(matches!(i.kind, ItemKind::Present | ItemKind::Absent)
                    && required.contains(&i.path))
        };
        items.retain(keep);
        covered.retain(|i| items.contains(i));
        TypeCoverage {
            event_type: contract.event_type.clone(),
            major: contract.major,
            items,
            covered,
            events: events.len(),
        }
    }

    fn resolve<'a>(&'a self, from: &Node<'a>, reference: &str) -> Option<Node<'a>> {
        let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if target.is_empty() {
            from.doc.to_owned()
        } else {
            let dir = from.doc.rsplit_once('/').map_or("", |(d, _)| d);
            crate::registry::normalize(&format!("{dir}/{target}"))?
        };
        let (key, file) = self.registry.docs().get_key_value(&doc)?;
        let value = if fragment.is_empty() {
            &*file.value
        } else {
            file.value.pointer(fragment)?
        };
        Some(Node {
            value,
            doc: key,
            pointer: fragment.to_owned(),
        })
    }

    fn child<'a>(node: &Node<'a>, key: &str) -> Option<Node<'a>> {
        let value = node.value.get(key)?;
        Some(Node {
            value,
            doc: node.doc,
            pointer: format!("{}/{}", node.pointer, crate::registry::escape_pointer(key)),
        })
    }

    fn index<'a>(node: &Node<'a>, i: usize) -> Option<Node<'a>> {
        let value = node.value.get(i)?;
        Some(Node {
            value,
            doc: node.doc,
            pointer: format!("{}/{i}", node.pointer),
        })
    }

    fn holds(&self, node: &Node<'_>, instance: &Value) -> bool {
        let uri = format!("{BASE_URI}{}#{}", node.doc, node.pointer);
        let validator = {
            let mut cache = match self.branch_validators.lock() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            if let Some(v) = cache.get(&uri) {
                std::sync::Arc::clone(v)
            } else {
                let built = crate::registry::validator_options()
                    .with_registry(&self.schemas)
                    .offline()
                    .build(&serde_json::json!({ "$ref": uri }));
                // Every node here compiled once as part of its whole schema, so this cannot fail
                // short of a bug; an uncompilable branch then simply counts as not taken.
                let Ok(v) = built else {
                    return false;
                };
                let v = std::sync::Arc::new(v);
                cache.insert(uri.clone(), std::sync::Arc::clone(&v));
                v
            }
        };
        validator.is_valid(instance)
    }

    /// Every property path that some schema node applying there (outside conditionals) requires.
    fn required_paths(
        &self,
        node: &Node<'_>,
        path: &str,
        out: &mut BTreeSet<String>,
        depth: usize,
    ) {
        if depth > Self::MAX_DEPTH || !node.value.is_object() {
            return;
        }
        if let Some(r) = node.value.get("$ref").and_then(Value::as_str) {
            if let Some(target) = self.resolve(node, r) {
                self.required_paths(&target, path, out, depth + 1);
            }
        }
        if let Some(Value::Array(names)) = node.value.get("required") {
            for n in names.iter().filter_map(Value::as_str) {
                out.insert(format!("{path}/{}", crate::registry::escape_pointer(n)));
            }
        }
        // A branch of anyOf/oneOf (a nullable shared object) requires its members whenever the
        // object is there at all, so they have no present/absent items either.
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(all) = Self::child(node, key) {
                for i in 0..all.value.as_array().map_or(0, Vec::len) {
                    if let Some(sub) = Self::index(&all, i) {
                        self.required_paths(&sub, path, out, depth + 1);
                    }
                }
            }
        }
        if let Some(props) = Self::child(node, "properties") {
            let names: Vec<String> = props
                .value
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for name in names {
                if let Some(sub) = Self::child(&props, &name) {
                    let p = format!("{path}/{}", crate::registry::escape_pointer(&name));
                    self.required_paths(&sub, &p, out, depth + 1);
                }
            }
        }
        if let Some(items) = Self::child(node, "items") {
            self.required_paths(&items, &format!("{path}/[]"), out, depth + 1);
        }
    }

    /// Depth bound for `$ref` chains; our schemas are not recursive, this only stops a cycle.
    const MAX_DEPTH: usize = 64;

    fn walk(
        &self,
        node: &Node<'_>,
        path: &str,
        instance: Option<&Value>,
        out: &mut BTreeSet<Item>,
        depth: usize,
    ) {
        if depth > Self::MAX_DEPTH || !node.value.is_object() {
            return;
        }
        let item = |kind, path: &str, detail: String| Item {
            kind,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            detail,
        };
        if let Some(r) = node.value.get("$ref").and_then(Value::as_str) {
            if let Some(target) = self.resolve(node, r) {
                self.walk(&target, path, instance, out, depth + 1);
            }
        }
        if let Some(Value::Array(values)) = node.value.get("enum") {
            for v in values {
                if instance.is_none() || instance == Some(v) {
                    out.insert(item(ItemKind::EnumValue, path, v.to_string()));
                }
            }
        }
        if let Some(all) = Self::child(node, "allOf") {
            for i in 0..all.value.as_array().map_or(0, Vec::len) {
                if let Some(sub) = Self::index(&all, i) {
                    self.walk(&sub, path, instance, out, depth + 1);
                }
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = Self::child(node, key) {
                for i in 0..branches.value.as_array().map_or(0, Vec::len) {
                    let Some(sub) = Self::index(&branches, i) else {
                        continue;
                    };
                    let detail = format!("{key}[{i}]");
                    match instance {
                        None => {
                            out.insert(item(ItemKind::Branch, path, detail));
                            self.walk(&sub, path, None, out, depth + 1);
                        }
                        Some(v) if self.holds(&sub, v) => {
                            out.insert(item(ItemKind::Branch, path, detail));
                            self.walk(&sub, path, instance, out, depth + 1);
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        if let Some(cond) = Self::child(node, "if") {
            let then = Self::child(node, "then");
            let els = Self::child(node, "else");
            let held = instance.map(|v| self.holds(&cond, v));
            let at = format!("{}#{}", node.doc, cond.pointer);
            if held != Some(false) {
                out.insert(item(ItemKind::Then, path, at.clone()));
                if let Some(t) = &then {
                    self.walk(t, path, instance, out, depth + 1);
                }
            }
            if held != Some(true) {
                out.insert(item(ItemKind::Else, path, at));
                if let Some(e) = &els {
                    self.walk(e, path, instance, out, depth + 1);
                }
            }
        }
        if let Some(props) = Self::child(node, "properties") {
            let required: BTreeSet<&str> = node
                .value
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let object = instance.and_then(Value::as_object);
            if instance.is_some() && object.is_none() {
                return;
            }
            let names: Vec<String> = props
                .value
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for name in names {
                let Some(sub) = Self::child(&props, &name) else {
                    continue;
                };
                let sub_path = format!("{path}/{}", crate::registry::escape_pointer(&name));
                let member = object.and_then(|o| o.get(&name));
                if !required.contains(name.as_str()) {
                    if instance.is_none() || member.is_some() {
                        out.insert(item(ItemKind::Present, &sub_path, String::new()));
                    }
                    if instance.is_none() || (object.is_some() && member.is_none()) {
                        out.insert(item(ItemKind::Absent, &sub_path, String::new()));
                    }
                }
                match (instance, member) {
                    (None, _) => self.walk(&sub, &sub_path, None, out, depth + 1),
                    (Some(_), Some(m)) => self.walk(&sub, &sub_path, Some(m), out, depth + 1),
                    (Some(_), None) => {}
                }
            }
        }
        if let Some(items) = Self::child(node, "items") {
            let sub_path = format!("{path}/[]");
            match instance {
                None => self.walk(&items, &sub_path, None, out, depth + 1),
                Some(Value::Array(elements)) => {
                    for e in elements {
                        self.walk(&items, &sub_path, Some(e), out, depth + 1);
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// Coverage of every contract by the valid events among `events` (grouped by their event type).
#[must_use]
pub fn by_type(
    coverage: &Coverage<'_>,
    registry: &Registry,
    events: &[Value],
) -> Vec<TypeCoverage> {
    let mut groups: BTreeMap<(String, u64), Vec<&Value>> = BTreeMap::new();
    for e in events {
        let verdict = registry.validate_value(e);
        if !verdict.is_valid() {
            continue;
        }
        let major = e
            .get("schema_version")
            .and_then(Value::as_str)
            .and_then(crate::validate::schema_major);
        if let (Some(t), Some(m)) = (verdict.event_type, major) {
            groups.entry((t, m)).or_default().push(e);
        }
    }
    registry
        .contracts()
        .into_iter()
        .map(|c| {
            let events = groups
                .get(&(c.event_type.clone(), c.major))
                .map(Vec::as_slice)
                .unwrap_or_default();
            coverage.measure(c, events)
        })
        .collect()
}

/// Item kinds a valid fixture must cover (docs/coverage.md says why these and not all).
pub const REQUIRED_KINDS: [ItemKind; 4] = [
    ItemKind::EnumValue,
    ItemKind::Branch,
    ItemKind::Then,
    ItemKind::Else,
];

/// An item no valid event can cover, with the reason (kept in `fixtures/coverage-exemptions.json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    /// The event type.
    pub event_type: String,
    /// The item kind.
    pub kind: ItemKind,
    /// The item path.
    pub path: String,
    /// The item detail (enum value as JSON, branch, or `if` location).
    #[serde(default)]
    pub detail: String,
    /// Why no valid event can exercise it.
    pub reason: String,
}

impl<'de> serde::Deserialize<'de> for ItemKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "present" => ItemKind::Present,
            "absent" => ItemKind::Absent,
            "enum_value" => ItemKind::EnumValue,
            "branch" => ItemKind::Branch,
            "then" => ItemKind::Then,
            "else" => ItemKind::Else,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown item kind {other}"
                )));
            }
        })
    }
}

/// Load the exemptions file; a missing file is no exemptions.
///
/// # Errors
/// The file exists but is not a JSON array of exemptions.
pub fn load_exemptions(path: &std::path::Path) -> Result<Vec<Exemption>, String> {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: line {} column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        }),
    }
}

/// Gaps per event type after exemptions: required items no valid fixture covers, and exemptions
/// that are stale (their item is covered after all, or no longer exists).
#[must_use]
pub fn gaps(report: &[TypeCoverage], exemptions: &[Exemption]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in report {
        let exempt = |i: &Item| {
            exemptions.iter().any(|e| {
                e.event_type == t.event_type
                    && e.kind == i.kind
                    && e.path == i.path
                    && e.detail == i.detail
            })
        };
        let entry = out.entry(t.event_type.clone()).or_default();
        for i in t.missing_of(&REQUIRED_KINDS) {
            if !exempt(i) {
                entry.push(format!(
                    "no valid fixture covers {} at {}{}",
                    kind_name(i.kind),
                    i.path,
                    if i.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", i.detail)
                    }
                ));
            }
        }
        for e in exemptions.iter().filter(|e| e.event_type == t.event_type) {
            let item = Item {
                kind: e.kind,
                path: e.path.clone(),
                detail: e.detail.clone(),
            };
            if !t.items.contains(&item) {
                entry.push(format!(
                    "stale exemption: the schema has no {} at {} {}",
                    kind_name(e.kind),
                    e.path,
                    e.detail
                ));
            } else if t.covered.contains(&item) {
                entry.push(format!(
                    "stale exemption: {} at {} {} is covered now; remove it",
                    kind_name(e.kind),
                    e.path,
                    e.detail
                ));
            }
        }
    }
    out
}

/// The JSON spelling of an item kind.
#[must_use]
pub fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Present => "present",
        ItemKind::Absent => "absent",
        ItemKind::EnumValue => "enum_value",
        ItemKind::Branch => "branch",
        ItemKind::Then => "then",
        ItemKind::Else => "else",
    }
}
