//! Differential proof of the fast path: for every event type, the fast path and the
//! reference path (`validate_bytes_reference` = serde_json + `validate_value`) agree.
//!
//! "Agree" is checked in both directions:
//! - sound: the fast path says valid only when the reference path says valid (a wrong "valid"
//!   would be published); this is required of every input, compiled type or not;
//! - decisive: on a compiled event type, every event the reference path says valid is also valid
//!   on the fast path (else the fast path is only a slow detour).
//!
//! Inputs: generated valid events, mutants (one per valid event, aimed at one keyword), events
//! with a persistence member injected, self-caused events, events with every object's members
//! reversed, truncations, and random bytes. Budget: `PROPTEST_CASES` seeds per event type
//! (default [`DEFAULT_CASES`]). The soak (`FASTPATH_SOAK_EVENTS=1000000 cargo test --release -p
//! contracts-core --test it fastpath_soak -- --ignored --nocapture`) writes any disagreement in
//! fixture form under `corpus/fastpath/<event_type>/`.

#![allow(clippy::print_stderr, reason = "the soak prints what it covered")]

use crate::common::{root, setup};
use contracts_core::Registry;
use contracts_core::events::{EventGenerator, inject_persistence_field};
use contracts_core::fast::Fast;
use contracts_core::fixtures::{Expected, Fixture};
use contracts_core::runner::compat::shrink::shrink;
use contracts_core::validate::Detail;
use contracts_gen::{RngSource, Source};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::Value;

const DEFAULT_CASES: u32 = 8;

fn cases() -> u32 {
    crate::common::cases(DEFAULT_CASES)
}

/// `Err(why)` when the two paths disagree on `bytes`. The fast path's `Invalid` is a hint (it may
/// judge the first of two duplicate members); `hint_exact` asserts it anyway, for inputs
/// serialised from a `Value` (no duplicates).
fn agree(
    registry: &Registry,
    bytes: &[u8],
    compiled: bool,
    hint_exact: bool,
) -> Result<(), String> {
    let fast = registry.fast_path().check(bytes);
    let reference = registry.validate_bytes_reference(bytes, Detail::All);
    let fast_valid = matches!(fast, Fast::Valid { .. });
    if fast_valid && !reference.is_valid() {
        return Err(format!(
            "unsound: fast path valid, reference {:?} {:?}",
            reference.status, reference.violations
        ));
    }
    if hint_exact && matches!(fast, Fast::Invalid) && reference.is_valid() {
        return Err("wrong hint: fast path invalid, reference valid".into());
    }
    if compiled && reference.is_valid() && !fast_valid {
        return Err("indecisive: reference valid, fast path unsure".into());
    }
    // The public entry point gives the reference verdict whatever the fast path said.
    if registry.validate_bytes(bytes) != reference {
        return Err("validate_bytes differs from the reference verdict".into());
    }
    Ok(())
}

fn is_compiled(registry: &Registry, g: &EventGenerator) -> bool {
    !registry
        .fast_path()
        .fallbacks()
        .iter()
        .any(|f| f.event_type == g.event_type() && f.major == g.major())
}

/// Every object's members in reverse order.
fn reversed(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialises")
}

