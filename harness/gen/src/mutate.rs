//! Invalid instances: one mutation aimed at one keyword at one instance path, checked by the oracle.
//!
//! Invariants: a mutant is emitted only when the validator's error list for it holds an error for
//! the aimed keyword (or its reported spelling, see `accepts`) at the aimed path, and it carries
//! that error's keyword and path; candidates are chosen so Python `jsonschema` rejects them too
//! (no trailing newlines against `$`, no `@` in broken e-mails, `multipleOf` broken for float
//! division as well).
#![deny(clippy::wildcard_enum_match_arm)]

use crate::generate::{Gen, MAX_CONSTRUCT, format, py_multiple_ok, type_bits};
use crate::ir::{Ir, Keywords, Node, NodeId, ty};
use crate::oracle::Oracle;
use crate::source::Source;
use serde_json::{Map, Value, json};

/// How a mutant was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MutationClass {
    /// A value of a type the schema does not allow.
    WrongType,
    /// A value outside `enum`.
    OutsideEnum,
    /// A value other than `const`.
    OutsideConst,
    /// A number just past `minimum`/`maximum`/`exclusive*`.
    BoundOffByOne,
    /// A number that is not a multiple.
    NotMultiple,
    /// A string one code point too short or too long.
    LengthOffByOne,
    /// A string the `pattern` does not match.
    PatternBroken,
    /// A string the `format` rejects.
    FormatBroken,
    /// An array or object one member too short or too long (`min/maxItems`, `min/maxProperties`,
    /// `min/maxContains`).
    CountOffByOne,
    /// A duplicated element under `uniqueItems`.
    Duplicate,
    /// No element matches `contains`.
    ContainsBroken,
    /// A required property (or a dependency's) removed.
    DropRequired,
    /// A property or item the schema forbids added (`additionalProperties`, `propertyNames`,
    /// `unevaluated*`, `items: false`).
    AddForbidden,
    /// A value that fails every `anyOf`/`oneOf` branch, or matches a `not`.
    Applicator,
}

impl MutationClass {
    /// Stable snake_case name (output field value).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MutationClass::WrongType => "wrong_type",
            MutationClass::OutsideEnum => "outside_enum",
            MutationClass::OutsideConst => "outside_const",
            MutationClass::BoundOffByOne => "bound_off_by_one",
            MutationClass::NotMultiple => "not_multiple",
            MutationClass::LengthOffByOne => "length_off_by_one",
            MutationClass::PatternBroken => "pattern_broken",
            MutationClass::FormatBroken => "format_broken",
            MutationClass::CountOffByOne => "count_off_by_one",
            MutationClass::Duplicate => "duplicate",
            MutationClass::ContainsBroken => "contains_broken",
            MutationClass::DropRequired => "drop_required",
            MutationClass::AddForbidden => "add_forbidden",
            MutationClass::Applicator => "applicator",
        }
    }
}

/// One mutation that applies to an instance: which keyword, where, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationTarget {
    /// How.
    pub class: MutationClass,
    /// The aimed keyword, JSON spelling.
    pub keyword: String,
    /// Where, RFC 6901.
    pub instance_path: String,
    pub(crate) node: NodeId,
    /// The property a `required`/dependency mutation drops.
    pub(crate) arg: Option<String>,
}

const SIMPLE: fn() -> Vec<Value> = || {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(1.5),
        json!("mutant"),
        json!([]),
        json!({}),
    ]
};

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// The nodes that apply to `v` from `ids`: through `$ref`, `allOf`, the branches `v` satisfies.
fn applicable(g: &Gen<'_>, ids: &[NodeId], v: &Value) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = ids.iter().rev().copied().collect();
    while let Some(id) = stack.pop() {
        if out.contains(&id) {
            continue;
        }
        let Some(k) = g.kw(id) else { continue };
        out.push(id);
        let ok = |n: NodeId| g.oracle.node_valid(n, v).unwrap_or(false);
        stack.extend(k.refs.iter().copied());
        stack.extend(k.all_of.iter().copied());
        stack.extend(k.any_of.iter().copied().filter(|&n| ok(n)));
        stack.extend(k.one_of.iter().copied().filter(|&n| ok(n)));
        if let Some(i) = k.if_ {
            if ok(i) {
                stack.push(i);
                stack.extend(k.then_);
            } else {
                stack.extend(k.else_);
            }
        }
        if let Value::Object(m) = v {
            for (key, s) in &k.dependent_schemas {
                if m.contains_key(key) {
                    stack.push(*s);
                }
            }
        }
    }
    out
}

