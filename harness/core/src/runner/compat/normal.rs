//! The canonical normal form both schemas of a comparison are brought into before inclusion is
//! decided (the approach of jsonsubschema, Habib et al., ISSTA 2021).
//!
//! A schema denotes a set of JSON values; here that set is a [`Node`]: a union of typed
//! [`Atom`]s, each constraining exactly one JSON type. The canonicaliser
//! - inlines `$ref`s (one node per schema location, so a recursive schema becomes a cyclic
//!   graph of node ids, compared co-inductively by `decide`);
//! - unifies `enum`, `const` and `anyOf` of consts: every value becomes the atom that admits
//!   exactly it (a number is a point interval, a string a literal set, an object a closed
//!   object of consts);
//! - folds bounds per type: `exclusive*` become open bounds, and on integers closed integer
//!   intervals (`exclusiveMinimum: 0` on an integer is `minimum: 1`);
//! - splits `type`: `integer` is a number atom on the lattice of multiples of 1;
//! - merges `allOf` by intersecting atoms of the same type, keeps `anyOf`/`oneOf`/`not`/
//!   `if`-`then`-`else`/`dependentSchemas` as unions of intersections and complements.
//!
//! What it cannot model exactly becomes [`Atom::Opaque`] (a subset of one type it cannot
//! describe, naming the keyword) or [`Node::Unknown`]: `decide` never proves anything about
//! those, so an unmodelled keyword yields `undecided`, never a wrong `compatible`.
#![deny(clippy::wildcard_enum_match_arm)]

use super::schemas::Subject;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An index into the [`Arena`].
pub(crate) type Id = usize;

/// Atoms one node may hold before the procedure gives up on it: `oneOf` and `not` distribute
/// intersections over unions, which can grow as a product; past this the node is
/// [`Node::Unknown`] (an honest `undecided`) rather than a slow comparison.
const MAX_ATOMS: usize = 256;

/// The JSON types, `integer` folded into `number` (an integer is a number on a lattice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Ty {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl Ty {
    pub(crate) const ALL: [Ty; 6] = [
        Ty::Null,
        Ty::Boolean,
        Ty::Number,
        Ty::String,
        Ty::Array,
        Ty::Object,
    ];

    pub(crate) fn of(v: &Value) -> Ty {
        match v {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Boolean,
            Value::Number(_) => Ty::Number,
            Value::String(_) => Ty::String,
            Value::Array(_) => Ty::Array,
            Value::Object(_) => Ty::Object,
        }
    }
}

/// A numeric bound: the value and whether it is included.
pub(crate) type Bound = Option<(f64, bool)>;

/// Numbers in an interval, on every lattice of `mult` and on none of `not_mult`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Num {
    pub(crate) lo: Bound,
    pub(crate) hi: Bound,
    pub(crate) mult: Vec<f64>,
    pub(crate) not_mult: Vec<f64>,
}

impl Num {
    pub(crate) fn any() -> Self {
        Self {
            lo: None,
            hi: None,
            mult: Vec::new(),
            not_mult: Vec::new(),
        }
    }

    /// Whether every member is an integer: then the bounds are closed integer bounds.
    pub(crate) fn integral(&self) -> bool {
        self.mult.iter().any(|m| is_int(*m))
    }

    /// Integer bounds become closed integer bounds (`exclusiveMinimum: 0` is `minimum: 1`).
    fn normalise(mut self) -> Self {
        if self.integral() {
            self.lo = self.lo.map(|(v, incl)| {
                let c = v.ceil();
                (if !incl && c == v { c + 1.0 } else { c }, true)
            });
            self.hi = self.hi.map(|(v, incl)| {
                let f = v.floor();
                (if !incl && f == v { f - 1.0 } else { f }, true)
            });
        }
        self.mult.sort_by(f64::total_cmp);
        self.mult.dedup();
        self.not_mult.sort_by(f64::total_cmp);
        self.not_mult.dedup();
        self
    }

    pub(crate) fn empty_interval(&self) -> bool {
        match (self.lo, self.hi) {
            (Some((l, li)), Some((h, hi))) => l > h || (l == h && !(li && hi)),
            _ => false,
        }
    }

    pub(crate) fn contains(&self, x: f64) -> bool {
        let lo_ok = self
            .lo
            .is_none_or(|(l, incl)| if incl { x >= l } else { x > l });
        let hi_ok = self
            .hi
            .is_none_or(|(h, incl)| if incl { x <= h } else { x < h });
        lo_ok
            && hi_ok
            && self.mult.iter().all(|m| is_multiple(x, *m))
            && !self.not_mult.iter().any(|m| is_multiple(x, *m))
    }
}

pub(crate) fn is_int(x: f64) -> bool {
    x.is_finite() && x.fract() == 0.0
}

/// `x` is a multiple of `m`, as the reference validator decides it for finite numbers.
pub(crate) fn is_multiple(x: f64, m: f64) -> bool {
    if is_int(m) && is_int(x) {
        // Exact on integers (both fit f64 exactly here).
        return (x % m) == 0.0;
    }
    let q = x / m;
    q.is_finite() && q.fract() == 0.0
}

