//! What the registry refuses to load, and how it says so: each error names the file and what
//! to look at, and nothing is fetched.

use crate::scratch::{Specs, event, type_schema};
use serde_json::{Value, json};

/// A scratch event type whose type file carries `defs` next to a payload schema `payload`.
fn with_defs(specs: &Specs, event_type: &str, payload: Value, defs: Value) {
    let mut schema = type_schema(event_type, payload);
    schema["$defs"] = defs;
    specs.write(
        &format!("events/types/{event_type}.v1.schema.json"),
        &schema,
    );
}

/// `a -> b -> a` with nothing between that reads the instance loaded silently and judged every
/// event valid; it is refused at load, naming the cycle.
#[test]
fn ref_cycle_without_base_case_is_refused_naming_the_cycle() {
    let cases = [
        json!({"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}),
        json!({"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}}),
        json!({"a": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/b"}]}, "b": {"if": true, "then": {"$ref": "#/$defs/a"}}}),
    ];
    for defs in cases {
        let specs = Specs::new();
        with_defs(
            &specs,
            "scratch.cycle",
            json!({"$ref": "#/$defs/a"}),
            defs.clone(),
        );
        let err = specs
            .load()
            .expect_err("a cycle without base case is refused");
        let text = err.to_string();
        assert!(
            text.contains("$ref cycle with no base case")
                && text.contains("events/types/scratch.cycle.v1.schema.json#/$defs/a")
                && text.contains("#/$defs/b"),
            "{defs}: {text}"
        );
    }
}

/// Recursion through `properties` or `items` reads a smaller part of the instance each time:
/// it has a base case, loads, and is judged.
#[test]
fn recursion_through_the_instance_loads_and_judges() {
    let specs = Specs::new();
    let node = json!({"type": "object", "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
    }, "additionalProperties": false});
    with_defs(
        &specs,
        "scratch.tree",
        json!({"$ref": "#/$defs/node"}),
        json!({"node": node}),
    );
    let registry = specs.load().expect("recursive tree loads");
    let good = json!({"name": "a", "children": [{"name": "b", "children": []}]});
    let bad = json!({"name": "a", "children": [{"name": 1}]});
    for (payload, valid) in [(good, true), (bad, false)] {
        let text = event("scratch.tree", &payload);
        for verdict in [
            registry.validate_bytes(text.as_bytes()),
            registry
                .validate_bytes_reference(text.as_bytes(), contracts_core::validate::Detail::All),
        ] {
            assert_eq!(verdict.is_valid(), valid, "{payload}: {verdict:?}");
        }
    }
}

/// `"$ref": "/etc/passwd"` was reported as a missing file under `events/types/`: an absolute
/// path is refused as such.
#[test]
fn absolute_ref_is_refused_as_absolute() {
    let specs = Specs::new();
    specs.event_type("scratch.abs", json!({"$ref": "/etc/passwd"}));
    let text = specs.load().expect_err("refused").to_string();
    assert!(
        text.contains("absolute path refused") && !text.contains("no schema file"),
        "{text}"
    );
}

/// A directory link back up the specs tree was followed 40 levels deep; it is named as a loop.
#[cfg(unix)]
#[test]
fn symlink_loop_under_specs_is_named() {
    let specs = Specs::new();
    specs.event_type("scratch.ok", json!({"type": "object"}));
    std::os::unix::fs::symlink("..", specs.path().join("events/types/up")).expect("symlink");
    let text = specs.load().expect_err("refused").to_string();
    assert!(text.contains("symbolic link loop"), "{text}");
}

/// A UTF-8 byte order mark before an event is named, not "expected value at line 1 column 1".
#[test]
fn byte_order_mark_is_named() {
    let specs = Specs::new();
    specs.event_type("scratch.bom", json!({"type": "object"}));
    let registry = specs.load().expect("loads");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(event("scratch.bom", &json!({})).as_bytes());
    for verdict in [
        registry.validate_bytes(&bytes),
        registry.validate_bytes_reference(&bytes, contracts_core::validate::Detail::All),
    ] {
        assert_eq!(verdict.status, contracts_core::Status::Unreadable);
        assert!(
            verdict.violations[0].message.contains("byte order mark"),
            "{:?}",
            verdict.violations
        );
    }
}

/// `$ref`s relative to an embedded `$id`, to an `$anchor` and `$dynamicRef`s were refused
/// because the loader resolved against file paths only. They resolve as 2020-12 says (offline:
/// every resource is a loaded file or embedded in one); the fast path and the error collector
/// leave such files to the reference path, listed as fallbacks, and the verdicts agree.
#[test]
fn id_anchor_and_dynamic_refs_resolve_offline() {
    let specs = Specs::new();
    specs.write(
        "events/scratch/tree.schema.json",
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "http://x/tree",
            "$dynamicAnchor": "node",
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "subtree": {"$ref": "node"},
                "label": {"$ref": "#leaf"},
                "children": {"type": "array", "items": {"$dynamicRef": "#node"}}
            },
            "$defs": {
                "node": {"$id": "node", "type": "object", "properties": {
                    "value": {"type": "number"}, "subtree": {"$ref": "tree"}}},
                "leaf": {"$anchor": "leaf", "type": "string", "maxLength": 3}
            }
        }),
    );
    specs.event_type(
        "scratch.idref",
        json!({"$ref": "../scratch/tree.schema.json"}),
    );
    let registry = specs.load().expect("$id, $anchor and $dynamicRef resolve");
    assert!(
        registry
            .fast_path()
            .fallbacks()
            .iter()
            .any(|f| f.event_type == "scratch.idref"),
        "left to the reference path: {:?}",
        registry.fast_path().fallbacks()
    );
    let cases = [
        (
            json!({"value": 1, "subtree": {"value": 2, "subtree": {"value": 3}}}),
            true,
        ),
        (json!({"subtree": {"subtree": {"value": "x"}}}), false),
        (json!({"label": "abc"}), true),
        (json!({"label": "abcd"}), false),
        (
            json!({"children": [{"value": 1, "children": [{"label": "ab"}]}]}),
            true,
        ),
        (json!({"children": [{"children": [{"label": 7}]}]}), false),
    ];
    for (payload, valid) in cases {
        let text = event("scratch.idref", &payload);
        let default = registry.validate_bytes(text.as_bytes());
        let reference = registry
            .validate_bytes_reference(text.as_bytes(), contracts_core::validate::Detail::All);
        assert_eq!(default, reference, "{payload}");
        assert_eq!(reference.is_valid(), valid, "{payload}: {reference:?}");
    }
    // An `$id`-relative reference to a resource nobody defines is still refused, naming it.
    let specs = Specs::new();
    specs.event_type(
        "scratch.missing",
        json!({"$id": "http://x/a", "$ref": "elsewhere"}),
    );
    let text = specs.load().expect_err("refused").to_string();
    assert!(
        text.contains("http://x/elsewhere") && text.contains("never fetched"),
        "{text}"
    );
}
