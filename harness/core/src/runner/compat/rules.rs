//! Rules: a structural comparison of two schemas that classifies each change and says which
//! direction it breaks.
//!
//! Invariants:
//! - the two schemas are walked in parallel, keyword by keyword; a `$ref` whose target adds no
//!   keyword its siblings already have is inlined, so moving a definition behind a `$ref` (or
//!   pointing at an equal definition elsewhere) is not a change, and a change inside a shared
//!   definition is reported at every place that uses it;
//! - a narrowing (fewer valid events) breaks backward, a widening breaks forward; a change whose
//!   direction cannot be decided structurally (a regex, a `oneOf` branch, `if`/`then`/`else`)
//!   is [`Impact::MayBreak`] and left to the search; below `not` the directions swap;
//! - rules never conclude "compatible" on their own (`compat` module docs).
#![deny(clippy::wildcard_enum_match_arm)]

use super::Direction;
use super::schemas::{SchemaSet, Subject};
use crate::registry::escape_pointer;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Nesting depth at which the walk stops: deeper than any real contract (ours are < 12), and it
/// bounds recursive schemas whose cycles pass through different documents on the two sides.
const MAX_DEPTH: usize = 48;
/// `$ref` hops inlined at one node: chains longer than this are kept as `$ref`s and compared by
/// target.
const MAX_REF_HOPS: usize = 8;

static TRUE: Value = Value::Bool(true);

/// How much a change can break one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// It cannot make a valid event invalid in this direction.
    Safe,
    /// It may: the rules cannot decide, the search will.
    MayBreak,
    /// It does, for some event (the search looks for it).
    Breaks,
}

impl Impact {
    /// The output spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Safe => "safe",
            Impact::MayBreak => "may_break",
            Impact::Breaks => "breaks",
        }
    }
}

/// What a change does to each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Effect {
    /// Old events under the new schema.
    pub backward: Impact,
    /// New events under the old schema.
    pub forward: Impact,
}

impl Effect {
    /// Fewer valid events: breaks backward.
    pub const NARROWS: Effect = Effect {
        backward: Impact::Breaks,
        forward: Impact::Safe,
    };
    /// More valid events: breaks forward.
    pub const WIDENS: Effect = Effect {
        backward: Impact::Safe,
        forward: Impact::Breaks,
    };
    /// Some events lost, some gained.
    pub const BOTH: Effect = Effect {
        backward: Impact::Breaks,
        forward: Impact::Breaks,
    };
    /// Undecidable structurally, either way.
    pub const MAYBE: Effect = Effect {
        backward: Impact::MayBreak,
        forward: Impact::MayBreak,
    };
    /// No effect on validity by itself (what follows it is reported separately).
    pub const NONE: Effect = Effect {
        backward: Impact::Safe,
        forward: Impact::Safe,
    };

    /// The impact on `d`.
    #[must_use]
    pub fn get(self, d: Direction) -> Impact {
        match d {
            Direction::Backward => self.backward,
            Direction::Forward => self.forward,
        }
    }

    fn swapped(self) -> Effect {
        Effect {
            backward: self.forward,
            forward: self.backward,
        }
    }

    fn weakened(self) -> Effect {
        let w = |i: Impact| match i {
            Impact::Breaks => Impact::MayBreak,
            Impact::Safe | Impact::MayBreak => i,
        };
        Effect {
            backward: w(self.backward),
            forward: w(self.forward),
        }
    }
}

/// The kinds of change the rules recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeClass {
    /// A property is declared that was not (breaks forward when the old object was closed;
    /// otherwise what the new declaration constrains is reported beneath it).
    PropertyAdded,
    /// A declared property is gone (breaks backward when the new object is closed).
    PropertyRemoved,
    /// A property became required.
    RequiredAdded,
    /// A property is no longer required.
    RequiredRemoved,
    /// `additionalProperties` went from `false` to allowing something.
    AdditionalPropertiesOpened,
    /// `additionalProperties` became `false`.
    AdditionalPropertiesClosed,
    /// A `patternProperties` entry appeared.
    PatternPropertyAdded,
    /// A `patternProperties` entry is gone.
    PatternPropertyRemoved,
    /// `type` admits a kind it did not (`integer` -> `number`, a `null` added).
    TypeWidened,
    /// `type` no longer admits a kind it did.
    TypeNarrowed,
    /// An `enum` appeared where there was none.
    EnumAdded,
    /// The `enum` is gone.
    EnumRemoved,
    /// An `enum` value was added.
    EnumValueAdded,
    /// An `enum` value was removed.
    EnumValueRemoved,
    /// A `const` appeared.
    ConstAdded,
    /// The `const` is gone.
    ConstRemoved,
    /// The `const` value changed.
    ConstChanged,
    /// A bound or length is stricter (`maxLength` 100 -> 50, a `minimum` added).
    BoundTightened,
    /// A bound or length is looser.
    BoundLoosened,
    /// A bound changed in a way that is neither (`multipleOf` 2 -> 3).
    BoundChanged,
    /// A `pattern` appeared.
    PatternAdded,
    /// The `pattern` is gone.
    PatternRemoved,
    /// The `pattern` changed (regex containment is not decided: may break either way).
    PatternChanged,
    /// A `format` appeared (formats are asserted, as in the registry).
    FormatAdded,
    /// The `format` is gone.
    FormatRemoved,
    /// The `format` changed.
    FormatChanged,
    /// An `anyOf`/`oneOf` branch was added (or the keyword appeared).
    BranchAdded,
    /// An `anyOf`/`oneOf` branch was removed (or the keyword is gone).
    BranchRemoved,
    /// An `allOf` member was added.
    AllOfAdded,
    /// An `allOf` member was removed.
    AllOfRemoved,
    /// A `$ref` points elsewhere; what differs between the two targets is reported beneath it.
    RefTargetChanged,
    /// A `$ref` names nothing in the documents loaded (never fetched).
    RefUnresolved,
    /// A `not` appeared.
    NotAdded,
    /// A `not` is gone.
    NotRemoved,
    /// `if`/`then`/`else` changed.
    ConditionalChanged,
    /// A `dependentRequired`/`dependentSchemas` entry appeared or grew.
    DependencyAdded,
    /// A dependency entry is gone or shrank.
    DependencyRemoved,
    /// A `contains` appeared.
    ContainsAdded,
    /// The `contains` is gone.
    ContainsRemoved,
    /// `uniqueItems` became true.
    UniqueItemsAdded,
    /// `uniqueItems` is no longer true.
    UniqueItemsRemoved,
    /// A `prefixItems` position was added (tuple grew).
    PrefixItemAdded,
    /// A `prefixItems` position was removed.
    PrefixItemRemoved,
    /// `unevaluatedProperties`/`unevaluatedItems` became `false`.
    UnevaluatedClosed,
    /// `unevaluatedProperties`/`unevaluatedItems` is no longer `false`.
    UnevaluatedOpened,
    /// A schema became `false` (admits nothing).
    SchemaClosed,
    /// A `false` schema became satisfiable.
    SchemaOpened,
    /// A keyword the rules do not model changed (`$dynamicRef`, ...).
    UnsupportedChanged,
    /// A keyword no validator reads changed (an unknown keyword; annotations are ignored).
    AnnotationChanged,
}