/// One constraint on a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum StrC {
    /// An ECMA-262 `pattern` (search semantics) and its translation to the `regex` dialect.
    Pattern { source: String, rust: String },
    /// Exactly one of these strings.
    Lits(BTreeSet<String>),
    /// Length in code points, `min..=max`.
    Len { min: u64, max: Option<u64> },
    /// A `format` asserted by the reference.
    Format(String),
}

/// Strings meeting every constraint (`true`) or failing it (`false`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Str {
    pub(crate) cons: Vec<(StrC, bool)>,
}

/// Arrays.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arr {
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
    pub(crate) unique: bool,
    pub(crate) prefix: Vec<Id>,
    pub(crate) items: Id,
    /// `contains` schemas with `minContains`/`maxContains`.
    pub(crate) contains: Vec<(Id, u64, Option<u64>)>,
}

impl Arr {
    pub(crate) fn item(&self, i: usize) -> Id {
        self.prefix.get(i).copied().unwrap_or(self.items)
    }
}

/// Objects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Obj {
    pub(crate) props: BTreeMap<String, Id>,
    /// `patternProperties`: ECMA source, translation, schema.
    pub(crate) patterns: Vec<(String, String, Id)>,
    pub(crate) additional: Id,
    pub(crate) required: BTreeSet<String>,
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
    /// `propertyNames`, a node over strings.
    pub(crate) names: Option<Id>,
    pub(crate) dep_req: BTreeMap<String, BTreeSet<String>>,
}

/// One typed conjunct of a union.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Atom {
    Null,
    Bool(bool),
    Num(Num),
    Str(Str),
    Arr(Arr),
    Obj(Obj),
    /// Some values of one type that the normal form cannot describe, with the keyword why.
    Opaque(Ty, String),
}

impl Atom {
    pub(crate) fn ty(&self) -> Ty {
        match self {
            Atom::Null => Ty::Null,
            Atom::Bool(_) => Ty::Boolean,
            Atom::Num(_) => Ty::Number,
            Atom::Str(_) => Ty::String,
            Atom::Arr(_) => Ty::Array,
            Atom::Obj(_) => Ty::Object,
            Atom::Opaque(t, _) => *t,
        }
    }
}

/// A set of JSON values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// The union of these atoms (none: the empty set, `false`).
    Atoms(Vec<Atom>),
    /// Not modelled: the keyword that could not be.
    Unknown(String),
    /// Under construction (a `$ref` cycle met before its target was built).
    Pending,
}

/// Every node of both schemas of a comparison.
pub(crate) struct Arena {
    nodes: Vec<Node>,
    memo: HashMap<(String, String, usize), Id>,
    inter: HashMap<(Id, Id), Id>,
    compl: HashMap<Id, Id>,
    regexes: HashMap<String, Option<regex::Regex>>,
}

/// The node admitting every value.
pub(crate) const TRUE: Id = 0;
/// The node admitting nothing.
pub(crate) const FALSE: Id = 1;

fn all_atoms() -> Vec<Atom> {
    vec![
        Atom::Null,
        Atom::Bool(false),
        Atom::Bool(true),
        Atom::Num(Num::any()),
        Atom::Str(Str::default()),
        Atom::Arr(any_arr()),
        Atom::Obj(any_obj()),
    ]
}

fn any_arr() -> Arr {
    Arr {
        min: 0,
        max: None,
        unique: false,
        prefix: Vec::new(),
        items: TRUE,
        contains: Vec::new(),
    }
}

fn any_obj() -> Obj {
    Obj {
        props: BTreeMap::new(),
        patterns: Vec::new(),
        additional: TRUE,
        required: BTreeSet::new(),
        min: 0,
        max: None,
        names: None,
        dep_req: BTreeMap::new(),
    }
}

/// Keywords that only annotate: they never change which values are valid.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    "$defs",
    "definitions",
    "$vocabulary",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
];

impl Arena {
    pub(crate) fn new() -> Self {
        Self {
            nodes: vec![Node::Atoms(all_atoms()), Node::Atoms(Vec::new())],
            memo: HashMap::new(),
            inter: HashMap::new(),
            compl: HashMap::new(),
            regexes: HashMap::new(),
        }
    }

    pub(crate) fn node(&self, id: Id) -> &Node {
        &self.nodes[id]
    }

    fn push(&mut self, n: Node) -> Id {
        let n = simplify(n);
        if let Some(id) = self.constant(&n) {
            return id;
        }
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    /// [`TRUE`] or [`FALSE`] when `n` is the full or the empty set, so identity comparisons
    /// with them hold whatever way the set was written (`{}`, `"additionalProperties": false`).
    fn constant(&self, n: &Node) -> Option<Id> {
        match n {
            Node::Atoms(a) if a.is_empty() => Some(FALSE),
            Node::Atoms(a) if all_atoms().iter().all(|x| a.contains(x)) => Some(TRUE),
            Node::Atoms(_) | Node::Unknown(_) | Node::Pending => None,
        }
    }

    /// A node admitting every string (the domain of `propertyNames`).
    pub(crate) fn strings(&mut self) -> Id {
        self.push(Node::Atoms(vec![Atom::Str(Str::default())]))
    }

    /// Whether `id` admits every value.
    pub(crate) fn is_full(&self, id: Id) -> bool {
        id == TRUE || self.constant(self.node(id)) == Some(TRUE)
    }

    /// Whether `id` admits nothing (as far as the normal form shows on its face).
    pub(crate) fn is_empty(&self, id: Id) -> bool {
        id == FALSE || self.constant(self.node(id)) == Some(FALSE)
    }

    /// The node of `subject`'s entry schema.
    pub(crate) fn subject(&mut self, subject: &Subject, tag: usize) -> Id {
        let draft7 = subject
            .value()
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("draft-07") || s.contains("draft-06"));
        let mut cx = Cx {
            subject,
            tag,
            draft7,
            aliasing: std::collections::HashSet::new(),
        };
        self.at(&mut cx, &subject.entry, "")
    }

