//! Schema -> compiled tree. Every `allOf` and `$ref` is flattened into one conjunction per
//! instance location, and the conjunction merged into one [`Node`]. A keyword the compiler does not
//! know makes the whole event type fall back to the reference path (the fast path never guesses).

use jsonschema::Validator;
use regex::bytes::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

// The JSON type bit set is the generator's (`contracts_gen::ty`).
pub(crate) use contracts_gen::ty::{
    ALL as T_ALL, ARRAY as T_ARR, BOOLEAN as T_BOOL, FRACTION as T_NUM, INTEGER as T_INT,
    NULL as T_NULL, OBJECT as T_OBJ, STRING as T_STR,
};

/// The canonical UUID pattern of common.schema.json (matched without the regex engine).
pub(crate) const UUID: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";

/// The UTC timestamp pattern of common.schema.json (matched without the regex engine).
pub(crate) const TIMESTAMP: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z$";

/// The envelope's `schema_version` pattern, MAJOR.MINOR without leading zeros.
pub(crate) const VERSION: &str = "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$";

/// The MAJOR an event type's own `schema_version` pattern `^N\.(0|[1-9][0-9]*)$` pins, if
/// `pattern` is one (N a canonical decimal).
pub(crate) fn pinned_major(pattern: &str) -> Option<u64> {
    let n = pattern
        .strip_prefix('^')?
        .strip_suffix("\\.(0|[1-9][0-9]*)$")?;
    let canonical = !n.is_empty()
        && n.bytes().all(|c| c.is_ascii_digit())
        && (n == "0" || !n.starts_with('0'))
        && n.len() <= 18;
    canonical.then(|| n.parse().ok()).flatten()
}

/// Index of a node in [`Compiled::nodes`]; node 0 accepts anything (but still scans it).
pub(crate) type NodeId = u32;
pub(crate) const ANY: NodeId = 0;

/// A literal of `enum` / `const` the fast path can compare exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
}

/// A numeric bound from the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    I(i128),
    F(f64),
}

/// A compiled `pattern`, on bytes (the scanner keeps strings as bytes; on valid UTF-8 a
/// Unicode bytes regex matches exactly what the `&str` one does). A fully built dense DFA was
/// tried instead: no faster on our strings, and it doubled the registry build time.
pub(crate) struct Pattern {
    /// The pattern as written in the schema.
    pub(crate) source: String,
    /// Its Rust translation.
    translated: String,
    /// The `jsonschema-regex` crate's matcher for anchored class sequences, when the pattern is
    /// one (it answers without the regex engine for ASCII text).
    sequence: Option<jsonschema_regex::Sequence>,
    regex: Regex,
}

impl Pattern {
    /// `pattern` as `jsonschema` translates it, with the `jsonschema-regex` crate's sequence
    /// matcher when it is one.
    pub(crate) fn new(pattern: &str) -> Result<Pattern, String> {
        let translated = jsonschema_regex::to_rust_regex(pattern)
            .map_err(|()| format!("pattern {pattern} does not translate"))?;
        let regex = Regex::new(&translated).map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: pattern.to_owned(),
            sequence: jsonschema_regex::Sequence::compile(&translated),
            translated: translated.into_owned(),
            regex,
        })
    }

    /// The alternation `(?:P1)|(?:P2)|…` of `parts`: a string matches it exactly when it matches
    /// one of them, in one scan of the text instead of one per pattern.
    pub(crate) fn any(parts: &[Arc<Pattern>]) -> Result<Pattern, String> {
        let join = |part: fn(&Pattern) -> &str| {
            parts
                .iter()
                .map(|p| format!("(?:{})", part(p)))
                .collect::<Vec<_>>()
                .join("|")
        };
        let translated = join(|p| &p.translated);
        let regex = Regex::new(&translated).map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: join(|p| &p.source),
            translated,
            sequence: None,
            regex,
        })
    }

    /// Whether `s` (valid UTF-8) has a match, as `regex::Regex::is_match` says.
    #[inline]
    pub(crate) fn is_match(&self, s: &[u8]) -> bool {
        self.sequence
            .as_ref()
            .and_then(|q| q.is_match(s))
            .unwrap_or_else(|| self.regex.is_match(s))
    }
}