impl ChangeClass {
    /// Every class, in declaration order (documentation and fixture coverage).
    pub const ALL: &'static [ChangeClass] = &[
        ChangeClass::PropertyAdded,
        ChangeClass::PropertyRemoved,
        ChangeClass::RequiredAdded,
        ChangeClass::RequiredRemoved,
        ChangeClass::AdditionalPropertiesOpened,
        ChangeClass::AdditionalPropertiesClosed,
        ChangeClass::PatternPropertyAdded,
        ChangeClass::PatternPropertyRemoved,
        ChangeClass::TypeWidened,
        ChangeClass::TypeNarrowed,
        ChangeClass::EnumAdded,
        ChangeClass::EnumRemoved,
        ChangeClass::EnumValueAdded,
        ChangeClass::EnumValueRemoved,
        ChangeClass::ConstAdded,
        ChangeClass::ConstRemoved,
        ChangeClass::ConstChanged,
        ChangeClass::BoundTightened,
        ChangeClass::BoundLoosened,
        ChangeClass::BoundChanged,
        ChangeClass::PatternAdded,
        ChangeClass::PatternRemoved,
        ChangeClass::PatternChanged,
        ChangeClass::FormatAdded,
        ChangeClass::FormatRemoved,
        ChangeClass::FormatChanged,
        ChangeClass::BranchAdded,
        ChangeClass::BranchRemoved,
        ChangeClass::AllOfAdded,
        ChangeClass::AllOfRemoved,
        ChangeClass::RefTargetChanged,
        ChangeClass::RefUnresolved,
        ChangeClass::NotAdded,
        ChangeClass::NotRemoved,
        ChangeClass::ConditionalChanged,
        ChangeClass::DependencyAdded,
        ChangeClass::DependencyRemoved,
        ChangeClass::ContainsAdded,
        ChangeClass::ContainsRemoved,
        ChangeClass::UniqueItemsAdded,
        ChangeClass::UniqueItemsRemoved,
        ChangeClass::PrefixItemAdded,
        ChangeClass::PrefixItemRemoved,
        ChangeClass::UnevaluatedClosed,
        ChangeClass::UnevaluatedOpened,
        ChangeClass::SchemaClosed,
        ChangeClass::SchemaOpened,
        ChangeClass::UnsupportedChanged,
        ChangeClass::AnnotationChanged,
    ];

    /// The stable output spelling (snake case).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeClass::PropertyAdded => "property_added",
            ChangeClass::PropertyRemoved => "property_removed",
            ChangeClass::RequiredAdded => "required_added",
            ChangeClass::RequiredRemoved => "required_removed",
            ChangeClass::AdditionalPropertiesOpened => "additional_properties_opened",
            ChangeClass::AdditionalPropertiesClosed => "additional_properties_closed",
            ChangeClass::PatternPropertyAdded => "pattern_property_added",
            ChangeClass::PatternPropertyRemoved => "pattern_property_removed",
            ChangeClass::TypeWidened => "type_widened",
            ChangeClass::TypeNarrowed => "type_narrowed",
            ChangeClass::EnumAdded => "enum_added",
            ChangeClass::EnumRemoved => "enum_removed",
            ChangeClass::EnumValueAdded => "enum_value_added",
            ChangeClass::EnumValueRemoved => "enum_value_removed",
            ChangeClass::ConstAdded => "const_added",
            ChangeClass::ConstRemoved => "const_removed",
            ChangeClass::ConstChanged => "const_changed",
            ChangeClass::BoundTightened => "bound_tightened",
            ChangeClass::BoundLoosened => "bound_loosened",
            ChangeClass::BoundChanged => "bound_changed",
            ChangeClass::PatternAdded => "pattern_added",
            ChangeClass::PatternRemoved => "pattern_removed",
            ChangeClass::PatternChanged => "pattern_changed",
            ChangeClass::FormatAdded => "format_added",
            ChangeClass::FormatRemoved => "format_removed",
            ChangeClass::FormatChanged => "format_changed",
            ChangeClass::BranchAdded => "branch_added",
            ChangeClass::BranchRemoved => "branch_removed",
            ChangeClass::AllOfAdded => "all_of_added",
            ChangeClass::AllOfRemoved => "all_of_removed",
            ChangeClass::RefTargetChanged => "ref_target_changed",
            ChangeClass::RefUnresolved => "ref_unresolved",
            ChangeClass::NotAdded => "not_added",
            ChangeClass::NotRemoved => "not_removed",
            ChangeClass::ConditionalChanged => "conditional_changed",
            ChangeClass::DependencyAdded => "dependency_added",
            ChangeClass::DependencyRemoved => "dependency_removed",
            ChangeClass::ContainsAdded => "contains_added",
            ChangeClass::ContainsRemoved => "contains_removed",
            ChangeClass::UniqueItemsAdded => "unique_items_added",
            ChangeClass::UniqueItemsRemoved => "unique_items_removed",
            ChangeClass::PrefixItemAdded => "prefix_item_added",
            ChangeClass::PrefixItemRemoved => "prefix_item_removed",
            ChangeClass::UnevaluatedClosed => "unevaluated_closed",
            ChangeClass::UnevaluatedOpened => "unevaluated_opened",
            ChangeClass::SchemaClosed => "schema_closed",
            ChangeClass::SchemaOpened => "schema_opened",
            ChangeClass::UnsupportedChanged => "unsupported_changed",
            ChangeClass::AnnotationChanged => "annotation_changed",
        }
    }

    /// The effect of the change where nothing above it (`not`, `anyOf`) modifies it. Classes
    /// whose effect depends on the surroundings give the common case; `diff` overrides them.
    #[must_use]
    pub fn default_effect(self) -> Effect {
        match self {
            ChangeClass::RequiredAdded
            | ChangeClass::AdditionalPropertiesClosed
            | ChangeClass::TypeNarrowed
            | ChangeClass::EnumAdded
            | ChangeClass::EnumValueRemoved
            | ChangeClass::ConstAdded
            | ChangeClass::BoundTightened
            | ChangeClass::PatternAdded
            | ChangeClass::FormatAdded
            | ChangeClass::BranchRemoved
            | ChangeClass::AllOfAdded
            | ChangeClass::NotAdded
            | ChangeClass::DependencyAdded
            | ChangeClass::ContainsAdded
            | ChangeClass::UniqueItemsAdded
            | ChangeClass::UnevaluatedClosed
            | ChangeClass::SchemaClosed
            | ChangeClass::PropertyRemoved => Effect::NARROWS,
            ChangeClass::RequiredRemoved
            | ChangeClass::AdditionalPropertiesOpened
            | ChangeClass::TypeWidened
            | ChangeClass::EnumRemoved
            | ChangeClass::EnumValueAdded
            | ChangeClass::ConstRemoved
            | ChangeClass::BoundLoosened
            | ChangeClass::PatternRemoved
            | ChangeClass::FormatRemoved
            | ChangeClass::BranchAdded
            | ChangeClass::AllOfRemoved
            | ChangeClass::NotRemoved
            | ChangeClass::DependencyRemoved
            | ChangeClass::ContainsRemoved
            | ChangeClass::UniqueItemsRemoved
            | ChangeClass::UnevaluatedOpened
            | ChangeClass::SchemaOpened
            | ChangeClass::PropertyAdded => Effect::WIDENS,
            ChangeClass::ConstChanged | ChangeClass::BoundChanged => Effect::BOTH,
            ChangeClass::PatternChanged
            | ChangeClass::FormatChanged
            | ChangeClass::ConditionalChanged
            | ChangeClass::RefUnresolved
            | ChangeClass::UnsupportedChanged
            | ChangeClass::PatternPropertyAdded
            | ChangeClass::PatternPropertyRemoved
            | ChangeClass::PrefixItemAdded
            | ChangeClass::PrefixItemRemoved => Effect::MAYBE,
            ChangeClass::RefTargetChanged | ChangeClass::AnnotationChanged => Effect::NONE,
        }
    }
}

