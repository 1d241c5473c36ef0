//! The envelope rules and error kinds, as one table: each case edits the catalogue's valid
//! `alert.created` envelope (§2.6) in one way and names the exact violations expected.

use contracts_core::{Registry, Status};
use rstest::rstest;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::OnceLock;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        Registry::load(&specs).expect("the repository's specs load")
    })
}

fn base() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/events/alert.created/valid-catalog-2-6.json");
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    fixture["event"].clone()
}

fn edited(pointer: &str, value: Option<Value>) -> Value {
    let mut event = base();
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = if parent.is_empty() {
        &mut event
    } else {
        event.pointer_mut(parent).expect("parent")
    };
    let map = target.as_object_mut().expect("object");
    match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    }
    event
}

fn violations(event: &Value) -> Vec<(String, String)> {
    let mut v: Vec<_> = registry()
        .validate_value(event)
        .violations
        .into_iter()
        .map(|v| (v.keyword, v.instance_path))
        .collect();
    v.sort();
    v
}

#[test]
fn the_catalogue_envelope_is_valid() {
    let verdict = registry().validate_value(&base());
    assert_eq!(verdict.status, Status::Valid, "{:?}", verdict.violations);
    assert_eq!(verdict.event_type.as_deref(), Some("alert.created"));
}

#[rstest]
// §2.3: persistence metadata at the top level is closed out AND named by its own rule.
#[case::received_at("/received_at", Some(json!("2025-11-06T10:05:01.300Z")), &[("additionalProperties", ""), ("persistence_metadata", "/received_at")])]
// §2.3 applies at any depth: a deny-listed name inside the payload.
#[case::offset_in_payload("/payload/offset", Some(json!(42)), &[("additionalProperties", "/payload"), ("persistence_metadata", "/payload/offset")])]
// D1: causation_id is required even for a root (which carries null).
#[case::causation_missing("/causation_id", None, &[("required", "")])]
// D1: null is a root, and valid.
#[case::causation_null("/causation_id", Some(Value::Null), &[])]
// D5: UTC with Z only.
#[case::timestamp_offset("/timestamp", Some(json!("2025-11-06T12:05:01.007+02:00")), &[("pattern", "/timestamp")])]
// D2: MAJOR.MINOR without prefix; a malformed version is the pattern's error alone.
#[case::version_prefix("/schema_version", Some(json!("v1.0")), &[("pattern", "/schema_version")])]
// D2: a MINOR newer than we know is fine within the MAJOR (R8).
#[case::newer_minor("/schema_version", Some(json!("1.7")), &[])]
// A known type at an unknown MAJOR is its own error.
#[case::unknown_major("/schema_version", Some(json!("2.0")), &[("unknown_schema_version", "/schema_version")])]
// An unknown but well-formed type is a different error.
#[case::unknown_type("/event_type", Some(json!("alert.exploded")), &[("unknown_event_type", "/event_type")])]
// A malformed type is the envelope pattern's error, not "unknown".
#[case::malformed_type("/event_type", Some(json!("Alert.Created")), &[("pattern", "/event_type")])]
// D3: tenant_id is a uuid.
#[case::tenant_slug("/tenant_id", Some(json!("acme-corp")), &[("format", "/tenant_id"), ("minLength", "/tenant_id"), ("pattern", "/tenant_id")])]
// D4: source is /services/...
#[case::source_url("/source", Some(json!("https://alerting.internal/")), &[("pattern", "/source")])]
// R3: an event cannot cause itself.
#[case::self_caused("/causation_id", Some(json!("01935a0a-1db2-738e-97f2-2b1e5ca98486")), &[("self_causation", "/causation_id")])]
// D8: nothing else in the envelope.
#[case::extra_member("/traceparent", Some(json!("00-abc")), &[("additionalProperties", "")])]
// The payload is checked against the type's schema, not just "an object".
#[case::payload_member_missing("/payload/title", None, &[("required", "/payload")])]
fn envelope_rule(
    #[case] pointer: &str,
    #[case] value: Option<Value>,
    #[case] expected: &[(&str, &str)],
) {
    let event = edited(pointer, value);
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(k, p)| ((*k).to_owned(), (*p).to_owned()))
        .collect();
    want.sort();
    assert_eq!(violations(&event), want);
}

#[rstest]
#[case::not_json(&b"{\"event_id\": "[..])]
#[case::not_an_object(&b"[1, 2, 3]"[..])]
#[case::empty(&b""[..])]
fn unreadable_or_shapeless_input_gets_a_verdict_not_a_panic(#[case] bytes: &[u8]) {
    let verdict = registry().validate_bytes(bytes);
    assert_ne!(verdict.status, Status::Valid);
    assert!(!verdict.violations.is_empty());
}

#[test]
fn deep_nesting_is_an_unreadable_verdict_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let verdict = registry().validate_bytes(deep.as_bytes());
    assert_eq!(verdict.status, Status::Unreadable);
    assert!(
        verdict.violations[0].message.contains("recursion limit"),
        "{:?}",
        verdict.violations
    );
}

#[test]
fn email_display_text_is_refused_by_the_format_check() {
    let options = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_email_options(jsonschema::EmailOptions::default().without_display_text());
    let v = options.build(&json!({"format": "email"})).expect("schema");
    assert!(v.is_valid(&json!("joe@example.com")));
    assert!(!v.is_valid(&json!("Joe <joe@example.com>")));
}
