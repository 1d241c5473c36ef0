//! The proptest path (`ChoiceSource`) on a schema shaped like the OneProtect events: `uuid` and
//! `date-time` strings with both `format` and `pattern`, nullable `anyOf` references, `if`/`then`/
//! `else` inside `allOf`, closed objects, an envelope and shared types in other documents.
//!
//! Pins: the exhausted (all-zeros) sequence gives a valid minimal instance (it is where shrinking
//! ends), random sequences nearly always give one, and a shrunk failing case is that minimal
//! instance, valid.

use crate::referee;
use contracts_gen::{ChoiceSource, GenOptions, Generator, RngSource, Source, valid_strategy};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};
use std::sync::Arc;

const BASE: &str = "file:///contracts-gen-test/events";

fn common() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "uuid": {
                "type": "string", "format": "uuid",
                "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                "minLength": 36, "maxLength": 36
            },
            "timestamp": {
                "type": "string", "format": "date-time",
                "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z$",
                "maxLength": 30
            },
            "redacted_text": {
                "type": "string",
                "not": {"anyOf": [{"pattern": "AKIA[0-9A-Z]{16}"}, {"pattern": "[Bb]earer [A-Za-z0-9._~+/-]{20,}"}]}
            },
            "ip_address": {
                "type": "string",
                "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
                "pattern": "^[0-9a-f:.]{2,45}$"
            },
            "actor": {
                "type": "object", "additionalProperties": false, "required": ["kind", "id"],
                "properties": {
                    "kind": {"type": "string", "enum": ["user", "service", "system"]},
                    "id": {"anyOf": [{"$ref": "#/$defs/uuid"}, {"type": "null"}]}
                },
                "allOf": [{
                    "if": {"properties": {"kind": {"const": "system"}}, "required": ["kind"]},
                    "then": {"properties": {"id": {"type": "null"}}},
                    "else": {"properties": {"id": {"$ref": "#/$defs/uuid"}}}
                }]
            }
        }
    })
}

fn envelope() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "additionalProperties": false,
        "required": ["event_id", "event_type", "schema_version", "source", "timestamp", "causation_id", "payload"],
        "properties": {
            "event_id": {"$ref": "common.schema.json#/$defs/uuid"},
            "event_type": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$", "maxLength": 128},
            "schema_version": {"type": "string", "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$"},
            "source": {
                "type": "string", "format": "uri-reference",
                "pattern": "^/services/[a-z][a-z0-9-]{0,62}(/[a-z][a-z0-9-]{0,62}){0,4}$"
            },
            "timestamp": {"$ref": "common.schema.json#/$defs/timestamp"},
            "causation_id": {"anyOf": [{"$ref": "common.schema.json#/$defs/uuid"}, {"type": "null"}]},
            "payload": {"type": "object"}
        }
    })
}

fn event_type() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": "../envelope.schema.json"}],
        "properties": {
            "event_type": {"const": "ticket.assigned"},
            "schema_version": {"type": "string", "pattern": "^1\\.(0|[1-9][0-9]*)$"},
            "payload": {"$ref": "#/$defs/payload"}
        },
        "$defs": {
            "nullable_uuid": {"anyOf": [{"$ref": "../common.schema.json#/$defs/uuid"}, {"type": "null"}]},
            "payload": {
                "type": "object", "additionalProperties": false,
                "required": ["ticket_id", "assignee_user_id", "previous_assignee_user_id", "assigned_by", "opened_at"],
                "properties": {
                    "ticket_id": {"$ref": "../common.schema.json#/$defs/uuid"},
                    "assignee_user_id": {"$ref": "#/$defs/nullable_uuid"},
                    "previous_assignee_user_id": {"$ref": "#/$defs/nullable_uuid"},
                    "assigned_by": {"$ref": "../common.schema.json#/$defs/actor"},
                    "opened_at": {"$ref": "../common.schema.json#/$defs/timestamp"},
                    "closed_at": {"anyOf": [{"$ref": "../common.schema.json#/$defs/timestamp"}, {"type": "null"}]},
                    "note": {"allOf": [{"$ref": "../common.schema.json#/$defs/redacted_text"}], "maxLength": 200},
                    "severity": {"type": "string", "enum": ["low", "high"]},
                    "addresses": {
                        "type": "array", "uniqueItems": true, "maxItems": 8,
                        "items": {"$ref": "../common.schema.json#/$defs/ip_address"}
                    }
                },
                "allOf": [
                    {
                        "if": {"properties": {"assignee_user_id": {"type": "null"}}, "required": ["assignee_user_id"]},
                        "then": {"properties": {"previous_assignee_user_id": {"$ref": "../common.schema.json#/$defs/uuid"}}}
                    },
                    {
                        "if": {"properties": {"severity": {"const": "high"}}, "required": ["severity"]},
                        "then": {"required": ["note"]},
                        "else": {"not": {"required": ["addresses"]}}
                    }
                ]
            }
        }
    })
}