/// One classified change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What kind of change.
    pub class: ChangeClass,
    /// The keyword, JSON spelling (`"maxLength"`).
    pub keyword: String,
    /// Where the change is: `<document>#<JSON pointer>` in the new schema, or in the old one when
    /// the keyword is gone.
    pub pointer: String,
    /// Which events it concerns (RFC 6901 over the instance; `*` stands for any member or item).
    pub instance_path: String,
    /// What changed, for people (`"maxLength 100 -> 50"`).
    pub detail: String,
    /// Which direction it breaks.
    pub effect: Effect,
    /// Values worth trying at `instance_path` in the search (the old and new bounds and their
    /// neighbours, removed or added enum values): a boundary a random value rarely hits.
    #[serde(skip)]
    pub probes: Vec<Value>,
}

/// Classify every change from `old` to `new`.
#[must_use]
pub fn diff(old: &Subject, new: &Subject) -> Vec<Change> {
    let mut w = Walker {
        old: &old.set,
        new: &new.set,
        out: Vec::new(),
        stack: Vec::new(),
    };
    let o = Loc::root(&old.set, &old.entry);
    let n = Loc::root(&new.set, &new.entry);
    if let (Some(o), Some(n)) = (o, n) {
        w.diff(&o, &n, &Ctx::default());
    }
    let mut out = w.out;
    out.dedup();
    out
}

/// A subschema and where it lives.
#[derive(Debug, Clone)]
struct Loc<'a> {
    value: &'a Value,
    doc: &'a str,
    ptr: String,
}

impl<'a> Loc<'a> {
    fn root(set: &'a SchemaSet, entry: &str) -> Option<Self> {
        let (doc, value) = set.docs().get_key_value(entry)?;
        Some(Loc {
            value,
            doc,
            ptr: String::new(),
        })
    }

    fn child(&self, value: &'a Value, key: &str) -> Loc<'a> {
        Loc {
            value,
            doc: self.doc,
            ptr: format!("{}/{}", self.ptr, escape_pointer(key)),
        }
    }

    /// A keyword that is absent: `true`, located where it would be.
    fn absent(&self, key: &str) -> Loc<'a> {
        self.child(&TRUE, key)
    }

    fn at(&self) -> String {
        format!("{}#{}", self.doc, self.ptr)
    }
}

/// A schema object with its `$ref`s inlined where that is exact.
#[derive(Debug)]
struct Node<'a> {
    never: bool,
    keys: BTreeMap<&'a str, Loc<'a>>,
    refs: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Ctx {
    inst: String,
    uncertain: bool,
    negated: bool,
    depth: usize,
}

impl Ctx {
    fn child(&self, seg: &str) -> Ctx {
        Ctx {
            inst: format!("{}/{}", self.inst, escape_pointer(seg)),
            depth: self.depth + 1,
            ..self.clone()
        }
    }
    fn deeper(&self) -> Ctx {
        Ctx {
            depth: self.depth + 1,
            ..self.clone()
        }
    }
    fn unsure(&self) -> Ctx {
        Ctx {
            uncertain: true,
            ..self.deeper()
        }
    }
}

/// Keywords that never change which instances are valid (annotations, identifiers, containers
/// of definitions that only matter through `$ref`).
fn is_annotation(key: &str) -> bool {
    key.starts_with("x-")
        || matches!(
            key,
            "title"
                | "description"
                | "$comment"
                | "examples"
                | "default"
                | "deprecated"
                | "readOnly"
                | "writeOnly"
                | "$schema"
                | "$id"
                | "$anchor"
                | "$dynamicAnchor"
                | "$recursiveAnchor"
                | "$defs"
                | "definitions"
                | "$vocabulary"
                | "contentMediaType"
                | "contentEncoding"
                | "contentSchema"
        )
}

/// Keywords `diff` compares; any other non-annotation keyword is `AnnotationChanged` (no
/// validator of the dialects we read asserts it).
const HANDLED: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
    "pattern",
    "format",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "uniqueItems",
    "unevaluatedItems",
    "unevaluatedProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$dynamicRef",
    "$recursiveRef",
];

struct Walker<'a> {
    old: &'a SchemaSet,
    new: &'a SchemaSet,
    out: Vec<Change>,
    stack: Vec<(String, String)>,
}

/// Builds a `Change`; `at` is the side where the change is visible.
struct Emit<'c> {
    class: ChangeClass,
    keyword: &'c str,
    at: String,
    detail: String,
    effect: Effect,
}

impl<'a> Walker<'a> {
    fn push(&mut self, ctx: &Ctx, e: Emit<'_>) {
        let mut effect = e.effect;
        if ctx.negated {
            effect = effect.swapped();
        }
        if ctx.uncertain {
            effect = effect.weakened();
        }
        self.out.push(Change {
            class: e.class,
            keyword: e.keyword.to_owned(),
            pointer: e.at,
            instance_path: if ctx.inst.is_empty() {
                String::new()
            } else {
                ctx.inst.clone()
            },
            detail: e.detail,
            effect,
            probes: Vec::new(),
        });
    }

    fn emit(&mut self, ctx: &Ctx, class: ChangeClass, keyword: &str, at: String, detail: String) {
        self.push(
            ctx,
            Emit {
                class,
                keyword,
                at,
                detail,
                effect: class.default_effect(),
            },
        );
    }

    /// Attach search probes to the change just emitted.
    fn probe(&mut self, values: Vec<Value>) {
        if let Some(last) = self.out.last_mut() {
            last.probes = values;
        }
    }

