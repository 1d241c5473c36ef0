//! The validation hot path: bytes or a parsed value in, one `Verdict` out.
//!
//! Order of work for one event: parse; read `event_type` and `schema_version`; dispatch to the
//! pre-built validator of that `(event_type, MAJOR)` (or the envelope alone when it is unknown);
//! `is_valid` first, and the full error list only for an invalid event. The rules that plain
//! JSON Schema cannot state get their own named violations (see [`rule`]).

use crate::fast::{Borrowed, Tree};
use crate::registry::{EventContract, Registry};
use jsonschema::json::{Array, Json, Node, Object, SerdeJson};
use jsonschema::{JsonType, Validator};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// Keywords of the rules the harness adds on top of JSON Schema.
pub mod rule {
    /// A persistence or broker metadata member (catalogue §2.3) at any depth of the event.
    pub const PERSISTENCE_METADATA: &str = "persistence_metadata";
    /// `event_type` is well formed but no schema exists for it.
    pub const UNKNOWN_EVENT_TYPE: &str = "unknown_event_type";
    /// `event_type` is known but no schema exists for the MAJOR of `schema_version`.
    pub const UNKNOWN_SCHEMA_VERSION: &str = "unknown_schema_version";
    /// `causation_id` equals `event_id` (catalogue §2.4 R3).
    pub const SELF_CAUSATION: &str = "self_causation";
    /// The input is not a JSON document (unreadable events carry this one violation).
    pub const PARSE: &str = "parse";
    /// A member name appears twice in one object (RFC 7493 §2.3): parsers disagree on which
    /// value counts, so a gate that judged one of them would certify what another reader sees.
    pub const DUPLICATE_MEMBER: &str = "duplicate_member";
}

/// Persistence and broker metadata that must never appear in a transport event (catalogue §2.3).
pub const PERSISTENCE_FIELDS: [&str; 22] = [
    "received_at",
    "stored_at",
    "ingested_at",
    "persisted_at",
    "indexed_at",
    "inserted_at",
    "loaded_at",
    "_id",
    "_rev",
    "_ts",
    "_etag",
    "row_version",
    "partition",
    "offset",
    "kafka_offset",
    "sequence_number",
    "redelivery_count",
    "delivery_tag",
    "ack_id",
    "lease_id",
    "dead_lettered_at",
    "ttl",
];

/// Whether `key` is a §2.3 persistence-metadata name.
///
/// Called for every member name of every event, so it dispatches on length before comparing
/// bytes (a linear scan of [`PERSISTENCE_FIELDS`] cost ~20 comparisons per key); the test
/// `persistence_match_agrees_with_the_list` keeps the two in step.
#[must_use]
pub fn is_persistence_field(key: &str) -> bool {
    is_persistence_name(key.as_bytes())
}

/// [`is_persistence_field`] on the raw bytes of a member name (the fast path reads names as
/// bytes; every persistence name is ASCII).
#[must_use]
pub fn is_persistence_name(key: &[u8]) -> bool {
    match key.len() {
        3 => matches!(key, b"_id" | b"_ts" | b"ttl"),
        4 => key == b"_rev",
        5 => key == b"_etag",
        6 => matches!(key, b"offset" | b"ack_id"),
        8 => key == b"lease_id",
        9 => matches!(key, b"stored_at" | b"loaded_at" | b"partition"),
        10 => key == b"indexed_at",
        11 => matches!(
            key,
            b"received_at" | b"ingested_at" | b"inserted_at" | b"row_version"
        ),
        12 => matches!(key, b"persisted_at" | b"kafka_offset" | b"delivery_tag"),
        15 => key == b"sequence_number",
        16 => matches!(key, b"redelivery_count" | b"dead_lettered_at"),
        _ => false,
    }
}

/// How much of an invalid event's error list to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// One schema error only (plus the harness rules): the cheapest way to reject. Which error
    /// is the first one met, and that depends on the path: `jsonschema`'s order on a
    /// `serde_json::Value`, the error collector's on the bytes. The status is the same.
    First,
    /// Every schema error, sorted by instance path then keyword.
    #[default]
    All,
}

/// The outcome for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check passed.
    Valid,
    /// Parsed, and at least one violation.
    Invalid,
    /// Not a JSON document (or over a limit): nothing could be checked.
    Unreadable,
}