/// A format checked by the jsonschema crate's own code, so the verdict agrees by construction.
#[derive(Clone)]
pub(crate) struct Format {
    pub(crate) name: String,
    pub(crate) validator: Arc<Validator>,
}

/// One merged conjunction of schema constraints at one instance location.
///
/// `repr(C)` keeps the fields every visit reads (the flags, `types`, `required`, the property
/// table) together at the front: the nodes of 53 event types do not fit in L2, and a node spread
/// over seven cache lines cost more than its checks.
#[derive(Clone, Default)]
#[repr(C)]
pub(crate) struct Node {
    pub(crate) never: bool,
    pub(crate) types: u8,
    /// Nothing but applicators here (e.g. a nullable `anyOf`): the value is read by the branches
    /// only, not once more for an empty base.
    pub(crate) only_applicators: bool,
    /// Any `anyOf`, `if` or `not` (set by [`Node::seal`]).
    pub(crate) applicators: bool,
    /// Any string keyword (set by [`Node::seal`]).
    pub(crate) string_checks: bool,
    /// Any numeric keyword or enum (set by [`Node::seal`]).
    pub(crate) number_checks: bool,
    /// The canonical UUID pattern, matched by [`super::scan::is_uuid`] instead of the regex engine.
    pub(crate) uuid: bool,
    /// The [`TIMESTAMP`] pattern, matched by [`super::scan::is_timestamp`]; with `timestamp_day`
    /// also format `date-time`, which on such a string is only "the day exists in that month".
    pub(crate) timestamp: bool,
    pub(crate) timestamp_day: bool,
    /// [`VERSION`] and/or `^N\.(0|[1-9][0-9]*)$`, matched by [`super::scan::is_version`]:
    /// `Some(None)` any MAJOR, `Some(Some(n))` MAJOR n.
    pub(crate) version: Option<Option<u64>>,
    pub(crate) closed: bool,
    pub(crate) unique: bool,
    /// No property name needs escaping in JSON: names can be compared in place (set by seal).
    pub(crate) plain_names: bool,
    /// The only string keyword is the UUID pattern (set by seal).
    pub(crate) uuid_only: bool,
    /// The only string keyword is one enum whose strings need no escaping (set by seal).
    pub(crate) plain_enum: bool,
    pub(crate) required: u64,
    /// Bits of `props` whose names are persistence metadata (for the reference path to name).
    pub(crate) persistence: u64,
    /// [`key_tag`] of each of `props`, in the same order: most names differ in it already.
    pub(crate) tags: Vec<(usize, u128)>,
    pub(crate) props: Vec<(String, NodeId)>,
    pub(crate) additional: Option<NodeId>,
    pub(crate) items: Option<NodeId>,
    pub(crate) min_len: Option<u64>,
    pub(crate) max_len: Option<u64>,
    pub(crate) patterns: Vec<Arc<Pattern>>,
    pub(crate) formats: Vec<Format>,
    /// Each inner list must contain the instance (`enum`s and `const`s of the conjunction).
    pub(crate) enums: Vec<Vec<Lit>>,
    pub(crate) minimum: Vec<(Num, bool)>,
    pub(crate) maximum: Vec<(Num, bool)>,
    pub(crate) min_props: Option<u64>,
    pub(crate) max_props: Option<u64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) any_of: Vec<Vec<NodeId>>,
    pub(crate) ifs: Vec<(NodeId, Option<NodeId>, Option<NodeId>)>,
    pub(crate) nots: Vec<NodeId>,
    /// Bits of `props` whose value positions the object scan keeps for `plan`.
    pub(crate) probe: u64,
    /// The applicators re-stated on the members of the object just scanned (see [`Plan`]).
    pub(crate) plan: Option<Box<Plan>>,
}