    fn node(set: &'a SchemaSet, loc: &Loc<'a>) -> Node<'a> {
        let mut node = Node {
            never: false,
            keys: BTreeMap::new(),
            refs: Vec::new(),
        };
        match loc.value {
            Value::Bool(b) => node.never = !b,
            Value::Object(map) => {
                for (k, v) in map {
                    node.keys.insert(k.as_str(), loc.child(v, k));
                }
            }
            Value::Null | Value::Number(_) | Value::String(_) | Value::Array(_) => {}
        }
        for _ in 0..MAX_REF_HOPS {
            let Some(r) = node.keys.get("$ref") else {
                break;
            };
            let Some(reference) = r.value.as_str() else {
                break;
            };
            let Some((doc, ptr)) = set.resolve(r.doc, reference) else {
                break;
            };
            let Some((doc, root)) = set.docs().get_key_value(&doc) else {
                break;
            };
            let Some(target) = root.pointer(&ptr) else {
                break;
            };
            let tloc = Loc {
                value: target,
                doc,
                ptr: ptr.clone(),
            };
            match target {
                Value::Bool(true) => {}
                Value::Bool(false) => node.never = true,
                Value::Object(map) => {
                    let clash = map.keys().any(|k| {
                        !is_annotation(k) && node.keys.contains_key(k.as_str()) && k != "$ref"
                    });
                    if clash {
                        break;
                    }
                    node.keys.remove("$ref");
                    for (k, v) in map {
                        node.keys
                            .entry(k.as_str())
                            .or_insert_with(|| tloc.child(v, k));
                    }
                    node.refs.push(format!("{doc}#{ptr}"));
                    continue;
                }
                Value::Null | Value::Number(_) | Value::String(_) | Value::Array(_) => break,
            }
            node.keys.remove("$ref");
            node.refs.push(format!("{doc}#{ptr}"));
        }
        node
    }

    fn diff(&mut self, o: &Loc<'a>, n: &Loc<'a>, ctx: &Ctx) {
        if o.value == n.value && !has_ref(o.value) {
            return;
        }
        let key = (o.at(), n.at());
        if ctx.depth > MAX_DEPTH || self.stack.contains(&key) {
            return;
        }
        self.stack.push(key);
        let on = Self::node(self.old, o);
        let nn = Self::node(self.new, n);
        self.diff_nodes(&on, &nn, o, n, ctx);
        self.stack.pop();
    }

    #[allow(clippy::too_many_lines)]
    fn diff_nodes(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        match (o.never, n.never) {
            (true, true) => return,
            (false, true) => {
                self.emit(
                    ctx,
                    ChangeClass::SchemaClosed,
                    "false",
                    nl.at(),
                    "the schema became false".into(),
                );
                return;
            }
            (true, false) => {
                self.emit(
                    ctx,
                    ChangeClass::SchemaOpened,
                    "false",
                    nl.at(),
                    "a false schema now admits values".into(),
                );
                return;
            }
            (false, false) => {}
        }
        if o.refs != n.refs && !(o.refs.is_empty() && n.refs.is_empty()) {
            let show = |r: &[String]| {
                if r.is_empty() {
                    "(inline)".to_owned()
                } else {
                    r.join(" -> ")
                }
            };
            self.emit(
                ctx,
                ChangeClass::RefTargetChanged,
                "$ref",
                n.keys.get("$ref").map_or_else(|| nl.at(), Loc::at),
                format!("{} -> {}", show(&o.refs), show(&n.refs)),
            );
        }
        self.refs_kept(o, n, ol, nl, ctx);
        self.types(o, n, nl, ctx);
        self.values(o, n, nl, ctx);
        self.bounds(o, n, nl, ctx);
        self.strings(o, n, nl, ctx);
        self.objects(o, n, ol, nl, ctx);
        self.arrays(o, n, ol, nl, ctx);
        self.applicators(o, n, ol, nl, ctx);
        // Anything else: unknown keywords are not asserted by the validator.
        let mut keys: Vec<&str> = o.keys.keys().chain(n.keys.keys()).copied().collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            if is_annotation(k) || HANDLED.contains(&k) {
                continue;
            }
            let (a, b) = (
                o.keys.get(k).map(|l| l.value),
                n.keys.get(k).map(|l| l.value),
            );
            if a != b {
                self.emit(
                    ctx,
                    ChangeClass::AnnotationChanged,
                    k,
                    at_either(n, o, k, nl),
                    format!("{k} (not asserted by the validator)"),
                );
            }
        }
        for k in ["$dynamicRef", "$recursiveRef"] {
            let (a, b) = (
                o.keys.get(k).map(|l| l.value),
                n.keys.get(k).map(|l| l.value),
            );
            if a != b {
                self.emit(
                    ctx,
                    ChangeClass::UnsupportedChanged,
                    k,
                    at_either(n, o, k, nl),
                    format!("{k} changed; not modelled by the rules"),
                );
            }
        }
    }

    /// `$ref`s that could not be inlined: compare their targets.
    fn refs_kept(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        let ot = o.keys.get("$ref").map(|r| (r, resolve_loc(self.old, r)));
        let nt = n.keys.get("$ref").map(|r| (r, resolve_loc(self.new, r)));
        for (side, t) in [(self.old, &ot), (self.new, &nt)] {
            if let Some((r, None)) = t {
                let _ = side;
                self.emit(
                    ctx,
                    ChangeClass::RefUnresolved,
                    "$ref",
                    r.at(),
                    format!("{} names nothing loaded", r.value),
                );
            }
        }
        let o_target = match &ot {
            Some((_, Some(t))) => Some(t.clone()),
            Some((_, None)) => return,
            None => None,
        };
        let n_target = match &nt {
            Some((_, Some(t))) => Some(t.clone()),
            Some((_, None)) => return,
            None => None,
        };
        match (o_target, n_target) {
            (None, None) => {}
            (o_t, n_t) => {
                let o_t = o_t.unwrap_or_else(|| ol.absent("$ref"));
                let n_t = n_t.unwrap_or_else(|| nl.absent("$ref"));
                self.diff(&o_t, &n_t, &ctx.deeper());
            }
        }
    }

    fn types(&mut self, o: &Node<'a>, n: &Node<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        let ok = kinds(o.keys.get("type").map(|l| l.value));
        let nk = kinds(n.keys.get("type").map(|l| l.value));
        let at = at_either(n, o, "type", nl);
        let removed = ok & !nk;
        let added = nk & !ok;
        if removed != 0 {
            self.emit(
                ctx,
                ChangeClass::TypeNarrowed,
                "type",
                at.clone(),
                format!("no longer admits {}", kind_names(removed)),
            );
        }
        if added != 0 {
            self.emit(
                ctx,
                ChangeClass::TypeWidened,
                "type",
                at,
                format!("now admits {}", kind_names(added)),
            );
        }
    }

    fn values(&mut self, o: &Node<'a>, n: &Node<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        let oe = o.keys.get("enum").and_then(|l| l.value.as_array());
        let ne = n.keys.get("enum").and_then(|l| l.value.as_array());
        let at = at_either(n, o, "enum", nl);
        match (oe, ne) {
            (None, None) => {}
            (None, Some(v)) => self.emit(
                ctx,
                ChangeClass::EnumAdded,
                "enum",
                at,
                format!("enum {} added", show(v)),
            ),
            (Some(v), None) => self.emit(
                ctx,
                ChangeClass::EnumRemoved,
                "enum",
                at,
                format!("enum {} removed", show(v)),
            ),
            (Some(a), Some(b)) => {
                let gone: Vec<&Value> = a
                    .iter()
                    .filter(|x| !b.iter().any(|y| json_eq(x, y)))
                    .collect();
                let new: Vec<&Value> = b
                    .iter()
                    .filter(|y| !a.iter().any(|x| json_eq(x, y)))
                    .collect();
                for v in gone {
                    self.emit(
                        ctx,
                        ChangeClass::EnumValueRemoved,
                        "enum",
                        at.clone(),
                        format!("value {v} removed"),
                    );
                    self.probe(vec![v.clone()]);
                }
                for v in new {
                    self.emit(
                        ctx,
                        ChangeClass::EnumValueAdded,
                        "enum",
                        at.clone(),
                        format!("value {v} added"),
                    );
                    self.probe(vec![v.clone()]);
                }
            }
        }
        let oc = o.keys.get("const").map(|l| l.value);
        let nc = n.keys.get("const").map(|l| l.value);
        let at = at_either(n, o, "const", nl);
        match (oc, nc) {
            (None, None) => {}
            (None, Some(v)) => self.emit(
                ctx,
                ChangeClass::ConstAdded,
                "const",
                at,
                format!("const {v} added"),
            ),
            (Some(v), None) => self.emit(
                ctx,
                ChangeClass::ConstRemoved,
                "const",
                at,
                format!("const {v} removed"),
            ),
            (Some(a), Some(b)) if !json_eq(a, b) => {
                self.emit(
                    ctx,
                    ChangeClass::ConstChanged,
                    "const",
                    at,
                    format!("const {a} -> {b}"),
                );
                self.probe(vec![a.clone(), b.clone()]);
            }
            (Some(_), Some(_)) => {}
        }
    }

    fn bounds(&mut self, o: &Node<'a>, n: &Node<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        let num = |node: &Node<'_>, k: &str| node.keys.get(k).and_then(|l| l.value.as_f64());
        // Lower and upper numeric bounds, each the tighter of the inclusive and exclusive form.
        for (lower, incl, excl) in [
            (true, "minimum", "exclusiveMinimum"),
            (false, "maximum", "exclusiveMaximum"),
        ] {
            let ob = bound(num(o, incl), num(o, excl), lower);
            let nb = bound(num(n, incl), num(n, excl), lower);
            let kw = if nb.is_some_and(|b| b.1) || ob.is_some_and(|b| b.1) && nb.is_none() {
                excl
            } else {
                incl
            };
            let at = at_either(n, o, kw, nl);
            let show = |b: Option<(f64, bool)>| match b {
                None => "none".to_owned(),
                Some((v, true)) => format!("{} {v} (exclusive)", if lower { ">" } else { "<" }),
                Some((v, false)) => format!("{} {v}", if lower { ">=" } else { "<=" }),
            };
            if let Some(tighter) = compare_bound(ob, nb, lower) {
                let class = if tighter {
                    ChangeClass::BoundTightened
                } else {
                    ChangeClass::BoundLoosened
                };
                self.emit(
                    ctx,
                    class,
                    kw,
                    at,
                    format!("{kw}: {} -> {}", show(ob), show(nb)),
                );
                let probes = [ob, nb]
                    .into_iter()
                    .flatten()
                    .flat_map(|(v, _)| [v - 1.0, v - 0.5, v, v + 0.5, v + 1.0])
                    .filter_map(number)
                    .collect();
                self.probe(probes);
            }
        }
        for (k, lower) in [
            ("minLength", true),
            ("maxLength", false),
            ("minItems", true),
            ("maxItems", false),
            ("minProperties", true),
            ("maxProperties", false),
            ("minContains", true),
            ("maxContains", false),
        ] {
            let ob = num(o, k).map(|v| (v, false));
            let nb = num(n, k).map(|v| (v, false));
            if let Some(tighter) = compare_bound(ob, nb, lower) {
                let class = if tighter {
                    ChangeClass::BoundTightened
                } else {
                    ChangeClass::BoundLoosened
                };
                let show = |b: Option<(f64, bool)>| {
                    b.map_or_else(|| "none".to_owned(), |(v, _)| v.to_string())
                };
                self.emit(
                    ctx,
                    class,
                    k,
                    at_either(n, o, k, nl),
                    format!("{k}: {} -> {}", show(ob), show(nb)),
                );
            }
        }
        let (om, nm) = (num(o, "multipleOf"), num(n, "multipleOf"));
        let at = at_either(n, o, "multipleOf", nl);
        let class = match (om, nm) {
            (None, None) => None,
            (None, Some(_)) => Some(ChangeClass::BoundTightened),
            (Some(_), None) => Some(ChangeClass::BoundLoosened),
            (Some(a), Some(b)) if (a - b).abs() < f64::EPSILON => None,
            (Some(a), Some(b)) if is_whole(a / b) => Some(ChangeClass::BoundLoosened),
            (Some(a), Some(b)) if is_whole(b / a) => Some(ChangeClass::BoundTightened),
            (Some(_), Some(_)) => Some(ChangeClass::BoundChanged),
        };
        if let Some(class) = class {
            let show = |m: Option<f64>| m.map_or_else(|| "none".to_owned(), |v| v.to_string());
            self.emit(
                ctx,
                class,
                "multipleOf",
                at,
                format!("multipleOf: {} -> {}", show(om), show(nm)),
            );
        }
    }

    fn strings(&mut self, o: &Node<'a>, n: &Node<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        for (k, added, removed, changed) in [
            (
                "pattern",
                ChangeClass::PatternAdded,
                ChangeClass::PatternRemoved,
                ChangeClass::PatternChanged,
            ),
            (
                "format",
                ChangeClass::FormatAdded,
                ChangeClass::FormatRemoved,
                ChangeClass::FormatChanged,
            ),
        ] {
            let a = o.keys.get(k).map(|l| l.value);
            let b = n.keys.get(k).map(|l| l.value);
            let at = at_either(n, o, k, nl);
            match (a, b) {
                (None, None) => {}
                (None, Some(v)) => self.emit(ctx, added, k, at, format!("{k} {v} added")),
                (Some(v), None) => self.emit(ctx, removed, k, at, format!("{k} {v} removed")),
                (Some(x), Some(y)) if x != y => {
                    self.emit(ctx, changed, k, at, format!("{k} {x} -> {y}"))
                }
                (Some(_), Some(_)) => {}
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn objects(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        // required
        let req = |node: &Node<'_>| -> Vec<String> {
            node.keys
                .get("required")
                .and_then(|l| l.value.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (or, nr) = (req(o), req(n));
        let at = at_either(n, o, "required", nl);
        for name in nr.iter().filter(|x| !or.contains(x)) {
            self.emit(
                &ctx.child(name),
                ChangeClass::RequiredAdded,
                "required",
                at.clone(),
                format!("{name} is now required"),
            );
        }
        for name in or.iter().filter(|x| !nr.contains(x)) {
            self.emit(
                &ctx.child(name),
                ChangeClass::RequiredRemoved,
                "required",
                at.clone(),
                format!("{name} is no longer required"),
            );
        }
        // properties, against the other side's fallback for names it does not declare
        let props = |node: &Node<'a>| -> Vec<(&'a str, Loc<'a>)> {
            match node.keys.get("properties") {
                Some(l) => match l.value {
                    Value::Object(m) => {
                        m.iter().map(|(k, v)| (k.as_str(), l.child(v, k))).collect()
                    }
                    Value::Null
                    | Value::Bool(_)
                    | Value::Number(_)
                    | Value::String(_)
                    | Value::Array(_) => Vec::new(),
                },
                None => Vec::new(),
            }
        };
        let (op, np) = (props(o), props(n));
        let mut names: Vec<&str> = np.iter().map(|(k, _)| *k).collect();
        names.extend(
            op.iter()
                .map(|(k, _)| *k)
                .filter(|k| !np.iter().any(|(j, _)| j == k)),
        );
        for name in names {
            let a = op.iter().find(|(k, _)| *k == name).map(|(_, l)| l.clone());
            let b = np.iter().find(|(k, _)| *k == name).map(|(_, l)| l.clone());
            let c = ctx.child(name);
            match (a, b) {
                (Some(a), Some(b)) => self.diff(&a, &b, &c),
                (None, Some(b)) => {
                    let fb = fallback(o, ol, name);
                    if is_false(fb.value) {
                        self.emit(
                            &c,
                            ChangeClass::PropertyAdded,
                            "properties",
                            b.at(),
                            format!("{name} declared; the old schema rejected it"),
                        );
                    } else {
                        self.push(
                            &c,
                            Emit {
                                class: ChangeClass::PropertyAdded,
                                keyword: "properties",
                                at: b.at(),
                                detail: format!("{name} declared; the old schema left it open"),
                                effect: Effect::NONE,
                            },
                        );
                        self.diff(&fb, &b, &c);
                    }
                }
                (Some(a), None) => {
                    let fb = fallback(n, nl, name);
                    if is_false(fb.value) {
                        self.emit(
                            &c,
                            ChangeClass::PropertyRemoved,
                            "properties",
                            a.at(),
                            format!("{name} removed; the new schema rejects it"),
                        );
                    } else {
                        self.push(
                            &c,
                            Emit {
                                class: ChangeClass::PropertyRemoved,
                                keyword: "properties",
                                at: a.at(),
                                detail: format!(
                                    "{name} no longer declared; the new schema leaves it open"
                                ),
                                effect: Effect::NONE,
                            },
                        );
                        self.diff(&a, &fb, &c);
                    }
                }
                (None, None) => {}
            }
        }
        // patternProperties
        let pats = |node: &Node<'a>| -> Vec<(&'a str, Loc<'a>)> {
            match node.keys.get("patternProperties").map(|l| (l, l.value)) {
                Some((l, Value::Object(m))) => {
                    m.iter().map(|(k, v)| (k.as_str(), l.child(v, k))).collect()
                }
                Some(_) | None => Vec::new(),
            }
        };
        let (opp, npp) = (pats(o), pats(n));
        let o_closed = o
            .keys
            .get("additionalProperties")
            .is_some_and(|l| is_false(l.value));
        for (k, b) in &npp {
            match opp.iter().find(|(j, _)| j == k) {
                Some((_, a)) => self.diff(a, b, &ctx.child("*")),
                None => {
                    let effect = if o_closed {
                        Effect {
                            backward: Impact::Safe,
                            forward: Impact::MayBreak,
                        }
                    } else {
                        Effect {
                            backward: Impact::MayBreak,
                            forward: Impact::Safe,
                        }
                    };
                    self.push(
                        &ctx.child("*"),
                        Emit {
                            class: ChangeClass::PatternPropertyAdded,
                            keyword: "patternProperties",
                            at: b.at(),
                            detail: format!("pattern {k} added"),
                            effect,
                        },
                    );
                }
            }
        }
        let n_closed = n
            .keys
            .get("additionalProperties")
            .is_some_and(|l| is_false(l.value));
        for (k, a) in &opp {
            if !npp.iter().any(|(j, _)| j == k) {
                let effect = if n_closed {
                    Effect {
                        backward: Impact::MayBreak,
                        forward: Impact::Safe,
                    }
                } else {
                    Effect {
                        backward: Impact::Safe,
                        forward: Impact::MayBreak,
                    }
                };
                self.push(
                    &ctx.child("*"),
                    Emit {
                        class: ChangeClass::PatternPropertyRemoved,
                        keyword: "patternProperties",
                        at: a.at(),
                        detail: format!("pattern {k} removed"),
                        effect,
                    },
                );
            }
        }
        // additionalProperties
        self.closable(
            o,
            n,
            ol,
            nl,
            ctx,
            "additionalProperties",
            ChangeClass::AdditionalPropertiesOpened,
            ChangeClass::AdditionalPropertiesClosed,
        );
        self.closable(
            o,
            n,
            ol,
            nl,
            ctx,
            "unevaluatedProperties",
            ChangeClass::UnevaluatedOpened,
            ChangeClass::UnevaluatedClosed,
        );
        self.sub(o, n, ol, nl, &ctx.child("*"), "propertyNames");
        // dependencies (draft 7 `dependencies` read as its 2019-09 split)
        let deps = |node: &Node<'a>| -> Vec<(String, Loc<'a>)> {
            let mut out = Vec::new();
            for k in ["dependentRequired", "dependentSchemas", "dependencies"] {
                if let Some((l, Value::Object(m))) = node.keys.get(k).map(|l| (l, l.value)) {
                    out.extend(
                        m.iter()
                            .map(|(name, v)| (format!("{k}/{name}"), l.child(v, name))),
                    );
                }
            }
            out
        };
        let (od, nd) = (deps(o), deps(n));
        for (k, b) in &nd {
            match od.iter().find(|(j, _)| j == k) {
                Some((_, a)) => {
                    if let (Some(x), Some(y)) = (a.value.as_array(), b.value.as_array()) {
                        if y.iter().any(|v| !x.contains(v)) {
                            self.emit(
                                ctx,
                                ChangeClass::DependencyAdded,
                                "dependentRequired",
                                b.at(),
                                format!("{k}: {} -> {}", show(x), show(y)),
                            );
                        }
                        if x.iter().any(|v| !y.contains(v)) {
                            self.emit(
                                ctx,
                                ChangeClass::DependencyRemoved,
                                "dependentRequired",
                                b.at(),
                                format!("{k}: {} -> {}", show(x), show(y)),
                            );
                        }
                    } else {
                        self.diff(a, b, &ctx.unsure());
                    }
                }
                None => self.emit(
                    ctx,
                    ChangeClass::DependencyAdded,
                    "dependentRequired",
                    b.at(),
                    format!("{k} added"),
                ),
            }
        }
        for (k, a) in &od {
            if !nd.iter().any(|(j, _)| j == k) {
                self.emit(
                    ctx,
                    ChangeClass::DependencyRemoved,
                    "dependentRequired",
                    a.at(),
                    format!("{k} removed"),
                );
            }
        }
    }

    /// A keyword whose `false` closes something (`additionalProperties`, `unevaluated*`).
    #[allow(clippy::too_many_arguments)]
    fn closable(
        &mut self,
        o: &Node<'a>,
        n: &Node<'a>,
        ol: &Loc<'a>,
        nl: &Loc<'a>,
        ctx: &Ctx,
        k: &str,
        opened: ChangeClass,
        closed: ChangeClass,
    ) {
        let a = o.keys.get(k).cloned().unwrap_or_else(|| ol.absent(k));
        let b = n.keys.get(k).cloned().unwrap_or_else(|| nl.absent(k));
        let c = ctx.child("*");
        let uncertain = k.starts_with("unevaluated");
        let c = if uncertain { c.unsure() } else { c };
        match (is_false(a.value), is_false(b.value)) {
            (true, false) => self.emit(&c, opened, k, b.at(), format!("{k}: false -> {}", b.value)),
            (false, true) => self.emit(&c, closed, k, b.at(), format!("{k}: {} -> false", a.value)),
            (false, false) => self.diff(&a, &b, &c),
            (true, true) => {}
        }
    }

    /// A keyword holding one subschema that applies universally (absent = `true`).
    fn sub(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx, k: &str) {
        if !o.keys.contains_key(k) && !n.keys.contains_key(k) {
            return;
        }
        let a = o.keys.get(k).cloned().unwrap_or_else(|| ol.absent(k));
        let b = n.keys.get(k).cloned().unwrap_or_else(|| nl.absent(k));
        self.diff(&a, &b, ctx);
    }

    fn arrays(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        // Draft 7 `items: [..]` + `additionalItems` is 2020-12 `prefixItems` + `items`.
        let split = |node: &Node<'a>, loc: &Loc<'a>| -> (Vec<Loc<'a>>, Loc<'a>, &'static str) {
            match node.keys.get("items").map(|l| (l, l.value)) {
                Some((l, Value::Array(a))) => (
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| l.child(v, &i.to_string()))
                        .collect(),
                    node.keys
                        .get("additionalItems")
                        .cloned()
                        .unwrap_or_else(|| loc.absent("additionalItems")),
                    "additionalItems",
                ),
                _ => (
                    match node.keys.get("prefixItems").map(|l| (l, l.value)) {
                        Some((l, Value::Array(a))) => a
                            .iter()
                            .enumerate()
                            .map(|(i, v)| l.child(v, &i.to_string()))
                            .collect(),
                        Some(_) | None => Vec::new(),
                    },
                    node.keys
                        .get("items")
                        .cloned()
                        .unwrap_or_else(|| loc.absent("items")),
                    "items",
                ),
            }
        };
        let (opre, orest, _) = split(o, ol);
        let (npre, nrest, nk) = split(n, nl);
        for i in 0..opre.len().max(npre.len()) {
            let c = ctx.child(&i.to_string());
            match (opre.get(i), npre.get(i)) {
                (Some(a), Some(b)) => self.diff(a, b, &c),
                (None, Some(b)) => {
                    self.emit(
                        &c,
                        ChangeClass::PrefixItemAdded,
                        "prefixItems",
                        b.at(),
                        format!("position {i} added"),
                    );
                    self.diff(&orest, b, &c);
                }
                (Some(a), None) => {
                    self.emit(
                        &c,
                        ChangeClass::PrefixItemRemoved,
                        "prefixItems",
                        a.at(),
                        format!("position {i} removed"),
                    );
                    self.diff(a, &nrest, &c);
                }
                (None, None) => {}
            }
        }
        let c = ctx.child("*");
        match (is_false(orest.value), is_false(nrest.value)) {
            (false, true) => self.emit(
                &c,
                ChangeClass::BoundTightened,
                nk,
                nrest.at(),
                format!("{nk} became false: no items beyond position {}", npre.len()),
            ),
            (true, false) => self.emit(
                &c,
                ChangeClass::BoundLoosened,
                nk,
                nrest.at(),
                format!(
                    "{nk} no longer false: items beyond position {} allowed",
                    opre.len()
                ),
            ),
            (false, false) => self.diff(&orest, &nrest, &c),
            (true, true) => {}
        }
        self.closable(
            o,
            n,
            ol,
            nl,
            ctx,
            "unevaluatedItems",
            ChangeClass::UnevaluatedOpened,
            ChangeClass::UnevaluatedClosed,
        );
        match (o.keys.get("contains"), n.keys.get("contains")) {
            (None, Some(b)) => self.emit(
                ctx,
                ChangeClass::ContainsAdded,
                "contains",
                b.at(),
                "contains added".into(),
            ),
            (Some(a), None) => self.emit(
                ctx,
                ChangeClass::ContainsRemoved,
                "contains",
                a.at(),
                "contains removed".into(),
            ),
            (Some(a), Some(b)) => {
                let (a, b) = (a.clone(), b.clone());
                self.diff(&a, &b, &ctx.child("*").unsure());
            }
            (None, None) => {}
        }
        let uniq = |node: &Node<'_>| {
            node.keys
                .get("uniqueItems")
                .is_some_and(|l| l.value == &Value::Bool(true))
        };
        match (uniq(o), uniq(n)) {
            (false, true) => self.emit(
                ctx,
                ChangeClass::UniqueItemsAdded,
                "uniqueItems",
                at_either(n, o, "uniqueItems", nl),
                "uniqueItems: false -> true".into(),
            ),
            (true, false) => self.emit(
                ctx,
                ChangeClass::UniqueItemsRemoved,
                "uniqueItems",
                at_either(n, o, "uniqueItems", nl),
                "uniqueItems: true -> false".into(),
            ),
            (true, true) | (false, false) => {}
        }
    }

    #[allow(clippy::too_many_lines)]
    fn applicators(&mut self, o: &Node<'a>, n: &Node<'a>, ol: &Loc<'a>, nl: &Loc<'a>, ctx: &Ctx) {
        let list = |node: &Node<'a>, k: &str| -> Option<Vec<Loc<'a>>> {
            node.keys.get(k).and_then(|l| {
                l.value.as_array().map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| l.child(v, &i.to_string()))
                        .collect()
                })
            })
        };
        // allOf: members paired by position; a conjunct more narrows, one fewer widens.
        let (oa, na) = (
            list(o, "allOf").unwrap_or_default(),
            list(n, "allOf").unwrap_or_default(),
        );
        for i in 0..oa.len().max(na.len()) {
            match (oa.get(i), na.get(i)) {
                (Some(a), Some(b)) => self.diff(a, b, &ctx.deeper()),
                (None, Some(b)) => self.emit(
                    ctx,
                    ChangeClass::AllOfAdded,
                    "allOf",
                    b.at(),
                    format!("allOf member {i} added"),
                ),
                (Some(a), None) => self.emit(
                    ctx,
                    ChangeClass::AllOfRemoved,
                    "allOf",
                    a.at(),
                    format!("allOf member {i} removed"),
                ),
                (None, None) => {}
            }
        }
        // anyOf / oneOf: equal branches matched first; leftovers paired by position and compared
        // without certainty (another branch may cover what one loses); surplus is added/removed.
        for k in ["anyOf", "oneOf"] {
            let (ob, nb) = (list(o, k), list(n, k));
            match (&ob, &nb) {
                (None, None) => continue,
                (None, Some(_)) => {
                    self.emit(
                        ctx,
                        ChangeClass::BranchRemoved,
                        k,
                        at_either(n, o, k, nl),
                        format!("{k} added: only its branches remain valid"),
                    );
                    continue;
                }
                (Some(_), None) => {
                    self.emit(
                        ctx,
                        ChangeClass::BranchAdded,
                        k,
                        at_either(n, o, k, nl),
                        format!("{k} removed: its constraint is gone"),
                    );
                    continue;
                }
                (Some(_), Some(_)) => {}
            }
            let ob = ob.unwrap_or_default();
            let nb = nb.unwrap_or_default();
            let mut o_left: Vec<&Loc<'a>> = Vec::new();
            let mut n_used = vec![false; nb.len()];
            for a in &ob {
                match nb
                    .iter()
                    .enumerate()
                    .position(|(j, b)| !n_used[j] && a.value == b.value && !has_ref(a.value))
                {
                    Some(j) => n_used[j] = true,
                    None => o_left.push(a),
                }
            }
            let n_left: Vec<&Loc<'a>> = nb
                .iter()
                .enumerate()
                .filter(|(j, _)| !n_used[*j])
                .map(|(_, b)| b)
                .collect();
            let paired = o_left.len().min(n_left.len());
            for i in 0..paired {
                self.diff(o_left[i], n_left[i], &ctx.unsure());
            }
            // oneOf: an extra branch can also make an old event match twice.
            let one_of = k == "oneOf";
            for b in &n_left[paired..] {
                let effect = if one_of {
                    Effect {
                        backward: Impact::MayBreak,
                        forward: Impact::Breaks,
                    }
                } else {
                    Effect::WIDENS
                };
                self.push(
                    ctx,
                    Emit {
                        class: ChangeClass::BranchAdded,
                        keyword: k,
                        at: b.at(),
                        detail: format!("{k} branch added"),
                        effect,
                    },
                );
            }
            for a in &o_left[paired..] {
                let effect = if one_of {
                    Effect {
                        backward: Impact::Breaks,
                        forward: Impact::MayBreak,
                    }
                } else {
                    Effect::NARROWS
                };
                self.push(
                    ctx,
                    Emit {
                        class: ChangeClass::BranchRemoved,
                        keyword: k,
                        at: a.at(),
                        detail: format!("{k} branch removed"),
                        effect,
                    },
                );
            }
        }
        // not: the directions swap beneath it.
        match (o.keys.get("not"), n.keys.get("not")) {
            (None, Some(b)) => self.emit(
                ctx,
                ChangeClass::NotAdded,
                "not",
                b.at(),
                "not added".into(),
            ),
            (Some(a), None) => self.emit(
                ctx,
                ChangeClass::NotRemoved,
                "not",
                a.at(),
                "not removed".into(),
            ),
            (Some(a), Some(b)) => {
                let (a, b) = (a.clone(), b.clone());
                let c = Ctx {
                    negated: !ctx.negated,
                    ..ctx.deeper()
                };
                self.diff(&a, &b, &c);
            }
            (None, None) => {}
        }
        // if/then/else: the condition decides which branch applies; no structural verdict.
        let cond =
            |node: &Node<'a>| ["if", "then", "else"].map(|k| node.keys.get(k).map(|l| l.value));
        if cond(o) != cond(n)
            || ["if", "then", "else"]
                .iter()
                .any(|k| o.keys.get(k).is_some_and(|l| has_ref(l.value)))
        {
            let (oc, nc) = (cond(o), cond(n));
            if oc != nc {
                self.emit(
                    ctx,
                    ChangeClass::ConditionalChanged,
                    "if",
                    at_either(n, o, "if", nl),
                    "if/then/else changed".into(),
                );
            }
            for k in ["then", "else"] {
                if o.keys.contains_key(k) && n.keys.contains_key(k) && oc[0] == nc[0] {
                    self.sub(o, n, ol, nl, &ctx.unsure(), k);
                }
            }
        }
    }
}

