//! Verdicts on hostile bytes: each test replays one way the default path once certified what the
//! `jsonschema` reference rejects, and asserts the default path now gives the reference verdict.
//! The referee is `validate_bytes_reference` (serde_json + the `jsonschema` crate), never the
//! fast path's own idea of the input.

use crate::common::{root, setup};
use crate::scratch::{Specs, event};
use contracts_core::fixtures::load_dir;
use contracts_core::validate::Detail;
use contracts_core::{Registry, Status, Verdict};
use serde_json::{Value, json};

/// Both paths' verdicts on `bytes`, asserted equal in status and violation keywords/paths.
fn both(registry: &Registry, bytes: &[u8]) -> (Verdict, Verdict) {
    let default = registry.validate_bytes(bytes);
    let reference = registry.validate_bytes_reference(bytes, Detail::All);
    let keys = |v: &Verdict| -> Vec<(String, String)> {
        v.violations
            .iter()
            .map(|x| (x.keyword.clone(), x.instance_path.clone()))
            .collect()
    };
    assert_eq!(
        (default.status, keys(&default)),
        (reference.status, keys(&reference)),
        "default and reference disagree on {}",
        String::from_utf8_lossy(bytes)
    );
    (default, reference)
}

/// The valid fixtures' events, compact, members in the fixture's order.
fn valid_events() -> Vec<String> {
    let files = load_dir(&root().join("fixtures/events")).expect("fixtures load");
    files
        .iter()
        .filter(|f| f.fixture.valid)
        .map(|f| serde_json::to_string(&f.fixture.event).expect("json"))
        .collect()
}

/// `text` with `junk` written right after the value of top-level member `name`.
fn after_member(text: &str, name: &str, junk: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let member = serde_json::to_string(value.get(name)?).ok()?;
    let needle = format!("\"{name}\":{member}");
    let at = text.find(&needle)? + needle.len();
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(junk);
    out.extend_from_slice(&text.as_bytes()[at..]);
    Some(out)
}