/// One reason an event is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The JSON Schema keyword (`required`, `pattern`, ...) or a harness rule from [`rule`].
    pub keyword: String,
    /// RFC 6901 pointer into the event; the root is `""`.
    pub instance_path: String,
    /// Where the failing keyword lives: `events/common.schema.json#/$defs/uuid/pattern`.
    pub schema_path: String,
    /// Human text. Instance values are masked: events carry personal data.
    pub message: String,
}

/// The verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Valid, invalid or unreadable.
    pub status: Status,
    /// The event's `event_type`, when it has a string one.
    pub event_type: Option<String>,
    /// The event's `event_id`, when it has a string one.
    pub event_id: Option<String>,
    /// Every violation, in a stable order (empty when valid).
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// Whether the event passed every check.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }

    /// A verdict for input that could not be parsed.
    #[must_use]
    pub fn unreadable(message: impl Into<String>) -> Self {
        Verdict {
            status: Status::Unreadable,
            event_type: None,
            event_id: None,
            violations: vec![Violation {
                keyword: rule::PARSE.into(),
                instance_path: String::new(),
                schema_path: String::new(),
                message: message.into(),
            }],
        }
    }
}

/// `MAJOR` of a `MAJOR.MINOR` string with no leading zeros, as the envelope's pattern requires.
#[must_use]
pub fn schema_major(version: &str) -> Option<u64> {
    let (major, minor) = version.split_once('.')?;
    let canonical = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    (canonical(major) && canonical(minor)).then(|| major.parse().ok())?
}

/// The envelope's `event_type` pattern.
pub(crate) const EVENT_TYPE_PATTERN: &str = "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$";

/// Whether `name` matches the envelope's `event_type` pattern `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`.
pub(crate) fn well_formed_type(name: &str) -> bool {
    let mut segments = 0;
    for seg in name.split('.') {
        let mut bytes = seg.bytes();
        match bytes.next() {
            Some(b'a'..=b'z') => {}
            _ => return false,
        }
        if !bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_')) {
            return false;
        }
        segments += 1;
    }
    segments >= 2
}

impl Registry {
    /// Parse `bytes` as one JSON event and judge it, with the full error list when invalid.
    ///
    /// This is the call a producer makes before publishing. Work per event: the fast path's one
    /// validating pass over the bytes, which certifies a valid event without building
    /// anything. Any other event is read into a tree that borrows from the bytes and judged by the
    /// `jsonschema` validators compiled for that tree: one pass over the top-level members, a map
    /// lookup of the pre-built validator, one walk for the persistence rule, and `iter_errors`
    /// (after `is_valid` unless the fast path saw a violation). With the fast path off this is
    /// [`Registry::validate_bytes_reference`]: a `serde_json::Value` and the same judgement.
    /// Nothing is compiled or fetched here.
    ///
    /// # Examples
    /// ```no_run
    /// let registry = contracts_core::Registry::load(std::path::Path::new("specs"))?;
    /// let verdict = registry.validate_bytes(br#"{"event_type": "asset.discovered"}"#);
    /// assert!(!verdict.is_valid());
    /// for v in &verdict.violations {
    ///     eprintln!("{} at {}: {}", v.keyword, v.instance_path, v.message);
    /// }
    /// # Ok::<(), contracts_core::RegistryError>(())
    /// ```
    #[must_use]
    pub fn validate_bytes(&self, bytes: &[u8]) -> Verdict {
        self.validate_bytes_with(bytes, Detail::All)
    }

    /// [`Registry::validate_bytes`] with a choice of how many schema errors to collect.
    ///
    /// JSON nested deeper than serde_json's recursion limit (128) is unreadable, not a crash.
    #[must_use]
    pub fn validate_bytes_with(&self, bytes: &[u8], detail: Detail) -> Verdict {
        let mut likely_invalid = false;
        if self.fast_path_on() {
            match self.fast_path().check(bytes) {
                crate::fast::Fast::Valid {
                    event_type,
                    event_id,
                } => {
                    return Verdict {
                        status: Status::Valid,
                        event_type: Some(event_type.to_owned()),
                        event_id: Some(event_id.to_owned()),
                        violations: Vec::new(),
                    };
                }
                crate::fast::Fast::Invalid => likely_invalid = true,
                crate::fast::Fast::Unsure => {}
            }
            // The same validators on a tree that borrows from the bytes; serde_json reads
            // whatever the tree leaves to it (see `fast::tree`).
            if let Some((tree, persistence)) = Tree::read(bytes) {
                return self.judge::<Borrowed>(
                    &tree,
                    detail,
                    likely_invalid,
                    persistence,
                    Vec::new(),
                );
            }
        }
        self.parse_and_judge(bytes, detail, likely_invalid)
    }

