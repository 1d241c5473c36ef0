//! `--format sarif`: every log is judged by the official SARIF 2.1.0 JSON Schema (vendored in
//! specs/vendor/sarif/), and planted violations are looked up at the lines a text search of the
//! planted file finds, not at lines the code under test computed.

use crate::util::{code, contracts, contracts_in, root, scratch_copy, stderr, stdout};
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

/// The official schema's pattern that is not a valid regex (a stray `]`), on `run.language` and
/// `toolComponent.language`, and the pattern the spec's prose means (§3.14.16: "en" or "en-US"). `jsonschema` meta-validates
/// every schema it compiles and refuses the file as published; our logs never carry `language`,
/// so the substitute cannot change a verdict on them.
const BROKEN_LANGUAGE_PATTERN: (&str, &str) = (
    r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
    r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
);

/// The SARIF 2.1.0 schema as a validator.
fn sarif_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text =
            std::fs::read_to_string(root().join("specs/vendor/sarif/sarif-schema-2.1.0.json"))
                .expect("vendored SARIF schema");
        let (broken, meant) = BROKEN_LANGUAGE_PATTERN;
        assert_eq!(
            text.matches(broken).count(),
            2,
            "the vendored schema changed: revisit the patch"
        );
        let schema: Value =
            serde_json::from_str(&text.replace(broken, meant)).expect("schema parses");
        jsonschema::validator_for(&schema).expect("schema compiles")
    })
}

/// stdout parsed as one SARIF log that the official schema accepts.
fn sarif_log(o: &std::process::Output) -> Value {
    let log: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            stderr(o)
        )
    });
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );
    assert_eq!(log["version"], "2.1.0");
    // Code-scanning services drop a result that names no file.
    for r in log["runs"][0]["results"].as_array().expect("results") {
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
            "result without a file: {r}"
        );
    }
    log
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn rule<'a>(log: &'a Value, id: &str) -> &'a Value {
    log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// Every result's rule is declared with short and full descriptions and help, and its
/// `ruleIndex` points at it.
fn assert_rules_described(log: &Value) {
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in results(log) {
        let id = r["ruleId"].as_str().expect("ruleId");
        let i = usize::try_from(r["ruleIndex"].as_u64().expect("ruleIndex")).expect("index");
        assert_eq!(rules[i]["id"], id);
        for field in ["shortDescription", "fullDescription", "help"] {
            let text = rules[i][field]["text"].as_str().unwrap_or("");
            assert!(!text.is_empty(), "rule {id} lacks {field}");
        }
        assert!(
            r["partialFingerprints"]["contractsFinding/v1"].is_string(),
            "result without fingerprint: {r}"
        );
    }
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in text"));
    u64::try_from(i + 1).expect("line")
}

fn region(loc: &Value) -> (&str, u64) {
    let p = &loc["physicalLocation"];
    (
        p["artifactLocation"]["uri"].as_str().expect("uri"),
        p["region"]["startLine"].as_u64().expect("startLine"),
    )
}

const PLANTED_SCHEMA: &str = "specs/events/types/alert.created.v1.schema.json";
const PLANTED_FIXTURE: &str =
    "fixtures/events/agent.certificate.rotated/valid-rekey-requested.json";

/// Two planted defects: a payload property with no description (a schema lint), and a valid
/// fixture made invalid (a replay failure). Both must be results at the planted line.
#[test]
fn check_sarif_points_at_planted_lines_with_stable_fingerprints() {
    let dir = scratch_copy();
    let schema_path = dir.path().join(PLANTED_SCHEMA);
    let mut schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("schema"))
            .expect("json");
    schema["$defs"]["payload"]["properties"]["planted_field"] =
        serde_json::json!({"type": "string"});
    let schema_text = serde_json::to_string_pretty(&schema).expect("render");
    std::fs::write(&schema_path, &schema_text).expect("write schema");
    let fixture_path = dir.path().join(PLANTED_FIXTURE);
    let mut fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture_path).expect("fixture"))
            .expect("json");
    fixture["event"]["tenant_id"] = Value::from("NOT-A-TENANT");
    let fixture_text = serde_json::to_string_pretty(&fixture).expect("render");
    std::fs::write(&fixture_path, &fixture_text).expect("write fixture");

    let o = contracts_in(dir.path(), &["check", "--format", "sarif"], None);
    assert_eq!(
        code(&o),
        1,
        "a planted violation fails the gate; stderr: {}",
        stderr(&o)
    );
    let log = sarif_log(&o);
    assert_rules_described(&log);

    let lint = results(&log)
        .iter()
        .find(|r| {
            r["ruleId"] == "check/schema-lint"
                && r["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("planted_field")
        })
        .unwrap_or_else(|| panic!("no schema-lint result for planted_field: {log:#}"));
    assert_eq!(
        region(&lint["locations"][0]),
        (PLANTED_SCHEMA, line_of(&schema_text, "\"planted_field\"")),
        "the lint points at the planted member's line"
    );
    let r = rule(&log, "check/schema-lint");
    assert!(
        r["help"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("contracts check")
    );

    let replay = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "check/replay")
        .unwrap_or_else(|| panic!("no replay result: {log:#}"));
    assert_eq!(
        region(&replay["locations"][0]),
        (PLANTED_FIXTURE, line_of(&fixture_text, "NOT-A-TENANT")),
        "the replay failure points at the fixture line of the offending member"
    );

    // The broken fixture was the only valid one taking rotation_reason "rekey_requested": the
    // gate's coverage failure points at that member in the event type's schema.
    let gap = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "check/coverage")
        .unwrap_or_else(|| panic!("no coverage result: {log:#}"));
    let (uri, line) = region(&gap["locations"][0]);
    let schema = std::fs::read_to_string(dir.path().join(uri)).expect("schema");
    let at = schema
        .lines()
        .nth(usize::try_from(line - 1).expect("line"))
        .unwrap_or("");
    assert!(
        at.contains("\"rotation_reason\""),
        "{uri}:{line} is rotation_reason: {at}"
    );

    // Lines above move the finding but must not change its fingerprint (no duplicate alert).
    std::fs::write(&schema_path, format!("\n\n\n{schema_text}")).expect("shift lines");
    let again = sarif_log(&contracts_in(
        dir.path(),
        &["check", "--format", "sarif"],
        None,
    ));
    let moved = results(&again)
        .iter()
        .find(|r| {
            r["ruleId"] == "check/schema-lint"
                && r["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("planted_field")
        })
        .expect("still found");
    assert_eq!(
        region(&moved["locations"][0]).1,
        region(&lint["locations"][0]).1 + 3
    );
    assert_eq!(moved["partialFingerprints"], lint["partialFingerprints"]);
}

