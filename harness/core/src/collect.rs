//! The full error list of an event, on the borrowed tree, without the `jsonschema` crate's error
//! path.
//!
//! Why: for an event the fast path rejects, `iter_errors` was 40 % of the cost and ran at a
//! fraction of the parser's instructions per cycle (boxed validators, an allocation per error
//! location), which put "invalid events with every error" at 2.4× parse-only against a target
//! of 1.6×.
//!
//! What: each contract is compiled once more, not merged like the fast path's nodes but keyword
//! by keyword as `jsonschema` compiles it: every schema object keeps its own keywords, each with
//! its absolute location and its masked message written out at compile time. Evaluating them on
//! [`Tree`] gives the crate's error list, keyword, instance path, location and message, to the
//! character. The pieces that decide a verdict are the crate's own where it exports them (format
//! validators, number comparisons, equality, uniqueness, the pattern translation).
//!
//! How it is held to that: the differential tests and the soak (`tests/it/fastpath.rs`) compare
//! the whole verdict of `validate_bytes` with the serde_json + `jsonschema` reference on
//! generated valid events, mutants of every kind, persistence and self-causation cases,
//! truncations and byte flips. A keyword, `$ref` or property name this module does not compile
//! leaves its schema file to `jsonschema` (see [`Collector::fallbacks`]).

use crate::fast::matchers::{self, key_tag};
use crate::fast::{Borrowed, Tree};
use crate::validate::{Step, Trail, Violation};
use jsonschema::Validator;
use jsonschema::json::Node as _;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

pub(crate) type SchemaId = u32;

/// Every schema file compiled for error collection.
pub(crate) struct Collector {
    schemas: Vec<Schema>,
    /// Root schema of each compiled file (path relative to the specs root).
    roots: HashMap<String, SchemaId>,
    /// Files left to `jsonschema`, with the reason.
    fallbacks: Vec<(String, String)>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("schemas", &self.schemas.len())
            .field("roots", &self.roots.len())
            .field("fallbacks", &self.fallbacks)
            .finish()
    }
}

/// One schema object or boolean schema.
enum Schema {
    True,
    /// `false`: every instance fails, reported at the schema's own location.
    False {
        at: String,
    },
    Keywords(Object),
}

/// A schema object's keywords, and the member names its object keywords speak of: the names of
/// `properties` first, then names only `required` lists. An object instance's members are
/// matched against this table once, not once per keyword.
struct Object {
    kws: Vec<Kw>,
    names: Vec<Name>,
    /// How many of `names` come from `properties` (the rest are not declared, for
    /// `additionalProperties`).
    declared: usize,
    /// A schema that is one `$ref` (or a one-branch `allOf`) and nothing else is its target:
    /// it adds no error of its own, so the walk goes straight there.
    alias: Option<SchemaId>,
}

/// A member name, with its [`key_tag`] to compare before the bytes.
struct Name {
    tag: (usize, u128),
    name: String,
}

impl Name {
    /// Whether `k` is this name: length and first sixteen bytes (the fast path's [`key_tag`]),
    /// then the rest.
    #[inline]
    fn is(&self, k: &str) -> bool {
        k.len() == self.tag.0
            && key_tag(k.as_bytes()) == self.tag
            && (k.len() <= 16 || k == self.name)
    }
}

/// A name not among the members.
const NONE: u16 = u16::MAX;

/// One keyword of a schema object: what it checks, and what its error says.
struct Kw {
    /// The error's keyword (`jsonschema`'s `kind().keyword()`).
    keyword: &'static str,
    /// Absolute keyword location, relative to the specs root.
    at: String,
    /// The masked message, when it does not depend on the instance.
    message: String,
    rule: Rule,
}

enum Rule {
    /// `$ref` (its target's errors carry the target's locations) or an `allOf` branch.
    Apply(Vec<SchemaId>),
    Type(u8),
    /// `enum` and `const`: the instance equals one of these.
    OneOfValues(Vec<Value>),
    /// `enum` / `const` of strings only, sorted by length then bytes (most probes then differ in
    /// length alone): a string instance is looked up, any other instance equals none of them.
    OneOfStrings(Vec<String>),
    Pattern(Matcher),
    Format(Format),
    MinLength(u64),
    MaxLength(u64),
    Bound(Bound, Limit),
    /// Each missing name (an index into the names table) is its own error, with its own message.
    Required(Vec<(u8, String)>),
    /// The schema of each declared name, by index into the names table.
    Properties(Vec<SchemaId>),
    /// `additionalProperties` (`None` is `false`) on the members `properties` does not declare.
    Additional(Option<SchemaId>),
    Items(SchemaId),
    MinItems(u64),
    MaxItems(u64),
    UniqueItems,
    MinProperties(u64),
    MaxProperties(u64),
    AnyOf(Vec<SchemaId>),
    /// `anyOf` whose every branch is `{"pattern": P}` alone: the alternation of the patterns
    /// (a string matches a branch exactly when it matches the alternation; a non-string passes
    /// every branch). The catalogue's secret detectors are five such searches, one scan here.
    AnyPattern(matchers::Pattern),
    Not(SchemaId),
    If(SchemaId, Option<SchemaId>, Option<SchemaId>),
}

#[derive(Clone, Copy)]
enum Bound {
    Min,
    Max,
    ExclusiveMin,
    ExclusiveMax,
}

/// A numeric limit as `jsonschema` keeps it: u64 if it fits, else i64, else f64.
#[derive(Clone, Copy)]
enum Limit {
    U(u64),
    I(i64),
    F(f64),
}

/// A compiled `pattern`: the catalogue's UUID, timestamp and version patterns by their hand
/// matchers (the fast path proves them equal to the regex), any other by the regex crate on the
/// pattern `jsonschema` translates it to, after the `jsonschema-regex` crate's own matcher for
/// anchored class sequences (what `jsonschema` itself tries first) where that one decides.
enum Matcher {
    Uuid,
    Timestamp,
    Version(Option<u64>),
    /// The envelope's `event_type` pattern, by the check the dispatch already uses.
    EventType,
    /// Shared with the fast path when it compiled the same pattern.
    Regex(Arc<matchers::Pattern>),
}

