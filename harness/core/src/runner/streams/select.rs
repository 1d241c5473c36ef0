//! Compiled selectors: which events a rule reads, the keys it reads from them, and the event facts
//! every rule kind shares ([`Seen`], [`EventRef`], [`Finding`]).

use super::rules::Selector;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Where an event is: the input it came from, its line, its `event_id`, its `timestamp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRef {
    /// Index of the input in the run's list of inputs.
    #[serde(skip)]
    pub input: u32,
    /// The input's name (a path, or `-`).
    #[serde(serialize_with = "arc_str")]
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u64,
    /// The event's `event_id`.
    pub event_id: Box<str>,
    /// The event's `timestamp`, milliseconds since the Unix epoch.
    #[serde(skip)]
    pub ts: i64,
}

/// One schema-valid event as the rules see it.
#[derive(Debug)]
pub struct Seen<'a> {
    /// The parsed event.
    pub value: &'a Value,
    /// Its bytes as read (for byte-identical re-delivery, R2).
    pub bytes: &'a [u8],
    /// Where it is.
    pub at: EventRef,
    /// `event_type`.
    pub event_type: &'a str,
    /// `tenant_id`.
    pub tenant: &'a str,
}

/// Whether a finding fails the stream or waits for more of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// The rule is broken.
    Violation,
    /// The stream ended before the rule could be judged (e.g. a B still awaited after an A).
    Pending,
}

/// One rule finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule id.
    #[serde(serialize_with = "arc_str")]
    pub rule: Arc<str>,
    /// Violation or pending.
    pub status: FindingStatus,
    /// The event judged.
    pub at: EventRef,
    /// The event it conflicts with, when there is one (the earlier event of the key, the
    /// re-delivered original, the named cause).
    pub earlier: Option<EventRef>,
    /// The key value the rule joined on, when it has one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A [`Selector`] ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Sel {
    /// `None` for `*`.
    pub(crate) event_type: Option<String>,
    pub(crate) keys: Vec<String>,
    pub(crate) when: Vec<(String, Vec<Value>)>,
    pub(crate) value: Option<String>,
    pub(crate) total: Option<String>,
    pub(crate) last: bool,
    pub(crate) reference: Option<String>,
    pub(crate) time: Option<String>,
}

impl Sel {
    pub(crate) fn new(s: &Selector) -> Self {
        Sel {
            event_type: (s.event_type != "*").then(|| s.event_type.clone()),
            keys: s
                .key
                .as_ref()
                .map(|k| k.list().into_iter().map(str::to_owned).collect())
                .unwrap_or_default(),
            when: compile_when(&s.when),
            value: s.value.clone(),
            total: s.total.clone(),
            last: s.last,
            reference: s.reference.clone(),
            time: s.time.clone(),
        }
    }

    /// Whether this selector reads `ev`.
    pub(crate) fn reads(&self, ev: &Seen<'_>) -> bool {
        self.event_type
            .as_deref()
            .is_none_or(|t| t == ev.event_type)
            && matches_when(&self.when, ev.value)
    }

    /// The keys of `ev` with the index of the pointer each came from.
    pub(crate) fn keys_of(&self, ev: &Seen<'_>) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, p) in self.keys.iter().enumerate() {
            strings_at(ev.value, p, |s| out.push((i, s.to_owned())));
        }
        out
    }
}

/// `when` values as lists of accepted values.
pub(crate) fn compile_when(
    when: &std::collections::BTreeMap<String, Value>,
) -> Vec<(String, Vec<Value>)> {
    when.iter()
        .map(|(p, v)| {
            let accepted = match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            (p.clone(), accepted)
        })
        .collect()
}

/// Whether every pointer of `when` holds one of its accepted values.
pub(crate) fn matches_when(when: &[(String, Vec<Value>)], event: &Value) -> bool {
    when.iter()
        .all(|(p, accepted)| event.pointer(p).is_some_and(|v| accepted.contains(v)))
}

/// Call `f` with the string at `pointer`, or with each string of the array there.
pub(crate) fn strings_at(event: &Value, pointer: &str, mut f: impl FnMut(&str)) {
    match event.pointer(pointer) {
        Some(Value::String(s)) => f(s),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(f),
        _ => {}
    }
}

/// The integer at `pointer`.
pub(crate) fn int_at(event: &Value, pointer: &str) -> Option<i64> {
    event.pointer(pointer).and_then(Value::as_i64)
}

/// An RFC 3339 timestamp as milliseconds since the Unix epoch.
#[must_use]
pub fn millis(ts: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The time at `pointer` as milliseconds.
pub(crate) fn time_at(event: &Value, pointer: &str) -> Option<i64> {
    event
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(millis)
}

/// A key scoped to its tenant: the same ID in two tenants is two objects (R7).
pub(crate) fn scoped(tenant: &str, key: &str) -> String {
    let mut s = String::with_capacity(tenant.len() + key.len() + 1);
    s.push_str(tenant);
    s.push('\u{1f}');
    s.push_str(key);
    s
}

/// Serialise an `Arc<str>` as a string (serde's `rc` feature is not enabled for one field type).
pub(crate) fn arc_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}