    /// The node of the schema at `pointer` in document `doc`: one node per location.
    fn at(&mut self, cx: &mut Cx<'_>, doc: &str, pointer: &str) -> Id {
        let key = (doc.to_owned(), pointer.to_owned(), cx.tag);
        if let Some(id) = self.memo.get(&key) {
            return *id;
        }
        // A schema that is only a `$ref` (plus annotations) is its target's node: recursive
        // schemas then close into a cycle of ids instead of meeting a node under construction.
        let target = cx
            .subject
            .set
            .doc(doc)
            .and_then(|d| d.pointer(pointer))
            .and_then(Value::as_object)
            .filter(|m| {
                m.keys().all(|k| {
                    k == "$ref" || ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-")
                })
            })
            .and_then(|m| m.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| cx.subject.set.resolve(doc, r));
        if let Some((d, p)) = target {
            if !cx.aliasing.insert(key.clone()) {
                // `$ref` to itself, through refs only: no schema to build.
                let id = self.push(Node::Unknown("$ref".into()));
                self.memo.insert(key, id);
                return id;
            }
            let id = self.at(cx, &d, &p);
            self.memo.insert(key, id);
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::Pending);
        self.memo.insert(key, id);
        let value = cx
            .subject
            .set
            .doc(doc)
            .and_then(|d| d.pointer(pointer))
            .cloned();
        let node = match value {
            Some(v) => self.build(cx, doc, pointer, &v),
            None => Node::Unknown("$ref".to_owned()),
        };
        let node = simplify(node);
        let constant = self.constant(&node);
        self.nodes[id] = node;
        // A cycle may hold the reserved id; every later use gets the constant.
        match constant {
            Some(c) => {
                self.memo.insert(key_of(doc, pointer, cx.tag), c);
                c
            }
            None => id,
        }
    }

