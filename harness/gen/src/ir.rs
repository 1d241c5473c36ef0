//! The normal form generation walks: one `Node` per schema object, `$ref`s resolved to node ids.
//!
//! Invariants: node ids are stable for one `Generator`; a recursive schema is a cycle of ids, never
//! an infinite tree; every node knows the absolute URI of its schema so the oracle can check a
//! value against exactly that subschema. Keywords the draft does not define are not read (draft 7
//! ignores the siblings of `$ref`, and knows no `prefixItems` or `unevaluated*`).
#![deny(clippy::wildcard_enum_match_arm)]

use crate::resolve::Documents;
use crate::{Draft, GenError};
use jsonschema::Registry;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Index of a node in [`Ir::nodes`].
pub(crate) type NodeId = usize;

/// JSON types as a bit set (also the fast path's, in contracts-core).
pub mod ty {
    /// `null`.
    pub const NULL: u8 = 1;
    /// `boolean`.
    pub const BOOLEAN: u8 = 2;
    /// `integer`.
    pub const INTEGER: u8 = 4;
    /// Non-integral numbers; "number" is `INTEGER | FRACTION`.
    pub const FRACTION: u8 = 8;
    /// `string`.
    pub const STRING: u8 = 16;
    /// `array`.
    pub const ARRAY: u8 = 32;
    /// `object`.
    pub const OBJECT: u8 = 64;
    /// Every type.
    pub const ALL: u8 = 127;

    /// The bits of one `type` name; 0 for an unknown name.
    #[must_use]
    pub fn parse(name: &str) -> u8 {
        match name {
            "null" => NULL,
            "boolean" => BOOLEAN,
            "integer" => INTEGER,
            "number" => INTEGER | FRACTION,
            "string" => STRING,
            "array" => ARRAY,
            "object" => OBJECT,
            _ => 0,
        }
    }
}

/// The assertion and applicator keywords of one schema object.
#[derive(Debug, Default, Clone)]
pub(crate) struct Keywords {
    pub(crate) types: Option<u8>,
    pub(crate) const_: Option<Value>,
    pub(crate) enum_: Option<Vec<Value>>,
    pub(crate) minimum: Option<f64>,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_minimum: Option<f64>,
    pub(crate) exclusive_maximum: Option<f64>,
    pub(crate) multiple_of: Option<f64>,
    /// `multipleOf` was written with a fraction (Python then divides floats).
    pub(crate) multiple_of_float: bool,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) pattern: Option<String>,
    pub(crate) format: Option<String>,
    pub(crate) prefix_items: Vec<NodeId>,
    pub(crate) items: Option<NodeId>,
    /// Draft 7 array-form `items`: `additionalItems` is then `items` past the prefix.
    pub(crate) additional_items_kw: bool,
    pub(crate) contains: Option<NodeId>,
    pub(crate) min_contains: Option<u64>,
    pub(crate) max_contains: Option<u64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) unique_items: bool,
    pub(crate) unevaluated_items: Option<NodeId>,
    pub(crate) properties: Vec<(String, NodeId)>,
    pub(crate) pattern_properties: Vec<(String, NodeId)>,
    pub(crate) additional_properties: Option<NodeId>,
    pub(crate) property_names: Option<NodeId>,
    pub(crate) required: Vec<String>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    pub(crate) dependent_required: Vec<(String, Vec<String>)>,
    pub(crate) dependent_schemas: Vec<(String, NodeId)>,
    pub(crate) unevaluated_properties: Option<NodeId>,
    pub(crate) all_of: Vec<NodeId>,
    pub(crate) any_of: Vec<NodeId>,
    pub(crate) one_of: Vec<NodeId>,
    pub(crate) not: Option<NodeId>,
    pub(crate) if_: Option<NodeId>,
    pub(crate) then_: Option<NodeId>,
    pub(crate) else_: Option<NodeId>,
    /// `$ref`, `$dynamicRef` (resolved statically, see `docs/generation.md`).
    pub(crate) refs: Vec<NodeId>,
    /// Draft spelling of `dependentRequired`/`dependentSchemas` (draft 7: `dependencies`).
    pub(crate) dependencies_kw: bool,
}

/// One schema object or boolean schema.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// `true` or `false`.
    Bool(bool),
    /// A schema object.
    Schema(Box<Keywords>),
}

/// The compiled schema.
#[derive(Debug)]
pub(crate) struct Ir {
    pub(crate) nodes: Vec<Node>,
    /// The absolute URI (`base#pointer`) of each node, for sub-validators.
    pub(crate) uris: Vec<String>,
    pub(crate) root: NodeId,
}

