//! The JSON Schema Test Suite (draft 2020-12) through the whole gate: every group's schema
//! becomes the payload schema of two scratch event types, every test an event, and the default
//! path (`validate_bytes`), the reference path (`validate_bytes_reference`) and the suite's own
//! `valid` must all agree. The referee is the suite's label, independent of both paths.
//!
//! Each group's schema is its own file (`events/jsts/group.schema.json`, so `#/...` resolves
//! in it); `jsts.direct` takes it as the payload schema (tests whose data is an object) and
//! `jsts.wrapped` as the schema of `payload.v` (every test, so any JSON value is tested).
//! The one deliberate difference, formats the suite marks annotation-only while contracts assert
//! them, is listed in `suite_exceptions.txt`; a listed case that agrees fails the run.
//!
//! Read from `$JSON_SCHEMA_TEST_SUITE`, else `../shared/json-schema-test-suite` from the workspace
//! root; when absent this says loudly that it did not run, and fails under `REQUIRE_SUITE=1`.
//! `SUITE_FILTER=ref,-refRemote` narrows the files. Prints groups loaded, refused (and why),
//! compiled natively by the fast path and the error collector, and fallen back.
#![allow(clippy::print_stderr, reason = "the replay prints what it covered")]

use crate::common::root;
use crate::scratch::{Specs, event, type_schema};
use contracts_core::Verdict;
use contracts_core::validate::Detail;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

fn suite_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("JSON_SCHEMA_TEST_SUITE").map_or_else(
        || root().join("../shared/json-schema-test-suite"),
        PathBuf::from,
    );
    dir.join("tests").is_dir().then_some(dir)
}

fn selected(file: &str) -> bool {
    let Ok(filter) = std::env::var("SUITE_FILTER") else {
        return true;
    };
    let mut any_positive = false;
    let mut hit = false;
    for f in filter.split(',').filter(|f| !f.is_empty()) {
        if let Some(neg) = f.strip_prefix('-') {
            if file.contains(neg) {
                return false;
            }
        } else {
            any_positive = true;
            hit |= file.contains(f);
        }
    }
    !any_positive || hit
}

/// `file | group | test` lines of `suite_exceptions.txt` (comments and blank lines skipped).
fn exceptions() -> BTreeSet<String> {
    include_str!("suite_exceptions.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn keys(v: &Verdict) -> (contracts_core::Status, Vec<(String, String)>) {
    (
        v.status,
        v.violations
            .iter()
            .map(|x| (x.keyword.clone(), x.instance_path.clone()))
            .collect(),
    )
}

/// The group's schema as a specs file: it must declare the dialect (catalogue §5 rule 1); a
/// boolean schema is held by an `allOf` (same verdicts).
fn schema_file(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut map = map.clone();
            map.entry("$schema").or_insert_with(|| json!(DIALECT));
            Value::Object(map)
        }
        other => json!({"$schema": DIALECT, "allOf": [other]}),
    }
}

#[derive(Default)]
struct Tally {
    groups: usize,
    remote: usize,
    refused: BTreeMap<String, Vec<String>>,
    fast_native: usize,
    fast_fallback: Vec<String>,
    collect_native: usize,
    collect_fallback: Vec<String>,
    tests: usize,
    events: usize,
    excepted: usize,
}