    #[allow(clippy::too_many_lines)]
    fn build(&mut self, cx: &mut Cx<'_>, doc: &str, ptr: &str, v: &Value) -> Node {
        let map = match v {
            Value::Bool(true) => return Node::Atoms(all_atoms()),
            Value::Bool(false) => return Node::Atoms(Vec::new()),
            Value::Object(m) => m,
            Value::Null | Value::Number(_) | Value::String(_) | Value::Array(_) => {
                return Node::Unknown("schema".to_owned());
            }
        };
        let child = |k: &str| format!("{ptr}/{}", k.replace('~', "~0").replace('/', "~1"));
        let mut conj: Vec<Id> = Vec::new();
        for (k, val) in map {
            if ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-") {
                continue;
            }
            match k.as_str() {
                "$ref" => {
                    let Some(r) = val.as_str() else {
                        return Node::Unknown("$ref".into());
                    };
                    let Some((d, p)) = cx.subject.set.resolve(doc, r) else {
                        return Node::Unknown("$ref".into());
                    };
                    let id = self.at(cx, &d, &p);
                    if cx.draft7 {
                        // Draft 7: `$ref` overrides its siblings.
                        return self.node(id).clone();
                    }
                    conj.push(id);
                }
                // Dynamic scope and evaluated-location tracking are outside the normal form.
                "$dynamicRef" | "$recursiveRef" | "unevaluatedProperties" | "unevaluatedItems"
                    if val != &Value::Bool(true) =>
                {
                    return Node::Unknown(k.clone());
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let Some(items) = val.as_array() else {
                        return Node::Unknown(k.clone());
                    };
                    let ids: Vec<Id> = (0..items.len())
                        .map(|i| self.at(cx, doc, &format!("{}/{i}", child(k))))
                        .collect();
                    let id = match k.as_str() {
                        "allOf" => ids.iter().fold(TRUE, |a, b| self.intersect(a, *b)),
                        "anyOf" => self.union(&ids),
                        _ => {
                            let mut parts = Vec::new();
                            for (i, s) in ids.iter().enumerate() {
                                let mut p = *s;
                                for (j, o) in ids.iter().enumerate() {
                                    if i != j {
                                        let c = self.complement(*o);
                                        p = self.intersect(p, c);
                                    }
                                }
                                parts.push(p);
                            }
                            self.union(&parts)
                        }
                    };
                    conj.push(id);
                }
                "not" => {
                    let s = self.at(cx, doc, &child(k));
                    conj.push(self.complement(s));
                }
                "if" => {
                    let i = self.at(cx, doc, &child("if"));
                    let t = if map.contains_key("then") {
                        self.at(cx, doc, &child("then"))
                    } else {
                        TRUE
                    };
                    let e = if map.contains_key("else") {
                        self.at(cx, doc, &child("else"))
                    } else {
                        TRUE
                    };
                    let yes = self.intersect(i, t);
                    let ni = self.complement(i);
                    let no = self.intersect(ni, e);
                    conj.push(self.union(&[yes, no]));
                }
                "then" | "else" => {}
                "dependentSchemas" => {
                    let Some(m) = val.as_object() else {
                        return Node::Unknown(k.clone());
                    };
                    for name in m.keys() {
                        let s = self.at(cx, doc, &format!("{}/{}", child(k), esc(name)));
                        conj.push(self.dependent(name, s));
                    }
                }
                "dependencies" => {
                    // Draft 7: arrays are dependentRequired, schemas dependentSchemas.
                    let Some(m) = val.as_object() else {
                        return Node::Unknown(k.clone());
                    };
                    for (name, dep) in m {
                        if dep.is_array() {
                            continue; // read with the object keywords
                        }
                        let s = self.at(cx, doc, &format!("{}/{}", child(k), esc(name)));
                        conj.push(self.dependent(name, s));
                    }
                }
                "const" => {
                    let id = self.value_node(val);
                    conj.push(id);
                }
                "enum" => {
                    let Some(vals) = val.as_array() else {
                        return Node::Unknown(k.clone());
                    };
                    let ids: Vec<Id> = vals.iter().map(|x| self.value_node(x)).collect();
                    conj.push(self.union(&ids));
                }
                _ => {}
            }
        }
        let typed = match self.typed(cx, doc, ptr, map) {
            Ok(atoms) => self.push(Node::Atoms(atoms)),
            Err(kw) => return Node::Unknown(kw),
        };
        let id = conj.into_iter().fold(typed, |a, b| self.intersect(a, b));
        self.node(id).clone()
    }

    /// The atoms of the type-specific keywords of one schema object.
    #[allow(clippy::too_many_lines)]
    fn typed(
        &mut self,
        cx: &mut Cx<'_>,
        doc: &str,
        ptr: &str,
        m: &serde_json::Map<String, Value>,
    ) -> Result<Vec<Atom>, String> {
        let child = |k: &str| format!("{ptr}/{}", esc(k));
        let mut types: BTreeSet<Ty> = Ty::ALL.into_iter().collect();
        let mut integer = false;
        if let Some(t) = m.get("type") {
            let names: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                Value::Null | Value::Bool(_) | Value::Number(_) | Value::Object(_) => {
                    return Err("type".into());
                }
            };
            types.clear();
            let has_number = names.contains(&"number");
            for n in names {
                match n {
                    "null" => types.insert(Ty::Null),
                    "boolean" => types.insert(Ty::Boolean),
                    "number" => types.insert(Ty::Number),
                    "integer" => {
                        integer = !has_number;
                        types.insert(Ty::Number)
                    }
                    "string" => types.insert(Ty::String),
                    "array" => types.insert(Ty::Array),
                    "object" => types.insert(Ty::Object),
                    _ => return Err("type".into()),
                };
            }
        }
        let num = |k: &str| m.get(k).and_then(Value::as_f64);
        let count = |k: &str| -> Result<Option<u64>, String> {
            match m.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .or_else(|| v.as_f64().filter(|f| is_int(*f) && *f >= 0.0).map(f64_u64))
                    .map(Some)
                    .ok_or_else(|| k.to_owned()),
            }
        };
        let mut atoms = Vec::new();
        for t in types {
            match t {
                Ty::Null => atoms.push(Atom::Null),
                Ty::Boolean => {
                    atoms.push(Atom::Bool(false));
                    atoms.push(Atom::Bool(true));
                }
                Ty::Number => {
                    let mut n = Num::any();
                    if integer {
                        n.mult.push(1.0);
                    }
                    if let Some(x) = num("multipleOf") {
                        n.mult.push(x);
                    }
                    let mut lo: Vec<(f64, bool)> = Vec::new();
                    let mut hi: Vec<(f64, bool)> = Vec::new();
                    if let Some(x) = num("minimum") {
                        lo.push((x, true));
                    }
                    if let Some(x) = num("maximum") {
                        hi.push((x, true));
                    }
                    match m.get("exclusiveMinimum") {
                        Some(Value::Bool(true)) => lo.iter_mut().for_each(|b| b.1 = false),
                        Some(x) => lo.extend(x.as_f64().map(|x| (x, false))),
                        None => {}
                    }
                    match m.get("exclusiveMaximum") {
                        Some(Value::Bool(true)) => hi.iter_mut().for_each(|b| b.1 = false),
                        Some(x) => hi.extend(x.as_f64().map(|x| (x, false))),
                        None => {}
                    }
                    n.lo = lo.into_iter().reduce(tighter_lo);
                    n.hi = hi.into_iter().reduce(tighter_hi);
                    atoms.push(Atom::Num(n.normalise()));
                }
                Ty::String => {
                    let mut s = Str::default();
                    let (min, max) = (count("minLength")?, count("maxLength")?);
                    if min.is_some() || max.is_some() {
                        s.cons.push((
                            StrC::Len {
                                min: min.unwrap_or(0),
                                max,
                            },
                            true,
                        ));
                    }
                    if let Some(p) = m.get("pattern").and_then(Value::as_str) {
                        s.cons.push((pattern(p)?, true));
                    }
                    if let Some(f) = m.get("format").and_then(Value::as_str) {
                        s.cons.push((StrC::Format(f.to_owned()), true));
                    }
                    atoms.push(Atom::Str(s));
                }
                Ty::Array => {
                    let mut a = any_arr();
                    a.min = count("minItems")?.unwrap_or(0);
                    a.max = count("maxItems")?;
                    a.unique = m.get("uniqueItems") == Some(&Value::Bool(true));
                    let (prefix_kw, rest_kw) =
                        if cx.draft7 && m.get("items").is_some_and(Value::is_array) {
                            ("items", "additionalItems")
                        } else {
                            ("prefixItems", "items")
                        };
                    if let Some(p) = m.get(prefix_kw).and_then(Value::as_array) {
                        a.prefix = (0..p.len())
                            .map(|i| self.at(cx, doc, &format!("{}/{i}", child(prefix_kw))))
                            .collect();
                    }
                    if m.contains_key(rest_kw)
                        && !(cx.draft7
                            && rest_kw == "items"
                            && m.get("items").is_some_and(Value::is_array))
                    {
                        a.items = self.at(cx, doc, &child(rest_kw));
                    }
                    if m.contains_key("contains") {
                        let c = self.at(cx, doc, &child("contains"));
                        let min = if cx.draft7 {
                            Some(1)
                        } else {
                            count("minContains")?
                        };
                        let max = if cx.draft7 {
                            None
                        } else {
                            count("maxContains")?
                        };
                        a.contains.push((c, min.unwrap_or(1), max));
                    }
                    atoms.push(Atom::Arr(a));
                }
                Ty::Object => {
                    let mut o = any_obj();
                    if let Some(p) = m.get("properties").and_then(Value::as_object) {
                        for k in p.keys() {
                            let id =
                                self.at(cx, doc, &format!("{}/{}", child("properties"), esc(k)));
                            o.props.insert(k.clone(), id);
                        }
                    }
                    if let Some(p) = m.get("patternProperties").and_then(Value::as_object) {
                        for k in p.keys() {
                            let StrC::Pattern { source, rust } = pattern(k)? else {
                                return Err("patternProperties".into());
                            };
                            let id = self.at(
                                cx,
                                doc,
                                &format!("{}/{}", child("patternProperties"), esc(k)),
                            );
                            o.patterns.push((source, rust, id));
                        }
                    }
                    if m.contains_key("additionalProperties") {
                        o.additional = self.at(cx, doc, &child("additionalProperties"));
                    }
                    if let Some(r) = m.get("required").and_then(Value::as_array) {
                        o.required
                            .extend(r.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    o.min = count("minProperties")?.unwrap_or(0);
                    o.max = count("maxProperties")?;
                    if m.contains_key("propertyNames") {
                        o.names = Some(self.at(cx, doc, &child("propertyNames")));
                    }
                    let dr = m
                        .get("dependentRequired")
                        .into_iter()
                        .chain(if cx.draft7 {
                            m.get("dependencies")
                        } else {
                            None
                        })
                        .filter_map(Value::as_object)
                        .flat_map(|d| d.iter());
                    for (k, deps) in dr {
                        if let Some(deps) = deps.as_array() {
                            o.dep_req
                                .entry(k.clone())
                                .or_default()
                                .extend(deps.iter().filter_map(Value::as_str).map(str::to_owned));
                        }
                    }
                    atoms.push(Atom::Obj(o));
                }
            }
        }
        Ok(atoms)
    }

    /// `{name absent} ∪ ({name present} ∩ s)`: `dependentSchemas`.
    fn dependent(&mut self, name: &str, s: Id) -> Id {
        let mut absent = any_obj();
        absent.props.insert(name.to_owned(), FALSE);
        let mut present = any_obj();
        present.required.insert(name.to_owned());
        let mut others: Vec<Atom> = all_atoms()
            .into_iter()
            .filter(|a| a.ty() != Ty::Object)
            .collect();
        others.push(Atom::Obj(absent));
        let no = self.push(Node::Atoms(others));
        let p = self.push(Node::Atoms(vec![Atom::Obj(present)]));
        let yes = self.intersect(p, s);
        self.union(&[no, yes])
    }

    /// The node admitting exactly `v` (JSON equality: `1` and `1.0` are one value).
    pub(crate) fn value_node(&mut self, v: &Value) -> Id {
        let atom = match v {
            Value::Null => Atom::Null,
            Value::Bool(b) => Atom::Bool(*b),
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                Atom::Num(Num {
                    lo: Some((x, true)),
                    hi: Some((x, true)),
                    mult: Vec::new(),
                    not_mult: Vec::new(),
                })
            }
            Value::String(s) => Atom::Str(Str {
                cons: vec![(StrC::Lits(BTreeSet::from([s.clone()])), true)],
            }),
            Value::Array(items) => {
                let prefix = items.iter().map(|x| self.value_node(x)).collect();
                let len = items.len() as u64;
                Atom::Arr(Arr {
                    min: len,
                    max: Some(len),
                    unique: false,
                    prefix,
                    items: FALSE,
                    contains: Vec::new(),
                })
            }
            Value::Object(m) => {
                let mut o = any_obj();
                for (k, x) in m {
                    let id = self.value_node(x);
                    o.props.insert(k.clone(), id);
                    o.required.insert(k.clone());
                }
                o.additional = FALSE;
                Atom::Obj(o)
            }
        };
        self.push(Node::Atoms(vec![atom]))
    }

    pub(crate) fn union(&mut self, ids: &[Id]) -> Id {
        let mut atoms = Vec::new();
        for id in ids {
            match self.node(*id) {
                Node::Atoms(a) => atoms.extend(a.iter().cloned()),
                Node::Unknown(k) => return self.push(Node::Unknown(k.clone())),
                Node::Pending => return self.push(Node::Unknown("$ref".into())),
            }
        }
        if atoms.len() > MAX_ATOMS {
            return self.push(Node::Unknown("anyOf".into()));
        }
        self.push(Node::Atoms(atoms))
    }

    /// The node of values in both.
    pub(crate) fn intersect(&mut self, a: Id, b: Id) -> Id {
        if a == TRUE || a == b {
            return b;
        }
        if b == TRUE {
            return a;
        }
        if a == FALSE || b == FALSE {
            return FALSE;
        }
        let key = (a.min(b), a.max(b));
        if let Some(id) = self.inter.get(&key) {
            return *id;
        }
        let (na, nb) = (self.node(a).clone(), self.node(b).clone());
        let node = match (na, nb) {
            (Node::Unknown(k), _) | (_, Node::Unknown(k)) => Node::Unknown(k),
            (Node::Pending, _) | (_, Node::Pending) => Node::Unknown("$ref".into()),
            (Node::Atoms(xs), Node::Atoms(ys)) => {
                // Reserve first: intersecting recursive members meets this pair again.
                let id = self.nodes.len();
                self.nodes.push(Node::Pending);
                self.inter.insert(key, id);
                let mut out = Vec::new();
                for x in &xs {
                    for y in ys.iter().filter(|y| y.ty() == x.ty()) {
                        out.extend(self.meet(x, y));
                    }
                }
                let n = if out.len() > MAX_ATOMS {
                    Node::Unknown("allOf".into())
                } else {
                    Node::Atoms(out)
                };
                let n = simplify(n);
                let constant = self.constant(&n);
                self.nodes[id] = n;
                if let Some(c) = constant {
                    self.inter.insert(key, c);
                    return c;
                }
                return id;
            }
        };
        let id = self.push(node);
        self.inter.insert(key, id);
        id
    }

    /// Two atoms of one type, intersected.
    fn meet(&mut self, x: &Atom, y: &Atom) -> Option<Atom> {
        Some(match (x, y) {
            (Atom::Opaque(t, k), _) | (_, Atom::Opaque(t, k)) => Atom::Opaque(*t, k.clone()),
            (Atom::Null, Atom::Null) => Atom::Null,
            (Atom::Bool(a), Atom::Bool(b)) => {
                if a != b {
                    return None;
                }
                Atom::Bool(*a)
            }
            (Atom::Num(a), Atom::Num(b)) => {
                let mut n = a.clone();
                n.lo = match (a.lo, b.lo) {
                    (Some(p), Some(q)) => Some(tighter_lo(p, q)),
                    (p, q) => p.or(q),
                };
                n.hi = match (a.hi, b.hi) {
                    (Some(p), Some(q)) => Some(tighter_hi(p, q)),
                    (p, q) => p.or(q),
                };
                n.mult.extend(&b.mult);
                n.not_mult.extend(&b.not_mult);
                let n = n.normalise();
                if n.empty_interval() {
                    return None;
                }
                Atom::Num(n)
            }
            (Atom::Str(a), Atom::Str(b)) => {
                let mut s = a.clone();
                for c in &b.cons {
                    if !s.cons.contains(c) {
                        s.cons.push(c.clone());
                    }
                }
                Atom::Str(s)
            }
            (Atom::Arr(a), Atom::Arr(b)) => {
                let n = a.prefix.len().max(b.prefix.len());
                let prefix = (0..n)
                    .map(|i| self.intersect(a.item(i), b.item(i)))
                    .collect();
                let mut contains = a.contains.clone();
                contains.extend(b.contains.iter().cloned());
                Atom::Arr(Arr {
                    min: a.min.max(b.min),
                    max: min_opt(a.max, b.max),
                    unique: a.unique || b.unique,
                    prefix,
                    items: self.intersect(a.items, b.items),
                    contains,
                })
            }
            (Atom::Obj(a), Atom::Obj(b)) => {
                // Patterns of one side meet the other's `additionalProperties` on keys the
                // merged atom cannot separate; only the exact cases are merged.
                if (!a.patterns.is_empty() && !self.is_full(b.additional))
                    || (!b.patterns.is_empty() && !self.is_full(a.additional))
                {
                    return Some(Atom::Opaque(Ty::Object, "patternProperties".into()));
                }
                let keys: BTreeSet<&String> = a.props.keys().chain(b.props.keys()).collect();
                let mut props = BTreeMap::new();
                for k in keys {
                    let (Some(x), Some(y)) = (self.member(a, k), self.member(b, k)) else {
                        return Some(Atom::Opaque(Ty::Object, "patternProperties".into()));
                    };
                    props.insert(k.clone(), self.intersect(x, y));
                }
                let mut patterns = a.patterns.clone();
                patterns.extend(b.patterns.iter().cloned());
                let mut dep_req = a.dep_req.clone();
                for (k, v) in &b.dep_req {
                    dep_req
                        .entry(k.clone())
                        .or_default()
                        .extend(v.iter().cloned());
                }
                let names = match (a.names, b.names) {
                    (Some(x), Some(y)) => Some(self.intersect(x, y)),
                    (x, y) => x.or(y),
                };
                Atom::Obj(Obj {
                    props,
                    patterns,
                    additional: self.intersect(a.additional, b.additional),
                    required: a.required.union(&b.required).cloned().collect(),
                    min: a.min.max(b.min),
                    max: min_opt(a.max, b.max),
                    names,
                    dep_req,
                })
            }
            (
                Atom::Null
                | Atom::Bool(_)
                | Atom::Num(_)
                | Atom::Str(_)
                | Atom::Arr(_)
                | Atom::Obj(_),
                _,
            ) => return None,
        })
    }

    /// The schema an object atom applies to member `key`: `properties` and every matching
    /// `patternProperties`, else `additionalProperties`. `None` when a pattern cannot run.
    pub(crate) fn member(&mut self, o: &Obj, key: &str) -> Option<Id> {
        let mut ids: Vec<Id> = o.props.get(key).copied().into_iter().collect();
        for (_, rust, id) in &o.patterns {
            let re = self
                .regexes
                .entry(rust.clone())
                .or_insert_with(|| regex::Regex::new(rust).ok())
                .as_ref()?;
            if re.is_match(key) {
                ids.push(*id);
            }
        }
        if ids.is_empty() {
            return Some(o.additional);
        }
        Some(ids.into_iter().fold(TRUE, |a, b| self.intersect(a, b)))
    }

    /// The node of values not in `a`.
    pub(crate) fn complement(&mut self, a: Id) -> Id {
        if a == TRUE {
            return FALSE;
        }
        if a == FALSE {
            return TRUE;
        }
        if let Some(id) = self.compl.get(&a) {
            return *id;
        }
        let node = match self.node(a).clone() {
            Node::Unknown(k) => Node::Unknown(k),
            Node::Pending => Node::Unknown("$ref".into()),
            Node::Atoms(atoms) => {
                let mut out: Vec<Atom> = Vec::new();
                for t in Ty::ALL {
                    let of_t: Vec<&Atom> = atoms.iter().filter(|x| x.ty() == t).collect();
                    if of_t.is_empty() {
                        out.extend(all_atoms().into_iter().filter(|x| x.ty() == t));
                        continue;
                    }
                    // ¬(x1 ∪ x2 ...) = ¬x1 ∩ ¬x2 ...: intersect the complements in turn.
                    let mut acc = self.push(Node::Atoms(
                        all_atoms().into_iter().filter(|x| x.ty() == t).collect(),
                    ));
                    for x in of_t {
                        let c = self.not_atom(x);
                        let c = self.push(Node::Atoms(c));
                        acc = self.intersect(acc, c);
                    }
                    match self.node(acc).clone() {
                        Node::Atoms(xs) => out.extend(xs),
                        Node::Unknown(k) => {
                            out.push(Atom::Opaque(t, k));
                        }
                        Node::Pending => out.push(Atom::Opaque(t, "not".into())),
                    }
                }
                if out.len() > MAX_ATOMS {
                    Node::Unknown("not".into())
                } else {
                    Node::Atoms(out)
                }
            }
        };
        let id = self.push(node);
        self.compl.insert(a, id);
        id
    }

    /// The values of the atom's type that are not in the atom, as a union.
    fn not_atom(&mut self, x: &Atom) -> Vec<Atom> {
        match x {
            Atom::Null => Vec::new(),
            Atom::Bool(b) => vec![Atom::Bool(!b)],
            Atom::Opaque(t, k) => vec![Atom::Opaque(*t, k.clone())],
            Atom::Num(n) => {
                let mut out = Vec::new();
                if let Some((l, incl)) = n.lo {
                    out.push(Atom::Num(Num {
                        hi: Some((l, !incl)),
                        ..Num::any()
                    }));
                }
                if let Some((h, incl)) = n.hi {
                    out.push(Atom::Num(Num {
                        lo: Some((h, !incl)),
                        ..Num::any()
                    }));
                }
                for m in &n.mult {
                    out.push(Atom::Num(Num {
                        not_mult: vec![*m],
                        ..Num::any()
                    }));
                }
                for m in &n.not_mult {
                    out.push(Atom::Num(Num {
                        mult: vec![*m],
                        ..Num::any()
                    }));
                }
                out.into_iter()
                    .map(|a| match a {
                        Atom::Num(n) => Atom::Num(n.normalise()),
                        other @ (Atom::Null
                        | Atom::Bool(_)
                        | Atom::Str(_)
                        | Atom::Arr(_)
                        | Atom::Obj(_)
                        | Atom::Opaque(..)) => other,
                    })
                    .collect()
            }
            Atom::Str(s) => s
                .cons
                .iter()
                .flat_map(|(c, pos)| match (c, pos) {
                    (StrC::Len { min, max }, true) => {
                        let mut v = Vec::new();
                        if *min > 0 {
                            v.push(StrC::Len {
                                min: 0,
                                max: Some(min - 1),
                            });
                        }
                        if let Some(m) = max {
                            v.push(StrC::Len {
                                min: m + 1,
                                max: None,
                            });
                        }
                        v.into_iter()
                            .map(|c| {
                                Atom::Str(Str {
                                    cons: vec![(c, true)],
                                })
                            })
                            .collect::<Vec<_>>()
                    }
                    _ => vec![Atom::Str(Str {
                        cons: vec![(c.clone(), !pos)],
                    })],
                })
                .collect(),
            Atom::Arr(a) => {
                let simple = a.prefix.is_empty()
                    && !a.unique
                    && a.contains
                        .iter()
                        .all(|(_, min, max)| *min == 1 && max.is_none());
                if !simple {
                    return vec![Atom::Opaque(Ty::Array, "not".into())];
                }
                let mut out = Vec::new();
                if a.min > 0 {
                    out.push(Atom::Arr(Arr {
                        max: Some(a.min - 1),
                        ..any_arr()
                    }));
                }
                if let Some(m) = a.max {
                    out.push(Atom::Arr(Arr {
                        min: m + 1,
                        ..any_arr()
                    }));
                }
                if !self.is_full(a.items) {
                    let c = self.complement(a.items);
                    out.push(Atom::Arr(Arr {
                        contains: vec![(c, 1, None)],
                        ..any_arr()
                    }));
                }
                for (c, _, _) in &a.contains {
                    let n = self.complement(*c);
                    out.push(Atom::Arr(Arr {
                        items: n,
                        ..any_arr()
                    }));
                }
                out
            }
            Atom::Obj(o) => {
                let simple = o.patterns.is_empty()
                    && self.is_full(o.additional)
                    && o.min == 0
                    && o.max.is_none()
                    && o.names.is_none()
                    && o.dep_req.is_empty();
                if !simple {
                    return vec![Atom::Opaque(Ty::Object, "not".into())];
                }
                let mut out = Vec::new();
                for r in &o.required {
                    let mut x = any_obj();
                    x.props.insert(r.clone(), FALSE);
                    out.push(Atom::Obj(x));
                }
                for (k, s) in &o.props {
                    if self.is_full(*s) {
                        continue;
                    }
                    let mut x = any_obj();
                    x.required.insert(k.clone());
                    let c = self.complement(*s);
                    x.props.insert(k.clone(), c);
                    out.push(Atom::Obj(x));
                }
                out
            }
        }
    }
}