impl Matcher {
    fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Uuid => matchers::is_uuid(s.as_bytes()),
            Matcher::Timestamp => matchers::is_timestamp(s.as_bytes(), false),
            Matcher::Version(major) => matchers::is_version(s.as_bytes(), *major),
            Matcher::EventType => crate::validate::well_formed_type(s),
            Matcher::Regex(p) => p.is_match(s.as_bytes()),
        }
    }
}

/// A `format`, checked by the `jsonschema` crate's own validator, except for the strings a hand
/// matcher already proves well formed: a canonical lowercase UUID is a `uuid`, and a string of the
/// catalogue's timestamp pattern whose day exists is a `date-time` (the fast path relies on the
/// same two facts; its tests check them against the crate).
struct Format {
    quick: Quick,
    validator: Arc<Validator<Borrowed>>,
}

#[derive(Clone, Copy)]
enum Quick {
    None,
    Uuid,
    DateTime,
}

impl Format {
    #[inline]
    fn accepts(&self, s: &str) -> bool {
        match self.quick {
            Quick::None => false,
            Quick::Uuid => matchers::is_uuid(s.as_bytes()),
            Quick::DateTime => matchers::is_timestamp(s.as_bytes(), true),
        }
    }
}

/// JSON types as bits, in `jsonschema`'s order (null, boolean, integer, number, string, array,
/// object), which is also the order its "is not of types" message lists them in.
const TYPES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

fn type_bit(name: &str) -> Option<u8> {
    TYPES.iter().position(|t| *t == name).map(|i| 1 << i)
}

/// The bits an instance satisfies: a number with no fraction is also an integer.
fn types_of(v: &Tree<'_>) -> u8 {
    match v {
        Tree::Null => 1,
        Tree::Bool(_) => 1 << 1,
        Tree::Number(n) => {
            if n.is_u64() || n.is_i64() || jsonschema_value::types::number_is_integer(n) {
                (1 << 2) | (1 << 3)
            } else {
                1 << 3
            }
        }
        Tree::String(_) => 1 << 4,
        Tree::Array(..) => 1 << 5,
        Tree::Object(..) => 1 << 6,
    }
}

/// Where errors go: collected, or only "is it valid" with an early exit (inside `anyOf`, `not`
/// and `if`, whose branches' own errors are never reported).
enum Sink<'v> {
    Check,
    Collect(&'v mut Vec<Violation>),
    /// Collect, but stop at the first error ([`Detail::First`](crate::validate::Detail)).
    First(&'v mut Vec<Violation>),
}

impl Sink<'_> {
    /// Where errors go, unless only validity is asked.
    fn out(&mut self) -> Option<&mut Vec<Violation>> {
        match self {
            Sink::Check => None,
            Sink::Collect(out) | Sink::First(out) => Some(out),
        }
    }

    /// Whether the walk goes on after a failed keyword (a failure in `First` has pushed its
    /// error already).
    fn all(&self) -> bool {
        matches!(self, Sink::Collect(_))
    }
}

impl Collector {
    /// The root of `file`'s schema, when it compiled.
    pub(crate) fn root(&self, file: &str) -> Option<SchemaId> {
        self.roots.get(file).copied()
    }

    /// Files whose errors `jsonschema` collects, with the reason.
    pub(crate) fn fallbacks(&self) -> &[(String, String)] {
        &self.fallbacks
    }

    /// Every error of `event` under the schema `root` (or only the first one the walk meets,
    /// with `first`), appended to `out`; `true` when there was none.
    #[inline(never)]
    pub(crate) fn errors(
        &self,
        root: SchemaId,
        event: &Tree<'_>,
        first: bool,
        out: &mut Vec<Violation>,
    ) -> bool {
        let mut sink = if first {
            Sink::First(out)
        } else {
            Sink::Collect(out)
        };
        self.eval(root, event, None, &mut sink)
    }

    fn eval(
        &self,
        id: SchemaId,
        v: &Tree<'_>,
        path: Option<&Trail<'_>>,
        sink: &mut Sink<'_>,
    ) -> bool {
        let mut id = id;
        while let Schema::Keywords(Object {
            alias: Some(target),
            ..
        }) = &self.schemas[id as usize]
        {
            id = *target; // chains end: `Build::file_root` refuses alias cycles
        }
        let kws = match &self.schemas[id as usize] {
            Schema::True => return true,
            Schema::False { at } => {
                if let Some(out) = sink.out() {
                    out.push(violation(
                        "falseSchema",
                        path,
                        at,
                        "False schema does not allow value".into(),
                    ));
                }
                return false;
            }
            Schema::Keywords(object) => object,
        };
        // Where each name of the table is among the members, found once for all the object
        // keywords. Names are looked for from just past the last one found: members mostly come
        // in the schema's order, so most names are found at the first try.
        let mut found;
        let at = match v {
            Tree::Object(members, _) if !kws.names.is_empty() => {
                found = Here {
                    found: [NONE; 64],
                    seen: 0,
                    declared: kws.declared,
                };
                found.find(&kws.names, members);
                &found
            }
            // Nothing to find: the object keywords see no member declared.
            _ => &NOTHING,
        };
        let mut ok = true;
        for kw in &kws.kws {
            if !self.keyword(kw, v, path, at, sink) {
                ok = false;
                if !sink.all() {
                    return false;
                }
            }
        }
        ok
    }
}

impl Here {
    const fn nothing() -> Here {
        Here {
            found: [NONE; 64],
            seen: 0,
            declared: 0,
        }
    }