    /// The reference path for bytes: parse into a `Value`, then [`Registry::validate_value_with`].
    #[must_use]
    pub fn validate_bytes_reference(&self, bytes: &[u8], detail: Detail) -> Verdict {
        self.parse_and_judge(bytes, detail, false)
    }

    fn parse_and_judge(&self, bytes: &[u8], detail: Detail, likely_invalid: bool) -> Verdict {
        match crate::parse::parse(bytes) {
            Ok((event, duplicates)) => {
                let found = duplicates
                    .into_iter()
                    .map(|(pointer, name)| {
                        named(
                            rule::DUPLICATE_MEMBER,
                            &pointer,
                            format!(
                                "member \"{name}\" appears more than once in its object: readers disagree on which value counts (RFC 7493 §2.3)"
                            ),
                        )
                    })
                    .collect();
                self.judge::<SerdeJson>(&event, detail, likely_invalid, true, found)
            }
            Err(e) => Verdict::unreadable(crate::parse::describe(bytes, &e)),
        }
    }

    /// Judge one parsed event, with the full error list when invalid.
    #[must_use]
    pub fn validate_value(&self, event: &Value) -> Verdict {
        self.validate_value_with(event, Detail::All)
    }

    /// Judge one parsed event, collecting `detail` schema errors when invalid.
    #[must_use]
    pub fn validate_value_with(&self, event: &Value, detail: Detail) -> Verdict {
        self.judge::<SerdeJson>(event, detail, false, true, Vec::new())
    }

    /// The reference judgement. `likely_invalid` (the fast path found a schema violation) skips
    /// the `is_valid` pass and collects errors at once; the schema verdict is then "no error
    /// collected", so the answer is the same either way, only cheaper when the hint is right.
    /// `persistence: false` says no member anywhere has a persistence-metadata name (the tree
    /// reader checks each name as it reads it), and the walk for that rule is skipped.
    /// `violations` holds what the parse already found (duplicate members).
    fn judge<'i, F: Judged>(
        &'i self,
        event: F::Node<'i>,
        detail: Detail,
        likely_invalid: bool,
        persistence: bool,
        mut violations: Vec<Violation>,
    ) -> Verdict {
        let top = Envelope::of::<F>(&event);
        let event_type = top.event_type.as_deref();
        let mut root = self.envelope_root();
        let validator = match (
            event_type,
            top.schema_version.as_deref().and_then(schema_major),
        ) {
            (Some(t), Some(major)) => match self.contract(t, major) {
                Some(contract) => {
                    root = contract.collect_root;
                    F::validator(contract)
                }
                None if self.knows_type(t) => {
                    violations.push(named(
                        rule::UNKNOWN_SCHEMA_VERSION,
                        "/schema_version",
                        format!("no schema for {t} at MAJOR {major}"),
                    ));
                    F::envelope(self)
                }
                None if well_formed_type(t) => {
                    violations.push(named(
                        rule::UNKNOWN_EVENT_TYPE,
                        "/event_type",
                        format!("no schema for event type {t}"),
                    ));
                    F::envelope(self)
                }
                None => F::envelope(self),
            },
            _ => F::envelope(self),
        };
        if let (Some(cause), Some(id)) = (&top.causation_id, &top.event_id) {
            if cause == id {
                violations.push(named(
                    rule::SELF_CAUSATION,
                    "/causation_id",
                    "causation_id equals event_id: an event cannot cause itself (R3)".into(),
                ));
            }
        }
        if persistence {
            find_persistence_fields::<F>(&event, None, &mut violations);
        }
        let to_violation = |e: jsonschema::ValidationError<'_>| Violation {
            keyword: e.kind().keyword().to_owned(),
            instance_path: e.instance_path().as_str().to_owned(),
            schema_path: schema_location(&e),
            message: e.masked().to_string(),
        };
        let rules = violations.len();
        let collected = F::collect(self, root, &event, detail, &mut violations);
        let schema_ok = if let Some(ok) = collected {
            ok
        } else if likely_invalid || !validator.is_valid(event.clone()) {
            match detail {
                Detail::All => violations.extend(validator.iter_errors(event).map(to_violation)),
                Detail::First => {
                    violations.extend(validator.validate(event).err().map(to_violation));
                }
            }
            violations.len() == rules
        } else {
            true
        };
        let status = if schema_ok && violations.is_empty() {
            Status::Valid
        } else {
            Status::Invalid
        };
        if violations.len() > 1 {
            // A total order, so that the list does not depend on the order errors were found in
            // (`jsonschema`'s or the collector's) and `dedup` removes every repeat.
            violations.sort_by(|a, b| {
                (&a.instance_path, &a.keyword, &a.schema_path, &a.message).cmp(&(
                    &b.instance_path,
                    &b.keyword,
                    &b.schema_path,
                    &b.message,
                ))
            });
            violations.dedup();
        }
        Verdict {
            status,
            event_type: top.event_type.map(Cow::into_owned),
            event_id: top.event_id.map(Cow::into_owned),
            violations,
        }
    }
}