fn target(class: MutationClass, kw: &str, path: &str, node: NodeId) -> MutationTarget {
    MutationTarget {
        class,
        keyword: kw.to_owned(),
        instance_path: path.to_owned(),
        node,
        arg: None,
    }
}

fn node_targets(
    g: &Gen<'_>,
    id: NodeId,
    k: &Keywords,
    v: &Value,
    path: &str,
    out: &mut Vec<MutationTarget>,
) {
    use MutationClass as C;
    let mut t = |c: C, kw: &str| out.push(target(c, kw, path, id));
    if k.types.is_some_and(|t| t != ty::ALL) {
        t(C::WrongType, "type");
    }
    if k.const_.is_some() {
        t(C::OutsideConst, "const");
    }
    if k.enum_.is_some() {
        t(C::OutsideEnum, "enum");
    }
    if !k.any_of.is_empty() {
        t(C::Applicator, "anyOf");
    }
    if !k.one_of.is_empty() {
        t(C::Applicator, "oneOf");
    }
    if k.not.is_some() {
        t(C::Applicator, "not");
    }
    if k.if_.is_some() && k.then_.is_some() {
        t(C::Applicator, "then");
    }
    if k.if_.is_some() && k.else_.is_some() {
        t(C::Applicator, "else");
    }
    match v {
        Value::Number(_) => {
            for (present, kw) in [
                (k.minimum.is_some(), "minimum"),
                (k.maximum.is_some(), "maximum"),
                (k.exclusive_minimum.is_some(), "exclusiveMinimum"),
                (k.exclusive_maximum.is_some(), "exclusiveMaximum"),
            ] {
                if present {
                    t(C::BoundOffByOne, kw);
                }
            }
            if k.multiple_of.is_some() {
                t(C::NotMultiple, "multipleOf");
            }
        }
        Value::String(_) => {
            if k.min_length.is_some_and(|n| n > 0) {
                t(C::LengthOffByOne, "minLength");
            }
            if k.max_length.is_some() {
                t(C::LengthOffByOne, "maxLength");
            }
            if k.pattern.is_some() {
                t(C::PatternBroken, "pattern");
            }
            if k.format
                .as_deref()
                .is_some_and(|f| !format::broken(f).is_empty())
            {
                t(C::FormatBroken, "format");
            }
        }
        Value::Array(_) => {
            if k.min_items.is_some_and(|n| n > 0) {
                t(C::CountOffByOne, "minItems");
            }
            if k.max_items.is_some() {
                t(C::CountOffByOne, "maxItems");
            }
            if k.unique_items {
                t(C::Duplicate, "uniqueItems");
            }
            if k.contains.is_some() {
                if k.min_contains.is_none_or(|n| n > 0) {
                    t(C::ContainsBroken, "contains");
                }
                if k.min_contains.is_some_and(|n| n > 1) {
                    t(C::CountOffByOne, "minContains");
                }
                if k.max_contains.is_some() {
                    t(C::CountOffByOne, "maxContains");
                }
            }
            if k.items.is_some_and(|i| g.is_false(i)) {
                t(
                    C::AddForbidden,
                    if k.additional_items_kw {
                        "additionalItems"
                    } else {
                        "items"
                    },
                );
            }
            if k.unevaluated_items.is_some() {
                t(C::AddForbidden, "unevaluatedItems");
            }
            if !k.prefix_items.is_empty() {
                t(
                    C::AddForbidden,
                    if k.additional_items_kw {
                        "items"
                    } else {
                        "prefixItems"
                    },
                );
            }
        }
        Value::Object(m) => {
            if k.additional_properties.is_some() {
                t(C::AddForbidden, "additionalProperties");
            }
            if k.unevaluated_properties.is_some() {
                t(C::AddForbidden, "unevaluatedProperties");
            }
            if k.property_names.is_some() {
                t(C::AddForbidden, "propertyNames");
            }
            if k.min_properties.is_some_and(|n| n > 0) {
                t(C::CountOffByOne, "minProperties");
            }
            if k.max_properties.is_some() {
                t(C::CountOffByOne, "maxProperties");
            }
            for r in &k.required {
                if m.contains_key(r) {
                    let mut x = target(C::DropRequired, "required", path, id);
                    x.arg = Some(r.clone());
                    out.push(x);
                }
            }
            let dep_kw = if k.dependencies_kw {
                "dependencies"
            } else {
                "dependentRequired"
            };
            for (key, names) in &k.dependent_required {
                if !names.is_empty() {
                    let mut x = target(C::DropRequired, dep_kw, path, id);
                    x.arg = Some(key.clone());
                    out.push(x);
                }
            }
            for (p, _) in &k.properties {
                if !m.contains_key(p) {
                    let mut x = target(C::AddForbidden, "properties", path, id);
                    x.arg = Some(p.clone());
                    out.push(x);
                }
            }
            if !k.pattern_properties.is_empty() {
                out.push(target(C::AddForbidden, "patternProperties", path, id));
            }
            let dep_schema_kw = if k.dependencies_kw {
                "dependencies"
            } else {
                "dependentSchemas"
            };
            for (key, _) in &k.dependent_schemas {
                if !m.contains_key(key) {
                    let mut x = target(C::AddForbidden, dep_schema_kw, path, id);
                    x.arg = Some(key.clone());
                    out.push(x);
                }
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Every mutation target of `valid`.
pub(crate) fn targets(ir: &Ir, oracle: &Oracle, valid: &Value) -> Vec<MutationTarget> {
    let g = Gen::new(ir, oracle);
    let mut out = Vec::new();
    walk(&g, &[ir.root], valid, "", &mut out, 0);
    out
}

/// Instance nesting walked for targets; deeper members are still reached through their parents.
const MAX_WALK_DEPTH: usize = 64;

fn walk(
    g: &Gen<'_>,
    ids: &[NodeId],
    v: &Value,
    path: &str,
    out: &mut Vec<MutationTarget>,
    depth: usize,
) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    let nodes = applicable(g, ids, v);
    for &id in &nodes {
        if let Some(k) = g.kw(id) {
            node_targets(g, id, k, v, path, out);
        }
    }
    match v {
        Value::Object(m) => {
            for (key, child) in m {
                let conj = g.prop_conj(&nodes, key);
                if !conj.is_empty() {
                    walk(
                        g,
                        &conj,
                        child,
                        &format!("{path}/{}", escape(key)),
                        out,
                        depth + 1,
                    );
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let conj = g.item_conj(&nodes, i);
                if !conj.is_empty() {
                    walk(g, &conj, child, &format!("{path}/{i}"), out, depth + 1);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn get_mut<'v>(v: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    if pointer.is_empty() {
        Some(v)
    } else {
        v.pointer_mut(pointer)
    }
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return json!(x as i64);
    }
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn fresh_key(m: &Map<String, Value>, k: &Keywords, stem: &str) -> String {
    let mut i = 0;
    loop {
        let name = if i == 0 {
            stem.to_owned()
        } else {
            format!("{stem}{i}")
        };
        if !m.contains_key(&name) && !k.properties.iter().any(|(p, _)| *p == name) {
            return name;
        }
        i += 1;
    }
}

/// Candidate replacements for the value at the target's path.
#[allow(clippy::too_many_lines)]
fn candidates(
    g: &mut Gen<'_>,
    t: &MutationTarget,
    sub: &Value,
    src: &mut dyn Source,
) -> Vec<Value> {
    let Some(k) = g.kw(t.node) else {
        return Vec::new();
    };
    let mut out: Vec<Value> = Vec::new();
    match t.keyword.as_str() {
        "type" => {
            let allowed = k.types.unwrap_or(ty::ALL);
            out = SIMPLE()
                .into_iter()
                .filter(|c| type_bits(c) & allowed == 0)
                .collect();
            if allowed & ty::INTEGER != 0 && allowed & ty::FRACTION == 0 {
                out.push(json!(0.5));
            }
        }
        "const" => {
            if let Some(c) = &k.const_ {
                out.push(perturb(c));
            }
            out.extend(SIMPLE());
        }
        "enum" => {
            if let Some(e) = k.enum_.as_ref().and_then(|e| e.first()) {
                out.push(perturb(e));
            }
            out.push(json!(format!("not-in-enum-{}", src.int_in_range(0, 999))));
            out.push(json!(987_654_321));
            out.extend(SIMPLE());
        }
        "minimum" | "exclusiveMinimum" | "maximum" | "exclusiveMaximum" => {
            let m = match t.keyword.as_str() {
                "minimum" => k.minimum,
                "exclusiveMinimum" => k.exclusive_minimum,
                "maximum" => k.maximum,
                _ => k.exclusive_maximum,
            }
            .unwrap_or(0.0);
            let below = t.keyword.contains("inimum");
            let exclusive = t.keyword.starts_with("exclusive");
            let step = if below { -1.0 } else { 1.0 };
            if exclusive {
                out.push(num(m));
            }
            out.push(num(if below { m.floor() } else { m.ceil() } + step));
            out.push(num(m + step * 0.5));
            out.push(num(m + step));
        }
        "multipleOf" => {
            let m = k.multiple_of.unwrap_or(1.0);
            let v = sub.as_f64().unwrap_or(0.0);
            for c in [v + m / 2.0, v + m / 3.0, m * 1.5, m / 2.0, v + 1.0, v + 0.5] {
                if !py_multiple_ok(c, m, k.multiple_of_float) {
                    out.push(num(c));
                }
            }
        }
        "minLength" => {
            let n = usize::try_from(k.min_length.unwrap_or(1)).unwrap_or(1);
            let s = sub.as_str().unwrap_or("");
            out.push(json!(
                s.chars().take(n.saturating_sub(1)).collect::<String>()
            ));
        }
        "maxLength" => {
            let s = sub.as_str().unwrap_or("");
            if let Some(n) = past(k.max_length) {
                let have = s.chars().count();
                let mut x: String = s.to_owned();
                x.extend(std::iter::repeat_n('a', n.saturating_sub(have)));
                out.push(json!(x));
            }
        }
        "pattern" => {
            let s = sub.as_str().unwrap_or("");
            let rev: String = s.chars().rev().collect();
            for c in ["", "!", "~~", "0", "a", "A", "zz zz", "-1", "%%%%%%%%"] {
                out.push(json!(c));
            }
            out.push(json!(format!("{s}!")));
            out.push(json!(format!("!{s}")));
            out.push(json!(rev));
        }
        "format" => {
            for c in format::broken(k.format.as_deref().unwrap_or("")) {
                out.push(json!(c));
            }
        }
        "minItems" | "maxItems" | "uniqueItems" | "contains" | "minContains" | "maxContains"
        | "items" | "additionalItems" | "unevaluatedItems" => {
            let a = sub.as_array().cloned().unwrap_or_default();
            out.extend(array_candidates(g, k, &t.keyword, a));
        }
        "anyOf" | "oneOf" => out = SIMPLE(),
        "then" | "else" => {
            if let Some(i) = k.if_ {
                let want = t.keyword == "then";
                for salt in 0..4 {
                    let mut salted = crate::generate::Salted {
                        inner: &mut *src,
                        salt,
                    };
                    let v = if want {
                        g.build(&[i], &[], &mut salted, 0)
                    } else {
                        g.build(&[], &[(i, false, "`if`")], &mut salted, 0)
                    };
                    if let Ok(v) = v {
                        out.push(v);
                    }
                }
            }
            out.extend(SIMPLE());
        }
        "prefixItems" => {
            let a = sub.as_array().cloned().unwrap_or_default();
            for n in 1..=k.prefix_items.len().max(1) {
                for filler in SIMPLE() {
                    let mut x = a.clone();
                    while x.len() < n {
                        x.push(filler.clone());
                    }
                    out.push(Value::Array(x));
                }
            }
        }
        "patternProperties" => {
            let m = sub.as_object().cloned().unwrap_or_default();
            for (p, _) in &k.pattern_properties {
                if let Some(h) = crate::generate::regex::parse(p) {
                    let mut name = String::new();
                    crate::generate::regex::generate(&h, src, &mut name);
                    for v in SIMPLE() {
                        let mut x = m.clone();
                        x.insert(name.clone(), v);
                        out.push(Value::Object(x));
                    }
                }
            }
        }
        "not" => {
            if let Some(n) = k.not {
                if let Ok(v) = g.build(&[n], &[], src, 0) {
                    out.push(v);
                }
            }
            out.extend(SIMPLE());
        }
        _ => {
            let m = sub.as_object().cloned().unwrap_or_default();
            out.extend(object_candidates(k, t, m));
        }
    }
    out
}

/// One past a maximum (`maxLength`, `maxItems`, ...), when that many members can be built:
/// a maximum near 2^64 has no mutant, rather than an allocation failure or an endless loop.
fn past(max: Option<u64>) -> Option<usize> {
    let n = max?.checked_add(1)?;
    if n > MAX_CONSTRUCT {
        return None;
    }
    usize::try_from(n).ok()
}

fn perturb(c: &Value) -> Value {
    match c {
        Value::Null => json!(false),
        Value::Bool(b) => json!(!b),
        Value::Number(n) => num(n.as_f64().unwrap_or(0.0) + 1.0),
        Value::String(s) => json!(format!("{s}_x")),
        Value::Array(a) => {
            let mut a = a.clone();
            a.push(Value::Null);
            Value::Array(a)
        }
        Value::Object(m) => {
            let mut m = m.clone();
            m.insert("zz_mutant".into(), Value::Null);
            Value::Object(m)
        }
    }
}

fn array_candidates(g: &mut Gen<'_>, k: &Keywords, kw: &str, a: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    let matches = |g: &Gen<'_>, v: &Value| {
        k.contains
            .is_some_and(|c| g.oracle.node_valid(c, v).unwrap_or(false))
    };
    let filler = a.last().cloned().unwrap_or(Value::Null);
    match kw {
        "minItems" => {
            let n = usize::try_from(k.min_items.unwrap_or(1)).unwrap_or(1);
            out.push(Value::Array(
                a.iter().take(n.saturating_sub(1)).cloned().collect(),
            ));
        }
        "maxItems" => {
            if let Some(n) = past(k.max_items) {
                let mut x = a.clone();
                let mut i = 0;
                while x.len() < n {
                    x.push(a.get(i % a.len().max(1)).cloned().unwrap_or(Value::Null));
                    i += 1;
                }
                out.push(Value::Array(x));
            }
        }
        "uniqueItems" => {
            let mut x = a.clone();
            x.push(a.first().cloned().unwrap_or(Value::Null));
            if x.len() < 2 {
                x.push(Value::Null);
            }
            out.push(Value::Array(x));
        }
        "contains" => {
            out.push(Value::Array(
                a.iter().filter(|v| !matches(g, v)).cloned().collect(),
            ));
            out.push(json!([]));
        }
        "minContains" => {
            let n = usize::try_from(k.min_contains.unwrap_or(1)).unwrap_or(1);
            let mut seen = 0;
            let x: Vec<Value> = a
                .iter()
                .filter(|v| {
                    if matches(g, v) {
                        seen += 1;
                        seen < n
                    } else {
                        true
                    }
                })
                .cloned()
                .collect();
            out.push(Value::Array(x));
        }
        "maxContains" => {
            let Some(n) = past(k.max_contains).map(|n| n - 1) else {
                return out;
            };
            let hit = a.iter().find(|v| matches(g, v)).cloned();
            let hit = hit.or_else(|| {
                k.contains
                    .and_then(|c| g.build(&[c], &[], &mut crate::RngSource::new(0), 0).ok())
            });
            if let Some(h) = hit {
                let mut x = a.clone();
                let mut count = a.iter().filter(|v| matches(g, v)).count();
                while count <= n {
                    x.push(h.clone());
                    count += 1;
                }
                out.push(Value::Array(x));
            }
        }
        _ => {
            let mut x = a.clone();
            x.push(filler);
            out.push(Value::Array(x));
            let mut y = a;
            y.push(Value::Null);
            out.push(Value::Array(y));
        }
    }
    out
}

fn object_candidates(k: &Keywords, t: &MutationTarget, m: Map<String, Value>) -> Vec<Value> {
    let mut out = Vec::new();
    match t.keyword.as_str() {
        "required" => {
            if let Some(r) = &t.arg {
                let mut x = m;
                x.shift_remove(r);
                out.push(Value::Object(x));
            }
        }
        "dependencies"
            if k.dependent_schemas
                .iter()
                .any(|(kk, _)| Some(kk) == t.arg.as_ref()) =>
        {
            if let Some(p) = &t.arg {
                for v in SIMPLE() {
                    let mut x = m.clone();
                    x.insert(p.clone(), v);
                    out.push(Value::Object(x));
                }
            }
        }
        "dependentRequired" | "dependencies" => {
            let Some(key) = &t.arg else { return out };
            let names = k
                .dependent_required
                .iter()
                .find(|(kk, _)| kk == key)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            if m.contains_key(key) {
                for n in &names {
                    if m.contains_key(n) {
                        let mut x = m.clone();
                        x.shift_remove(n);
                        out.push(Value::Object(x));
                    }
                }
            } else {
                let mut x = m.clone();
                for n in &names {
                    x.shift_remove(n);
                }
                x.insert(key.clone(), Value::Null);
                out.push(Value::Object(x));
            }
        }
        "properties" | "dependentSchemas" => {
            if let Some(p) = &t.arg {
                for v in SIMPLE() {
                    let mut x = m.clone();
                    x.insert(p.clone(), v);
                    out.push(Value::Object(x));
                }
            }
        }
        "propertyNames" => {
            for name in [
                "",
                "!!",
                "0",
                "zz extra",
                "ZZ_EXTRA_MUTANT_NAME_THAT_IS_LONG",
            ] {
                if !m.contains_key(name) {
                    let mut x = m.clone();
                    x.insert(name.to_owned(), Value::Null);
                    out.push(Value::Object(x));
                }
            }
        }
        "minProperties" => {
            let n = usize::try_from(k.min_properties.unwrap_or(1)).unwrap_or(1);
            let x: Map<String, Value> = m.into_iter().take(n.saturating_sub(1)).collect();
            out.push(Value::Object(x));
        }
        "maxProperties" => {
            if let Some(n) = past(k.max_properties) {
                let mut x = m.clone();
                let mut i = 0;
                while x.len() < n {
                    let key = format!("zz_extra{i}");
                    i += 1;
                    if !x.contains_key(&key) && !k.properties.iter().any(|(p, _)| *p == key) {
                        x.insert(key, Value::Null);
                    }
                }
                out.push(Value::Object(x));
            }
        }
        _ => {
            // additionalProperties / unevaluatedProperties: a key nothing declares.
            for v in SIMPLE() {
                let mut x = m.clone();
                let key = fresh_key(&x, k, "zz_unexpected");
                x.insert(key, v);
                out.push(Value::Object(x));
            }
        }
    }
    out
}

/// Does the validator's `(keyword, path)` count as hitting the aimed target?
fn accepts(t: &MutationTarget, keyword: &str, path: &str, schema_path: &str) -> bool {
    let here = path == t.instance_path;
    let child = path.starts_with(&format!("{}/", t.instance_path));
    match t.keyword.as_str() {
        "items" | "additionalItems" | "unevaluatedItems" => {
            (here || child)
                && matches!(
                    keyword,
                    "items" | "additionalItems" | "unevaluatedItems" | "falseSchema"
                )
        }
        "additionalProperties" | "unevaluatedProperties" => {
            (here && keyword == t.keyword)
                || (child && schema_path.contains(&format!("/{}", t.keyword)))
        }
        "propertyNames" => {
            (here || child)
                && (keyword == "propertyNames" || schema_path.contains("/propertyNames"))
        }
        "properties" | "patternProperties" | "prefixItems" => {
            child || (here && schema_path.contains(&format!("/{}", t.keyword)))
        }
        "then" | "else" | "dependentSchemas" => {
            (here || child) && schema_path.contains(&format!("/{}", t.keyword))
        }
        "dependencies" => {
            (here && matches!(keyword, "dependencies" | "dependentRequired" | "required"))
                || ((here || child) && schema_path.contains("/dependencies"))
        }
        "dependentRequired" => here && matches!(keyword, "dependentRequired" | "required"),
        "contains" | "minContains" | "maxContains" => {
            here && matches!(keyword, "contains" | "minContains" | "maxContains")
        }
        _ => here && keyword == t.keyword,
    }
}

/// Try the target's candidates; returns the mutant (if any) and how many candidates failed.
pub(crate) fn apply(
    ir: &Ir,
    oracle: &Oracle,
    valid: &Value,
    t: &MutationTarget,
    src: &mut dyn Source,
) -> (Option<crate::Mutant>, u64) {
    let mut g = Gen::new(ir, oracle);
    let Some(sub) = valid
        .pointer(&t.instance_path)
        .or(t.instance_path.is_empty().then_some(valid))
    else {
        return (None, 0);
    };
    let mut cands = candidates(&mut g, t, sub, src);
    if cands.is_empty() {
        return (None, 0);
    }
    let rot = src.choose(cands.len());
    if !matches!(t.keyword.as_str(), "format" | "pattern" | "const" | "enum") {
        cands.rotate_left(rot);
    }
    let mut discarded = 0;
    for c in cands {
        // Only what the edit can change is checked first: the aimed node must reject the new
        // sub-instance (a node it still satisfies cannot report the aimed keyword there). The
        // whole document is cloned and judged by the root validator only for a candidate that
        // passes, and that verdict stays the final word.
        if oracle.node_valid(t.node, &c) == Some(true) {
            discarded += 1;
            continue;
        }
        let mut x = valid.clone();
        let Some(slot) = get_mut(&mut x, &t.instance_path) else {
            continue;
        };
        *slot = c;
        let hit = oracle.root().iter_errors(&x).find_map(|e| {
            let kw = e.kind().keyword().to_owned();
            let path = e.instance_path().as_str().to_owned();
            accepts(t, &kw, &path, e.schema_path().as_str()).then_some((kw, path))
        });
        if let Some((keyword, instance_path)) = hit {
            return (
                Some(crate::Mutant {
                    value: x,
                    keyword,
                    instance_path,
                    class: t.class,
                }),
                discarded,
            );
        }
        discarded += 1;
    }
    (None, discarded)
}

/// Any invalid value, annotated with the first error: for schemas that admit nothing.
pub(crate) fn any_invalid(oracle: &Oracle, src: &mut dyn Source) -> Option<crate::Mutant> {
    let mut pool = SIMPLE();
    pool.push(json!(src.int_in_range(0, 1000)));
    pool.push(json!(format!("s{}", src.int_in_range(0, 1000))));
    pool.push(json!({ "k": src.int_in_range(0, 9) }));
    pool.push(json!([src.int_in_range(0, 9)]));
    let start = src.choose(pool.len());
    pool.rotate_left(start);
    for v in pool {
        let first = oracle.root().iter_errors(&v).next().map(|e| {
            (
                e.kind().keyword().to_owned(),
                e.instance_path().as_str().to_owned(),
            )
        });
        if let Some((keyword, instance_path)) = first {
            return Some(crate::Mutant {
                keyword,
                instance_path,
                value: v,
                class: MutationClass::WrongType,
            });
        }
    }
    None
}

#[allow(dead_code)]
fn is_bool_false(ir: &Ir, id: NodeId) -> bool {
    matches!(ir.nodes.get(id), Some(Node::Bool(false)))
}