    fn find(&mut self, names: &[Name], members: &[(std::borrow::Cow<'_, str>, Tree<'_>)]) {
        {
            let mut from = 0;
            for (i, name) in names.iter().enumerate() {
                let (tail, head) = members.split_at(from.min(members.len()));
                let hit = head
                    .iter()
                    .position(|(k, _)| name.is(k))
                    .map(|j| from + j)
                    .or_else(|| tail.iter().position(|(k, _)| name.is(k)));
                if let Some(j) = hit {
                    self.found[i] = u16::try_from(j).unwrap_or(NONE);
                    self.seen |= 1 << i;
                    from = j + 1;
                }
            }
        }
    }
}

/// What the object keywords see on an instance that is not an object, or when the schema
/// names no member.
static NOTHING: Here = Here::nothing();

impl Collector {
    /// Each `(schema, step, child)` of `children`, one step below `path`: `false` when one failed.
    fn each<'t>(
        &self,
        children: impl Iterator<Item = (SchemaId, Step<'t>, &'t Tree<'t>)>,
        path: Option<&Trail<'_>>,
        sink: &mut Sink<'_>,
    ) -> bool {
        let mut ok = true;
        for (id, step, child) in children {
            let here = Trail { step, parent: path };
            if !self.eval(id, child, Some(&here), sink) {
                ok = false;
                if !sink.all() {
                    return false;
                }
            }
        }
        ok
    }

    /// One keyword on `v`: `false` when it failed (its errors, or its own, are in the sink).
    fn keyword(
        &self,
        kw: &Kw,
        v: &Tree<'_>,
        path: Option<&Trail<'_>>,
        here: &Here,
        sink: &mut Sink<'_>,
    ) -> bool {
        let own = match &kw.rule {
            Rule::Apply(ids) => {
                let mut ok = true;
                for &id in ids {
                    ok &= self.eval(id, v, path, sink);
                    if !ok && !sink.all() {
                        return false;
                    }
                }
                return ok;
            }
            Rule::Type(bits) => types_of(v) & bits != 0,
            Rule::OneOfValues(values) => values.iter().any(|e| (&v).equals_value(e)),
            Rule::OneOfStrings(values) => match v {
                Tree::String(s) => values
                    .binary_search_by(|e| (e.len(), e.as_str()).cmp(&(s.len(), s)))
                    .is_ok(),
                _ => false,
            },
            Rule::Pattern(m) => !matches!(v, Tree::String(s) if !m.is_match(s)),
            Rule::Format(f) => match v {
                Tree::String(s) => f.accepts(s) || f.validator.is_valid(v),
                _ => true,
            },
            // Characters are at most the bytes, and at least a quarter of them.
            Rule::MinLength(n) => match v {
                Tree::String(s) => chars_at_least(s, *n),
                _ => true,
            },
            Rule::MaxLength(n) => match v {
                Tree::String(s) => !chars_at_least(s, n + 1),
                _ => true,
            },
            Rule::Bound(bound, limit) => match v {
                Tree::Number(n) => within(n, *bound, *limit),
                _ => true,
            },
            Rule::Required(names) => {
                if !matches!(v, Tree::Object(..)) {
                    return true;
                }
                let mut ok = true;
                for (i, message) in names {
                    if here.seen & (1 << i) == 0 {
                        ok = false;
                        if let Some(out) = sink.out() {
                            out.push(violation(kw.keyword, path, &kw.at, message.clone()));
                        }
                        if !sink.all() {
                            return false;
                        }
                    }
                }
                return ok;
            }
            Rule::Properties(props) => {
                let Tree::Object(members, _) = v else {
                    return true;
                };
                let present = props.iter().zip(&here.found).filter_map(|(&id, &j)| {
                    let (name, child) = members.get(usize::from(j))?;
                    Some((id, Step::Key(name), child))
                });
                return self.each(present, path, sink);
            }
            Rule::Additional(schema) => {
                let Tree::Object(members, _) = v else {
                    return true;
                };
                // The declared members, as bits of their positions (a `Vec` past 64 members).
                let many = members.len() > 64;
                let mut bits = 0u64;
                let mut flags = if many {
                    vec![false; members.len()]
                } else {
                    Vec::new()
                };
                for &j in &here.found[..here.declared] {
                    match usize::from(j) {
                        j if many && j < flags.len() => flags[j] = true,
                        j if j < 64 => bits |= 1 << j,
                        _ => {}
                    }
                }
                let extra = members
                    .iter()
                    .enumerate()
                    .filter(move |(j, _)| {
                        if many {
                            !flags[*j]
                        } else {
                            bits & (1 << j) == 0
                        }
                    })
                    .map(|(_, m)| m);
                match schema {
                    None if here.declared == 0 => {
                        // `jsonschema` reports the first member, at the object, as a false schema.
                        if members.is_empty() {
                            return true;
                        }
                        if let Some(out) = sink.out() {
                            out.push(violation(kw.keyword, path, &kw.at, kw.message.clone()));
                        }
                        return false;
                    }
                    None => {
                        let mut unexpected = extra.map(|(k, _)| k.as_ref()).peekable();
                        if unexpected.peek().is_none() {
                            return true;
                        }
                        if let Some(out) = sink.out() {
                            let names: Vec<&str> = unexpected.collect();
                            out.push(violation(
                                kw.keyword,
                                path,
                                &kw.at,
                                additional_message(&names),
                            ));
                        }
                        return false;
                    }
                    Some(id) => {
                        let extra = extra.map(|(name, child)| (*id, Step::Key(name), child));
                        return self.each(extra, path, sink);
                    }
                }
            }
            Rule::Items(id) => {
                let Tree::Array(items, _) = v else {
                    return true;
                };
                let items = items.iter().enumerate();
                return self.each(
                    items.map(|(i, item)| (*id, Step::Index(i), item)),
                    path,
                    sink,
                );
            }
            Rule::MinItems(n) => !matches!(v, Tree::Array(a, _) if (a.len() as u64) < *n),
            Rule::MaxItems(n) => !matches!(v, Tree::Array(a, _) if (a.len() as u64) > *n),
            Rule::UniqueItems => match v {
                Tree::Array(items, _) if items.len() > 1 => {
                    let values: Vec<Value> =
                        items.iter().map(|i| (&i).to_value().into_owned()).collect();
                    jsonschema_value::unique::is_unique(&values)
                }
                _ => true,
            },
            Rule::MinProperties(n) => !matches!(v, Tree::Object(m, _) if (m.len() as u64) < *n),
            Rule::MaxProperties(n) => !matches!(v, Tree::Object(m, _) if (m.len() as u64) > *n),
            Rule::AnyOf(branches) => branches
                .iter()
                .any(|&b| self.eval(b, v, path, &mut Sink::Check)),
            Rule::AnyPattern(r) => !matches!(v, Tree::String(s) if !r.is_match(s.as_bytes())),
            Rule::Not(id) => !self.eval(*id, v, path, &mut Sink::Check),
            Rule::If(cond, then, other) => {
                let branch = if self.eval(*cond, v, path, &mut Sink::Check) {
                    then
                } else {
                    other
                };
                return branch.is_none_or(|b| self.eval(b, v, path, sink));
            }
        };
        if !own && let Some(out) = sink.out() {
            out.push(violation(kw.keyword, path, &kw.at, kw.message.clone()));
        }
        own
    }
}

