//! `contracts gen`: output judged by `boon`, a validator independent of the generator's oracle;
//! same seed, same bytes across runs; `--count` exact; exit codes and messages for bad input.

use crate::util::{code, contracts, root, stderr, stdout};
use serde_json::Value;

/// `boon` compiled for one schema file (its `$ref`s to sibling files are read from disk).
struct Referee {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Referee {
    fn for_file(path: &std::path::Path) -> Referee {
        let url = format!(
            "file://{}",
            path.canonicalize().expect("schema exists").display()
        );
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.enable_format_assertions();
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(&url, &mut schemas)
            .expect("the referee compiles the schema");
        Referee { schemas, index }
    }

    fn is_valid(&self, v: &Value) -> bool {
        self.schemas.validate(v, self.index).is_ok()
    }
}

fn event_schema(event_type: &str) -> std::path::PathBuf {
    root()
        .join("specs/events/types")
        .join(format!("{event_type}.v1.schema.json"))
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// A schema file in a fresh directory.
fn schema_file(text: &str) -> (crate::util::tempfile_lite::TempDir, String) {
    let dir = crate::util::tempfile_lite::TempDir::new();
    let path = dir.path().join("schema.json");
    std::fs::write(&path, text).expect("write schema");
    let shown = path.display().to_string();
    (dir, shown)
}

#[test]
fn valid_events_of_an_event_type_are_valid_for_an_independent_validator() {
    let o = contracts(&[
        "gen",
        "--event-type",
        "alert.created",
        "--count",
        "40",
        "--seed",
        "11",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let referee = Referee::for_file(&event_schema("alert.created"));
    let values = lines(&stdout(&o));
    assert_eq!(values.len(), 40);
    for v in &values {
        assert!(referee.is_valid(v), "boon rejects {v}");
        assert_eq!(v["event_type"], "alert.created");
    }
}

#[test]
fn invalid_annotated_events_are_rejected_and_say_how() {
    let o = contracts(&[
        "gen",
        "--event-type",
        "ticket.assigned",
        "--count",
        "40",
        "--seed",
        "2",
        "--invalid",
        "--annotate",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let referee = Referee::for_file(&event_schema("ticket.assigned"));
    let records = lines(&stdout(&o));
    assert_eq!(records.len(), 40);
    for r in &records {
        assert!(!referee.is_valid(&r["instance"]), "boon accepts {r}");
        let m = &r["mutation"];
        assert!(m["keyword"].as_str().is_some_and(|k| !k.is_empty()), "{r}");
        assert!(m["instance_path"].is_string(), "{r}");
        assert!(m["class"].is_string(), "{r}");
    }
    let plain = contracts(&[
        "gen",
        "--event-type",
        "ticket.assigned",
        "--count",
        "40",
        "--seed",
        "2",
        "--invalid",
    ]);
    let bare = lines(&stdout(&plain));
    let wrapped: Vec<Value> = records.iter().map(|r| r["instance"].clone()).collect();
    assert_eq!(bare, wrapped, "--annotate only wraps the same instances");
}

#[test]
fn valid_annotated_records_have_a_null_mutation() {
    let o = contracts(&[
        "gen",
        "--event-type",
        "alert.created",
        "--count",
        "3",
        "--annotate",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for r in lines(&stdout(&o)) {
        assert!(r["mutation"].is_null(), "{r}");
        assert!(r["instance"].is_object(), "{r}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_across_runs() {
    for extra in [&[][..], &["--invalid", "--annotate"][..]] {
        let run = |seed: &str| {
            let mut args = vec![
                "gen",
                "--event-type",
                "ticket.comment_added",
                "--count",
                "25",
                "--seed",
                seed,
            ];
            args.extend_from_slice(extra);
            let o = contracts(&args);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            o.stdout
        };
        let a = run("77");
        assert!(!a.is_empty());
        assert_eq!(a, run("77"), "same seed, different bytes ({extra:?})");
        assert_ne!(a, run("78"), "another seed, same bytes ({extra:?})");
    }
}

#[rstest::rstest]
#[case::zero(0)]
#[case::one(1)]
#[case::many(257)]
fn count_is_exact(#[case] n: usize) {
    let (_dir, schema) = schema_file(r#"{"type": "integer", "minimum": 0, "maximum": 3}"#);
    let count = n.to_string();
    for invalid in [false, true] {
        let mut args = vec!["gen", "--schema", &schema, "--count", &count];
        if invalid {
            args.push("--invalid");
        }
        let o = contracts(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // Four valid values only: duplicates are printed rather than dropped, never fewer lines.
        assert_eq!(stdout(&o).lines().count(), n, "invalid={invalid}");
    }
}

#[test]
fn a_bare_file_name_reads_from_the_current_directory() {
    let (dir, _) = schema_file(r#"{"type": "string", "minLength": 2}"#);
    let o = crate::util::contracts_in(
        dir.path(),
        &["gen", "--schema", "schema.json", "--count", "2"],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
}

#[rstest::rstest]
// What cannot be generated is exit 2 with the file and the reason; nothing on stdout.
#[case::ref_cycle(
    r##"{"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#"}}}"##,
    &["unsatisfiable schema", "cycle", "#/properties/a"]
)]
#[case::false_schema("false", &["unsatisfiable schema", "`false`"])]
#[case::huge_min_length(
    r#"{"type": "string", "minLength": 18446744073709551615}"#,
    &["gave up after", "not proven unsatisfiable", "`minLength`"]
)]
#[case::not_json("{\"type\": ", &["schema.json", "EOF"])]
fn schemas_that_cannot_be_generated_exit_2_naming_the_file_and_the_reason(
    #[case] text: &str,
    #[case] said: &[&str],
) {
    let (_dir, schema) = schema_file(text);
    let o = contracts(&["gen", "--schema", &schema, "--count", "3"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("schema.json"), "{err}");
    for s in said {
        assert!(err.contains(s), "missing {s:?} in {err}");
    }
}

#[test]
fn usage_and_lookup_errors_exit_2() {
    let none = contracts(&["gen", "--count", "1"]);
    assert_eq!(code(&none), 2, "{}", stderr(&none));
    let unknown = contracts(&["gen", "--event-type", "no.such.type"]);
    assert_eq!(code(&unknown), 2);
    assert!(
        stderr(&unknown).contains("no.such.type"),
        "{}",
        stderr(&unknown)
    );
    let missing = contracts(&["gen", "--schema", "/nonexistent/schema.json"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("/nonexistent/schema.json"));
    let bad_time = contracts(&["gen", "--event-type", "alert.created", "--max-time", "-1"]);
    assert_eq!(code(&bad_time), 2);
}

#[test]
fn the_time_budget_stops_with_a_message() {
    // A million distinct integers per instance: far beyond a 0.3 s budget.
    let (_dir, schema) = schema_file(
        r#"{"type": "array", "minItems": 1000000, "uniqueItems": true, "items": {"type": "integer"}}"#,
    );
    let start = std::time::Instant::now();
    let o = contracts(&[
        "gen",
        "--schema",
        &schema,
        "--count",
        "5",
        "--max-time",
        "0.3",
    ]);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("time budget of 0.300 s ran out"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_report_the_discard_ratios() {
    let o = contracts(&[
        "gen",
        "--event-type",
        "alert.created",
        "--count",
        "20",
        "--stats",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let field = |name: &str| -> f64 {
        err.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {err}"))
    };
    let (generated, discarded, ratio) = (
        field("generated"),
        field("discarded"),
        field("discard_ratio"),
    );
    assert!(generated >= 20.0, "{err}");
    assert!((ratio - discarded / generated).abs() < 1e-3, "{err}");
}
