//! Integration tests: compat. The fixture table under `fixtures/compat/` is replayed here, every
//! counterexample is re-checked by a validator the harness did not build, and the binary is run
//! on files, on directories and on a git revision of this repository.

use crate::util::{code, contracts, root, scratch_copy, stdout};
use contracts_core::runner::compat::{
    self, Basis, ChangeClass, Direction, FindingKind, Mode, SchemaSet, Search, SearchOptions,
    Verdict,
};
use serde_json::Value;
use std::path::Path;

/// Change classes the fixture table must exercise (classes the rules
/// only use for unusual shapes, such as `ref_unresolved`, are covered by unit tests).
const MUST_COVER: &[&str] = &[
    "property_added",
    "property_removed",
    "required_added",
    "required_removed",
    "additional_properties_opened",
    "additional_properties_closed",
    "type_widened",
    "type_narrowed",
    "enum_added",
    "enum_value_added",
    "enum_value_removed",
    "const_changed",
    "bound_tightened",
    "bound_loosened",
    "bound_changed",
    "pattern_added",
    "pattern_removed",
    "pattern_changed",
    "format_added",
    "format_changed",
    "branch_added",
    "branch_removed",
    "all_of_added",
    "ref_target_changed",
    "not_added",
    "conditional_changed",
    "dependency_added",
    "contains_added",
    "unique_items_added",
    "schema_closed",
];

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

/// The referee: formats asserted, as the registry does.
fn referee(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("fixture schema compiles")
}