/// What [`Collector::eval`] found out about an object instance for its schema's object keywords.
struct Here {
    /// The member index of each name of the table ([`NONE`] when absent).
    /// (The tree leaves objects of more than 65,534 members to serde_json.)
    found: [u16; 64],
    /// Bits of the table's names that are present.
    seen: u64,
    declared: usize,
}

/// Whether `s` has at least `n` characters (Unicode scalar values, as `jsonschema` counts).
fn chars_at_least(s: &str, n: u64) -> bool {
    let bytes = s.len() as u64;
    if bytes < n {
        false
    } else if bytes / 4 >= n || s.is_ascii() {
        true
    } else {
        s.chars().count() as u64 >= n
    }
}

fn violation(keyword: &str, path: Option<&Trail<'_>>, at: &str, message: String) -> Violation {
    let mut instance_path = String::new();
    if let Some(path) = path {
        path.write_pointer(&mut instance_path);
    }
    Violation {
        keyword: keyword.to_owned(),
        instance_path,
        schema_path: at.to_owned(),
        message,
    }
}

fn additional_message(names: &[&str]) -> String {
    let mut m = String::from("Additional properties are not allowed (");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            m.push_str(", ");
        }
        let _ = write!(m, "'{n}'");
    }
    m.push_str(if names.len() == 1 {
        " was unexpected)"
    } else {
        " were unexpected)"
    });
    m
}

fn within(n: &serde_json::Number, bound: Bound, limit: Limit) -> bool {
    use jsonschema_value::numeric::{ge, gt, le, lt};
    macro_rules! cmp {
        ($f:ident) => {
            match limit {
                Limit::U(l) => $f(n, l),
                Limit::I(l) => $f(n, l),
                Limit::F(l) => $f(n, l),
            }
        };
    }
    match bound {
        Bound::Min => cmp!(ge),
        Bound::Max => cmp!(le),
        Bound::ExclusiveMin => cmp!(gt),
        Bound::ExclusiveMax => cmp!(lt),
    }
}

/// Keywords that only annotate, as the fast path counts them (`$id` and anchors are not among
/// them: they change how `$ref`s resolve), and `then`/`else`, which `if` compiles.
fn is_annotation(k: &str) -> bool {
    matchers::is_annotation(k) || matches!(k, "then" | "else")
}

/// A JSON pointer token that needs no escaping in a pointer or a URI fragment.
fn plain_token(t: &str) -> bool {
    !t.is_empty()
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'$'))
}

struct Build<'d> {
    docs: &'d BTreeMap<String, Arc<Value>>,
    schemas: Vec<Schema>,
    /// `file#pointer` of every schema compiled, so a `$ref` target is compiled once.
    seen: HashMap<String, SchemaId>,
    formats: HashMap<String, Arc<Validator<Borrowed>>>,
    /// Patterns compiled already (the fast path's), by source; new ones are added.
    patterns: HashMap<String, Arc<matchers::Pattern>>,
}

impl Collector {
    /// Compile every file of `files` (paths relative to the specs root), reusing the
    /// `patterns` compiled already.
    pub(crate) fn build(
        docs: &BTreeMap<String, Arc<Value>>,
        files: &[String],
        patterns: &HashMap<String, Arc<matchers::Pattern>>,
    ) -> Self {
        let mut b = Build {
            docs,
            schemas: Vec::new(),
            seen: HashMap::new(),
            formats: HashMap::new(),
            patterns: patterns.clone(),
        };
        let mut roots = HashMap::new();
        let mut fallbacks = Vec::new();
        for file in files {
            let mark = b.schemas.len();
            match b.file_root(file) {
                Ok(id) => {
                    roots.insert(file.clone(), id);
                }
                Err(why) => {
                    // Forget what this file compiled: ids from `mark` on are dropped.
                    b.schemas.truncate(mark);
                    b.seen.retain(|_, id| (*id as usize) < mark);
                    fallbacks.push((file.clone(), why));
                }
            }
        }
        Collector {
            schemas: b.schemas,
            roots,
            fallbacks,
        }
    }
}