/// `schema` without annotation keywords, walking only schema positions (a property *named*
/// `description` stays).
#[must_use]
pub fn strip_annotations(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        if is_annotation(k) && !matches!(k.as_str(), "$defs" | "definitions") {
            continue;
        }
        let stripped = match (k.as_str(), v) {
            (
                "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas"
                | "dependencies",
                Value::Object(m),
            ) => Value::Object(
                m.iter()
                    .map(|(name, s)| (name.clone(), strip_annotations(s)))
                    .collect(),
            ),
            ("allOf" | "anyOf" | "oneOf" | "prefixItems" | "items", Value::Array(a)) => {
                Value::Array(a.iter().map(strip_annotations).collect())
            }
            (
                "items"
                | "additionalItems"
                | "additionalProperties"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames"
                | "unevaluatedItems"
                | "unevaluatedProperties",
                _,
            ) => strip_annotations(v),
            _ => v.clone(),
        };
        out.insert(k.clone(), stripped);
    }
    Value::Object(out)
}

fn resolve_loc<'a>(set: &'a SchemaSet, r: &Loc<'a>) -> Option<Loc<'a>> {
    let (doc, ptr) = set.resolve(r.doc, r.value.as_str()?)?;
    let (doc, root) = set.docs().get_key_value(&doc)?;
    Some(Loc {
        value: root.pointer(&ptr)?,
        doc,
        ptr,
    })
}