/// Recursion in the compiler itself: deeper `$ref` chains than this are a schema error.
const MAX_COMPILE_DEPTH: usize = 512;

struct Compiler<'r> {
    registry: &'r Registry<'static>,
    draft: Draft,
    nodes: Vec<Node>,
    uris: Vec<String>,
    seen: HashMap<usize, NodeId>,
    /// Resources entered on the way to the node being compiled: the dynamic scope of `$dynamicRef`.
    scope: Vec<String>,
}

fn escape(seg: &str) -> String {
    let raw = seg.replace('~', "~0").replace('/', "~1");
    // Fragment-safe percent-encoding of the few characters a URI fragment cannot hold.
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            'a'..='z'
            | 'A'..='Z'
            | '0'..='9'
            | '-'
            | '.'
            | '_'
            | '~'
            | '!'
            | '$'
            | '&'
            | '\''
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | ';'
            | '='
            | ':'
            | '@'
            | '/' => out.push(c),
            other => {
                let mut buf = [0u8; 4];
                for b in other.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// Where `target` (by address) sits inside `root`, as a JSON pointer.
fn pointer_to(root: &Value, target: *const Value) -> Option<String> {
    if std::ptr::eq(root, target) {
        return Some(String::new());
    }
    match root {
        Value::Object(m) => {
            for (k, v) in m {
                if let Some(p) = pointer_to(v, target) {
                    return Some(format!("/{}{p}", escape(k)));
                }
            }
            None
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                if let Some(p) = pointer_to(v, target) {
                    return Some(format!("/{i}{p}"));
                }
            }
            None
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => None,
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn count(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

fn schema_error(why: impl Into<String>) -> GenError {
    GenError::Schema { why: why.into() }
}

impl<'r> Compiler<'r> {
    /// Resolve `reference` against `base`: the target and the base URI of its resource.
    fn lookup(&self, base: &str, reference: &str) -> Result<(&'r Value, String), GenError> {
        let uri =
            jsonschema::uri::from_str(base).map_err(|e| schema_error(format!("{base}: {e}")))?;
        let resolver = self.registry.resolver(uri);
        let resolved = resolver
            .lookup(reference)
            .map_err(|e| schema_error(format!("$ref {reference}: {e}")))?;
        let target_base = resolved
            .resolver()
            .base_uri()
            .as_str()
            .trim_end_matches('#')
            .to_owned();
        Ok((resolved.contents(), target_base))
    }

    fn resolve_id(&self, base: &str, id: &str) -> Result<String, GenError> {
        let uri =
            jsonschema::uri::from_str(base).map_err(|e| schema_error(format!("{base}: {e}")))?;
        let new = self
            .registry
            .resolve_uri(&uri.borrow(), id)
            .map_err(|e| schema_error(format!("$id {id}: {e}")))?;
        Ok(new.as_str().trim_end_matches('#').to_owned())
    }

    /// Compile `value`, which lives in the resource based at `base` at `pointer`.
    fn compile(
        &mut self,
        value: &'r Value,
        base: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<NodeId, GenError> {
        let key = std::ptr::from_ref(value) as usize;
        if let Some(id) = self.seen.get(&key) {
            return Ok(*id);
        }
        if depth > MAX_COMPILE_DEPTH {
            return Err(schema_error("references nest too deeply"));
        }
        let id = self.nodes.len();
        self.seen.insert(key, id);
        self.nodes.push(Node::Bool(true));
        let mut base = base.to_owned();
        let mut pointer = pointer.to_owned();
        let obj = match value {
            Value::Bool(b) => {
                self.nodes[id] = Node::Bool(*b);
                self.uris.push(format!("{base}#{pointer}"));
                return Ok(id);
            }
            Value::Object(m) => m,
            Value::Null | Value::Number(_) | Value::String(_) | Value::Array(_) => {
                return Err(schema_error(format!(
                    "{base}#{pointer}: a schema must be an object or a boolean"
                )));
            }
        };
        // A new resource: `$id` moves the base URI (draft 7: unless it is a bare `#anchor`).
        if let Some(idv) = obj.get("$id").and_then(Value::as_str) {
            // At pointer "" the base already is this resource's `$id` (root, or a `$ref` target).
            // Draft 7 §8.3: a `$ref` makes its siblings, `$id` included, ignored.
            let ignored = self.draft == Draft::Draft7 && obj.contains_key("$ref");
            if !idv.starts_with('#') && !pointer.is_empty() && !ignored {
                base = self.resolve_id(&base, idv)?;
                pointer = String::new();
            }
        }
        self.uris.push(format!("{base}#{pointer}"));
        let entered = self.scope.last() != Some(&base);
        if entered {
            self.scope.push(base.clone());
        }
        let kw = self.keywords(obj, &base, &pointer, depth);
        if entered {
            self.scope.pop();
        }
        let kw = kw?;
        self.nodes[id] = Node::Schema(Box::new(kw));
        Ok(id)
    }

    fn child(
        &mut self,
        obj: &'r Map<String, Value>,
        key: &str,
        base: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<Option<NodeId>, GenError> {
        match obj.get(key) {
            Some(v @ (Value::Object(_) | Value::Bool(_))) => Ok(Some(self.compile(
                v,
                base,
                &format!("{pointer}/{}", escape(key)),
                depth + 1,
            )?)),
            Some(_) | None => Ok(None),
        }
    }

    fn list(
        &mut self,
        obj: &'r Map<String, Value>,
        key: &str,
        base: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<Vec<NodeId>, GenError> {
        let mut out = Vec::new();
        if let Some(Value::Array(a)) = obj.get(key) {
            for (i, v) in a.iter().enumerate() {
                out.push(self.compile(v, base, &format!("{pointer}/{key}/{i}"), depth + 1)?);
            }
        }
        Ok(out)
    }

    fn map(
        &mut self,
        obj: &'r Map<String, Value>,
        key: &str,
        base: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<Vec<(String, NodeId)>, GenError> {
        let mut out = Vec::new();
        if let Some(Value::Object(m)) = obj.get(key) {
            for (k, v) in m {
                if v.is_object() || v.is_boolean() {
                    let p = format!("{pointer}/{key}/{}", escape(k));
                    out.push((k.clone(), self.compile(v, base, &p, depth + 1)?));
                }
            }
        }
        Ok(out)
    }

    fn reference(&mut self, base: &str, reference: &str, depth: usize) -> Result<NodeId, GenError> {
        let (contents, target_base) = self.lookup(base, reference)?;
        let (root, _) = self.lookup(&target_base, "#")?;
        let pointer = pointer_to(root, contents).unwrap_or_default();
        self.compile(contents, &target_base, &pointer, depth + 1)
    }

    /// `$dynamicRef`: the static target, unless it is a `$dynamicAnchor`, in which case the
    /// outermost resource of the dynamic scope holding that anchor (2020-12 §8.2.3.2). The scope is
    /// the compile path; a node reached by two paths keeps the first (see docs/generation.md).
    fn dynamic_reference(&mut self, base: &str, r: &str, depth: usize) -> Result<NodeId, GenError> {
        let (target, _) = self.lookup(base, r)?;
        let name = r.rsplit_once('#').map_or("", |(_, f)| f);
        let dynamic = !name.is_empty()
            && !name.starts_with('/')
            && target.get("$dynamicAnchor").and_then(Value::as_str) == Some(name);
        if dynamic {
            for scope in self.scope.clone() {
                let Ok((found, _)) = self.lookup(&scope, &format!("#{name}")) else {
                    continue;
                };
                if found.get("$dynamicAnchor").and_then(Value::as_str) == Some(name) {
                    return self.reference(&scope, &format!("#{name}"), depth);
                }
            }
        }
        self.reference(base, r, depth)
    }

    #[allow(clippy::too_many_lines)]
    fn keywords(
        &mut self,
        obj: &'r Map<String, Value>,
        base: &str,
        pointer: &str,
        depth: usize,
    ) -> Result<Keywords, GenError> {
        let mut k = Keywords::default();
        let d7 = self.draft == Draft::Draft7;
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let target = self.reference(base, r, depth)?;
            k.refs.push(target);
            if d7 {
                // Draft 7 §8.3: all other properties in a "$ref" object are ignored.
                return Ok(k);
            }
        }
        if !d7 {
            if let Some(r) = obj.get("$dynamicRef").and_then(Value::as_str) {
                let target = self.dynamic_reference(base, r, depth)?;
                k.refs.push(target);
            }
        }
        k.types = match obj.get("type") {
            Some(Value::String(s)) => Some(ty::parse(s)),
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .fold(0, |acc, s| acc | ty::parse(s)),
            ),
            Some(_) | None => None,
        };
        k.const_ = obj.get("const").cloned();
        k.enum_ = obj.get("enum").and_then(Value::as_array).cloned();
        k.minimum = num(obj.get("minimum"));
        k.maximum = num(obj.get("maximum"));
        k.exclusive_minimum = num(obj.get("exclusiveMinimum"));
        k.exclusive_maximum = num(obj.get("exclusiveMaximum"));
        k.multiple_of = num(obj.get("multipleOf"));
        k.multiple_of_float = obj.get("multipleOf").is_some_and(|m| m.is_f64());
        k.min_length = count(obj.get("minLength"));
        k.max_length = count(obj.get("maxLength"));
        k.pattern = obj
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned);
        k.format = obj.get("format").and_then(Value::as_str).map(str::to_owned);
        k.min_items = count(obj.get("minItems"));
        k.max_items = count(obj.get("maxItems"));
        k.unique_items = obj
            .get("uniqueItems")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        k.contains = self.child(obj, "contains", base, pointer, depth)?;
        if k.contains.is_some() && !d7 {
            k.min_contains = count(obj.get("minContains"));
            k.max_contains = count(obj.get("maxContains"));
        }
        if d7 {
            match obj.get("items") {
                Some(Value::Array(_)) => {
                    k.prefix_items = self.list(obj, "items", base, pointer, depth)?;
                    k.items = self.child(obj, "additionalItems", base, pointer, depth)?;
                    k.additional_items_kw = true;
                }
                Some(_) => k.items = self.child(obj, "items", base, pointer, depth)?,
                None => {}
            }
        } else {
            k.prefix_items = self.list(obj, "prefixItems", base, pointer, depth)?;
            k.items = self.child(obj, "items", base, pointer, depth)?;
            k.unevaluated_items = self.child(obj, "unevaluatedItems", base, pointer, depth)?;
            k.unevaluated_properties =
                self.child(obj, "unevaluatedProperties", base, pointer, depth)?;
        }
        k.properties = self.map(obj, "properties", base, pointer, depth)?;
        k.pattern_properties = self.map(obj, "patternProperties", base, pointer, depth)?;
        k.additional_properties = self.child(obj, "additionalProperties", base, pointer, depth)?;
        k.property_names = self.child(obj, "propertyNames", base, pointer, depth)?;
        k.required = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        k.min_properties = count(obj.get("minProperties"));
        k.max_properties = count(obj.get("maxProperties"));
        let dep_req_key = if d7 {
            "dependencies"
        } else {
            "dependentRequired"
        };
        if let Some(Value::Object(m)) = obj.get(dep_req_key) {
            for (name, v) in m {
                if let Value::Array(a) = v {
                    let names = a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    k.dependent_required.push((name.clone(), names));
                }
            }
        }
        let dep_schema_key = if d7 {
            "dependencies"
        } else {
            "dependentSchemas"
        };
        k.dependencies_kw = d7;
        if let Some(Value::Object(m)) = obj.get(dep_schema_key) {
            for (name, v) in m {
                if v.is_object() || v.is_boolean() {
                    let p = format!("{pointer}/{dep_schema_key}/{}", escape(name));
                    let id = self.compile(v, base, &p, depth + 1)?;
                    k.dependent_schemas.push((name.clone(), id));
                }
            }
        }
        k.all_of = self.list(obj, "allOf", base, pointer, depth)?;
        k.any_of = self.list(obj, "anyOf", base, pointer, depth)?;
        k.one_of = self.list(obj, "oneOf", base, pointer, depth)?;
        k.not = self.child(obj, "not", base, pointer, depth)?;
        k.if_ = self.child(obj, "if", base, pointer, depth)?;
        if k.if_.is_some() {
            k.then_ = self.child(obj, "then", base, pointer, depth)?;
            k.else_ = self.child(obj, "else", base, pointer, depth)?;
        }
        Ok(k)
    }
}

/// Compile the root document of `docs` into the IR.
pub(crate) fn compile(docs: &Documents) -> Result<Ir, GenError> {
    let mut c = Compiler {
        registry: &docs.registry,
        draft: docs.draft,
        nodes: Vec::new(),
        uris: Vec::new(),
        seen: HashMap::new(),
        scope: Vec::new(),
    };
    let (contents, base) = c.lookup(&docs.base, "#")?;
    let root_id = c.compile(contents, &base, "", 0)?;
    Ok(Ir {
        nodes: c.nodes,
        uris: c.uris,
        root: root_id,
    })
}