/// An invalid event on line 3: the result is at line 3 of the input, and its related location
/// is the schema line of the `enum` it breaks.
#[test]
fn validate_sarif_points_at_the_event_line_and_the_broken_keyword() {
    let dir = crate::util::tempfile_lite::TempDir::new();
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(PLANTED_FIXTURE)).expect("fixture"),
    )
    .expect("json");
    let good = fixture["event"].to_string();
    let mut bad = fixture["event"].clone();
    bad["payload"]["rotation_reason"] = Value::from("expiring");
    let input = dir.path().join("events.jsonl");
    std::fs::write(&input, format!("{good}\n{good}\n{bad}\n{good}\n")).expect("write");

    let o = contracts(&[
        "validate",
        "--format",
        "sarif",
        input.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let log = sarif_log(&o);
    assert_rules_described(&log);
    let found = results(&log);
    assert_eq!(found.len(), 1, "one violation: {log:#}");
    let r = &found[0];
    assert_eq!(r["ruleId"], "event/enum");
    assert_eq!(r["level"], "error");
    let (uri, line) = region(&r["locations"][0]);
    assert_eq!((Path::new(uri), line), (input.as_path(), 3));
    let (schema_uri, schema_line) = region(&r["relatedLocations"][0]);
    assert_eq!(
        schema_uri,
        "specs/events/types/agent.certificate.rotated.v1.schema.json"
    );
    let schema_text = std::fs::read_to_string(root().join(schema_uri)).expect("schema");
    let at = schema_text
        .lines()
        .nth(usize::try_from(schema_line - 1).expect("line"))
        .unwrap_or("");
    assert!(
        at.contains("\"enum\""),
        "related line {schema_line} is the enum keyword: {at}"
    );
    assert!(
        schema_line > line_of(&schema_text, "\"rotation_reason\""),
        "the enum is rotation_reason's"
    );

    // From stdin there is no file to point at: the result sits on the broken keyword instead.
    let piped = contracts_in(
        &root(),
        &["validate", "--format", "sarif", "-"],
        Some(format!("{bad}\n").as_bytes()),
    );
    let piped = sarif_log(&piped);
    assert_eq!(
        region(&results(&piped)[0]["locations"][0]),
        (schema_uri, schema_line),
        "stdin events are located at the keyword they break"
    );

    let clean = contracts_in(
        &root(),
        &["validate", "--format", "sarif", "-"],
        Some(format!("{good}\n").as_bytes()),
    );
    assert_eq!(code(&clean), 0);
    assert!(results(&sarif_log(&clean)).is_empty());
}

#[test]
fn coverage_sarif_is_valid_and_locates_gaps_in_schemas() {
    let dir = scratch_copy();
    // Remove every valid fixture that takes rotation_reason "rekey_requested": a planted gap.
    let group = dir.path().join("fixtures/events/agent.certificate.rotated");
    for entry in std::fs::read_dir(&group).expect("dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        if text.contains("\"valid\": true") && text.contains("\"rekey_requested\"") {
            std::fs::remove_file(&path).expect("remove");
        }
    }
    let o = contracts_in(
        dir.path(),
        &["coverage", "--format", "sarif", "--require"],
        None,
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let log = sarif_log(&o);
    assert_rules_described(&log);
    let gap = results(&log)
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap_or("")
                .contains("rekey_requested")
        })
        .unwrap_or_else(|| panic!("the planted gap is a result: {log:#}"));
    assert_eq!(gap["ruleId"], "coverage/enum_value");
    let (uri, line) = region(&gap["locations"][0]);
    assert_eq!(
        uri,
        "specs/events/types/agent.certificate.rotated.v1.schema.json"
    );
    let text = std::fs::read_to_string(dir.path().join(uri)).expect("schema");
    assert!(
        text.lines()
            .nth(usize::try_from(line - 1).expect("line"))
            .unwrap_or("")
            .contains("\"rotation_reason\""),
        "line {line} is rotation_reason's"
    );
}