/// Where a keyword is: in the new node when present there, else in the old one.
fn at_either(n: &Node<'_>, o: &Node<'_>, k: &str, nl: &Loc<'_>) -> String {
    n.keys
        .get(k)
        .or_else(|| o.keys.get(k))
        .map_or_else(|| format!("{}/{}", nl.at(), escape_pointer(k)), Loc::at)
}

/// The schema a property `name` gets when `properties` does not declare it.
fn fallback<'a>(node: &Node<'a>, loc: &Loc<'a>, name: &str) -> Loc<'a> {
    if let Some(pp) = node.keys.get("patternProperties") {
        if let Value::Object(m) = pp.value {
            for (pattern, v) in m {
                let matches = jsonschema::is_valid(
                    &serde_json::json!({"pattern": pattern}),
                    &Value::String(name.to_owned()),
                );
                if matches {
                    return pp.child(v, pattern);
                }
            }
        }
    }
    node.keys
        .get("additionalProperties")
        .cloned()
        .unwrap_or_else(|| loc.absent("additionalProperties"))
}

fn is_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Object(m) => {
            m.len() == 1
                && m.get("not").is_some_and(|n| {
                    n == &Value::Bool(true) || n.as_object().is_some_and(Map::is_empty)
                })
        }
        Value::Null | Value::Number(_) | Value::String(_) | Value::Array(_) => false,
    }
}