/// An applicator sub-schema (`if`, `then`, `else`, `not`, an `anyOf` branch) of an object node
/// that only speaks of the object's declared members (`properties` and `required` of names the
/// node declares, no `additionalProperties`, no member counts), evaluated on the members the
/// node's own scan just read instead of reading the whole object again. The catalogue's
/// conditionals (`if severity is X then severity_id is N`) are all of this shape; reading a
/// payload once per `if`, `then` and `else` was a third of the fast path's time.
///
/// On an object a sub-schema's other keywords say nothing, except those that refuse objects
/// (`refuse`: a `type` without object, an `enum`, `false`).
#[derive(Clone, Default)]
pub(crate) struct Plan {
    pub(crate) refuse: bool,
    /// Required members, as bits of the parent's `props`.
    pub(crate) required: u64,
    /// `(bit of the parent's props, rank among the parent's probe bits, node)` for each
    /// constrained member.
    pub(crate) members: Vec<(u32, usize, NodeId)>,
    pub(crate) any_of: Vec<Vec<Plan>>,
    pub(crate) ifs: Vec<(Plan, Option<Plan>, Option<Plan>)>,
    pub(crate) nots: Vec<Plan>,
}

/// At most this many member positions are kept per object (a fixed array in the scanner).
pub(crate) const PROBES: usize = 8;

impl Node {
    #[inline]
    pub(crate) fn has_applicators(&self) -> bool {
        self.applicators
    }

    /// Compute the summary flags once the keywords are final.
    fn seal(&mut self) {
        self.applicators = !(self.any_of.is_empty() && self.ifs.is_empty() && self.nots.is_empty());
        self.string_checks = self.min_len.is_some()
            || self.max_len.is_some()
            || self.uuid
            || self.timestamp
            || self.version.is_some()
            || !self.patterns.is_empty()
            || !self.formats.is_empty()
            || !self.enums.is_empty();
        let plain = |t: &str| t.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\');
        self.plain_names = self.props.iter().all(|(k, _)| plain(k));
        let no_len = self.min_len.is_none() && self.max_len.is_none();
        let others = self.patterns.is_empty()
            && self.formats.is_empty()
            && !self.timestamp
            && self.version.is_none();
        self.uuid_only = self.uuid && no_len && others && self.enums.is_empty();
        self.plain_enum = !self.uuid
            && no_len
            && others
            && self.enums.len() == 1
            && self.enums[0]
                .iter()
                .all(|l| !matches!(l, Lit::Str(t) if !plain(t)));
        self.number_checks =
            !(self.enums.is_empty() && self.minimum.is_empty() && self.maximum.is_empty());
        self.only_applicators = self.applicators && self.types == T_ALL && self.bare();
    }

    /// No keyword but `type` and the applicators.
    fn bare(&self) -> bool {
        !self.string_checks && self.bare_but_strings()
    }

    /// `{"pattern": P}` and nothing else: P.
    fn only_pattern(&self) -> Option<&Arc<Pattern>> {
        let only = self.patterns.len() == 1
            && self.types == T_ALL
            && !self.applicators
            && !self.uuid
            && !self.timestamp
            && self.version.is_none()
            && self.formats.is_empty()
            && self.min_len.is_none()
            && self.max_len.is_none()
            && self.bare_but_strings();
        only.then(|| &self.patterns[0])
    }

    /// No keyword but `type`, the applicators and the string keywords.
    fn bare_but_strings(&self) -> bool {
        !self.never
            && !self.number_checks
            && self.props.is_empty()
            && self.required == 0
            && !self.closed
            && self.additional.is_none()
            && self.min_props.is_none()
            && self.max_props.is_none()
            && self.items.is_none()
            && self.min_items.is_none()
            && self.max_items.is_none()
            && !self.unique
    }

    /// `{"type": "null"}` and nothing else.
    fn is_null_only(&self) -> bool {
        self.types == T_NULL && !self.applicators && self.bare()
    }
}

/// Keywords that only annotate. Narrower than compat's `rules::is_annotation` on purpose: `$id`
/// and the anchors change how `$ref`s resolve, which this compiler does not model, so they must
/// reach "keyword not compiled" and send the type to the reference path.
pub(crate) fn is_annotation(k: &str) -> bool {
    k.starts_with("x-")
        || matches!(
            k,
            "description"
                | "title"
                | "$comment"
                | "examples"
                | "default"
                | "deprecated"
                | "readOnly"
                | "writeOnly"
                | "$schema"
                | "$defs"
        )
}

/// Shared compile state: the schema files, compiled regexes and format validators.
pub(crate) struct Compiler<'d> {
    docs: &'d BTreeMap<String, Arc<Value>>,
    regexes: HashMap<String, Arc<Pattern>>,
    formats: HashMap<String, Arc<Validator>>,
    pub(crate) nodes: Vec<Node>,
}

