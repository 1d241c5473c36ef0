//! `contracts check`, `contracts replay` and `contracts docs` on the repository and on broken copies.

use crate::util::{code, contracts, contracts_in, root, scratch_copy, stdout};
use std::collections::BTreeSet;
use std::path::Path;

fn check_in(dir: &Path) -> (i32, String) {
    let out = contracts_in(dir, &["check"], None);
    (code(&out), stdout(&out))
}

#[test]
fn repository_passes_the_gate_and_counts_every_event_type() {
    let out = contracts(&["check"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains("53 event types"), "{text}");
    assert!(text.contains("53 AsyncAPI messages"), "{text}");
    assert!(text.contains("all passed"), "{text}");
}

#[test]
fn removing_a_fixture_folder_fails_naming_it() {
    let dir = scratch_copy();
    std::fs::remove_dir_all(dir.path().join("fixtures/events/ticket.assigned")).expect("rm");
    let (rc, text) = check_in(dir.path());
    assert_eq!(rc, 1, "{text}");
    assert!(
        text.contains("fixtures/events/ticket.assigned/ has 0 valid fixtures"),
        "{text}"
    );
}

#[test]
fn removing_an_asyncapi_message_fails_naming_it() {
    let dir = scratch_copy();
    let path = dir.path().join("specs/events/asyncapi.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    // Drop the component message of scim.user.updated (keep the channel's reference dangling).
    let start = text
        .find("    scimUserUpdated:\n      name:")
        .expect("message present");
    let end = text[start + 10..]
        .find("\n    scim")
        .map_or(text.len(), |i| start + 10 + i + 1);
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("no AsyncAPI message named scim.user.updated"),
        "{out}"
    );
}

#[test]
fn editing_the_generated_docs_by_hand_fails_naming_the_file() {
    let dir = scratch_copy();
    let path = dir.path().join("docs/events.md");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen("Initial asset state.", "Initial state.", 1),
    )
    .expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("[docs] docs/events.md: differs from what `contracts docs` generates"),
        "{out}"
    );
}

#[test]
fn a_schema_declaring_a_persistence_field_or_an_open_object_fails_the_lint() {
    let dir = scratch_copy();
    let path = dir
        .path()
        .join("specs/events/types/alert.created.v1.schema.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let payload = schema.pointer_mut("/$defs/payload").expect("payload");
    payload["properties"]["ingested_at"] =
        serde_json::json!({"description": "when stored", "type": "string", "maxLength": 30});
    payload
        .as_object_mut()
        .expect("object")
        .remove("additionalProperties");
    std::fs::write(&path, serde_json::to_string_pretty(&schema).expect("json")).expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("declares \"ingested_at\", a persistence-metadata name"),
        "{out}"
    );
    assert!(
        out.contains("without \"additionalProperties\": false"),
        "{out}"
    );
}

#[test]
fn a_remote_ref_is_refused_with_file_line_and_pointer() {
    let dir = scratch_copy();
    let path = dir
        .path()
        .join("specs/events/types/alert.created.v1.schema.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replacen(
        "\"../oneprotect.event.schema.json\"",
        "\"https://example.com/oneprotect.event.schema.json\"",
        1,
    );
    std::fs::write(&path, text).expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("specs/events/types/alert.created.v1.schema.json:"),
        "{out}"
    );
    assert!(out.contains("remote reference refused"), "{out}");
    assert!(out.contains("/allOf/0/$ref"), "{out}");
}

#[test]
fn a_ref_leaving_the_specs_tree_is_refused() {
    let dir = scratch_copy();
    let path = dir
        .path()
        .join("specs/events/types/alert.created.v1.schema.json");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen(
            "\"../oneprotect.event.schema.json\"",
            "\"../../../outside.schema.json\"",
            1,
        ),
    )
    .expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("reference leaves the specs tree"), "{out}");
}

#[test]
fn a_fixture_rejected_for_another_reason_fails_the_replay() {
    let dir = scratch_copy();
    let fixtures = dir.path().join("fixtures/events/alert.created");
    let name = std::fs::read_dir(&fixtures)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("invalid-catalog-2-6-1"))
        .or_else(|| {
            std::fs::read_dir(&fixtures)
                .expect("dir")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("invalid-"))
                })
        })
        .expect("an invalid fixture");
    let mut fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&name).expect("read")).expect("json");
    fixture["violations"] =
        serde_json::json!([{"keyword": "maxLength", "instance_path": "/payload/title"}]);
    std::fs::write(&name, serde_json::to_string_pretty(&fixture).expect("json")).expect("write");
    let out = contracts_in(dir.path(), &["replay"], None);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("rejected for another reason"), "{text}");
    assert!(
        text.contains(
            &name
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        ),
        "{text}"
    );
}

#[test]
fn replay_passes_every_fixture() {
    let out = contracts(&["replay"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
}

#[test]
fn junit_report_is_xml_with_one_case_per_event_type() {
    let out = contracts(&["check", "--format", "junit"]);
    assert_eq!(code(&out), 0);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    // Every event type appears as a test case of the fixtures and replay suites.
    for t in event_types() {
        assert!(
            xml.contains(&format!("name=\"{t}\"")),
            "no test case for {t}"
        );
    }
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
}

#[test]
fn json_report_records_are_json_with_a_versioned_summary() {
    let out = contracts(&["check", "--format", "json"]);
    assert_eq!(code(&out), 0);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["data"]["format_version"], 1);
    assert_eq!(summary["data"]["event_types"], 53);
    assert_eq!(summary["data"]["failed"], 0);
}

fn event_types() -> BTreeSet<String> {
    std::fs::read_dir(root().join("specs/events/types"))
        .expect("types dir")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".schema.json")
                .and_then(|s| s.rsplit_once(".v"))
                .map(|(t, _)| t.to_owned())
        })
        .collect()
}

