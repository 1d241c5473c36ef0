//! The fast path: a validating scanner compiled from each event type's schema
//! (envelope and payload together) that says "certainly valid" without building a `Value`.
//!
//! Contract with the reference path ([`Registry::validate_value`](crate::Registry::validate_value)):
//! the fast path answers [`Fast::Valid`] only for an event the reference path judges valid; for
//! everything else it answers [`Fast::Unsure`] and the caller runs the reference path, so verdicts
//! and error lists are exactly the reference ones. Schemas (or keywords, formats, numbers) it cannot
//! compile exactly send their event type to the reference path, listed by [`FastPath::fallbacks`].
//!
//! Route: a hand-written scanner over the bytes (no serde, no `Value`), one validating pass.
//! Top-level members are checked against the event type's node as soon as `event_type` and
//! `schema_version` have been read; members before them are scanned as any JSON value, then
//! re-read against the node once it is known, and the re-read must end on the same byte (in the
//! usual member order that is `event_id` only). No byte is skipped unchecked.

mod compile;
mod scan;
mod tree;

pub(crate) use tree::{Borrowed, Tree};

/// What the error collector ([`crate::collect`]) shares with the fast path's compiler: the hand
/// matchers of the catalogue's UUID, timestamp and version patterns, compiled patterns, the
/// list of keywords that only annotate, and the member-name tag.
pub(crate) mod matchers {
    pub(crate) use super::compile::{
        Pattern, TIMESTAMP, UUID, VERSION, is_annotation, key_tag, pinned_major,
    };
    pub(crate) use super::scan::{is_timestamp, is_uuid, is_version};
}

use crate::validate::schema_major;
use compile::{Compiler, Node, NodeId};
use scan::{Fail, Scanner};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The fast path's answer for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fast<'a> {
    /// Valid by schema and by the harness rules; the reference path would say the same.
    Valid {
        /// The event's `event_type`.
        event_type: &'a str,
        /// The event's `event_id`.
        event_id: &'a str,
    },
    /// The event type's schema is certainly broken somewhere: the reference path runs for the
    /// error list (and may skip its own yes/no pass). A hint only: the reference verdict stands.
    Invalid,
    /// Not decided here (unreadable, a harness rule, unknown type or not compiled): ask the
    /// reference path.
    Unsure,
}

/// One event type (at one MAJOR) the fast path does not compile, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The event type.
    pub event_type: String,
    /// Its MAJOR.
    pub major: u64,
    /// Why it stays on the reference path.
    pub reason: String,
}

/// Compiled validators of every event type the compiler could compile.
pub struct FastPath {
    nodes: Vec<Node>,
    roots: HashMap<String, Vec<(u64, NodeId)>>,
    fallbacks: Vec<Fallback>,
    patterns: HashMap<String, Arc<compile::Pattern>>,
}

impl std::fmt::Debug for FastPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastPath")
            .field("nodes", &self.nodes.len())
            .field("types", &self.roots.len())
            .field("fallbacks", &self.fallbacks)
            .finish()
    }
}

impl FastPath {
    /// Compile every `(event_type, major, schema file)`; `docs` maps a file path relative to the
    /// specs root to its parsed schema.
    #[must_use]
    pub fn build(docs: &BTreeMap<String, Arc<Value>>, contracts: &[(String, u64, String)]) -> Self {
        let mut compiler = Compiler::new(docs);
        let mut roots: HashMap<String, Vec<(u64, NodeId)>> = HashMap::new();
        let mut fallbacks = Vec::new();
        for (event_type, major, file) in contracts {
            match compiler.compile_root(file) {
                Ok(id) => roots
                    .entry(event_type.clone())
                    .or_default()
                    .push((*major, id)),
                Err(reason) => fallbacks.push(Fallback {
                    event_type: event_type.clone(),
                    major: *major,
                    reason,
                }),
            }
        }
        let nodes = std::mem::take(&mut compiler.nodes);
        FastPath {
            nodes,
            roots,
            fallbacks,
            patterns: compiler.into_patterns(),
        }
    }

    /// Every `pattern` the compiler compiled, by source.
    pub(crate) fn patterns(&self) -> &HashMap<String, Arc<matchers::Pattern>> {
        &self.patterns
    }

    /// Event types on the reference path, with the reason.
    #[must_use]
    pub fn fallbacks(&self) -> &[Fallback] {
        &self.fallbacks
    }

    /// `(event_type, MAJOR)` of every compiled contract, sorted.
    #[must_use]
    pub fn compiled(&self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = self
            .roots
            .iter()
            .flat_map(|(t, ms)| ms.iter().map(|(m, _)| (t.clone(), *m)))
            .collect();
        all.sort();
        all
    }

    /// Judge `bytes`: [`Fast::Valid`] only when the reference path would say valid.
    #[must_use]
    pub fn check<'a>(&self, bytes: &'a [u8]) -> Fast<'a> {
        match self.try_check(bytes) {
            Ok(verdict) => verdict,
            Err(Fail::Invalid) => Fast::Invalid,
            Err(Fail::Unsure) => Fast::Unsure,
        }
    }

    fn try_check<'a>(&self, bytes: &'a [u8]) -> Result<Fast<'a>, Fail> {
        let mut s = Scanner::new(bytes);
        let top = s.root(&self.nodes, |event_type, version| {
            let major = schema_major(version)?;
            self.roots
                .get(event_type)?
                .iter()
                .find(|(m, _)| *m == major)
                .map(|(_, id)| *id)
        })?;
        let (Some(event_type), Some(event_id)) = (top.event_type, top.event_id) else {
            return Err(Fail::Unsure);
        };
        if top.causation_id == Some(event_id) {
            return Err(Fail::Unsure); // self_causation: the reference path names it
        }
        s.ws();
        if s.pos != bytes.len() {
            return Err(Fail::Unsure);
        }
        Ok(Fast::Valid {
            event_type,
            event_id,
        })
    }
}

