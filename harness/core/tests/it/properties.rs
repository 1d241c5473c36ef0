//! The conformance properties, for every event type the registry discovers in specs/ (no list is
//! kept by hand). Each property runs per event type with its own proptest runner so a failure
//! names the event type and the property, and shows the minimal (shrunk) event.
//!
//! Budget: `PROPTEST_CASES` cases per property and event type (default [`DEFAULT_CASES`], which
//! keeps `make test` to seconds on 2 cores; `make soak` raises it). Failures are persisted under
//! `corpus/proptest/<event_type>/<property>.txt` (proptest's regression format, replayed first on
//! the next run) and the minimal event is written in fixture form under
//! `corpus/properties/<event_type>/`, which `contracts replay` replays with the golden fixtures.

#![allow(clippy::print_stderr, reason = "a soak run prints what it covered")]

use crate::common::{root, setup};
use contracts_core::events::{EventGenerator, inject_persistence_field};
use contracts_core::fixtures::{Expected, Fixture};
use contracts_core::{Registry, validate::rule};
use contracts_gen::{ChoiceSource, Source};
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngSeed, TestCaseError, TestError, TestRunner,
};
use serde_json::Value;
use std::sync::OnceLock;

/// Cases per property and event type when `PROPTEST_CASES` is unset: 53 types x 4 properties x
/// 32 cases is about 6,800 generated events, about 20 s of CPU in a debug build.
const DEFAULT_CASES: u32 = 32;

fn cases() -> u32 {
    crate::common::cases(DEFAULT_CASES)
}

/// Run `property` over `strategy` for one event type; on failure, keep the minimal event in the
/// corpus and return a report line.
fn run<S: Strategy>(
    g: &EventGenerator,
    property: &str,
    strategy: S,
    keep: impl Fn(&S::Value) -> Option<Fixture>,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Option<String>
where
    S::Value: std::fmt::Debug,
{
    let regressions = root().join(format!("corpus/proptest/{}/{property}.txt", g.event_type()));
    let path: &'static str = Box::leak(regressions.to_string_lossy().into_owned().into_boxed_str());
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        ..Config::default()
    };
    let config = Config {
        rng_seed: shard_seed(g.event_type(), property).map_or(RngSeed::Random, RngSeed::Fixed),
        ..config
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, test) {
        Ok(()) => None,
        Err(TestError::Fail(why, minimal)) => {
            let saved = keep(&minimal).map(|f| save(g.event_type(), property, &f));
            Some(format!(
                "{property} failed for {}: {why}\n  minimal case: {minimal:?}\n  kept: {}",
                g.event_type(),
                saved.unwrap_or_else(|| "(nothing to keep)".into())
            ))
        }
        Err(TestError::Abort(why)) => {
            Some(format!("{property} aborted for {}: {why}", g.event_type()))
        }
    }
}