#[test]
fn fixture_cases_get_their_expected_verdicts() {
    let dir = root().join("fixtures/compat");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/compat")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 30,
        "the fixture table holds at least 30 cases, found {}",
        cases.len()
    );
    let filter = std::env::var("COMPAT_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !filter.is_empty() && !name.contains(&filter) {
            continue;
        }
        let expected = read_json(&case.join("expected.json"));
        let (old_path, new_path) = (case.join("old.schema.json"), case.join("new.schema.json"));
        let old = SchemaSet::from_file(&old_path).expect("old");
        let new = SchemaSet::from_file(&new_path).expect("new");
        let report = compat::compare(&name, &old, &new, Mode::Full, &SearchOptions::default())
            .expect("compare");
        let classes: Vec<&str> = report.changes.iter().map(|c| c.class.as_str()).collect();
        covered.extend(classes.iter().map(|c| (*c).to_owned()));
        for want in expected["classes"].as_array().expect("classes") {
            let want = want.as_str().expect("class");
            if !classes.contains(&want) {
                failures.push(format!(
                    "{name}: class {want} not reported (got {classes:?})"
                ));
            }
        }
        let (old_v, new_v) = (
            referee(&read_json(&old_path)),
            referee(&read_json(&new_path)),
        );
        for d in &report.directions {
            let want = expected[d.direction.as_str()].as_str().expect("verdict");
            if d.verdict.as_str() != want {
                failures.push(format!(
                    "{name}: {} is {}, expected {want} ({})",
                    d.direction.as_str(),
                    d.verdict.as_str(),
                    d.reason
                ));
            }
            let (src, tgt) = match d.direction {
                Direction::Backward => (&old_v, &new_v),
                Direction::Forward => (&new_v, &old_v),
            };
            match &d.search {
                Search::Found(c) => {
                    if !src.is_valid(&c.event) || tgt.is_valid(&c.event) {
                        failures.push(format!(
                            "{name}: {} counterexample {} is not valid-then-invalid",
                            d.direction.as_str(),
                            c.event
                        ));
                    }
                }
                Search::Skipped
                | Search::Clean { .. }
                | Search::SourceEmpty { .. }
                | Search::Unavailable { .. } => {
                    if d.verdict == Verdict::Incompatible {
                        failures.push(format!(
                            "{name}: {} incompatible without a counterexample",
                            d.direction.as_str()
                        ));
                    }
                }
            }
            // Compatible rests on a proof (or identity), never on a clean search alone.
            let proved = matches!(d.basis, Basis::Proof | Basis::Identical);
            if (d.verdict == Verdict::Compatible) != proved || d.basis == Basis::ProofContradicted {
                failures.push(format!(
                    "{name}: {} is {} on basis {:?}",
                    d.direction.as_str(),
                    d.verdict.as_str(),
                    d.basis
                ));
            }
        }
    }
    if filter.is_empty() {
        for class in MUST_COVER {
            if !covered.contains(*class) {
                failures.push(format!("no fixture case exercises {class}"));
            }
        }
        for class in MUST_COVER {
            assert!(
                ChangeClass::ALL.iter().any(|c| c.as_str() == *class),
                "{class} is not a change class"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn counterexamples_are_shrunk() {
    // maxLength 100 -> 50: the minimal counterexample is a string of exactly 51 characters.
    let case = root().join("fixtures/compat/max_length_tightened");
    let old = SchemaSet::from_file(&case.join("old.schema.json")).expect("old");
    let new = SchemaSet::from_file(&case.join("new.schema.json")).expect("new");
    let report = compat::compare("t", &old, &new, Mode::Backward, &SearchOptions::default())
        .expect("compare");
    let Some(Search::Found(c)) = report.direction(Direction::Backward).map(|d| &d.search) else {
        panic!("no counterexample: {report:?}");
    };
    assert_eq!(
        c.event.as_str().map(|s| s.chars().count()),
        Some(51),
        "{}",
        c.event
    );
}

#[test]
fn two_files_exit_one_when_incompatible_and_zero_when_compatible() {
    let (old, new) = (
        "fixtures/compat/required_added/old.schema.json",
        "fixtures/compat/required_added/new.schema.json",
    );
    let o = contracts(&["compat", "--old", old, "--new", new]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("counterexample"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("reproduce: contracts compat"),
        "{}",
        stdout(&o)
    );
    let o = contracts(&["compat", "--old", old, "--new", new, "--mode", "forward"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn json_output_is_records_with_a_versioned_summary() {
    let o = contracts(&[
        "compat",
        "--old",
        "fixtures/compat/enum_value_removed/old.schema.json",
        "--new",
        "fixtures/compat/enum_value_removed/new.schema.json",
        "--mode",
        "full",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let records: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let summary = records.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["data"]["format_version"], 1);
    assert_eq!(summary["data"]["compatible"], false);
    let schema = &records[0]["data"];
    assert_eq!(schema["changes"][0]["class"], "enum_value_removed");
    assert_eq!(schema["directions"][0]["search"]["outcome"], "found");
    assert_eq!(schema["directions"][0]["basis"], "procedure");
    assert_eq!(schema["directions"][1]["basis"], "proof");
    assert_eq!(schema["directions"][0]["search"]["event"], "critical");
}

#[test]
fn head_revision_against_the_specs_directory_works() {
    // The repository's own history: whatever changed since HEAD~1, the command must decide.
    let o = contracts(&["compat", "--old", "HEAD~1", "--new", "specs"]);
    assert!(
        matches!(code(&o), 0 | 1 | 3),
        "exit {}: {}",
        code(&o),
        crate::util::stderr(&o)
    );
    assert!(stdout(&o).contains("compat backward: "), "{}", stdout(&o));
}

#[test]
fn undecided_exits_three_and_names_the_keyword() {
    // `unevaluatedProperties` is outside the normal form, and the schemas differ only there:
    // no proof, and (forward) no counterexample exists to find.
    let dir = crate::util::tempfile_lite::TempDir::new();
    let old = dir.path().join("old.schema.json");
    let new = dir.path().join("new.schema.json");
    std::fs::write(
        &old,
        r#"{"type":"object","properties":{"a":{"type":"string"}},"unevaluatedProperties":{"type":"string"}}"#,
    )
    .expect("write");
    std::fs::write(
        &new,
        r#"{"type":"object","properties":{"a":{"type":"string"}},"unevaluatedProperties":{"type":"string","maxLength":5}}"#,
    )
    .expect("write");
    let o = contracts(&[
        "compat",
        "--old",
        old.to_str().expect("utf-8"),
        "--new",
        new.to_str().expect("utf-8"),
        "--mode",
        "forward",
    ]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("`unevaluatedProperties`"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn usage_and_io_errors_exit_two() {
    let o = contracts(&["compat", "--old", "specs", "--new", "no/such/dir"]);
    assert_eq!(code(&o), 2);
    let o = contracts(&["compat", "--old", "no-such-revision-xyz", "--new", "specs"]);
    assert_eq!(code(&o), 2);
    let o = contracts(&[
        "compat",
        "--old",
        "specs",
        "--new",
        "fixtures/compat/unchanged/new.schema.json",
    ]);
    assert_eq!(code(&o), 2);
}

#[test]
fn directories_are_compared_file_by_file() {
    let copy = scratch_copy();
    let file = copy
        .path()
        .join("specs/events/types/ticket.link_removed.v1.schema.json");
    let mut schema = read_json(&file);
    schema["$defs"]["payload"]["properties"]["reason"] = serde_json::json!({"type": "string"});
    schema["$defs"]["payload"]["required"]
        .as_array_mut()
        .expect("required")
        .push("reason".into());
    std::fs::write(&file, schema.to_string()).expect("write");
    let new = copy.path().join("specs");
    let o = contracts(&[
        "compat",
        "--old",
        "specs",
        "--new",
        new.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("events/types/ticket.link_removed.v1.schema.json: backward incompatible"),
        "{out}"
    );
    assert!(out.contains("required_added"), "{out}");
    assert!(out.contains("1 changed"), "{out}");
}

#[test]
fn asyncapi_messages_and_channels_are_compared() {
    let copy = scratch_copy();
    let file = copy.path().join("specs/events/asyncapi.yaml");
    let text = std::fs::read_to_string(&file).expect("asyncapi");
    let text = text.replacen(
        "address: oneprotect.events.asset\n",
        "address: oneprotect.events.assets\n",
        1,
    );
    std::fs::write(&file, text).expect("write");
    let new = copy.path().join("specs");
    let o = contracts(&[
        "compat",
        "--old",
        "specs",
        "--new",
        new.to_str().expect("utf-8"),
        "--mode",
        "forward",
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "asyncapi: channel asset address changed from oneprotect.events.asset to oneprotect.events.assets (breaks forward)"
        ),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("1 asyncapi change(s)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn versioning_rule_flags_breaking_changes_and_undeprecated_removals() {
    let old = SchemaSet::from_dir(&root().join("specs")).expect("specs");
    let copy = scratch_copy();
    let types = copy.path().join("specs/events/types");
    // A backward-incompatible change to an existing MAJOR.
    let file = types.join("ticket.link_removed.v1.schema.json");
    let mut schema = read_json(&file);
    schema["$defs"]["payload"]["required"]
        .as_array_mut()
        .expect("required")
        .push("reason".into());
    schema["$defs"]["payload"]["properties"]["reason"] = serde_json::json!({"type": "string"});
    std::fs::write(&file, schema.to_string()).expect("write");
    // A removal without deprecation.
    std::fs::remove_file(types.join("ticket.link_added.v1.schema.json")).expect("rm");
    // A compatible change (a new optional enum value would do; here: a description).
    let file = types.join("ticket.assigned.v1.schema.json");
    let mut schema = read_json(&file);
    schema["description"] = "reworded".into();
    std::fs::write(&file, schema.to_string()).expect("write");
    let new = SchemaSet::from_dir(&copy.path().join("specs")).expect("copy");
    let (findings, compared) =
        compat::versioning_findings(&old, &new, &SearchOptions::default()).expect("findings");
    assert!(compared >= 50, "{compared}");
    let kinds: Vec<(FindingKind, &str)> =
        findings.iter().map(|f| (f.kind, f.file.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (
                FindingKind::RemovedWithoutDeprecation,
                "events/types/ticket.link_added.v1.schema.json"
            ),
            (
                FindingKind::IncompatibleWithoutMajorBump,
                "events/types/ticket.link_removed.v1.schema.json"
            ),
        ],
        "{findings:#?}"
    );
    assert!(findings.iter().all(compat::Finding::is_failure));
    assert!(
        findings[1].message.contains("required_added"),
        "{}",
        findings[1].message
    );
}

/// Keyword families `fixtures/compat/pairs.jsonl` must cover, with at least one pair each.
const FAMILIES: &[&str] = &[
    "type",
    "boolean",
    "enum",
    "number",
    "string",
    "array",
    "object",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "conditional",
    "ref",
];

fn pair_subject(name: &str, schema: &Value) -> compat::Subject {
    let set = SchemaSet::from_memory(
        compat::schemas::LOOSE_BASE,
        name,
        [("s.json".to_owned(), schema.clone())],
    );
    compat::Subject {
        set: std::sync::Arc::new(set),
        entry: "s.json".to_owned(),
    }
}

/// Each pair of `pairs.jsonl` declares its verdict per direction and the values that show it:
/// the reference first confirms the declaration itself (the witness of an incompatible
/// direction is valid under the source and invalid under the target; every sample valid under
/// the source of a compatible direction is valid under its target), then the procedure must
/// reach that verdict: compatible by a proof, incompatible by a counterexample the reference
/// confirms. `COMPAT_CASE=<substring>` runs some.
#[test]
fn keyword_family_pairs_get_their_expected_verdicts() {
    let text = std::fs::read_to_string(root().join("fixtures/compat/pairs.jsonl")).expect("pairs");
    let filter = std::env::var("COMPAT_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    let mut families = std::collections::BTreeSet::new();
    let mut pairs = 0;
    for (line_no, line) in text.lines().enumerate() {
        let p: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("pairs.jsonl:{}: {e}", line_no + 1));
        let name = p["name"].as_str().expect("name");
        pairs += 1;
        families.insert(p["family"].as_str().expect("family").to_owned());
        if !filter.is_empty() && !name.contains(&filter) {
            continue;
        }
        let (old_v, new_v) = (referee(&p["old"]), referee(&p["new"]));
        let report = compat::compare(
            name,
            &pair_subject(name, &p["old"]),
            &pair_subject(name, &p["new"]),
            Mode::Full,
            &SearchOptions::default(),
        )
        .expect("compare");
        for d in &report.directions {
            let dir = d.direction.as_str();
            let want = p[dir].as_str().expect("verdict");
            let (src, tgt) = match d.direction {
                Direction::Backward => (&old_v, &new_v),
                Direction::Forward => (&new_v, &old_v),
            };
            // The declaration, judged by the reference alone.
            match want {
                "incompatible" => match p.get(format!("{dir}_witness")) {
                    Some(w) if src.is_valid(w) && !tgt.is_valid(w) => {}
                    w => failures.push(format!(
                        "{name}: declared {dir} witness {w:?} does not separate the schemas"
                    )),
                },
                _ => {
                    for s in p["samples"].as_array().expect("samples") {
                        if src.is_valid(s) && !tgt.is_valid(s) {
                            failures.push(format!(
                                "{name}: declared {dir} {want}, but sample {s} separates"
                            ));
                        }
                    }
                }
            }
            // The procedure.
            if d.verdict.as_str() != want {
                failures.push(format!(
                    "{name}: {dir} is {}, expected {want} ({})",
                    d.verdict.as_str(),
                    d.reason
                ));
                continue;
            }
            match (&d.search, d.verdict) {
                (Search::Found(c), Verdict::Incompatible) => {
                    if !src.is_valid(&c.event) || tgt.is_valid(&c.event) {
                        failures.push(format!(
                            "{name}: {dir} counterexample {} not confirmed",
                            c.event
                        ));
                    }
                }
                (_, Verdict::Compatible) if matches!(d.basis, Basis::Proof | Basis::Identical) => {}
                (_, Verdict::Undecided) => {}
                (s, v) => failures.push(format!(
                    "{name}: {dir} {} without its evidence ({s:?}, {:?})",
                    v.as_str(),
                    d.basis
                )),
            }
        }
    }
    if filter.is_empty() {
        assert!(pairs >= 60, "at least 60 pairs, found {pairs}");
        for f in FAMILIES {
            if !families.contains(*f) {
                failures.push(format!("no pair exercises the {f} family"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