/// T4 against the design catalogue: the event types in specs/ are exactly the §1 index of
/// ../shared/EVENT_CATALOG.md. The catalogue lives outside the repository; without it this test
/// says so loudly, and fails under REQUIRE_SUITE=1 (as in CI).
#[test]
fn event_types_match_the_catalogue_index() {
    let path = root().join("../shared/EVENT_CATALOG.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("REQUIRE_SUITE").as_deref() != Ok("1"),
            "REQUIRE_SUITE=1 but {} is absent",
            path.display()
        );
        eprintln!(
            "NOT RUN: {} is absent, so the catalogue index was not compared",
            path.display()
        );
        return;
    };
    let summary = text
        .split("## 1. Summary")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("catalogue has a §1 Summary");
    let mut index = BTreeSet::new();
    for row in summary.lines().filter(|l| l.starts_with("| 7.")) {
        let last = row.trim_end_matches('|').rsplit('|').next().unwrap_or("");
        for name in last.split('`').skip(1).step_by(2) {
            index.insert(name.to_owned());
        }
    }
    assert_eq!(index.len(), 53, "the catalogue's §1 names 53 event types");
    assert_eq!(
        index,
        event_types(),
        "specs/events/types/ must equal the catalogue's §1 index"
    );
}

#[test]
fn an_enum_value_no_valid_fixture_covers_fails_the_gate() {
    let dir = scratch_copy();
    // The only valid fixtures of agent.certificate.rotated using rsa_3072 go away.
    let fixtures = dir.path().join("fixtures/events/agent.certificate.rotated");
    let mut removed = 0;
    for entry in std::fs::read_dir(&fixtures)
        .expect("dir")
        .filter_map(Result::ok)
    {
        let text = std::fs::read_to_string(entry.path()).expect("read");
        if text.contains("\"valid\": true") && text.contains("rsa_3072") {
            std::fs::remove_file(entry.path()).expect("rm");
            removed += 1;
        }
    }
    assert!(
        removed > 0,
        "the repository covers rsa_3072 with a valid fixture"
    );
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("[coverage] agent.certificate.rotated: no valid fixture covers enum_value at /payload/certificate/key_algorithm \"rsa_3072\""),
        "{out}"
    );
}

#[test]
fn an_exemption_for_a_covered_item_is_stale_and_fails() {
    let dir = scratch_copy();
    let path = dir.path().join("fixtures/coverage-exemptions.json");
    let mut list: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    list.push(serde_json::json!({
        "event_type": "agent.certificate.rotated", "kind": "enum_value",
        "path": "/payload/certificate/key_algorithm", "detail": "\"ed25519\"",
        "reason": "deliberately wrong: ed25519 is covered"
    }));
    std::fs::write(&path, serde_json::to_string_pretty(&list).expect("json")).expect("write");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("stale exemption"), "{out}");
}

/// A scratch copy made into its own git repository whose first commit is the baseline.
fn scratch_repo() -> crate::util::tempfile_lite::TempDir {
    let dir = scratch_copy();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "add", "."]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "baseline",
    ]);
    let head = git(&["rev-parse", "HEAD"]);
    std::fs::write(dir.path().join("specs/BASELINE"), format!("{head}\n")).expect("write baseline");
    dir
}

#[test]
fn a_breaking_change_without_a_major_bump_fails_the_versioning_rule() {
    let dir = scratch_repo();
    let (rc, out) = check_in(dir.path());
    assert_eq!(
        rc, 0,
        "unchanged specs pass against their own baseline: {out}"
    );
    let path = dir
        .path()
        .join("specs/events/types/ticket.link_removed.v1.schema.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let payload = schema.pointer_mut("/$defs/payload").expect("payload");
    payload["properties"]["reason_code"] = serde_json::json!({"description": "why", "type": "string", "enum": ["duplicate", "mistake"]});
    payload["required"]
        .as_array_mut()
        .expect("required")
        .push("reason_code".into());
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&schema).expect("json") + "\n",
    )
    .expect("write");
    let docs = contracts_in(dir.path(), &["docs"], None);
    std::fs::write(dir.path().join("docs/events.md"), &docs.stdout).expect("write docs");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("[versioning]"), "{out}");
    assert!(out.contains("ticket.link_removed.v1.schema.json"), "{out}");
}

#[test]
fn removing_an_event_type_without_deprecation_fails_the_versioning_rule() {
    let dir = scratch_repo();
    std::fs::remove_file(
        dir.path()
            .join("specs/events/types/ticket.link_removed.v1.schema.json"),
    )
    .expect("rm");
    let (rc, out) = check_in(dir.path());
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("[versioning]"), "{out}");
    assert!(out.contains("ticket.link_removed"), "{out}");
}

#[test]
fn coverage_reports_fixtures_and_generated_events_per_type() {
    let out = contracts(&["coverage", "--format", "json", "--generated", "3"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let per_type: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["type"] == "coverage").collect();
    assert_eq!(per_type.len(), 53);
    for r in per_type {
        let d = &r["data"];
        assert!(d["covered"].as_u64() <= d["items"].as_u64(), "{d}");
        assert_eq!(d["generated"]["events"], 3, "{d}");
        assert!(
            !d["generated"]["mutation_classes"]
                .as_array()
                .expect("classes")
                .is_empty(),
            "every type admits some mutation: {d}"
        );
    }
}