impl<'d> Build<'d> {
    fn file_root(&mut self, file: &str) -> Result<SchemaId, String> {
        let doc = self
            .docs
            .get(file)
            .ok_or_else(|| format!("no schema {file}{}", crate::registry::EMBEDDED_NOTE))?;
        let mark = self.schemas.len();
        let root = self.schema(doc, file, "")?;
        // A `$ref` cycle that never reaches a keyword would walk forever. Schemas compiled for
        // earlier files passed this already, and a new chain that reaches one ends there.
        for start in mark..self.schemas.len() {
            let mut at = start;
            for _ in 0..=self.schemas.len() {
                match &self.schemas[at] {
                    Schema::Keywords(Object { alias: Some(t), .. }) => at = *t as usize,
                    _ => break,
                }
            }
            if matches!(
                &self.schemas[at],
                Schema::Keywords(Object { alias: Some(_), .. })
            ) {
                return Err(format!("{file}: a $ref cycle with no keyword on it"));
            }
        }
        Ok(root)
    }

    /// Compile the schema `s` found at `file#pointer`.
    fn schema(&mut self, s: &'d Value, file: &str, pointer: &str) -> Result<SchemaId, String> {
        let here = format!("{file}#{pointer}");
        if let Some(&id) = self.seen.get(&here) {
            return Ok(id);
        }
        let id = SchemaId::try_from(self.schemas.len()).map_err(|e| e.to_string())?;
        self.schemas.push(Schema::True);
        self.seen.insert(here.clone(), id);
        let compiled = match s {
            Value::Bool(true) => Schema::True,
            Value::Bool(false) => Schema::False { at: here },
            Value::Object(map) => Schema::Keywords(self.keywords(map, file, pointer)?),
            _ => return Err(format!("{here}: a schema is an object or a boolean")),
        };
        self.schemas[id as usize] = compiled;
        Ok(id)
    }

    fn sub(
        &mut self,
        s: &'d Value,
        file: &str,
        pointer: &str,
        step: &str,
    ) -> Result<SchemaId, String> {
        self.schema(s, file, &format!("{pointer}/{step}"))
    }