type Conj<'v> = Vec<(&'v Value, String)>;

impl<'d> Compiler<'d> {
    pub(crate) fn new(docs: &'d BTreeMap<String, Arc<Value>>) -> Self {
        Compiler {
            docs,
            regexes: HashMap::new(),
            formats: HashMap::new(),
            nodes: vec![Node {
                types: T_ALL,
                ..Node::default()
            }],
        }
    }

    /// Compile the schema at `base` (a file path relative to the specs root) into a node.
    pub(crate) fn compile_root(&mut self, base: &str) -> Result<NodeId, String> {
        let mark = self.nodes.len();
        let doc = self
            .docs
            .get(base)
            .ok_or_else(|| format!("no schema {base}{}", crate::registry::EMBEDDED_NOTE))?;
        let mut conj = Vec::new();
        self.collect(doc, base, &mut conj, 0)?;
        let r = self.build(conj, 0);
        if r.is_err() {
            self.nodes.truncate(mark);
        }
        r
    }

    /// Flatten `allOf` and `$ref` into a list of schema objects that all apply here.
    fn collect(
        &self,
        schema: &'d Value,
        base: &str,
        out: &mut Conj<'d>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 32 {
            return Err("schema nesting deeper than 32 ($ref cycle?)".into());
        }
        match schema {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => {
                out.push((schema, base.to_owned()));
                Ok(())
            }
            Value::Object(map) => {
                out.push((schema, base.to_owned()));
                if let Some(r) = map.get("$ref") {
                    let r = r.as_str().ok_or("$ref not a string")?;
                    let (target, file, _) = crate::registry::resolve_ref(self.docs, r, base)?;
                    self.collect(target, &file, out, depth + 1)?;
                }
                if let Some(all) = map.get("allOf") {
                    for s in all.as_array().ok_or("allOf not an array")? {
                        self.collect(s, base, out, depth + 1)?;
                    }
                }
                Ok(())
            }
            _ => Err("schema is neither an object nor a boolean".into()),
        }
    }

    fn sub(&mut self, schema: &'d Value, base: &str, depth: usize) -> Result<NodeId, String> {
        let mut conj = Vec::new();
        self.collect(schema, base, &mut conj, depth)?;
        self.build(conj, depth + 1)
    }

    fn regex(&mut self, pattern: &str) -> Result<Arc<Pattern>, String> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(Arc::clone(r));
        }
        let r = Arc::new(Pattern::new(pattern)?);
        self.regexes.insert(pattern.to_owned(), Arc::clone(&r));
        Ok(r)
    }

    /// Every pattern compiled, by its source (the error collector reuses them).
    pub(crate) fn into_patterns(self) -> HashMap<String, Arc<Pattern>> {
        self.regexes
    }

    fn format(&mut self, name: &str) -> Result<Format, String> {
        if !matches!(
            name,
            "uuid" | "date-time" | "uri-reference" | "ipv4" | "ipv6" | "email"
        ) {
            return Err(format!("format {name} not compiled"));
        }
        if let Some(v) = self.formats.get(name) {
            return Ok(Format {
                name: name.to_owned(),
                validator: Arc::clone(v),
            });
        }
        let v = crate::registry::validator_options()
            .build(&serde_json::json!({ "format": name }))
            .map_err(|e| e.to_string())?;
        let v = Arc::new(v);
        self.formats.insert(name.to_owned(), Arc::clone(&v));
        Ok(Format {
            name: name.to_owned(),
            validator: v,
        })
    }

    fn build(&mut self, conj: Conj<'d>, depth: usize) -> Result<NodeId, String> {
        if depth > 48 {
            return Err("schema nesting deeper than 48".into());
        }
        let mut n = Node {
            types: T_ALL,
            ..Node::default()
        };
        let mut object_parts: Vec<(&'d serde_json::Map<String, Value>, &str)> = Vec::new();
        let mut required: Vec<&str> = Vec::new();
        let mut items: Conj<'d> = Vec::new();
        for (schema, base) in &conj {
            let Value::Object(map) = schema else {
                n.never = true;
                continue;
            };
            let mut has_object_kw = false;
            for (k, v) in map {
                let bad = || format!("keyword {k}: unsupported value {v}");
                match k.as_str() {
                    k if is_annotation(k) => {}
                    "$ref" | "allOf" => {}
                    "then" | "else" => {}
                    "type" => {
                        let mut t = 0;
                        let names: Vec<&Value> = match v {
                            Value::Array(a) => a.iter().collect(),
                            other => vec![other],
                        };
                        for name in names {
                            match contracts_gen::ty::parse(name.as_str().ok_or_else(bad)?) {
                                0 => return Err(bad()),
                                bits => t |= bits,
                            }
                        }
                        n.types &= t;
                    }
                    "enum" | "const" => {
                        let vals: Vec<&Value> = if k == "enum" {
                            v.as_array().ok_or_else(bad)?.iter().collect()
                        } else {
                            vec![v]
                        };
                        let mut lits = Vec::new();
                        for val in vals {
                            lits.push(match val {
                                Value::Null => Lit::Null,
                                Value::Bool(b) => Lit::Bool(*b),
                                Value::String(s) => Lit::Str(s.clone()),
                                Value::Number(x) => {
                                    if let Some(i) = x.as_i64() {
                                        Lit::Int(i128::from(i))
                                    } else if let Some(u) = x.as_u64() {
                                        Lit::Int(i128::from(u))
                                    } else {
                                        return Err(bad());
                                    }
                                }
                                _ => return Err(bad()),
                            });
                        }
                        n.enums.push(lits);
                    }
                    "pattern" => {
                        let r = self.regex(v.as_str().ok_or_else(bad)?)?;
                        n.patterns.push(r);
                    }
                    "format" => {
                        let f = self.format(v.as_str().ok_or_else(bad)?)?;
                        n.formats.push(f);
                    }
                    "minLength" => n.min_len = max_opt(n.min_len, v.as_u64().ok_or_else(bad)?),
                    "maxLength" => n.max_len = min_opt(n.max_len, v.as_u64().ok_or_else(bad)?),
                    "minItems" => n.min_items = max_opt(n.min_items, v.as_u64().ok_or_else(bad)?),
                    "maxItems" => n.max_items = min_opt(n.max_items, v.as_u64().ok_or_else(bad)?),
                    "minProperties" => {
                        n.min_props = max_opt(n.min_props, v.as_u64().ok_or_else(bad)?);
                    }
                    "maxProperties" => {
                        n.max_props = min_opt(n.max_props, v.as_u64().ok_or_else(bad)?);
                    }
                    "uniqueItems" => n.unique |= v.as_bool().ok_or_else(bad)?,
                    "minimum" | "exclusiveMinimum" | "maximum" | "exclusiveMaximum" => {
                        let x = match v {
                            Value::Number(x) => {
                                if let Some(i) = x.as_i64() {
                                    Num::I(i128::from(i))
                                } else if let Some(u) = x.as_u64() {
                                    Num::I(i128::from(u))
                                } else {
                                    Num::F(x.as_f64().ok_or_else(bad)?)
                                }
                            }
                            _ => return Err(bad()),
                        };
                        let exclusive = k.starts_with("exclusive");
                        if k.ends_with("inimum") {
                            n.minimum.push((x, exclusive));
                        } else {
                            n.maximum.push((x, exclusive));
                        }
                    }
                    "properties" => {
                        v.as_object().ok_or_else(bad)?;
                        has_object_kw = true;
                    }
                    "additionalProperties" => has_object_kw = true,
                    "required" => {
                        for r in v.as_array().ok_or_else(bad)? {
                            required.push(r.as_str().ok_or_else(bad)?);
                        }
                    }
                    "items" => items.push((v, base.clone())),
                    "anyOf" => {
                        let mut branches = Vec::new();
                        for b in v.as_array().ok_or_else(bad)? {
                            branches.push(self.sub(b, base, depth)?);
                        }
                        n.any_of.push(branches);
                    }
                    "not" => {
                        let id = self.sub(v, base, depth)?;
                        n.nots.push(id);
                    }
                    "if" => {
                        let c = self.sub(v, base, depth)?;
                        let t = match map.get("then") {
                            Some(s) => Some(self.sub(s, base, depth)?),
                            None => None,
                        };
                        let e = match map.get("else") {
                            Some(s) => Some(self.sub(s, base, depth)?),
                            None => None,
                        };
                        n.ifs.push((c, t, e));
                    }
                    other => return Err(format!("keyword {other} not compiled")),
                }
            }
            if has_object_kw {
                object_parts.push((map, base.as_str()));
            }
        }
        // Objects: the union of every conjunct's property names (and required names); each name's
        // schema is the conjunction of what every conjunct says of it.
        // Names in the order a producer most likely writes them: the innermost referenced schema
        // (the envelope, under an event type's `allOf`) first, so that the scanner's "next
        // expected name" guess holds for the common member order.
        let mut keys: Vec<&str> = Vec::new();
        for (map, _) in object_parts.iter().rev() {
            if let Some(Value::Object(props)) = map.get("properties") {
                for k in props.keys() {
                    if !keys.contains(&k.as_str()) {
                        keys.push(k);
                    }
                }
            }
        }
        for r in &required {
            if !keys.contains(r) {
                keys.push(r);
            }
        }
        if keys.len() > 64 {
            return Err("more than 64 properties in one object".into());
        }
        let mut additional: Conj<'d> = Vec::new();
        for (map, base) in &object_parts {
            match map.get("additionalProperties") {
                Some(Value::Bool(false)) => n.closed = true,
                Some(s) => additional.push((s, (*base).to_owned())),
                None => {}
            }
        }
        for key in &keys {
            let mut sub: Conj<'d> = Vec::new();
            for (map, base) in &object_parts {
                let prop = map
                    .get("properties")
                    .and_then(|p| p.get(*key))
                    .or_else(|| map.get("additionalProperties"));
                if let Some(s) = prop {
                    self.collect(s, base, &mut sub, depth)?;
                }
            }
            let id = if sub.is_empty() {
                ANY
            } else {
                self.build(sub, depth + 1)?
            };
            if crate::validate::is_persistence_field(key) {
                n.persistence |= 1 << n.props.len();
            }
            n.props.push(((*key).to_owned(), id));
            n.tags.push(key_tag(key.as_bytes()));
        }
        for r in &required {
            let i = keys.iter().position(|k| k == r).unwrap_or_default();
            n.required |= 1 << i;
        }
        if !n.closed && !additional.is_empty() {
            let mut sub = Vec::new();
            for (s, base) in &additional {
                self.collect(s, base, &mut sub, depth)?;
            }
            n.additional = Some(self.build(sub, depth + 1)?);
        }
        if !items.is_empty() {
            let mut sub = Vec::new();
            for (s, base) in &items {
                if s.is_array() {
                    return Err("tuple items not compiled".into());
                }
                self.collect(s, base, &mut sub, depth)?;
            }
            n.items = Some(self.build(sub, depth + 1)?);
        }
        // The canonical UUID pattern gets its own matcher, and implies format "uuid".
        if n.patterns.iter().any(|r| r.source == UUID) {
            n.patterns.retain(|r| r.source != UUID);
            n.uuid = true;
            n.formats.retain(|f| f.name != "uuid");
            // ... and a length of exactly 36.
            if n.min_len.is_none_or(|m| m <= 36) && n.max_len.is_none_or(|m| m >= 36) {
                n.min_len = None;
                n.max_len = None;
            }
        }
        let pins: Vec<u64> = n
            .patterns
            .iter()
            .filter_map(|r| pinned_major(&r.source))
            .collect();
        if pins.len() <= 1 && (n.patterns.iter().any(|r| r.source == VERSION) || pins.len() == 1) {
            n.patterns
                .retain(|r| r.source != VERSION && pinned_major(&r.source).is_none());
            n.version = Some(pins.first().copied());
        }
        if n.patterns.iter().any(|r| r.source == TIMESTAMP) {
            n.patterns.retain(|r| r.source != TIMESTAMP);
            n.timestamp = true;
            if n.formats.iter().any(|f| f.name == "date-time") {
                n.formats.retain(|f| f.name != "date-time");
                n.timestamp_day = true;
            }
        }
        self.merge_pattern_branches(&mut n)?;
        fold_string_enums(&mut n);
        n.seal();
        if let Some(merged) = self.nullable(&n) {
            n = merged;
        }
        self.plan_applicators(&mut n);
        let id = NodeId::try_from(self.nodes.len()).map_err(|e| e.to_string())?;
        self.nodes.push(n);
        Ok(id)
    }
}