/// The instance representations the reference judgement runs on, each with its own validators
/// compiled from the same schemas with the same options: serde_json's `Value` (the public
/// `validate_value`, and `validate_bytes` with the fast path off) and the borrowed tree.
trait Judged: Json {
    fn validator(contract: &EventContract) -> &Validator<Self>;
    fn envelope(registry: &Registry) -> &Validator<Self>;
    /// Every schema error of `event` under the collector's schema `root`, with
    /// `Some(no error)`; `None` leaves the errors to the validator.
    fn collect<'i>(
        _registry: &Registry,
        _root: Option<crate::collect::SchemaId>,
        _event: &Self::Node<'i>,
        _detail: Detail,
        _out: &mut Vec<Violation>,
    ) -> Option<bool> {
        None
    }
}

impl Judged for SerdeJson {
    fn validator(contract: &EventContract) -> &Validator<Self> {
        &contract.validator
    }
    fn envelope(registry: &Registry) -> &Validator<Self> {
        registry.envelope()
    }
}

impl Judged for Borrowed {
    fn validator(contract: &EventContract) -> &Validator<Self> {
        &contract.tree_validator
    }
    fn envelope(registry: &Registry) -> &Validator<Self> {
        registry.tree_envelope()
    }
    fn collect<'i>(
        registry: &Registry,
        root: Option<crate::collect::SchemaId>,
        event: &&'i Tree<'i>,
        detail: Detail,
        out: &mut Vec<Violation>,
    ) -> Option<bool> {
        let first = detail == Detail::First;
        root.map(|root| registry.collector().errors(root, event, first, out))
    }
}

/// The top-level members the hot path reads, found in one pass over the event's members rather
/// than four hashed lookups.
#[derive(Default)]
struct Envelope<'a> {
    event_type: Option<Cow<'a, str>>,
    schema_version: Option<Cow<'a, str>>,
    event_id: Option<Cow<'a, str>>,
    causation_id: Option<Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    fn of<F: Json>(event: &F::Node<'a>) -> Self {
        let mut top = Envelope::default();
        if let Some(map) = event.as_object() {
            for (key, value) in map.members() {
                let slot = match key.as_ref() {
                    "event_type" => &mut top.event_type,
                    "schema_version" => &mut top.schema_version,
                    "event_id" => &mut top.event_id,
                    "causation_id" => &mut top.causation_id,
                    _ => continue,
                };
                *slot = value.as_string();
            }
        }
        top
    }
}

fn named(keyword: &str, path: &str, message: String) -> Violation {
    Violation {
        keyword: keyword.to_owned(),
        instance_path: path.to_owned(),
        schema_path: String::new(),
        message,
    }
}

/// `events/common.schema.json#/$defs/uuid/pattern` from the error's absolute keyword location.
pub(crate) fn schema_location(e: &jsonschema::ValidationError<'_>) -> String {
    match e.absolute_keyword_location() {
        Some(uri) => {
            let s = uri.as_str();
            s.strip_prefix(crate::registry::BASE_URI)
                .unwrap_or(s)
                .to_owned()
        }
        None => e.schema_path().as_str().to_owned(),
    }
}