    #[allow(clippy::too_many_lines, reason = "one arm per keyword, in one place")]
    fn keywords(
        &mut self,
        map: &'d Map<String, Value>,
        file: &str,
        pointer: &str,
    ) -> Result<Object, String> {
        let mut kws = Vec::new();
        let mut names: Vec<String> = match map.get("properties") {
            Some(Value::Object(p)) => p.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let declared = names.len();
        if let Some(Value::Array(required)) = map.get("required") {
            for r in required {
                if let Some(r) = r.as_str().filter(|r| !names.iter().any(|n| n == r)) {
                    names.push(r.to_owned());
                }
            }
        }
        if names.len() > 64 {
            return Err(format!("{file}#{pointer}: more than 64 member names"));
        }
        let slot = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .and_then(|i| u8::try_from(i).ok())
        };
        for (k, v) in map {
            let bad = || format!("{file}#{pointer}: keyword {k}: unsupported value {v}");
            let at = format!("{file}#{pointer}/{k}");
            let (keyword, message, rule): (&'static str, String, Rule) = match k.as_str() {
                k if is_annotation(k) => continue,
                "$ref" => {
                    let r = v.as_str().ok_or_else(bad)?;
                    let (target, target_file, target_pointer) =
                        crate::registry::resolve_ref(self.docs, r, file)?;
                    // Locations are URI fragments: a pointer token must need no encoding.
                    if !target_pointer.split('/').skip(1).all(plain_token) {
                        return Err(format!("$ref {r}: pointer needs escaping"));
                    }
                    let id = self.schema(target, &target_file, target_pointer)?;
                    ("$ref", String::new(), Rule::Apply(vec![id]))
                }
                "allOf" => {
                    let mut ids = Vec::new();
                    for (i, s) in v.as_array().ok_or_else(bad)?.iter().enumerate() {
                        ids.push(self.sub(s, file, pointer, &format!("allOf/{i}"))?);
                    }
                    ("allOf", String::new(), Rule::Apply(ids))
                }
                "type" => {
                    let names: Vec<&str> = match v {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) => a
                            .iter()
                            .map(|t| t.as_str().ok_or_else(bad))
                            .collect::<Result<_, _>>()?,
                        _ => return Err(bad()),
                    };
                    let mut bits = 0u8;
                    for n in &names {
                        bits |= type_bit(n).ok_or_else(bad)?;
                    }
                    let message = if names.len() == 1 {
                        format!(r#"value is not of type "{}""#, names[0])
                    } else {
                        let listed: Vec<String> = TYPES
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| bits & (1 << i) != 0)
                            .map(|(_, t)| format!("\"{t}\""))
                            .collect();
                        format!("value is not of types {}", listed.join(", "))
                    };
                    ("type", message, Rule::Type(bits))
                }
                "enum" => {
                    let options = v.as_array().ok_or_else(bad)?;
                    ("enum", enum_message(options), one_of(options))
                }
                "const" => (
                    "const",
                    format!("{v} was expected"),
                    one_of(std::slice::from_ref(v)),
                ),
                "pattern" => {
                    let p = v.as_str().ok_or_else(bad)?;
                    (
                        "pattern",
                        format!(r#"value does not match "{p}""#),
                        Rule::Pattern(matcher(p, &mut self.patterns)?),
                    )
                }
                "format" => {
                    let name = v.as_str().ok_or_else(bad)?;
                    let f = self.format(name)?;
                    (
                        "format",
                        format!(r#"value is not a "{name}""#),
                        Rule::Format(Format {
                            quick: match name {
                                "uuid" => Quick::Uuid,
                                "date-time" => Quick::DateTime,
                                _ => Quick::None,
                            },
                            validator: f,
                        }),
                    )
                }
                k if count_keyword(k).is_some() => {
                    let (keyword, says, one, many, rule) = count_keyword(k).ok_or_else(bad)?;
                    let n = v.as_u64().ok_or_else(bad)?;
                    let noun = if n == 1 { one } else { many };
                    (keyword, format!("value {says} {n} {noun}"), rule(n))
                }
                "uniqueItems" => {
                    if !v.as_bool().ok_or_else(bad)? {
                        continue;
                    }
                    (
                        "uniqueItems",
                        "value has non-unique elements".into(),
                        Rule::UniqueItems,
                    )
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    let Value::Number(x) = v else {
                        return Err(bad());
                    };
                    let limit = if let Some(u) = x.as_u64() {
                        Limit::U(u)
                    } else if let Some(i) = x.as_i64() {
                        Limit::I(i)
                    } else {
                        Limit::F(x.as_f64().ok_or_else(bad)?)
                    };
                    match k.as_str() {
                        "minimum" => (
                            "minimum",
                            format!("value is less than the minimum of {v}"),
                            Rule::Bound(Bound::Min, limit),
                        ),
                        "maximum" => (
                            "maximum",
                            format!("value is greater than the maximum of {v}"),
                            Rule::Bound(Bound::Max, limit),
                        ),
                        "exclusiveMinimum" => (
                            "exclusiveMinimum",
                            format!("value is less than or equal to the minimum of {v}"),
                            Rule::Bound(Bound::ExclusiveMin, limit),
                        ),
                        _ => (
                            "exclusiveMaximum",
                            format!("value is greater than or equal to the maximum of {v}"),
                            Rule::Bound(Bound::ExclusiveMax, limit),
                        ),
                    }
                }
                "required" => {
                    let mut missing = Vec::new();
                    for r in v.as_array().ok_or_else(bad)? {
                        let i = r.as_str().and_then(slot).ok_or_else(bad)?;
                        missing.push((i, format!("{r} is a required property")));
                    }
                    ("required", String::new(), Rule::Required(missing))
                }
                "properties" => {
                    let mut props = Vec::new();
                    for (name, s) in v.as_object().ok_or_else(bad)? {
                        if !plain_token(name) {
                            return Err(format!(
                                "{file}#{pointer}: property name {name:?} is not a plain pointer token"
                            ));
                        }
                        props.push(self.sub(s, file, pointer, &format!("properties/{name}"))?);
                    }
                    ("properties", String::new(), Rule::Properties(props))
                }
                "additionalProperties" => match v {
                    Value::Bool(true) => continue,
                    Value::Bool(false) if declared == 0 => (
                        "falseSchema",
                        "False schema does not allow value".into(),
                        Rule::Additional(None),
                    ),
                    Value::Bool(false) => (
                        "additionalProperties",
                        String::new(),
                        Rule::Additional(None),
                    ),
                    s => {
                        let id = self.sub(s, file, pointer, "additionalProperties")?;
                        (
                            "additionalProperties",
                            String::new(),
                            Rule::Additional(Some(id)),
                        )
                    }
                },
                "items" => {
                    if v.is_array() {
                        return Err(bad());
                    }
                    (
                        "items",
                        String::new(),
                        Rule::Items(self.sub(v, file, pointer, "items")?),
                    )
                }
                "anyOf" => {
                    let branches = v.as_array().ok_or_else(bad)?;
                    let rule = match any_pattern(branches, &mut self.patterns)? {
                        Some(r) => Rule::AnyPattern(r),
                        None => {
                            let mut ids = Vec::new();
                            for (i, s) in branches.iter().enumerate() {
                                ids.push(self.sub(s, file, pointer, &format!("anyOf/{i}"))?);
                            }
                            Rule::AnyOf(ids)
                        }
                    };
                    (
                        "anyOf",
                        "value is not valid under any of the schemas listed in the 'anyOf' keyword"
                            .into(),
                        rule,
                    )
                }
                "not" => (
                    "not",
                    format!("{v} is not allowed for value"),
                    Rule::Not(self.sub(v, file, pointer, "not")?),
                ),
                "if" => {
                    let c = self.sub(v, file, pointer, "if")?;
                    let t = map
                        .get("then")
                        .map(|s| self.sub(s, file, pointer, "then"))
                        .transpose()?;
                    let e = map
                        .get("else")
                        .map(|s| self.sub(s, file, pointer, "else"))
                        .transpose()?;
                    ("if", String::new(), Rule::If(c, t, e))
                }
                other => return Err(format!("{file}#{pointer}: keyword {other} not compiled")),
            };
            kws.push(Kw {
                keyword,
                at,
                message,
                rule,
            });
        }
        let alias = match &kws[..] {
            [
                Kw {
                    rule: Rule::Apply(ids),
                    ..
                },
            ] if names.is_empty() && ids.len() == 1 => Some(ids[0]),
            _ => None,
        };
        Ok(Object {
            alias,
            kws,
            names: names
                .into_iter()
                .map(|name| Name {
                    tag: key_tag(name.as_bytes()),
                    name,
                })
                .collect(),
            declared,
        })
    }

    fn format(&mut self, name: &str) -> Result<Arc<Validator<Borrowed>>, String> {
        if let Some(v) = self.formats.get(name) {
            return Ok(Arc::clone(v));
        }
        let v = crate::registry::validator_options_for::<Borrowed>()
            .build(&serde_json::json!({ "format": name }))
            .map_err(|e| format!("format {name}: {e}"))?;
        let v = Arc::new(v);
        self.formats.insert(name.to_owned(), Arc::clone(&v));
        Ok(v)
    }
}

/// A keyword that bounds a count, with `jsonschema`'s wording of its error (the noun in the
/// singular for a limit of 1) and the rule that checks it.
type Count = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(u64) -> Rule,
);

fn count_keyword(k: &str) -> Option<Count> {
    const COUNTS: [Count; 6] = [
        (
            "minLength",
            "is shorter than",
            "character",
            "characters",
            Rule::MinLength,
        ),
        (
            "maxLength",
            "is longer than",
            "character",
            "characters",
            Rule::MaxLength,
        ),
        ("minItems", "has less than", "item", "items", Rule::MinItems),
        ("maxItems", "has more than", "item", "items", Rule::MaxItems),
        (
            "minProperties",
            "has less than",
            "property",
            "properties",
            Rule::MinProperties,
        ),
        (
            "maxProperties",
            "has more than",
            "property",
            "properties",
            Rule::MaxProperties,
        ),
    ];
    COUNTS.iter().find(|c| c.0 == k).copied()
}