/// `s ∈ enum ∧ pattern(s) ∧ format(s) ∧ length(s)` is `s ∈ {l ∈ enum : pattern(l) ∧ …}`: when
/// every enum of a string-only node lists strings only, keep the literals that pass the string
/// keywords (checked here, once, by the same matchers) and drop those keywords from the node.
/// `event_type`'s `const` thereby costs one comparison instead of a regex and two lengths.
fn fold_string_enums(n: &mut Node) {
    if n.types != T_STR
        || n.enums.is_empty()
        || !n
            .enums
            .iter()
            .all(|list| list.iter().all(|l| matches!(l, Lit::Str(_))))
    {
        return;
    }
    let (min_len, max_len) = (n.min_len, n.max_len);
    let (patterns, formats, uuid) = (n.patterns.clone(), n.formats.clone(), n.uuid);
    let (timestamp, day, version) = (n.timestamp, n.timestamp_day, n.version);
    let passes = |s: &str| {
        let len = s.chars().count() as u64;
        (!uuid || super::scan::is_uuid(s.as_bytes()))
            && (!timestamp || super::scan::is_timestamp(s.as_bytes(), day))
            && version.is_none_or(|major| super::scan::is_version(s.as_bytes(), major))
            && min_len.is_none_or(|m| len >= m)
            && max_len.is_none_or(|m| len <= m)
            && patterns.iter().all(|r| r.is_match(s.as_bytes()))
            && formats
                .iter()
                .all(|f| f.validator.is_valid(&Value::String(s.to_owned())))
    };
    for list in &mut n.enums {
        list.retain(|l| matches!(l, Lit::Str(s) if passes(s)));
    }
    n.min_len = None;
    n.max_len = None;
    n.patterns.clear();
    n.uuid = false;
    n.timestamp = false;
    n.timestamp_day = false;
    n.version = None;
    n.formats.clear();
}