/// All the inputs derived from one seed, each with a label.
fn inputs(g: &EventGenerator, seed: u64) -> Vec<(&'static str, Value, Option<Vec<u8>>)> {
    let mut src = RngSource::new(seed);
    let Ok(valid) = g.valid(&mut src) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Ok(Some(m)) = g.mutant(&valid, &mut src) {
        out.push(("mutant", m.value, None));
    }
    let mut persisted = valid.clone();
    inject_persistence_field(&mut persisted, &mut src);
    out.push(("persistence", persisted, None));
    let mut selfish = valid.clone();
    if let (Some(id), Some(map)) = (valid.get("event_id").cloned(), selfish.as_object_mut()) {
        map.insert("causation_id".into(), id);
    }
    out.push(("self_causation", selfish, None));
    out.push(("reordered", reversed(&valid), None));
    let pretty = serde_json::to_vec_pretty(&valid).expect("serialises");
    out.push(("pretty", valid.clone(), Some(pretty)));
    let bytes = to_bytes(&valid);
    let cut = src.choose(bytes.len());
    out.push(("truncated", valid.clone(), Some(bytes[..cut].to_vec())));
    let mut flipped = bytes.clone();
    let at = src.choose(flipped.len());
    let byte = u8::try_from(src.choose(256)).unwrap_or(0);
    flipped[at] = byte;
    out.push(("byte_flip", valid.clone(), Some(flipped)));
    out.push(("valid", valid, None));
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn save(event_type: &str, label: &str, event: &Value, bytes: &[u8], why: &str) -> String {
    let reference = setup().0.validate_bytes_reference(bytes, Detail::All);
    let fixture = Fixture {
        description: format!("fast path disagreement ({label}): {why}"),
        origin: Some("fastpath differential".into()),
        valid: reference.is_valid(),
        violations: reference
            .violations
            .iter()
            .map(|v| Expected {
                keyword: v.keyword.clone(),
                instance_path: v.instance_path.clone(),
            })
            .collect(),
        cross_event_rule: None,
        event: serde_json::from_slice(bytes).unwrap_or_else(|_| event.clone()),
    };
    let text = serde_json::to_string_pretty(&fixture).expect("fixture serialises");
    let hash = fnv(text.as_bytes());
    let dir = root().join(format!("corpus/fastpath/{event_type}"));
    std::fs::create_dir_all(&dir).expect("corpus dir");
    let file = dir.join(format!("{label}-{hash:016x}.json"));
    std::fs::write(&file, text + "\n").expect("write corpus file");
    file.display().to_string()
}

/// Check every input of one seed; returns (events checked, disagreements).
fn check_seed(registry: &Registry, g: &EventGenerator, seed: u64) -> (u64, Vec<String>) {
    let compiled = is_compiled(registry, g);
    let mut n = 0;
    let mut bad = Vec::new();
    for (label, event, raw) in inputs(g, seed) {
        // Inputs serialised from a `Value` have no duplicate members: the hint must be exact.
        let from_value = raw.is_none();
        let bytes = raw.unwrap_or_else(|| to_bytes(&event));
        n += 1;
        if let Err(why) = agree(registry, &bytes, compiled, from_value) {
            // Shrink what came from a `Value` (the compat shrinker: members dropped, values
            // simplified while the disagreement holds); raw byte inputs are saved as they are.
            let (event, bytes) = if from_value {
                let fails = |v: &Value| agree(registry, &to_bytes(v), compiled, true).is_err();
                let small = shrink(event, &fails, 2_000);
                let bytes = to_bytes(&small);
                (small, bytes)
            } else {
                (event, bytes)
            };
            let file = save(g.event_type(), label, &event, &bytes, &why);
            bad.push(format!(
                "{} seed {seed} {label}: {why} (saved {file})",
                g.event_type()
            ));
        }
    }
    (n, bad)
}

#[test]
fn compiled_types_are_listed() {
    let (registry, generators) = setup();
    let fast = registry.fast_path();
    for f in fast.fallbacks() {
        eprintln!(
            "reference path: {} v{}: {}",
            f.event_type, f.major, f.reason
        );
    }
    assert_eq!(
        fast.compiled().len() + fast.fallbacks().len(),
        generators.all().len()
    );
}

#[test]
fn fast_path_agrees_with_the_reference_on_generated_events() {
    let (registry, generators) = setup();
    let mut failures = Vec::new();
    for g in generators.all() {
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(fnv(g.event_type().as_bytes()) ^ g.major()),
            ..Config::default()
        });
        let result = runner.run(&any::<u64>(), |seed| {
            let (_, bad) = check_seed(registry, g, seed);
            prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
            Ok(())
        });
        if let Err(e) = result {
            failures.push(format!("{}: {e}", g.event_type()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fast_path_never_accepts_random_bytes() {
    let (registry, _) = setup();
    let mut runner = TestRunner::new(Config {
        cases: cases() * 32,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..256), |bytes| {
            prop_assert!(agree(registry, &bytes, false, false).is_ok());
            Ok(())
        })
        .expect("random bytes");
}

#[test]
fn fast_path_handles_hand_written_edges() {
    let (registry, generators) = setup();
    let g = &generators.all()[0];
    let valid = g.valid(&mut RngSource::new(7)).expect("valid");
    let text = serde_json::to_string(&valid).expect("serialises");
    let mut edges = vec![
        text.clone(),
        format!(" \n{text}\t "),
        format!("{text} x"),
        format!("[{text}]"),
        text.replacen('{', "{\"event_id\":\"x\",", 1),
        text.replacen("\"event_type\"", "\"event\\u005ftype\"", 1),
        text.replacen(':', ": ", 3),
    ];
    edges.push(text.replacen("\"payload\":", "\"payload\":{\"a\":1},\"payload\":", 1));
    for e in &edges {
        agree(registry, e.as_bytes(), false, false).expect("agree");
    }
}

/// The soak: `FASTPATH_SOAK_EVENTS` events (default 1,000,000) across every type.
#[test]
#[ignore = "soak: run with --release --ignored"]
fn fastpath_soak() {
    let (registry, generators) = setup();
    let target: u64 = std::env::var("FASTPATH_SOAK_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let started = std::time::Instant::now();
    let mut events = 0u64;
    let mut disagreements = Vec::new();
    let mut seed = 0x50a4_0000_0000u64;
    while events < target {
        for g in generators.all() {
            seed += 1;
            let (n, bad) = check_seed(registry, g, seed);
            events += n;
            disagreements.extend(bad);
        }
    }
    eprintln!(
        "fastpath soak: {events} events over {} event types, {} disagreements, {:.1} s",
        generators.all().len(),
        disagreements.len(),
        started.elapsed().as_secs_f64()
    );
    for d in disagreements.iter().take(20) {
        eprintln!("  {d}");
    }
    assert!(disagreements.is_empty());
}