struct Cx<'a> {
    subject: &'a Subject,
    tag: usize,
    draft7: bool,
    aliasing: std::collections::HashSet<(String, String, usize)>,
}

fn key_of(doc: &str, pointer: &str, tag: usize) -> (String, String, usize) {
    (doc.to_owned(), pointer.to_owned(), tag)
}

fn esc(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn f64_u64(f: f64) -> u64 {
    f as u64
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn tighter_lo(p: (f64, bool), q: (f64, bool)) -> (f64, bool) {
    if p.0 > q.0 || (p.0 == q.0 && !p.1) {
        p
    } else {
        q
    }
}

fn tighter_hi(p: (f64, bool), q: (f64, bool)) -> (f64, bool) {
    if p.0 < q.0 || (p.0 == q.0 && !p.1) {
        p
    } else {
        q
    }
}

/// A `pattern` with its translation to the `regex` dialect, as the reference translates it
/// (`jsonschema_regex::to_rust_regex`); lookarounds and backreferences are refused.
fn pattern(p: &str) -> Result<StrC, String> {
    let rust = jsonschema_regex::to_rust_regex(p).map_err(|()| "pattern".to_owned())?;
    Ok(StrC::Pattern {
        source: p.to_owned(),
        rust: rust.into_owned(),
    })
}

/// Drop atoms that are empty on their face and merge string literal sets, so unions of consts
/// stay one atom per type.
fn simplify(n: Node) -> Node {
    let Node::Atoms(atoms) = n else { return n };
    let mut out: Vec<Atom> = Vec::new();
    let mut lits: Option<BTreeSet<String>> = None;
    for a in atoms {
        match a {
            Atom::Num(ref x) if x.empty_interval() => {}
            Atom::Str(ref s) if str_empty(s) => {}
            Atom::Str(ref s) if s.cons.len() == 1 && matches!(s.cons[0], (StrC::Lits(_), true)) => {
                if let (StrC::Lits(l), _) = &s.cons[0] {
                    lits.get_or_insert_with(BTreeSet::new)
                        .extend(l.iter().cloned());
                }
            }
            Atom::Null
            | Atom::Bool(_)
            | Atom::Num(_)
            | Atom::Str(_)
            | Atom::Arr(_)
            | Atom::Obj(_)
            | Atom::Opaque(..) => {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    if let Some(l) = lits {
        out.push(Atom::Str(Str {
            cons: vec![(StrC::Lits(l), true)],
        }));
    }
    Node::Atoms(out)
}

/// Contradictions visible without automata: disjoint literal sets, an empty length range.
fn str_empty(s: &Str) -> bool {
    let mut lits: Option<BTreeSet<String>> = None;
    for (c, pos) in &s.cons {
        match (c, pos) {
            (StrC::Lits(l), true) => {
                lits = Some(match lits {
                    None => l.clone(),
                    Some(x) => x.intersection(l).cloned().collect(),
                });
            }
            (StrC::Len { min, max: Some(m) }, true) if min > m => return true,
            _ => {}
        }
    }
    lits.is_some_and(|l| l.is_empty())
}