/// `SOAK_SHARD=K/N`: shard K of N runs its own seed for every (event type, property), so N
/// machines explore disjoint seeds; their findings are content-addressed files in corpus/, so the
/// union of their corpus/ directories has no duplicates.
fn shard_seed(event_type: &str, property: &str) -> Option<u64> {
    let spec = std::env::var("SOAK_SHARD").ok()?;
    let (k, n) = spec.split_once('/')?;
    let (k, n): (u64, u64) = (k.parse().ok()?, n.parse().ok()?);
    assert!(
        k >= 1 && k <= n,
        "SOAK_SHARD={spec}: want K/N with 1 <= K <= N"
    );
    let name = fnv(format!("{event_type}/{property}").as_bytes());
    Some(name ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn save(event_type: &str, property: &str, fixture: &Fixture) -> String {
    let text = serde_json::to_string_pretty(fixture).expect("fixture serialises");
    let hash = fnv(text.as_bytes());
    let dir = root().join(format!("corpus/properties/{event_type}"));
    let file = dir.join(format!("{property}-{hash:016x}.json"));
    std::fs::create_dir_all(&dir).expect("corpus dir");
    std::fs::write(&file, text + "\n").expect("write corpus file");
    format!(
        "{} (replay: contracts replay {})",
        file.display(),
        file.display()
    )
}

fn for_every_type(property: &str, check: impl Fn(&Registry, &EventGenerator) -> Option<String>) {
    let (registry, generators) = setup();
    assert!(
        !generators.all().is_empty(),
        "the registry discovered no event types"
    );
    let started = std::time::Instant::now();
    let failures: Vec<String> = generators
        .all()
        .iter()
        .filter_map(|g| check(registry, g))
        .collect();
    eprintln!(
        "{property}: {} event types x {} cases in {:.1} s{}",
        generators.all().len(),
        cases(),
        started.elapsed().as_secs_f64(),
        std::env::var("SOAK_SHARD")
            .map(|s| format!(", shard {s}"))
            .unwrap_or_default()
    );
    assert!(
        failures.is_empty(),
        "{property}: {} of {} event types failed:\n{}",
        failures.len(),
        generators.all().len(),
        failures.join("\n")
    );
}

/// The verdict names the aimed keyword at the aimed path. One translation is by design: the
/// dispatch fields. A schema-level `const` on `/event_type` or `pattern` on `/schema_version`
/// breaks the dispatch itself, so `contracts validate` reports the named rule
/// (`unknown_event_type`, `unknown_schema_version`) or the envelope's own keyword at that path.
fn reported_as_aimed(verdict: &contracts_core::Verdict, keyword: &str, path: &str) -> bool {
    let dispatch = matches!(path, "/event_type" | "/schema_version");
    verdict
        .violations
        .iter()
        .any(|v| v.instance_path == path && (v.keyword == keyword || dispatch))
}

fn pairs(verdict: &contracts_core::Verdict) -> Vec<(String, String)> {
    verdict
        .violations
        .iter()
        .map(|v| (v.keyword.clone(), v.instance_path.clone()))
        .collect()
}

#[test]
fn generated_events_are_accepted() {
    for_every_type("generated_events_are_accepted", |registry, g| {
        run(
            g,
            "generated_events_are_accepted",
            g.valid_strategy(),
            |e| {
                Some(Fixture {
                    description: format!(
                        "generated {} event that contracts validate rejected",
                        g.event_type()
                    ),
                    origin: Some("property generated_events_are_accepted".into()),
                    valid: true,
                    violations: Vec::new(),
                    cross_event_rule: None,
                    event: e.clone(),
                })
            },
            |event| {
                let verdict = registry.validate_value(&event);
                prop_assert!(verdict.is_valid(), "rejected: {:?}", pairs(&verdict));
                prop_assert_eq!(verdict.event_type.as_deref(), Some(g.event_type()));
                Ok(())
            },
        )
    });
}

#[test]
fn every_mutation_class_is_rejected_for_the_aimed_keyword_and_path() {
    let classes = std::sync::Mutex::new(std::collections::BTreeMap::<
        String,
        std::collections::BTreeSet<&'static str>,
    >::new());
    for_every_type("mutants_rejected", |registry, g| {
        let strategy = (
            g.valid_strategy(),
            proptest::collection::vec(any::<u64>(), 0..64),
        );
        run(
            g,
            "mutants_rejected",
            strategy,
            |_| None,
            |(valid, choices)| {
                // Each class that applies to this event, aimed once (the first target of each class).
                let mut seen = std::collections::BTreeSet::new();
                for target in g.generator().mutation_targets(&valid) {
                    if !seen.insert(target.class.as_str()) {
                        continue;
                    }
                    let mut src = ChoiceSource::new(&choices);
                    let Ok(Some(m)) =
                        g.generator()
                            .mutate_target(&valid, &target, &mut src as &mut dyn Source)
                    else {
                        continue;
                    };
                    let verdict = registry.validate_value(&m.value);
                    if let Ok(mut c) = classes.lock() {
                        c.entry(g.event_type().to_owned())
                            .or_default()
                            .insert(m.class.as_str());
                    }
                    prop_assert!(
                        !verdict.is_valid(),
                        "{} mutant accepted: {}",
                        m.class.as_str(),
                        m.value
                    );
                    prop_assert!(
                        reported_as_aimed(&verdict, &m.keyword, &m.instance_path),
                        "{} mutant aimed at {} {} rejected for {:?}",
                        m.class.as_str(),
                        m.keyword,
                        m.instance_path,
                        pairs(&verdict)
                    );
                }
                Ok(())
            },
        )
    });
    let classes = classes.into_inner().unwrap_or_default();
    for (t, set) in &classes {
        eprintln!(
            "  {t}: mutation classes exercised: {}",
            set.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
}

#[test]
fn persistence_metadata_is_rejected_by_its_named_rule() {
    for_every_type("persistence_metadata_rejected", |registry, g| {
        let strategy = (
            g.valid_strategy(),
            proptest::collection::vec(any::<u64>(), 1..4),
        );
        run(
            g,
            "persistence_metadata_rejected",
            strategy,
            |(valid, choices)| {
                let mut event = valid.clone();
                let at = inject_persistence_field(&mut event, &mut ChoiceSource::new(choices));
                Some(Fixture {
                    description: format!(
                        "{} event with persistence metadata at {at}",
                        g.event_type()
                    ),
                    origin: Some("property persistence_metadata_rejected".into()),
                    valid: false,
                    violations: vec![Expected {
                        keyword: rule::PERSISTENCE_METADATA.into(),
                        instance_path: at,
                    }],
                    cross_event_rule: None,
                    event,
                })
            },
            |(valid, choices)| {
                let mut event = valid;
                let at = inject_persistence_field(&mut event, &mut ChoiceSource::new(&choices));
                let verdict = registry.validate_value(&event);
                prop_assert!(
                    pairs(&verdict).contains(&(rule::PERSISTENCE_METADATA.to_owned(), at.clone())),
                    "persistence field at {at} not reported by name: {:?}",
                    pairs(&verdict)
                );
                Ok(())
            },
        )
    });
}

#[test]
fn serialising_and_reparsing_changes_nothing() {
    for_every_type("round_trip", |registry, g| {
        run(
            g,
            "round_trip",
            g.valid_strategy(),
            |_| None,
            |event: Value| {
                let text = serde_json::to_string(&event).expect("serialises");
                let back: Value = serde_json::from_str(&text).expect("re-parses");
                prop_assert_eq!(&back, &event);
                prop_assert_eq!(
                    serde_json::to_string(&back).expect("serialises"),
                    text.clone()
                );
                let pretty = serde_json::to_string_pretty(&event).expect("serialises");
                prop_assert_eq!(
                    registry.validate_bytes(pretty.as_bytes()),
                    registry.validate_value(&event)
                );
                Ok(())
            },
        )
    });
}

/// The baseline contract set (`specs/BASELINE`), exported from git into a temp dir and loaded.
/// `None`, said loudly, when the repository or the revision is not available.
fn baseline_registry() -> Option<&'static Registry> {
    static BASELINE: OnceLock<Option<Registry>> = OnceLock::new();
    BASELINE
        .get_or_init(|| {
            let text = std::fs::read_to_string(root().join("specs/BASELINE")).ok()?;
            let rev = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))?
                .to_owned();
            let dir =
                std::env::temp_dir().join(format!("contracts-baseline-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).ok()?;
            let archive = std::process::Command::new("git")
                .args(["archive", "--format=tar", &rev, "specs"])
                .current_dir(root())
                .output()
                .ok()?;
            if !archive.status.success() {
                eprintln!(
                    "NOT RUN: baseline {rev} is not in this repository ({})",
                    String::from_utf8_lossy(&archive.stderr).trim()
                );
                return None;
            }
            let mut tar = std::process::Command::new("tar")
                .args(["-x", "-C"])
                .arg(&dir)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .ok()?;
            std::io::Write::write_all(tar.stdin.as_mut()?, &archive.stdout).ok()?;
            tar.wait().ok()?;
            Registry::load(&dir.join("specs")).ok()
        })
        .as_ref()
}

/// Catalogue D2: readers of a MAJOR keep reading every event of that MAJOR. An event generated
/// from today's schema must be valid under the released baseline of the same MAJOR, except where
/// D2 lets a MINOR grow the contract (a new optional member: `additionalProperties`; a new enum
/// value: `enum`; a relaxed bound). Anything else — a dropped `required`, a changed type, a
/// pattern — needs a MAJOR bump, and this property shrinks the event that shows it.
#[test]
fn same_major_readers_accept_new_events() {
    let Some(baseline) = baseline_registry() else {
        assert!(
            std::env::var("REQUIRE_SUITE").as_deref() != Ok("1"),
            "REQUIRE_SUITE=1 but the baseline named in specs/BASELINE could not be loaded"
        );
        return;
    };
    const MINOR_GROWTH: [&str; 11] = [
        "additionalProperties",
        "enum",
        "maximum",
        "minimum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "const",
    ];
    for_every_type("same_major_readers_accept_new_events", |_, g| {
        let Some(old) = baseline.contract(g.event_type(), g.major()) else {
            return None; // a new type or MAJOR: nothing released to stay compatible with
        };
        run(
            g,
            "same_major_readers_accept_new_events",
            g.valid_strategy(),
            |e| {
                Some(Fixture {
                    description: format!(
                        "{} event valid today but rejected by the released MAJOR {} schema",
                        g.event_type(),
                        g.major()
                    ),
                    origin: Some("property same_major_readers_accept_new_events".into()),
                    valid: true,
                    violations: Vec::new(),
                    cross_event_rule: None,
                    event: e.clone(),
                })
            },
            |event| {
                let breaks: Vec<(String, String)> = old
                    .validator
                    .iter_errors(&event)
                    .map(|e| {
                        (
                            e.kind().keyword().to_owned(),
                            e.instance_path().as_str().to_owned(),
                        )
                    })
                    .filter(|(k, _)| !MINOR_GROWTH.contains(&k.as_str()))
                    .collect();
                prop_assert!(
                    breaks.is_empty(),
                    "the released schema rejects it for {breaks:?}: a change D2 allows only with a MAJOR bump"
                );
                Ok(())
            },
        )
    });
}
