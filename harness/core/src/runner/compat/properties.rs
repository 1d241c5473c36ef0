//! Properties of the decision procedure over random schema pairs, judged by the `jsonschema`
//! reference and by `contracts-gen` instances, never by the procedure itself:
//! - a proved inclusion has no counterexample among 1,000 generated source instances;
//! - every counterexample (either source) is valid under the source and invalid under the target.
//!
//! Schemas come from the keyword families the generator builds (types, bounds, lengths,
//! patterns, enums, arrays, objects, `anyOf`/`oneOf`/`allOf`/`not`/`if`) over a deliberately
//! small domain of constants, so two independent draws often overlap; a third of the pairs are
//! built to be included (`s` and `anyOf [s, t]`, `allOf [s, t]` and `s`). `PROPTEST_CASES` sets
//! the number of pairs (`make soak` raises it).

use super::{Basis, Direction, Mode, SchemaSet, Search, SearchOptions, Subject, Verdict, compare};
use contracts_gen::{GenOptions, Generator, RngSource};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::sync::Arc;

/// Generated source instances per proved direction.
const INSTANCES: u64 = 1_000;
/// Pairs when `PROPTEST_CASES` is not set: about ten seconds of a debug build on the 2-core
/// CI machine.
const DEFAULT_PAIRS: u32 = 40;

fn leaf() -> impl Strategy<Value = Value> {
    let bound = prop_oneof![Just(0), Just(1), Just(2), Just(5)];
    prop_oneof![
        (bound.clone(), bound.clone(), any::<bool>()).prop_map(|(a, b, int)| {
            let t = if int { "integer" } else { "number" };
            json!({"type": t, "minimum": a.min(b), "maximum": a.max(b)})
        }),
        (bound.clone(), any::<bool>())
            .prop_map(|(a, int)| json!({"type": if int { "integer" } else { "number" }, "exclusiveMinimum": a})),
        prop_oneof![Just(2), Just(3)].prop_map(|m| json!({"type": "integer", "multipleOf": m})),
        (bound.clone(), bound.clone())
            .prop_map(|(a, b)| json!({"type": "string", "minLength": a.min(b), "maxLength": a.max(b)})),
        prop_oneof![Just("^[a-c]*$"), Just("^[a-z]+$"), Just("b"), Just("^a")]
            .prop_map(|p| json!({"type": "string", "pattern": p})),
        proptest::sample::subsequence(vec![json!(1), json!(2), json!("a"), json!("b"), json!(null)], 1..4)
            .prop_map(|v| json!({"enum": v})),
        Just(json!({"type": ["string", "null"]})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": "string", "format": "date"})),
        Just(json!(true)),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop_oneof![Just(0), Just(1), Just(3)], any::<bool>()).prop_map(
                |(items, max, unique)| json!({"type": "array", "items": items, "maxItems": max, "uniqueItems": unique})
            ),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({"type": "array", "prefixItems": [a], "items": b})),
            (inner.clone(), inner.clone(), any::<bool>(), any::<bool>()).prop_map(|(a, b, req, closed)| {
                let mut o = json!({"type": "object", "properties": {"a": a, "b": b}});
                if req {
                    o["required"] = json!(["a"]);
                }
                if closed {
                    o["additionalProperties"] = json!(false);
                }
                o
            }),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({"anyOf": [a, b]})),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({"oneOf": [a, b]})),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| json!({"allOf": [a, b]})),
            inner.clone().prop_map(|a| json!({"not": a})),
            (inner.clone(), inner.clone(), inner).prop_map(|(i, t, e)| json!({"if": i, "then": t, "else": e})),
        ]
    })
}

fn pair() -> impl Strategy<Value = (Value, Value)> {
    prop_oneof![
        (schema(), schema()),
        (schema(), schema()).prop_map(|(s, t)| (s.clone(), json!({"anyOf": [s, t]}))),
        (schema(), schema()).prop_map(|(s, t)| (json!({"allOf": [s.clone(), t]}), s)),
    ]
}

fn subject(v: &Value) -> Subject {
    let set = SchemaSet::from_memory(
        super::schemas::LOOSE_BASE,
        "prop",
        [("s.json".to_owned(), v.clone())],
    );
    Subject {
        set: Arc::new(set),
        entry: "s.json".to_owned(),
    }
}

fn referee(v: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(v)
        .expect("generated schemas compile")
}

/// Tally of what the property saw, so a run that proves or refutes nothing fails.
#[derive(Default, Debug)]
struct Seen {
    proved: u32,
    refuted: u32,
    undecided: u32,
}

/// Check one pair; `Err` says which property broke and on what.
fn check(old: &Value, new: &Value, seen: &mut Seen) -> Result<(), TestCaseError> {
    let opts = SearchOptions { cases: 50, seed: 0 };
    let report = compare("prop", &subject(old), &subject(new), Mode::Full, &opts)
        .map_err(|e| TestCaseError::fail(format!("compare failed: {e}")))?;
    let (ov, nv) = (referee(old), referee(new));
    for d in &report.directions {
        let (src_s, src, tgt) = match d.direction {
            Direction::Backward => (old, &ov, &nv),
            Direction::Forward => (new, &nv, &ov),
        };
        match d.verdict {
            Verdict::Compatible => {
                seen.proved += 1;
                prop_assert!(
                    matches!(d.basis, Basis::Proof | Basis::Identical),
                    "compatible without a proof: {d:?}"
                );
                let Ok(g) = Generator::new(src_s, &GenOptions::default()) else {
                    continue; // the source admits nothing the generator can find
                };
                for seed in 0..INSTANCES {
                    let Ok(v) = g.generate(&mut RngSource::new(seed)) else {
                        continue;
                    };
                    prop_assert!(
                        !src.is_valid(&v) || tgt.is_valid(&v),
                        "{} proved ({:?}) but {v} is a counterexample",
                        d.direction.as_str(),
                        d.proof
                    );
                }
            }
            Verdict::Incompatible => {
                seen.refuted += 1;
                let Search::Found(c) = &d.search else {
                    return Err(TestCaseError::fail(format!(
                        "incompatible without a counterexample: {d:?}"
                    )));
                };
                prop_assert!(
                    src.is_valid(&c.event) && !tgt.is_valid(&c.event),
                    "{} counterexample {} not confirmed",
                    d.direction.as_str(),
                    c.event
                );
                prop_assert!(
                    d.basis != Basis::ProofContradicted,
                    "a proof was contradicted: {d:?}"
                );
            }
            Verdict::Undecided => seen.undecided += 1,
        }
    }
    Ok(())
}

#[test]
fn proved_inclusions_have_no_counterexample_and_counterexamples_are_confirmed() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_PAIRS);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let seen = std::cell::RefCell::new(Seen::default());
    let result = runner.run(&pair(), |(old, new)| {
        check(&old, &new, &mut seen.borrow_mut())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    assert!(
        seen.proved > 0 && seen.refuted > 0,
        "a vacuous run: {seen:?}"
    );
}

/// Findings of the property, pinned (each once broke it).
#[rstest::rstest]
// `not` over an object with `required`: the complement includes objects lacking the member.
#[case(json!({"not": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}), json!({"not": {"type": "object", "required": ["a"]}}))]
fn pinned_pairs_keep_the_properties(#[case] old: Value, #[case] new: Value) {
    check(&old, &new, &mut Seen::default()).expect("property");
}
