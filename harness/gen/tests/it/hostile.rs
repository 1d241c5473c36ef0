//! Hostile schemas get an answer: a value, a proven "unsatisfiable", or "gave up" naming the
//! keyword at fault; never a panic, an allocation failure or a hang. Each case runs on its own
//! thread under a deadline, so a hang fails the test instead of wedging the run.

use contracts_gen::{GenError, GenOptions, Generator, RngSource};
use rstest::rstest;
use serde_json::{Value, json};
use std::time::Duration;

/// Far above what any case needs in a debug build, far below a wedged CI job.
const CASE_DEADLINE: Duration = Duration::from_secs(120);

/// Run `f` on a thread with room for deep recursion; fail if it panics or outlives the deadline.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    rx.recv_timeout(CASE_DEADLINE)
        .expect("the case panicked or hung past its deadline")
}

fn new(schema: Value) -> Result<Generator, GenError> {
    Generator::new(&schema, &GenOptions::default())
}

/// The nesting depth of a value (a scalar is 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => 0,
    }
}

#[rstest]
// `capacity overflow` panics before: the sizes are refused by name, not allocated.
#[case::min_length(json!({"type": "string", "minLength": u64::MAX}), "`minLength` 18446744073709551615")]
#[case::min_items(json!({"type": "array", "minItems": u64::MAX}), "`minItems` 18446744073709551615")]
#[case::min_properties(json!({"type": "object", "minProperties": u64::MAX}), "`minProperties` 18446744073709551615")]
fn sizes_beyond_the_construction_limit_give_up_naming_the_keyword(
    #[case] schema: Value,
    #[case] keyword: &'static str,
) {
    let err = bounded(move || new(schema).expect_err("no value of that size is built"));
    match &err {
        GenError::GaveUp { keyword: k, .. } => assert!(k.contains(keyword), "{err}"),
        other => panic!("expected GaveUp naming {keyword}, got {other}"),
    }
    assert!(
        err.to_string().contains("not proven unsatisfiable"),
        "{err}"
    );
}

#[rstest]
#[case::max_length(json!({"type": "string", "maxLength": u64::MAX}), json!("abc"))]
#[case::max_items(json!({"type": "array", "maxItems": u64::MAX}), json!([1, 2]))]
#[case::max_properties(json!({"type": "object", "maxProperties": u64::MAX}), json!({"a": 1}))]
fn huge_maxima_have_no_mutant_instead_of_a_hang(#[case] schema: Value, #[case] valid: Value) {
    bounded(move || {
        let g = Generator::new_unchecked(&schema, &GenOptions::default()).expect("compiles");
        let mut src = RngSource::new(1);
        for t in g.mutation_targets(&valid) {
            if let Some(m) = g.mutate_target(&valid, &t, &mut src).expect("mutates") {
                assert!(!g.is_valid(&m.value), "mutant {} is valid", m.value);
            }
        }
    });
}

#[rstest]
// Satisfiable schemas the generator once called "unsatisfiable".
#[case::nested_repetition_with_min_length(json!({"type": "string", "pattern": "^(a+)+$", "minLength": 50}))]
#[case::a_million_items(json!({"type": "array", "minItems": 1_000_000}))]
#[case::many_properties(json!({"type": "object", "minProperties": 100_000}))]
#[case::hundred_nested_arrays(nested_arrays(100))]
fn satisfiable_hostile_schemas_generate(#[case] schema: Value) {
    let shown = schema.to_string();
    let valid = bounded(move || {
        let g = new(schema.clone()).expect("satisfiable");
        let value = g.generate(&mut RngSource::new(7)).expect("a value");
        // The referee recurses per level too: it runs on the roomy thread as well.
        crate::referee(&schema, false).is_valid(&value)
    });
    assert!(valid, "invalid for {shown}");
}

fn nested_arrays(levels: usize) -> Value {
    let mut s = json!({"type": "integer"});
    for _ in 0..levels {
        s = json!({"type": "array", "minItems": 1, "items": s});
    }
    s
}

#[test]
fn hundred_nested_arrays_are_a_hundred_deep() {
    let v = bounded(|| {
        new(nested_arrays(100))
            .expect("satisfiable")
            .generate(&mut RngSource::new(3))
            .expect("a value")
    });
    assert_eq!(depth(&v), 100);
}

#[rstest]
#[case::self_reference(
    json!({"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#"}}}),
    "#/properties/a"
)]
#[case::through_defs(
    json!({"$defs": {"x": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/y"}},
                     "y": {"type": "object", "required": ["k"], "properties": {"k": {"$ref": "#/$defs/x"}}}},
           "$ref": "#/$defs/x"}),
    "#/$defs/y"
)]
fn ref_cycles_without_base_case_are_refused_naming_the_cycle(
    #[case] schema: Value,
    #[case] on_cycle: &str,
) {
    let err = bounded(move || new(schema).expect_err("no finite value exists"));
    let msg = err.to_string();
    assert!(
        matches!(err, GenError::Unsatisfiable { .. })
            && msg.contains("cycle")
            && msg.contains(on_cycle),
        "{msg}"
    );
}

#[test]
fn a_cycle_with_a_base_case_is_generated() {
    // Same shape as the refused one, but `a` may be null: the recursion can stop.
    let schema =
        json!({"type": ["object", "null"], "required": ["a"], "properties": {"a": {"$ref": "#"}}});
    let g = bounded(move || new(schema).expect("satisfiable"));
    assert!(g.generate(&mut RngSource::new(1)).is_ok());
}

#[test]
fn unproven_contradictions_give_up_naming_the_keyword() {
    // Unsatisfiable, but only the `not` filter knows it: "gave up", never "unsatisfiable".
    let schema = json!({"type": "integer", "not": {"type": "integer", "minimum": -1e308}});
    let err = bounded(move || new(schema).expect_err("nothing passes the filter"));
    match &err {
        GenError::GaveUp { keyword, .. } => assert_eq!(keyword, "`not`", "{err}"),
        other => panic!("expected GaveUp, got {other}"),
    }
}

#[test]
fn the_time_budget_stops_generation_with_a_clear_message() {
    // A million distinct items: far more work than the budget allows.
    let schema = json!({"type": "array", "minItems": 1_000_000, "uniqueItems": true, "items": {"type": "integer"}});
    let budget = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = bounded(move || {
        let opts = GenOptions {
            max_time: Some(budget),
            ..GenOptions::default()
        };
        Generator::new(&schema, &opts).expect_err("the budget runs out")
    });
    let took = started.elapsed();
    assert!(matches!(err, GenError::OutOfTime { .. }), "{err}");
    assert!(err.to_string().contains("time budget of 0.300 s"), "{err}");
    assert!(
        took < Duration::from_secs(20),
        "stopped only after {took:?}"
    );
}