/// A property name's length and first sixteen bytes (zero-padded), compared before the name
/// (and instead of it, for names of at most sixteen bytes).
pub(crate) fn key_tag(b: &[u8]) -> (usize, u128) {
    let mut head = [0u8; 16];
    let n = b.len().min(16);
    head[..n].copy_from_slice(&b[..n]);
    (b.len(), u128::from_le_bytes(head))
}

/// [`key_tag`] of `input[start..start + len]`, read as one 16-byte load and masked when the
/// input has 16 bytes from `start` (a variable-length copy cost more than the lookup).
#[inline]
pub(crate) fn key_tag_at(input: &[u8], start: usize, len: usize) -> (usize, u128) {
    match input.get(start..).and_then(<[u8]>::first_chunk::<16>) {
        Some(head) => {
            let mask = if len >= 16 {
                u128::MAX
            } else {
                (1u128 << (len * 8)) - 1
            };
            (len, u128::from_le_bytes(*head) & mask)
        }
        None => key_tag(input.get(start..start + len).unwrap_or_default()),
    }
}

impl Compiler<'_> {
    /// `anyOf: [{"pattern": P1}, {"pattern": P2}, …]` (the catalogue's secret detectors under
    /// a `not`) is `pattern: "(?:P1)|(?:P2)|…"`: a string matches one branch exactly when it
    /// matches the alternation, and a non-string passes both (a lone `pattern` ignores it). One
    /// regex scan of the text instead of one per branch.
    fn merge_pattern_branches(&mut self, n: &mut Node) -> Result<(), String> {
        let mut kept = Vec::new();
        for branches in std::mem::take(&mut n.any_of) {
            let patterns: Vec<Arc<Pattern>> = branches
                .iter()
                .filter_map(|&id| self.nodes[id as usize].only_pattern().cloned())
                .collect();
            if branches.len() < 2 || patterns.len() != branches.len() {
                kept.push(branches);
                continue;
            }
            n.patterns.push(Arc::new(Pattern::any(&patterns)?));
        }
        n.any_of = kept;
        Ok(())
    }

    /// Give `n` a [`Plan`] when every applicator under it (recursively) can be stated on `n`'s
    /// declared members.
    fn plan_applicators(&self, n: &mut Node) {
        if !n.applicators || n.only_applicators || n.types & T_OBJ == 0 {
            return;
        }
        let mut probe = 0u64;
        let mut plan = Plan::default();
        if self
            .plan_branches(&n.props, n, &mut plan, &mut probe)
            .is_none()
            || probe.count_ones() as usize > PROBES
        {
            return;
        }
        rank(&mut plan, probe);
        n.probe = probe;
        n.plan = Some(Box::new(plan));
    }

    /// The [`Plan`] of the applicator sub-schema `s` of an object whose members are `props`.
    fn plan_of(&self, props: &[(String, NodeId)], s: &Node, probe: &mut u64) -> Option<Plan> {
        if s.closed || s.additional.is_some() || s.min_props.is_some() || s.max_props.is_some() {
            return None;
        }
        let mut plan = Plan {
            refuse: s.never || s.types & T_OBJ == 0 || !s.enums.is_empty(),
            ..Plan::default()
        };
        for (j, (name, child)) in s.props.iter().enumerate() {
            let i = props.iter().position(|(k, _)| k == name)?;
            if s.required & (1 << j) != 0 {
                plan.required |= 1 << i;
            }
            if *child != ANY {
                *probe |= 1 << i;
                plan.members.push((u32::try_from(i).ok()?, 0, *child));
            }
        }
        self.plan_branches(props, s, &mut plan, probe)?;
        Some(plan)
    }

    /// `s`'s own `anyOf`, `if`/`then`/`else` and `not`, planned into `plan`.
    fn plan_branches(
        &self,
        props: &[(String, NodeId)],
        s: &Node,
        plan: &mut Plan,
        probe: &mut u64,
    ) -> Option<()> {
        let sub =
            |id: NodeId, probe: &mut u64| self.plan_of(props, &self.nodes[id as usize], probe);
        for branches in &s.any_of {
            let mut planned = Vec::new();
            for &b in branches {
                planned.push(sub(b, probe)?);
            }
            plan.any_of.push(planned);
        }
        for &(c, t, e) in &s.ifs {
            let c = sub(c, probe)?;
            let t = match t {
                Some(t) => Some(sub(t, probe)?),
                None => None,
            };
            let e = match e {
                Some(e) => Some(sub(e, probe)?),
                None => None,
            };
            plan.ifs.push((c, t, e));
        }
        for &not in &s.nots {
            plan.nots.push(sub(not, probe)?);
        }
        Some(())
    }

    /// A node that is only `anyOf: [A, {"type": "null"}]` (a nullable field), with `A` free of
    /// applicators, is `A` that also admits null: every keyword of `A` but `type` and `enum`
    /// ignores a null instance, so `type` gains null and each enum gains the literal null. One
    /// node instead of two reads of the value.
    fn nullable(&self, n: &Node) -> Option<Node> {
        if !n.only_applicators || n.any_of.len() != 1 || !n.ifs.is_empty() || !n.nots.is_empty() {
            return None;
        }
        let [a, b] = n.any_of[0][..] else {
            return None;
        };
        let (a, b) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        let (other, null) = if b.is_null_only() { (a, b) } else { (b, a) };
        if !null.is_null_only() || other.applicators || other.never {
            return None;
        }
        let mut merged = other.clone();
        merged.types |= T_NULL;
        for list in &mut merged.enums {
            if !list.contains(&Lit::Null) {
                list.push(Lit::Null);
            }
        }
        merged.seal();
        Some(merged)
    }
}

/// Fill in each planned member's rank among the `probe` bits (its slot in the scanner's array).
fn rank(plan: &mut Plan, probe: u64) {
    for (i, r, _) in &mut plan.members {
        *r = (probe & ((1u64 << *i) - 1)).count_ones() as usize;
    }
    for branches in &mut plan.any_of {
        branches.iter_mut().for_each(|p| rank(p, probe));
    }
    for (c, t, e) in &mut plan.ifs {
        rank(c, probe);
        t.iter_mut()
            .chain(e.iter_mut())
            .for_each(|p| rank(p, probe));
    }
    plan.nots.iter_mut().for_each(|p| rank(p, probe));
}

fn max_opt(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.max(b)))
}

fn min_opt(a: Option<u64>, b: u64) -> Option<u64> {
    Some(a.map_or(b, |a| a.min(b)))
}