/// An example program with a planted bug, from the same target dir as `contracts`.
fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_BIN_EXE_contracts")).with_file_name(name);
    assert!(
        path.exists(),
        "{} missing: cargo build -p contracts-examples",
        path.display()
    );
    path.display().to_string()
}

#[test]
fn fuzz_and_producer_sarif_carry_kept_files_and_replay_commands() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let cmd = format!("{} --bug received-at", example("example-consumer"));
    let o = contracts(&[
        "fuzz-consumer",
        "--cmd",
        &cmd,
        "--event-type",
        "alert.created",
        "--cases",
        "200",
        "--seed",
        "7",
        "--format",
        "sarif",
        "--corpus",
        tmp.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let log = sarif_log(&o);
    assert_rules_described(&log);
    let r = results(&log).first().expect("the planted bug is found");
    assert!(
        r["ruleId"].as_str().unwrap_or("").starts_with("fuzz/"),
        "{r}"
    );
    let kept = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .expect("the kept file is the location");
    assert!(
        Path::new(kept).is_file() || root().join(kept).is_file(),
        "{kept} exists"
    );
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("contracts replay --consumer")
    );

    let producer = format!(
        "{} --count 6 --bug received-at",
        example("example-producer")
    );
    let p = contracts(&["check-producer", "--cmd", &producer, "--format", "sarif"]);
    assert_eq!(code(&p), 1, "{}", stderr(&p));
    let log = sarif_log(&p);
    assert_rules_described(&log);
    assert!(
        results(&log)
            .iter()
            .any(|r| r["ruleId"] == "event/persistence_metadata"),
        "{log:#}"
    );
}

/// The referee can fail: a log with a level SARIF does not have, or without a required member,
/// is refused by the vendored schema.
#[test]
fn sarif_schema_refuses_malformed_logs() {
    let good = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"message": {"text": "m"}, "level": "error"}]}]});
    assert!(sarif_validator().is_valid(&good));
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!sarif_validator().is_valid(&bad_level));
    let mut no_message = good.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .expect("result")
        .remove("message");
    assert!(!sarif_validator().is_valid(&no_message));
    let mut bad_line = good;
    bad_line["runs"][0]["results"][0]["locations"] = serde_json::json!([{"physicalLocation":
        {"artifactLocation": {"uri": "a.json"}, "region": {"startLine": 0}}}]);
    assert!(!sarif_validator().is_valid(&bad_line), "lines are 1-based");
}

/// A `maxLength` tightened in a copy of the specs: one error result at the planted line of the
/// new file, the old file as related location, exit 1 as in the other formats.
#[test]
fn compat_sarif_points_at_the_changed_keyword_on_both_sides() {
    let copy = scratch_copy();
    let file = copy.path().join(PLANTED_SCHEMA);
    let old_text = std::fs::read_to_string(root().join(PLANTED_SCHEMA)).expect("read");
    let planted = old_text.replacen("\"maxLength\": 200,", "\"maxLength\": 20,", 1);
    assert_ne!(planted, old_text, "the planted schema has no maxLength 200");
    std::fs::write(&file, &planted).expect("write");
    let new = copy.path().join("specs");
    let o = contracts(&[
        "compat",
        "--old",
        "specs",
        "--new",
        new.to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let log = sarif_log(&o);
    assert_rules_described(&log);
    let rs = results(&log);
    assert_eq!(rs.len(), 1, "{rs:?}");
    let r = &rs[0];
    assert_eq!(r["level"], "error");
    assert!(
        r["ruleId"].as_str().expect("ruleId").starts_with("compat/"),
        "{r}"
    );
    let (uri, line) = region(&r["locations"][0]);
    assert!(uri.ends_with(PLANTED_SCHEMA), "{uri}");
    assert_eq!(line, line_of(&planted, "\"maxLength\": 20,"));
    let (old_uri, old_line) = region(&r["relatedLocations"][0]);
    assert_eq!(old_uri, PLANTED_SCHEMA);
    assert_eq!(old_line, line_of(&old_text, "\"maxLength\": 200,"));
}

/// An undecided direction is a warning, and the exit code stays 3.
#[test]
fn compat_sarif_reports_undecided_directions_as_warnings() {
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
        "--format",
        "sarif",
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let log = sarif_log(&o);
    assert_rules_described(&log);
    let rs = results(&log);
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0]["level"], "warning");
    assert_eq!(rs[0]["ruleId"], "compat/undecided");
    let (uri, _) = region(&rs[0]["locations"][0]);
    assert!(uri.ends_with("new.schema.json"), "{uri}");
}