fn has_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k == "$ref" || has_ref(v)),
        Value::Array(a) => a.iter().any(has_ref),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
    }
}

const K_NULL: u8 = 1;
const K_BOOL: u8 = 2;
const K_OBJECT: u8 = 4;
const K_ARRAY: u8 = 8;
const K_STRING: u8 = 16;
const K_INTEGER: u8 = 32;
const K_FRACTION: u8 = 64;
const K_ALL: u8 = 127;

/// The instance kinds a `type` admits, `number` being integers and fractions.
fn kinds(t: Option<&Value>) -> u8 {
    let one = |s: &str| match s {
        "null" => K_NULL,
        "boolean" => K_BOOL,
        "object" => K_OBJECT,
        "array" => K_ARRAY,
        "string" => K_STRING,
        "integer" => K_INTEGER,
        "number" => K_INTEGER | K_FRACTION,
        _ => 0,
    };
    match t {
        None => K_ALL,
        Some(Value::String(s)) => one(s),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .fold(0, |x, y| x | y),
        Some(_) => K_ALL,
    }
}

fn kind_names(k: u8) -> String {
    let names = [
        (K_NULL, "null"),
        (K_BOOL, "boolean"),
        (K_OBJECT, "object"),
        (K_ARRAY, "array"),
        (K_STRING, "string"),
        (K_INTEGER, "integer"),
        (K_FRACTION, "non-integer number"),
    ];
    names
        .iter()
        .filter(|(bit, _)| k & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tighter of an inclusive and an exclusive bound: `(value, exclusive)`.
fn bound(incl: Option<f64>, excl: Option<f64>, lower: bool) -> Option<(f64, bool)> {
    match (incl, excl) {
        (None, None) => None,
        (Some(i), None) => Some((i, false)),
        (None, Some(e)) => Some((e, true)),
        (Some(i), Some(e)) => {
            let excl_tighter = if lower { e >= i } else { e <= i };
            Some(if excl_tighter { (e, true) } else { (i, false) })
        }
    }
}

/// `Some(true)` when `new` is tighter than `old`, `Some(false)` when looser, `None` when equal.
fn compare_bound(old: Option<(f64, bool)>, new: Option<(f64, bool)>, lower: bool) -> Option<bool> {
    match (old, new) {
        (None, None) => None,
        (None, Some(_)) => Some(true),
        (Some(_), None) => Some(false),
        (Some((a, ae)), Some((b, be))) => {
            if (a - b).abs() < f64::EPSILON {
                if ae == be { None } else { Some(be) }
            } else {
                Some(if lower { b > a } else { b < a })
            }
        }
    }
}

/// A JSON number, integral when `x` is whole.
fn number(x: f64) -> Option<Value> {
    if is_whole(x) && x.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        let i = x.round() as i64;
        Some(Value::from(i))
    } else {
        serde_json::Number::from_f64(x).map(Value::Number)
    }
}

fn is_whole(x: f64) -> bool {
    x.is_finite() && (x - x.round()).abs() < 1e-9
}

/// JSON Schema equality: `1` equals `1.0`.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn show(v: &[Value]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::compat::schemas::LOOSE_BASE;
    use rstest::rstest;
    use serde_json::json;
    use std::sync::Arc;

    fn subject(v: Value) -> Subject {
        let set = SchemaSet::from_memory(LOOSE_BASE, "test", [("s.json".to_owned(), v)]);
        Subject {
            set: Arc::new(set),
            entry: "s.json".into(),
        }
    }

    fn classes(old: Value, new: Value) -> Vec<(ChangeClass, Effect)> {
        diff(&subject(old), &subject(new))
            .into_iter()
            .map(|c| (c.class, c.effect))
            .collect()
    }

    #[rstest]
    // Each case: one change class in isolation, with the direction it must break.
    #[case::required_added(json!({"required": []}), json!({"required": ["a"]}), ChangeClass::RequiredAdded, Effect::NARROWS)]
    #[case::max_length_tightened(json!({"maxLength": 10}), json!({"maxLength": 5}), ChangeClass::BoundTightened, Effect::NARROWS)]
    #[case::minimum_loosened(json!({"minimum": 10}), json!({"minimum": 5}), ChangeClass::BoundLoosened, Effect::WIDENS)]
    #[case::integer_to_number(json!({"type": "integer"}), json!({"type": "number"}), ChangeClass::TypeWidened, Effect::WIDENS)]
    #[case::enum_value_removed(json!({"enum": ["a", "b"]}), json!({"enum": ["a"]}), ChangeClass::EnumValueRemoved, Effect::NARROWS)]
    #[case::closed(json!({"additionalProperties": true}), json!({"additionalProperties": false}), ChangeClass::AdditionalPropertiesClosed, Effect::NARROWS)]
    #[case::not_swaps(json!({"not": {"maxLength": 5}}), json!({"not": {"maxLength": 3}}), ChangeClass::BoundTightened, Effect::WIDENS)]
    #[case::multiple_of_divides(json!({"multipleOf": 4}), json!({"multipleOf": 2}), ChangeClass::BoundLoosened, Effect::WIDENS)]
    fn one_change_is_classified(
        #[case] old: Value,
        #[case] new: Value,
        #[case] class: ChangeClass,
        #[case] effect: Effect,
    ) {
        assert_eq!(classes(old, new), vec![(class, effect)]);
    }

    #[test]
    fn inlining_a_definition_behind_a_ref_is_no_change() {
        let old = json!({"properties": {"id": {"type": "string", "format": "uuid"}}});
        let new = json!({"properties": {"id": {"$ref": "#/$defs/u"}}, "$defs": {"u": {"type": "string", "format": "uuid"}}});
        let got = classes(old, new);
        assert!(got.iter().all(|(_, e)| *e == Effect::NONE), "{got:?}");
    }

    #[test]
    fn every_class_has_a_spelling_and_an_effect() {
        for c in ChangeClass::ALL {
            assert!(!c.as_str().is_empty());
            let _ = c.default_effect();
        }
    }
}
