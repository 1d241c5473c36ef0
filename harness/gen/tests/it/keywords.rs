//! Two guarantees for every keyword the generator handles: generated values validate, and
//! every mutant is rejected for the keyword at the path it names. One schema per keyword (rstest),
//! proptest drives the choice sequences (`PROPTEST_CASES` sets the budget).

use crate::{referee, rejected_for};
use contracts_gen::{Draft, GenOptions, Generator, mutant_strategy, valid_strategy};
use proptest::test_runner::{Config, TestRunner};
use rstest::rstest;
use serde_json::{Value, json};
use std::sync::Arc;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24)
}

fn check(schema: Value, draft7: bool, expect_mutants: bool) {
    let opts = GenOptions {
        default_draft: if draft7 {
            Draft::Draft7
        } else {
            Draft::Draft202012
        },
        ..GenOptions::default()
    };
    let g = Arc::new(Generator::new(&schema, &opts).expect("satisfiable schema"));
    let v = referee(&schema, draft7);
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config.clone())
        .run(&valid_strategy(g.clone()), |value| {
            assert!(v.is_valid(&value), "generated an invalid value: {value}");
            Ok(())
        })
        .expect("generated values validate");
    TestRunner::new(config)
        .run(&mutant_strategy(g.clone()), |m| {
            assert!(
                rejected_for(&v, &m.value, &m.keyword, &m.instance_path),
                "mutant {} not rejected for {} at {:?}",
                m.value,
                m.keyword,
                m.instance_path
            );
            Ok(())
        })
        .expect("mutants are rejected for their keyword");
    if expect_mutants {
        assert!(
            g.stats().mutants > 0,
            "no mutant for {schema}: {:?}",
            g.stats()
        );
    }
}

#[rstest]
#[case::type_(json!({"type": ["integer", "string"]}))]
#[case::enum_(json!({"enum": [1, "two", [3], {"four": 4}]}))]
#[case::const_(json!({"const": {"a": [1, 2]}}))]
#[case::properties_required(json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["a"]}))]
#[case::additional_properties(json!({"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": false}))]
#[case::pattern_properties(json!({"type": "object", "patternProperties": {"^x-[a-z]+$": {"type": "integer"}}, "additionalProperties": false, "minProperties": 1}))]
#[case::property_names(json!({"type": "object", "propertyNames": {"maxLength": 3, "pattern": "^[a-z]+$"}, "minProperties": 1}))]
#[case::min_max_properties(json!({"type": "object", "minProperties": 2, "maxProperties": 3}))]
#[case::dependent_required(json!({"type": "object", "properties": {"card": {"type": "string"}, "billing": {"type": "string"}}, "dependentRequired": {"card": ["billing"]}, "required": ["card"]}))]
#[case::dependent_schemas(json!({"type": "object", "dependentSchemas": {"card": {"required": ["billing"]}}, "required": ["card"]}))]
#[case::items_prefix_items(json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false, "minItems": 1}))]
#[case::contains(json!({"type": "array", "contains": {"type": "integer", "minimum": 5}, "minContains": 2, "maxContains": 3}))]
#[case::min_max_items_unique(json!({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 4, "uniqueItems": true}))]
#[case::unevaluated_properties(json!({"type": "object", "allOf": [{"properties": {"a": {"type": "integer"}}}], "unevaluatedProperties": false, "required": ["a"]}))]
#[case::unevaluated_items(json!({"type": "array", "prefixItems": [{"type": "integer"}], "unevaluatedItems": false, "minItems": 1}))]
#[case::min_max_length(json!({"type": "string", "minLength": 2, "maxLength": 5}))]
#[case::pattern(json!({"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$"}))]
#[case::format_date_time(json!({"type": "string", "format": "date-time"}))]
#[case::format_date(json!({"type": "string", "format": "date"}))]
#[case::format_time(json!({"type": "string", "format": "time"}))]
#[case::format_duration(json!({"type": "string", "format": "duration"}))]
#[case::format_email(json!({"type": "string", "format": "email"}))]
#[case::format_hostname(json!({"type": "string", "format": "hostname"}))]
#[case::format_ipv4(json!({"type": "string", "format": "ipv4"}))]
#[case::format_ipv6(json!({"type": "string", "format": "ipv6"}))]
#[case::format_uri(json!({"type": "string", "format": "uri"}))]
#[case::format_uri_reference(json!({"type": "string", "format": "uri-reference"}))]
#[case::format_uuid(json!({"type": "string", "format": "uuid"}))]
#[case::format_json_pointer(json!({"type": "string", "format": "json-pointer"}))]
#[case::format_relative_json_pointer(json!({"type": "string", "format": "relative-json-pointer"}))]
#[case::format_regex(json!({"type": "string", "format": "regex"}))]
#[case::bounds(json!({"type": "number", "minimum": -2.5, "maximum": 10}))]
#[case::exclusive_bounds(json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100}))]
#[case::multiple_of_integer(json!({"type": "integer", "multipleOf": 7}))]
#[case::multiple_of_decimal(json!({"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 5}))]
#[case::one_of(json!({"oneOf": [{"type": "integer", "minimum": 10}, {"type": "string"}]}))]
#[case::any_of_nullable(json!({"anyOf": [{"type": "null"}, {"type": "string", "format": "uuid"}]}))]
#[case::not(json!({"type": "integer", "not": {"enum": [1, 2, 3]}}))]
#[case::if_then_else(json!({"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"], "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}))]
#[case::ref_defs_anchor(json!({"$defs": {"pos": {"$anchor": "pos", "type": "integer", "minimum": 1}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/pos"}, "b": {"$ref": "#pos"}}, "required": ["a", "b"]}))]
#[case::recursive_ref(json!({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}}, "required": ["v"], "additionalProperties": false}}, "$ref": "#/$defs/node"}))]
#[case::dynamic_ref(json!({"$id": "https://example.test/list", "$dynamicAnchor": "item", "type": ["string", "array"], "items": {"$dynamicRef": "#item"}, "maxLength": 3}))]
#[case::boolean_schema(json!({"type": "object", "properties": {"a": true, "b": false}}))]
fn guarantees_hold_per_keyword_2020_12(#[case] schema: Value) {
    check(schema, false, true);
}

#[rstest]
#[case::dependencies(json!({"type": "object", "dependencies": {"a": ["b"], "c": {"required": ["d"]}}, "required": ["a", "c"]}))]
#[case::array_items_additional_items(json!({"type": "array", "items": [{"type": "string"}, {"type": "null"}], "additionalItems": false, "minItems": 1}))]
#[case::contains_draft7(json!({"type": "array", "contains": {"const": 3}}))]
#[case::ref_definitions(json!({"definitions": {"s": {"type": "string", "maxLength": 4}}, "type": "array", "items": {"$ref": "#/definitions/s"}, "minItems": 1}))]
fn guarantees_hold_per_keyword_draft7(#[case] schema: Value) {
    check(schema, true, true);
}

#[rstest]
#[case::false_schema(json!(false))]
#[case::contradictory_bounds(json!({"type": "integer", "minimum": 5, "maximum": 4}))]
#[case::empty_enum_intersection(json!({"allOf": [{"enum": [1, 2]}, {"enum": [3]}]}))]
#[case::required_recursion(json!({"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#"}}}))]
fn unsatisfiable_schemas_are_refused(#[case] schema: Value) {
    let err = Generator::new(&schema, &GenOptions::default()).expect_err("refused");
    assert!(
        matches!(err, contracts_gen::GenError::Unsatisfiable { .. }),
        "{err}"
    );
}