fn generator() -> Generator {
    let opts = GenOptions {
        base_uri: Some(format!("{BASE}/types/ticket.assigned.v1.schema.json")),
        resources: vec![
            (format!("{BASE}/common.schema.json"), common()),
            (format!("{BASE}/envelope.schema.json"), envelope()),
        ],
        ..GenOptions::default()
    };
    Generator::new(&event_type(), &opts).expect("the event-shaped schema is satisfiable")
}

/// What the oracle says, re-checked by an independent validator over the same three documents.
fn check_valid(g: &Generator, v: &Value) {
    assert!(g.is_valid(v), "oracle rejects {v}");
    // The independent referee sees one document: inline the other two under their URIs.
    let mut whole = event_type();
    whole["$id"] = json!(format!("{BASE}/types/ticket.assigned.v1.schema.json"));
    let mut c = common();
    c["$id"] = json!(format!("{BASE}/common.schema.json"));
    let mut e = envelope();
    e["$id"] = json!(format!("{BASE}/envelope.schema.json"));
    whole["$defs"]["__common"] = c;
    whole["$defs"]["__envelope"] = e;
    assert!(referee(&whole, false).is_valid(v), "referee rejects {v}");
}

#[test]
fn the_exhausted_sequence_gives_a_valid_minimal_event() {
    let g = generator();
    let v = g
        .generate(&mut ChoiceSource::new(&[]))
        .expect("the all-zeros sequence must give a value");
    check_valid(&g, &v);
    // Deterministic, and minimal: the first answer of each construct where it is valid.
    assert_eq!(
        g.generate(&mut ChoiceSource::new(&[])).ok(),
        Some(v.clone())
    );
    assert_eq!(v["event_id"], "00000000-0000-4000-8000-000000000000");
    assert_eq!(v["timestamp"], "1970-01-01T00:00:00Z");
    assert_eq!(v["source"], "/services/a");
    // Zero takes each `if`: `severity` is "high", which requires `note` (empty, the shortest).
    let payload = v["payload"].as_object().expect("payload is an object");
    assert_eq!(payload["severity"], "high");
    assert_eq!(payload["note"], "");
    assert_eq!(payload.len(), 7, "no optional member: {v}");
}

#[test]
fn random_sequences_nearly_always_give_a_value() {
    let g = generator();
    let mut r = RngSource::new(11);
    let (mut ok, total) = (0, 200);
    for _ in 0..total {
        // What `valid_strategy` draws: 0..512 choices, each any u64.
        let n = usize::try_from(r.draw(511)).unwrap_or(0);
        let choices: Vec<u64> = (0..n).map(|_| r.draw(u64::MAX)).collect();
        if let Ok(v) = g.generate(&mut ChoiceSource::new(&choices)) {
            check_valid(&g, &v);
            ok += 1;
        }
        // Shrinking truncates: every prefix is a sequence too.
        for cut in [n / 2, n / 4, 1] {
            let v = g
                .generate(&mut ChoiceSource::new(&choices[..cut.min(n)]))
                .expect("a truncated sequence gives a value");
            check_valid(&g, &v);
        }
    }
    assert!(
        ok * 100 >= total * 95,
        "{ok} of {total} sequences gave a value"
    );
}

#[test]
fn a_shrunk_failing_case_is_the_valid_minimal_event() {
    let g = Arc::new(generator());
    let minimal = g
        .generate(&mut ChoiceSource::new(&[]))
        .expect("minimal event");
    let config = Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    };
    let result = TestRunner::new(config).run(&valid_strategy(g.clone()), |_| {
        Err(TestCaseError::fail("every event fails"))
    });
    let Err(TestError::Fail(_, shrunk)) = result else {
        panic!("the property must fail: {result:?}");
    };
    check_valid(&g, &shrunk);
    assert_eq!(shrunk, minimal, "shrinking ends on the minimal event");
}