/// The alternation of `branches` when each is `{"pattern": P}` and nothing else.
fn any_pattern(
    branches: &[Value],
    compiled: &mut HashMap<String, Arc<matchers::Pattern>>,
) -> Result<Option<matchers::Pattern>, String> {
    let mut parts = Vec::new();
    for b in branches {
        match b
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("pattern"))
            .and_then(Value::as_str)
        {
            Some(p) => parts.push(shared_pattern(p, compiled)?),
            None => return Ok(None),
        }
    }
    if parts.len() < 2 {
        return Ok(None);
    }
    matchers::Pattern::any(&parts).map(Some)
}

/// `p` compiled, from `compiled` when it is there already (the fast path's, or an earlier one).
fn shared_pattern(
    p: &str,
    compiled: &mut HashMap<String, Arc<matchers::Pattern>>,
) -> Result<Arc<matchers::Pattern>, String> {
    if let Some(shared) = compiled.get(p) {
        return Ok(Arc::clone(shared));
    }
    let new = Arc::new(matchers::Pattern::new(p)?);
    compiled.insert(p.to_owned(), Arc::clone(&new));
    Ok(new)
}

fn one_of(options: &[Value]) -> Rule {
    let strings: Option<Vec<String>> = options
        .iter()
        .map(|o| o.as_str().map(str::to_owned))
        .collect();
    match strings {
        Some(mut strings) => {
            strings.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
            Rule::OneOfStrings(strings)
        }
        None => Rule::OneOfValues(options.to_vec()),
    }
}

fn matcher(
    pattern: &str,
    compiled: &mut HashMap<String, Arc<matchers::Pattern>>,
) -> Result<Matcher, String> {
    use crate::fast::matchers::{TIMESTAMP, UUID, VERSION, pinned_major};
    Ok(match pattern {
        UUID => Matcher::Uuid,
        TIMESTAMP => Matcher::Timestamp,
        VERSION => Matcher::Version(None),
        crate::validate::EVENT_TYPE_PATTERN => Matcher::EventType,
        p => match pinned_major(p) {
            Some(major) => Matcher::Version(Some(major)),
            None => Matcher::Regex(shared_pattern(p, compiled)?),
        },
    })
}