/// One step from the root to the value being walked; the chain lives on the call stack, so the
/// walk allocates nothing unless it finds a persistence member.
pub(crate) struct Trail<'a> {
    pub(crate) step: Step<'a>,
    pub(crate) parent: Option<&'a Trail<'a>>,
}

pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl Trail<'_> {
    /// The RFC 6901 pointer of this step.
    /// [`Trail::pointer`], appended to `out`, with no allocation but `out`'s.
    pub(crate) fn write_pointer(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_pointer(out);
        }
        out.push('/');
        match self.step {
            Step::Key(k) if k.contains(['~', '/']) => {
                out.push_str(&crate::registry::escape_pointer(k));
            }
            Step::Key(k) => out.push_str(k),
            Step::Index(i) => {
                use std::fmt::Write as _;
                let _ = write!(out, "{i}");
            }
        }
    }

    pub(crate) fn pointer(&self) -> String {
        let mut out = String::new();
        self.write_pointer(&mut out);
        out
    }
}

/// Report every persistence member at any depth. Recursion depth is the event's nesting depth,
/// which the parser bounds (serde_json refuses more than 128 levels).
fn find_persistence_fields<'a, F: Json>(
    value: &F::Node<'a>,
    trail: Option<&Trail<'_>>,
    out: &mut Vec<Violation>,
) {
    let container = |v: &F::Node<'a>| matches!(v.json_type(), JsonType::Object | JsonType::Array);
    if let Some(map) = value.as_object() {
        for (key, child) in map.members() {
            let key = key.as_ref();
            let here = Trail {
                step: Step::Key(key),
                parent: trail,
            };
            if is_persistence_field(key) {
                out.push(named(
                    rule::PERSISTENCE_METADATA,
                    &here.pointer(),
                    format!(
                        "\"{key}\" is persistence or broker metadata: it belongs to a store's own columns, never to a transport event (catalogue §2.3)"
                    ),
                ));
            }
            if container(&child) {
                find_persistence_fields::<F>(&child, Some(&here), out);
            }
        }
    } else if let Some(items) = value.as_array() {
        for (i, child) in items.elements().enumerate() {
            if container(&child) {
                let here = Trail {
                    step: Step::Index(i),
                    parent: trail,
                };
                find_persistence_fields::<F>(&child, Some(&here), out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::first("1.0", Some(1))]
    #[case::minor_ten("2.10", Some(2))]
    #[case::leading_zero("01.0", None)]
    #[case::prefix("v1.0", None)]
    #[case::patch("1.0.0", None)]
    #[case::empty_minor("1.", None)]
    fn schema_major_follows_the_envelope_pattern(#[case] v: &str, #[case] want: Option<u64>) {
        assert_eq!(schema_major(v), want);
    }

    #[rstest]
    #[case::two_segments("asset.discovered", true)]
    #[case::three("ticket.delivery.failed", true)]
    #[case::one_segment("asset", false)]
    #[case::upper("Asset.discovered", false)]
    #[case::digit_start("asset.1x", false)]
    fn event_type_shape(#[case] name: &str, #[case] want: bool) {
        assert_eq!(well_formed_type(name), want);
    }

    #[test]
    fn persistence_fields_found_at_any_depth() {
        let event = serde_json::json!({"a": {"received_at": 1, "b": [{"offset": 2}]}, "ttl": 3});
        let mut out = Vec::new();
        find_persistence_fields::<SerdeJson>(&&event, None, &mut out);
        let paths: Vec<&str> = out.iter().map(|v| v.instance_path.as_str()).collect();
        assert_eq!(paths, ["/a/received_at", "/a/b/0/offset", "/ttl"]);
    }

    #[test]
    fn persistence_pointer_escapes_keys() {
        let event = serde_json::json!({"a/b": {"c~d": [{"_id": 1}]}});
        let mut out = Vec::new();
        find_persistence_fields::<SerdeJson>(&&event, None, &mut out);
        assert_eq!(out[0].instance_path, "/a~1b/c~0d/0/_id");
    }

    #[test]
    fn persistence_match_agrees_with_the_list() {
        for field in PERSISTENCE_FIELDS {
            assert!(
                is_persistence_field(field),
                "{field} missing from the match"
            );
        }
        for other in [
            "receivedat",
            "received_at_",
            "_i",
            "offsets",
            "",
            "payload",
            "ttL",
        ] {
            assert!(!is_persistence_field(other), "{other} wrongly matched");
        }
    }
}