/// Whether a freshly loaded [`crate::Registry`] tries the fast path first: on. It is proven equal
/// to the reference path by the differential tests and the soak, and on valid events it takes
/// well under half the reference path's time (docs/performance.md, issue 7).
/// `CONTRACTS_FAST_PATH=0` in the environment, [`crate::Registry::set_fast_path`] or
/// `contracts validate --reference` forces the reference path.
pub const DEFAULT_ON: bool = true;

/// [`DEFAULT_ON`], unless `CONTRACTS_FAST_PATH` is set (`1`/`on`/`true`: on, anything else: off).
#[must_use]
pub fn default_on() -> bool {
    match std::env::var("CONTRACTS_FAST_PATH") {
        Ok(v) => matches!(v.as_str(), "1" | "on" | "true"),
        Err(_) => DEFAULT_ON,
    }
}

#[cfg(test)]
mod tests {
    use super::{Fast, FastPath};
    use serde_json::{Value, json};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// Conditionals over declared members (if/then/else, `not`, `anyOf` of `required`s) are
    /// judged from the members the object scan kept ([`super::compile::Plan`]); on every
    /// combination of present, absent and wrong-typed members, in two member orders, the
    /// verdict is the jsonschema crate's, and the plan is really in use.
    #[test]
    fn planned_conditionals_agree_with_jsonschema() {
        let schema = json!({
            "type": "object",
            "required": ["event_type", "schema_version", "event_id", "payload"],
            "properties": {
                "event_type": {"const": "t.x"},
                "schema_version": {"type": "string"},
                "event_id": {"type": "string"},
                "payload": {"$ref": "#/$defs/p"}
            },
            "$defs": {"p": {
                "type": "object",
                "properties": {
                    "a": {"enum": ["x", "y", 1]},
                    "b": {"type": "integer"},
                    "c": {"type": "string"},
                    "d": {"type": "object", "properties": {"e": {"type": "string"}},
                          "allOf": [{"if": {"required": ["e"]}, "then": {"properties": {"e": {"minLength": 2}}}}]}
                },
                "allOf": [
                    {"if": {"properties": {"a": {"const": "x"}}, "required": ["a"]},
                     "then": {"properties": {"b": {"minimum": 5}}, "required": ["b"]},
                     "else": {"not": {"required": ["c"]}}},
                    {"anyOf": [{"required": ["b"]}, {"properties": {"c": {"maxLength": 2}}, "required": ["c"]}]},
                    {"not": {"properties": {"b": {"const": 7}}, "required": ["b"]}},
                    {"if": {"type": "string"}, "then": false}
                ]
            }}
        });
        let reference = crate::registry::validator_options()
            .build(&schema)
            .expect("schema builds");
        let mut docs = BTreeMap::new();
        docs.insert("t.json".to_owned(), Arc::new(schema));
        let fast = FastPath::build(&docs, &[("t.x".into(), 1, "t.json".into())]);
        assert!(fast.fallbacks().is_empty(), "{:?}", fast.fallbacks());
        assert!(
            fast.nodes.iter().filter(|n| n.plan.is_some()).count() >= 2,
            "the payload and `d` carry plans"
        );
        let choices = |name: &str, values: &[Value]| -> Vec<Option<(String, Value)>> {
            std::iter::once(None)
                .chain(values.iter().map(|v| Some((name.to_owned(), v.clone()))))
                .collect()
        };
        let a = choices("a", &[json!("x"), json!("y"), json!(1), json!(true)]);
        let b = choices("b", &[json!(3), json!(5), json!(7), json!("s")]);
        let c = choices("c", &[json!("ab"), json!("abc"), json!(5)]);
        let d = choices(
            "d",
            &[json!({}), json!({"e": "q"}), json!({"e": "qq"}), json!(1)],
        );
        let (mut checked, mut valid) = (0, 0);
        for a in &a {
            for b in &b {
                for c in &c {
                    for d in &d {
                        let members: Vec<&(String, Value)> =
                            [a, b, c, d].into_iter().flatten().collect();
                        for reversed in [false, true] {
                            let mut members = members.clone();
                            if reversed {
                                members.reverse();
                            }
                            let payload: Vec<String> = members
                                .iter()
                                .map(|(k, v)| format!("\"{k}\":{v}"))
                                .collect();
                            let text = format!(
                                r#"{{"event_type":"t.x","schema_version":"1.0","event_id":"i","payload":{{{}}}}}"#,
                                payload.join(",")
                            );
                            let value: Value = serde_json::from_str(&text).expect("json");
                            let expected = reference.is_valid(&value);
                            let got = fast.check(text.as_bytes());
                            let agrees = match got {
                                Fast::Valid { .. } => expected,
                                Fast::Invalid => !expected,
                                Fast::Unsure => false,
                            };
                            assert!(agrees, "{text}: fast {got:?}, jsonschema valid {expected}");
                            checked += 1;
                            valid += usize::from(expected);
                        }
                    }
                }
            }
        }
        assert!(
            valid > 10 && valid < checked - 10,
            "{valid} of {checked} valid: both verdicts exercised"
        );
    }
}