#[test]
fn jsts_draft2020_12_differential() {
    let Some(dir) = suite_dir() else {
        eprintln!(
            "!!! JSON-Schema-Test-Suite NOT FOUND: the differential suite replay did NOT run !!!"
        );
        assert!(
            std::env::var("REQUIRE_SUITE").as_deref() != Ok("1"),
            "REQUIRE_SUITE=1 but the suite is missing"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("tests/draft2020-12"))
        .expect("suite dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let listed = exceptions();
    let mut met = BTreeSet::new();
    let mut tally = Tally::default();
    let mut disagreements = Vec::new();
    let mut wrong = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !selected(&name) {
            continue;
        }
        let doc: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("parse");
        for group in &doc {
            let gname = group["description"].as_str().unwrap_or_default();
            let schema = &group["schema"];
            tally.groups += 1;
            if schema.to_string().contains("localhost:1234") {
                tally.remote += 1; // remote refs: never fetched, by design
                continue;
            }
            let specs = Specs::new();
            specs.write("events/jsts/group.schema.json", &schema_file(schema));
            specs.write(
                "events/types/jsts.direct.v1.schema.json",
                &type_schema("jsts.direct", json!({"$ref": "../jsts/group.schema.json"})),
            );
            specs.write(
                "events/types/jsts.wrapped.v1.schema.json",
                &type_schema(
                    "jsts.wrapped",
                    json!({"type": "object", "required": ["v"], "additionalProperties": false,
                           "properties": {"v": {"$ref": "../jsts/group.schema.json"}}}),
                ),
            );
            let mut registry = match specs.load() {
                Ok(r) => r,
                Err(e) => {
                    let why = e.to_string();
                    let why = why.split_once(": ").map_or(why.as_str(), |(_, w)| w);
                    let why: String = why.chars().take(90).collect();
                    tally
                        .refused
                        .entry(why)
                        .or_default()
                        .push(format!("{name}#{gname}"));
                    continue;
                }
            };
            registry.set_fast_path(true);
            if registry.fast_path().fallbacks().is_empty() {
                tally.fast_native += 1;
            } else {
                let f = &registry.fast_path().fallbacks()[0];
                tally
                    .fast_fallback
                    .push(format!("{name}#{gname}: {}", f.reason));
            }
            if registry.collector_fallbacks().is_empty() {
                tally.collect_native += 1;
            } else {
                let (f, why) = &registry.collector_fallbacks()[0];
                tally
                    .collect_fallback
                    .push(format!("{name}#{gname}: {f}: {why}"));
            }
            for test in group["tests"].as_array().expect("tests") {
                let tname = test["description"].as_str().unwrap_or_default();
                let data = &test["data"];
                let want = test["valid"].as_bool().expect("valid");
                let id = format!("{name} | {gname} | {tname}");
                tally.tests += 1;
                let mut forms = vec![event("jsts.wrapped", &json!({"v": data}))];
                if data.is_object() {
                    forms.push(event("jsts.direct", data));
                }
                for text in forms {
                    tally.events += 1;
                    let default = registry.validate_bytes(text.as_bytes());
                    let reference = registry.validate_bytes_reference(text.as_bytes(), Detail::All);
                    if keys(&default) != keys(&reference) {
                        disagreements.push(format!(
                            "{id}: default {:?}, reference {:?} on {text}",
                            keys(&default),
                            keys(&reference)
                        ));
                    }
                    if reference.is_valid() != want {
                        if listed.contains(&id) {
                            met.insert(id.clone());
                        } else {
                            wrong.push(format!(
                                "{id}: suite valid={want}, reference {:?}",
                                keys(&reference)
                            ));
                        }
                    }
                }
                if listed.contains(&id) {
                    tally.excepted += 1;
                }
            }
        }
    }
    let stale: Vec<&String> = if std::env::var("SUITE_FILTER").is_ok() {
        Vec::new()
    } else {
        listed.iter().filter(|l| !met.contains(*l)).collect()
    };
    let loaded = tally.groups - tally.remote - tally.refused.values().map(Vec::len).sum::<usize>();
    eprintln!(
        "jsts draft2020-12: {} groups: {loaded} loaded, {} remote-ref (skipped), {} refused at load; \
         {} tests as {} events; fast path native {} / fell back {}; error collector native {} / \
         fell back {}; {} listed format exceptions",
        tally.groups,
        tally.remote,
        tally.refused.values().map(Vec::len).sum::<usize>(),
        tally.tests,
        tally.events,
        tally.fast_native,
        tally.fast_fallback.len(),
        tally.collect_native,
        tally.collect_fallback.len(),
        tally.excepted,
    );
    for (why, groups) in &tally.refused {
        eprintln!("  refused ({}): {why}: {}", groups.len(), groups.join("; "));
    }
    if std::env::var_os("SUITE_VERBOSE").is_some() {
        for f in tally.fast_fallback.iter().chain(&tally.collect_fallback) {
            eprintln!("  fallback: {f}");
        }
    }
    eprintln!(
        "  {} disagreements between paths, {} wrong verdicts beyond the listed exceptions, {} stale exceptions",
        disagreements.len(),
        wrong.len(),
        stale.len()
    );
    let mut failures: Vec<String> = disagreements;
    failures.extend(wrong);
    failures.extend(stale.iter().map(|s| format!("listed but agrees: {s}")));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