/// Junk between a member's value and the next `,` was skipped unchecked when the member came
/// before `event_type` and `schema_version` were both known.
#[test]
fn junk_after_an_early_member_is_not_certified() {
    let (registry, _) = setup();
    let junks: [&[u8]; 5] = [
        b" !!not json!!",
        b"\0",
        b" \xff\xfe",
        b" \"received_at\":\"2025-11-09T03:12:45Z\"",
        b"}{",
    ];
    let mut checked = 0;
    for text in valid_events() {
        assert!(
            registry.validate_bytes(text.as_bytes()).is_valid(),
            "{text}"
        );
        for name in ["event_id", "event_type", "schema_version", "tenant_id"] {
            for junk in junks {
                let Some(bytes) = after_member(&text, name, junk) else {
                    continue;
                };
                let (default, _) = both(registry, &bytes);
                assert_ne!(
                    default.status,
                    Status::Valid,
                    "certified: {}",
                    String::from_utf8_lossy(&bytes)
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} edited events");
}

/// An integer compared with a float bound went through f64, where 2^53 + 1 rounds to 2^53.
#[test]
fn integer_against_a_float_bound_is_compared_exactly() {
    let specs = Specs::new();
    let big = json!({"type": "object", "properties": {
        "max": {"maximum": 9_007_199_254_740_992.0},
        "xmin": {"not": {"exclusiveMinimum": 9_007_199_254_740_992.0}},
        "cond": {"if": {"exclusiveMinimum": 9_007_199_254_740_992.0}, "then": false},
        "min": {"minimum": -9_007_199_254_740_992.0},
        "frac": {"maximum": 1e19, "minimum": 1.5},
        "huge": {"exclusiveMaximum": 1.8446744073709552e19}
    }});
    specs.event_type("scratch.number", big);
    let registry = specs.load().expect("scratch specs load");
    let cases = [
        (json!({"max": 9_007_199_254_740_993_u64}), false),
        (json!({"max": 9_007_199_254_740_992_u64}), true),
        (json!({"xmin": 9_007_199_254_740_993_u64}), false),
        (json!({"xmin": 9_007_199_254_740_992_u64}), true),
        (json!({"cond": 9_007_199_254_740_993_u64}), false),
        (json!({"cond": 9_007_199_254_740_992_u64}), true),
        (json!({"min": -9_007_199_254_740_993_i64}), false),
        (json!({"min": -9_007_199_254_740_992_i64}), true),
        (json!({"frac": 1}), false),
        (json!({"frac": 2}), true),
        (json!({"frac": 10_000_000_000_000_000_001_u64}), false),
        (json!({"frac": 9_999_999_999_999_999_999_u64}), true),
        (json!({"huge": u64::MAX}), true),
    ];
    for (payload, valid) in cases {
        let text = event("scratch.number", &payload);
        let (default, reference) = both(&registry, text.as_bytes());
        assert_eq!(reference.is_valid(), valid, "reference on {payload}");
        assert_eq!(default.is_valid(), valid, "default on {payload}");
    }
}

/// Duplicate member names were accepted, last one wins, on both paths: a consumer that keeps
/// the first value reads another tenant. RFC 7493 §2.3 forbids them.
#[test]
fn duplicate_members_are_refused_at_their_path() {
    let (registry, _) = setup();
    let text = &valid_events()[0];
    let tenant = "\"tenant_id\":\"00000000-0000-4000-8000-000000000000\",";
    let cases = [
        (
            text.replacen("\"tenant_id\":", &format!("{tenant}\"tenant_id\":"), 1),
            "/tenant_id",
        ),
        (
            text.replacen("\"event_id\":", "\"event_id\":\"x\",\"event_id\":", 1),
            "/event_id",
        ),
        (
            text.replacen("\"payload\":{", "\"payload\":{\"zz\":1,\"zz\":1,", 1),
            "/payload/zz",
        ),
        (
            text.replacen(
                "\"source\":",
                "\"source\":{\"a\":{\"b\":1,\"b\":2}},\"source\":",
                1,
            ),
            "/source",
        ),
    ];
    for (bytes, path) in &cases {
        for verdict in [
            registry.validate_bytes(bytes.as_bytes()),
            registry.validate_bytes_reference(bytes.as_bytes(), Detail::All),
            registry.validate_bytes_reference(bytes.as_bytes(), Detail::First),
        ] {
            assert_eq!(verdict.status, Status::Invalid, "{bytes}");
            assert!(
                verdict
                    .violations
                    .iter()
                    .any(|v| v.keyword == "duplicate_member" && v.instance_path == *path),
                "{bytes}: {:?}",
                verdict.violations
            );
        }
        both(registry, bytes.as_bytes());
    }
    // A duplicate nested in a duplicate: both named, each at its own path.
    let nested = text.replacen(
        "\"payload\":{",
        "\"payload\":{\"q\":{\"r\":1,\"r\":2},\"q\":{},",
        1,
    );
    let (default, _) = both(registry, nested.as_bytes());
    let paths: Vec<&str> = default
        .violations
        .iter()
        .filter(|v| v.keyword == "duplicate_member")
        .map(|v| v.instance_path.as_str())
        .collect();
    assert_eq!(paths, ["/payload/q", "/payload/q/r"]);
}

/// Only RFC 8259 white space (space, tab, LF, CR) may surround a JSON Lines event: a form feed
/// was trimmed and the line certified.
#[test]
fn form_feed_around_a_line_is_not_white_space() {
    use contracts_core::input::Events;
    let (registry, _) = setup();
    let text = &valid_events()[0];
    for input in [
        format!("\x0c{text}\n"),
        format!("{text}\x0c\n"),
        format!("{text}\x0b\n"),
        format!("\u{a0}{text}\n"),
    ] {
        let mut events = Events::new(input.as_bytes());
        let item = events.next_item().expect("reads").expect("one item");
        let verdict = match &item.bytes {
            Ok(bytes) => both(registry, bytes).0,
            Err(why) => Verdict::unreadable(why.clone()),
        };
        assert_ne!(verdict.status, Status::Valid, "{input:?}");
    }
    let plain = format!(" \t{text}\r\n");
    let mut events = Events::new(plain.as_bytes());
    let item = events.next_item().expect("reads").expect("one item");
    assert!(
        registry
            .validate_bytes(&item.bytes.expect("bytes"))
            .is_valid()
    );
}

/// Every input the fuzz targets kept under `corpus/fuzz/<target>/` (raw bytes, one per file):
/// the default path gives the reference verdict, and a rejection says why.
#[test]
fn fuzz_findings_replay() {
    let (registry, _) = setup();
    let dir = root().join("corpus/fuzz");
    let mut replayed = 0;
    for target in std::fs::read_dir(&dir).expect("corpus/fuzz") {
        let target = target.expect("entry").path();
        for file in std::fs::read_dir(&target).expect("target dir") {
            let file = file.expect("entry").path();
            let bytes = std::fs::read(&file).expect("read finding");
            let (default, _) = both(registry, &bytes);
            assert_eq!(
                default.is_valid(),
                default.violations.is_empty(),
                "{}",
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= 7,
        "{replayed} findings replayed from {}",
        dir.display()
    );
}