/// `jsonschema`'s enum message: every option when there are at most three, else the first two
/// and a count.
fn enum_message(options: &[Value]) -> String {
    let mut m = String::from("value is not one of ");
    let n = options.len();
    if n <= 3 {
        for (i, o) in options.iter().enumerate() {
            let _ = match i {
                0 => write!(m, "{o}"),
                i if i == n - 1 => write!(m, " or {o}"),
                _ => write!(m, ", {o}"),
            };
        }
    } else {
        for (i, o) in options.iter().take(2).enumerate() {
            let _ = if i == 0 {
                write!(m, "{o}")
            } else {
                write!(m, ", {o}")
            };
        }
        let _ = write!(m, " or {} other candidates", n - 2);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::schema_location;
    use rstest::rstest;
    use serde_json::json;

    /// The collector's errors and the `jsonschema` crate's, for one schema and one instance.
    fn both(schema: &Value, instance: &str) -> (Vec<Violation>, Vec<Violation>) {
        let file = "events/t.schema.json".to_owned();
        let docs: BTreeMap<String, Arc<Value>> = [(file.clone(), Arc::new(schema.clone()))].into();
        let collector = Collector::build(&docs, std::slice::from_ref(&file), &HashMap::new());
        assert!(
            collector.fallbacks().is_empty(),
            "{:?}",
            collector.fallbacks()
        );
        let tree = Tree::parse(instance.as_bytes()).expect("the tree reads it");
        let mut ours = Vec::new();
        let root = collector.root(&file).expect("compiled");
        let valid = collector.errors(root, &tree, false, &mut ours);
        assert_eq!(valid, ours.is_empty());
        // `Detail::First`: the same verdict, and one of those errors.
        let mut one = Vec::new();
        assert_eq!(collector.errors(root, &tree, true, &mut one), valid);
        assert_eq!(one.len(), usize::from(!valid), "{one:?}");
        assert!(
            one.iter().all(|e| ours.contains(e)),
            "{one:?} not in {ours:?}"
        );
        let validator = crate::registry::validator_options()
            .with_base_uri(format!("{}{file}", crate::registry::BASE_URI))
            .build(schema)
            .expect("compiles");
        let value: Value = serde_json::from_str(instance).expect("JSON");
        let mut theirs: Vec<Violation> = validator
            .iter_errors(&value)
            .map(|e| Violation {
                keyword: e.kind().keyword().to_owned(),
                instance_path: e.instance_path().as_str().to_owned(),
                schema_path: schema_location(&e),
                message: e.masked().to_string(),
            })
            .collect();
        let key = |v: &Violation| {
            (
                v.instance_path.clone(),
                v.keyword.clone(),
                v.schema_path.clone(),
                v.message.clone(),
            )
        };
        ours.sort_by_key(key);
        theirs.sort_by_key(key);
        (ours, theirs)
    }

    /// Every keyword the collector compiles, failing and passing, against the crate itself:
    /// messages (plurals, enum elision, type lists), locations (through `$ref`, `allOf`,
    /// `if`/`then`, boolean schemas) and the cases where the two could drift (integers written
    /// as floats, non-ASCII lengths, `additionalProperties: false` without `properties`).
    #[rstest]
    #[case(json!({"type": "string"}), "1")]
    #[case(json!({"type": ["string", "null"]}), "1")]
    #[case(json!({"type": ["integer"]}), "1.5")]
    #[case(json!({"type": "integer"}), "2.0")]
    #[case(json!({"enum": ["a", "b", "c", "d", "e"]}), "\"z\"")]
    #[case(json!({"enum": ["a", 1, null]}), "1.0")]
    #[case(json!({"enum": ["a", "b"]}), "2")]
    #[case(json!({"const": {"k": [1, 2]}}), "{\"k\": [1, 2.0]}")]
    #[case(json!({"const": "x"}), "\"y\"")]
    #[case(json!({"pattern": "^a+$", "minLength": 3, "maxLength": 4}), "\"ééééé\"")]
    #[case(json!({"minLength": 1, "maxLength": 1}), "\"\"")]
    #[case(json!({"minLength": 3}), "\"éé\"")]
    #[case(json!({"format": "date-time"}), "\"2025-02-30T10:00:00Z\"")]
    #[case(json!({"format": "uuid"}), "\"0190A8E2-0000-7000-8000-000000000000\"")]
    #[case(json!({"format": "email"}), "\"Joe <joe@example.com>\"")]
    #[case(json!({"minimum": 1, "maximum": 2.5, "exclusiveMinimum": -1}), "3")]
    #[case(json!({"exclusiveMaximum": 0, "exclusiveMinimum": 0}), "0")]
    #[case(json!({"minimum": 18446744073709551615_u64}), "-1")]
    #[case(json!({"required": ["a", "b"], "properties": {"a": {"type": "string"}}, "additionalProperties": false}), "{\"a\": 1, \"x\": 1, \"y\": 2}")]
    #[case(json!({"additionalProperties": false}), "{\"x\": 1, \"y\": 2}")]
    #[case(json!({"properties": {"a": true}, "additionalProperties": {"type": "integer"}}), "{\"a\": \"s\", \"b\": \"s\", \"c\": 1}")]
    #[case(json!({"properties": {"a": false}}), "{\"a\": 1}")]
    #[case(json!({"minProperties": 2, "maxProperties": 1}), "{\"a\": 1}")]
    #[case(json!({"items": {"type": "string"}, "minItems": 4, "maxItems": 1, "uniqueItems": true}), "[1, 1.0, \"a\"]")]
    #[case(json!({"anyOf": [{"type": "string"}, {"minimum": 5}]}), "1")]
    #[case(json!({"not": {"anyOf": [{"pattern": "AKIA[0-9A-Z]{16}"}, {"pattern": "gh[pousr]_"}]}}), "\"x ghp_ y\"")]
    #[case(json!({"not": {"required": ["a"]}}), "{\"a\": 1}")]
    #[case(json!({"if": {"properties": {"k": {"const": 1}}}, "then": {"required": ["t"]}, "else": {"required": ["e"]}}), "{\"k\": 1}")]
    #[case(json!({"if": {"properties": {"k": {"const": 1}}}, "then": {"required": ["t"]}, "else": {"required": ["e"]}}), "{\"k\": 2}")]
    #[case(json!({"$defs": {"id": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"}}, "allOf": [{"properties": {"id": {"$ref": "#/$defs/id"}}}, {"required": ["id"]}]}), "{\"id\": \"nope\"}")]
    #[case(json!(false), "1")]
    fn the_collector_reports_what_jsonschema_reports(
        #[case] schema: Value,
        #[case] instance: &str,
    ) {
        let (ours, theirs) = both(&schema, instance);
        assert_eq!(ours, theirs, "schema {schema} instance {instance}");
    }

    /// What the collector cannot state exactly is left to the crate, not guessed: a name that
    /// needs escaping in a location, a `$ref` cycle that never reaches a keyword.
    #[rstest]
    #[case(json!({"properties": {"a~b": true}}))]
    #[case(json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}))]
    fn what_it_cannot_state_stays_with_jsonschema(#[case] schema: Value) {
        let file = "events/t.schema.json".to_owned();
        let docs: BTreeMap<String, Arc<Value>> = [(file.clone(), Arc::new(schema))].into();
        let collector = Collector::build(&docs, std::slice::from_ref(&file), &HashMap::new());
        assert_eq!(collector.fallbacks().len(), 1);
        assert!(collector.root(&file).is_none());
    }

    proptest::proptest! {
        /// The hand matchers say what the regex says, on strings near their shapes.
        #[test]
        fn hand_matchers_agree_with_the_regex(s in "[a-z0-9_.A-]{0,14}|[0-9a-f.-]{30,40}") {
            use crate::fast::matchers::{UUID, VERSION};
            for pattern in [crate::validate::EVENT_TYPE_PATTERN, UUID, VERSION, "^1\\.(0|[1-9][0-9]*)$"] {
                let translated = jsonschema_regex::to_rust_regex(pattern).expect("translates");
                let regex = regex::Regex::new(&translated).expect("compiles");
                let hand = matcher(pattern, &mut HashMap::new()).expect("compiles");
                proptest::prop_assert!(!matches!(hand, Matcher::Regex(..)), "{pattern}: hand matcher");
                proptest::prop_assert_eq!(hand.is_match(&s), regex.is_match(&s), "{} on {:?}", pattern, s);
            }
        }
    }

    /// More than 64 members: `additionalProperties` keeps its declared members in a `Vec`.
    #[test]
    fn many_members_are_matched_exactly() {
        let members: Vec<String> = (0..70).map(|i| format!("\"p{i}\": {i}")).collect();
        let instance = format!("{{{}}}", members.join(", "));
        let schema = json!({
            "properties": {"p3": {"minimum": 4}, "p68": true, "q": true},
            "required": ["p69", "r"],
            "additionalProperties": {"maximum": 5}
        });
        let (ours, theirs) = both(&schema, &instance);
        assert!(ours.len() > 60, "{ours:?}");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn every_catalogue_schema_compiles() {
        let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let registry = crate::Registry::load(&specs).expect("specs load");
        assert!(
            registry.collector_fallbacks().is_empty(),
            "{:?}",
            registry.collector_fallbacks()
        );
    }
}
