//! Integration tests: `contracts validate` on the real binary.
//!
//! What they guard: every input line gets exactly one verdict in input order whatever `--jobs`
//! is, the summary's counts add up to the lines, hostile lines (50 MB, 100,000 levels deep) are
//! unreadable verdicts rather than crashes, and the JSON output is well formed.

use crate::util::{code, contracts, contracts_stdin, root, stderr, stdout, tempfile_lite::TempDir};
use serde_json::Value;

/// Every golden fixture as `(valid, compact event)`, skipping cross-event fixtures (their rule
/// needs other events, so one event alone cannot show it).
fn fixture_events() -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("fixtures/events"))
        .expect("fixtures/events")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixture dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let f: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read"))
                .expect("fixture parses");
            if f.get("cross_event_rule").is_some_and(|r| !r.is_null()) {
                continue;
            }
            out.push((f["valid"] == Value::Bool(true), f["event"].to_string()));
        }
    }
    out
}

/// `contracts ARGS FILE` on `input` written to a temp file. Large inputs go through a file:
/// the helper writes all of stdin before reading stdout, and a big output would fill the pipe.
fn validate_file(args: &[&str], input: &str) -> std::process::Output {
    let dir = TempDir::new();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, input).expect("write input");
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    all.push(path.to_str().expect("utf8 path"));
    contracts(&all)
}

fn a_valid_event() -> Value {
    let (_, text) = fixture_events()
        .into_iter()
        .find(|(valid, _)| *valid)
        .expect("a valid fixture");
    serde_json::from_str(&text).expect("parses")
}

/// stdout of `--format json` as records, each checked to be `{"type", "data"}`.
fn records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| {
            let r: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(
                r["type"].is_string() && r["data"].is_object(),
                "record shape: {l}"
            );
            r
        })
        .collect()
}

/// The summary record, checked to add up to the verdicts before it.
fn summary(recs: &[Value]) -> &Value {
    let (last, verdicts) = recs.split_last().expect("at least the summary");
    assert_eq!(last["type"], "summary");
    let s = &last["data"];
    assert_eq!(s["format_version"], 1);
    let n = verdicts.len() as u64;
    assert!(verdicts.iter().all(|r| r["type"] == "verdict"));
    assert_eq!(s["events"], n);
    let sum = ["valid", "invalid", "unreadable"]
        .iter()
        .map(|k| s[k].as_u64().expect("count"))
        .sum::<u64>();
    assert_eq!(sum, n, "counts add up: {s}");
    s
}

fn statuses(recs: &[Value]) -> Vec<String> {
    recs.iter()
        .filter(|r| r["type"] == "verdict")
        .map(|r| r["data"]["status"].as_str().expect("status").to_owned())
        .collect()
}

#[test]
fn golden_fixtures_get_their_declared_verdicts() {
    let events = fixture_events();
    let input: String = events.iter().map(|(_, e)| format!("{e}\n")).collect();
    let o = validate_file(&["--format", "json"], &input);
    assert_eq!(
        code(&o),
        1,
        "invalid fixtures are among them: {}",
        stderr(&o)
    );
    let recs = records(&stdout(&o));
    let s = summary(&recs);
    assert_eq!(s["events"], events.len() as u64);
    for ((valid, event), status) in events.iter().zip(statuses(&recs)) {
        let want = if *valid { "valid" } else { "invalid" };
        assert_eq!(status, want, "{event}");
    }
}

#[test]
fn received_at_is_rejected_naming_persistence_metadata() {
    let mut event = a_valid_event();
    event["payload"]["received_at"] = "2025-11-06T08:02:11.204Z".into();
    let o = contracts_stdin(&["validate"], format!("{event}\n").as_bytes());
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains("persistence_metadata at /payload/received_at"),
        "{out}"
    );
    assert!(
        out.contains("1 events: 0 valid, 1 invalid, 0 unreadable"),
        "{out}"
    );
}

#[test]
fn malformed_line_among_valid_ones_gets_its_own_verdict() {
    let good = a_valid_event().to_string();
    let input = format!("{good}\n{{\"event_type\": oops\n{good}\n");
    let o = contracts_stdin(&["validate", "--format", "json"], input.as_bytes());
    assert_eq!(code(&o), 1);
    let recs = records(&stdout(&o));
    let s = summary(&recs);
    assert_eq!(
        (s["valid"].as_u64(), s["unreadable"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(statuses(&recs), ["valid", "unreadable", "valid"]);
    assert_eq!(recs[1]["data"]["line"], 2);
    assert_eq!(recs[1]["data"]["violations"][0]["keyword"], "parse");
}

#[test]
fn empty_input_is_a_usage_error_not_a_pass() {
    for input in ["", "\n  \n"] {
        let o = contracts_stdin(&["validate"], input.as_bytes());
        assert_eq!(code(&o), 2, "{input:?}");
        assert!(stderr(&o).contains("input is empty"), "{}", stderr(&o));
    }
}

#[test]
fn line_of_50_mb_is_unreadable_and_the_next_line_still_judged() {
    let dir = TempDir::new();
    let path = dir.path().join("big.jsonl");
    let good = a_valid_event().to_string();
    let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(50 << 20));
    std::fs::write(&path, format!("{good}\n{big}\n{good}\n")).expect("write");
    let o = contracts(&[
        "validate",
        "--format",
        "json",
        path.to_str().expect("utf8 path"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let recs = records(&stdout(&o));
    summary(&recs);
    assert_eq!(statuses(&recs), ["valid", "unreadable", "valid"]);
    let why = recs[1]["data"]["violations"][0]["message"]
        .as_str()
        .expect("message");
    assert!(why.contains("longer than 16 MiB"), "{why}");
}

#[test]
fn json_nested_100000_levels_is_unreadable_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let good = a_valid_event().to_string();
    // First line deep (decides the input's format), then again among valid lines.
    let input = format!("{deep}\n{good}\n{deep_obj}\n{good}\n");
    let o = contracts_stdin(
        &["validate", "--format", "json", "--jobs", "2"],
        input.as_bytes(),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let recs = records(&stdout(&o));
    summary(&recs);
    assert_eq!(
        statuses(&recs),
        ["unreadable", "valid", "unreadable", "valid"]
    );
    let why = recs[0]["data"]["violations"][0]["message"]
        .as_str()
        .expect("message");
    assert!(why.contains("recursion limit"), "a clear reason: {why}");
}

#[test]
fn output_order_is_input_order_whatever_the_jobs() {
    // Enough lines for several batches, valid and invalid interleaved.
    let events = fixture_events();
    let mut input = String::new();
    let mut n = 0;
    while n < 3000 {
        for (_, e) in &events {
            input.push_str(e);
            input.push('\n');
            n += 1;
        }
    }
    let dir = TempDir::new();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, &input).expect("write input");
    let file = path.to_str().expect("utf8 path");
    let run = |jobs: &str| {
        let o = contracts(&["validate", "--format", "json", "--jobs", jobs, file]);
        assert_eq!(code(&o), 1);
        stdout(&o)
    };
    let one = run("1");
    let recs = records(&one);
    let s = summary(&recs);
    assert_eq!(s["events"], n as u64);
    let lines: Vec<u64> = recs[..recs.len() - 1]
        .iter()
        .map(|r| r["data"]["line"].as_u64().expect("line"))
        .collect();
    assert!(
        lines.iter().copied().eq(1..=n as u64),
        "one verdict per line, in order"
    );
    for jobs in ["2", "3"] {
        assert!(
            run(jobs) == one,
            "--jobs {jobs} output differs from --jobs 1"
        );
    }
}

#[test]
fn json_output_is_well_formed_with_positions() {
    let good = a_valid_event();
    let mut bad = good.clone();
    bad["event_id"] = "not-a-uuid".into();
    let input = format!("{good}\n{bad}\n");
    let o = contracts_stdin(&["validate", "--format", "json"], input.as_bytes());
    assert_eq!(code(&o), 1);
    let recs = records(&stdout(&o));
    summary(&recs);
    let v = &recs[1]["data"];
    assert_eq!(v["file"], "-");
    assert_eq!(v["line"], 2);
    assert_eq!(v["status"], "invalid");
    assert!(v["event_type"].is_string());
    let viol = v["violations"].as_array().expect("violations");
    assert!(
        viol.iter().any(|x| x["instance_path"] == "/event_id"),
        "{v}"
    );
    assert!(
        viol.iter()
            .all(|x| x["keyword"].is_string() && x["schema_path"].is_string())
    );
}

#[test]
fn array_document_keeps_element_indexes() {
    let good = a_valid_event();
    let input = serde_json::to_string_pretty(&serde_json::json!([good, good])).expect("json");
    let o = contracts_stdin(
        &["validate", "--format", "json", "--input", "json"],
        input.as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let recs = records(&stdout(&o));
    summary(&recs);
    assert_eq!(recs[1]["data"]["index"], 1);
}

/// `(status, line, index)` of every verdict record of `--format json` output.
fn verdicts(out: &str) -> Vec<(String, u64, Option<u64>)> {
    records(out)
        .iter()
        .filter(|r| r["type"] == "verdict")
        .map(|r| {
            let d = &r["data"];
            (
                d["status"].as_str().expect("status").to_owned(),
                d["line"].as_u64().expect("line"),
                d["index"].as_u64(),
            )
        })
        .collect()
}

/// Framing never depends on content: a truncated first line leaves every other line its own
/// verdict, in a `.jsonl` file and on stdin alike.
#[test]
fn truncated_first_line_does_not_make_one_document() {
    let good = a_valid_event().to_string();
    let mut input = String::from("{\"event_id\": \"x\",\n");
    for _ in 0..200 {
        input.push_str(&good);
        input.push('\n');
    }
    for o in [
        validate_file(&["--format", "json"], &input),
        contracts_stdin(&["validate", "--format", "json"], input.as_bytes()),
    ] {
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        let v = verdicts(&stdout(&o));
        assert_eq!(v.len(), 201);
        assert_eq!(v[0].0, "unreadable");
        assert!(v[1..].iter().all(|(s, _, _)| s == "valid"));
        assert_eq!(v[200].1, 201);
    }
}

/// An array document gets one verdict per element, the same compact and pretty-printed, and
/// `[]` is "no events" in either layout; `--input auto` reads `.json` files as documents.
#[test]
fn array_document_verdicts_do_not_depend_on_layout() {
    let good = a_valid_event();
    let mut bad = good.clone();
    bad["tenant_id"] = Value::from(1);
    let array = serde_json::json!([good, bad, good]);
    let dir = TempDir::new();
    let compact = dir.path().join("compact.json");
    let pretty = dir.path().join("pretty.json");
    std::fs::write(&compact, array.to_string()).expect("write");
    std::fs::write(&pretty, serde_json::to_string_pretty(&array).expect("json")).expect("write");
    let run = |path: &std::path::Path, framing: &str| {
        let o = contracts(&[
            "validate",
            "--format",
            "json",
            "--input",
            framing,
            path.to_str().expect("utf8"),
        ]);
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        verdicts(&stdout(&o))
            .into_iter()
            .map(|(s, _, i)| (s, i))
            .collect::<Vec<_>>()
    };
    let want: Vec<(String, Option<u64>)> = ["valid", "invalid", "valid"]
        .iter()
        .enumerate()
        .map(|(i, s)| ((*s).to_owned(), Some(i as u64)))
        .collect();
    for framing in ["auto", "json"] {
        assert_eq!(run(&compact, framing), want, "compact, --input {framing}");
        assert_eq!(run(&pretty, framing), want, "pretty, --input {framing}");
    }
    // The same pretty file read as JSON Lines: a verdict per line, none of them valid.
    let lines = run(&pretty, "jsonl");
    assert!(lines.len() > 3 && lines.iter().all(|(s, _)| s != "valid"));
    for empty in ["[]", "[\n]\n"] {
        let path = dir.path().join("empty.json");
        std::fs::write(&path, empty).expect("write");
        let o = contracts(&["validate", path.to_str().expect("utf8")]);
        assert_eq!(code(&o), 2, "{empty:?}");
        assert!(stderr(&o).contains("input is empty"), "{}", stderr(&o));
    }
}

/// An empty file among several is reported by name, and the others are still judged.
#[test]
fn empty_file_among_several_is_reported_and_the_others_judged() {
    let good = a_valid_event().to_string();
    let dir = TempDir::new();
    let a = dir.path().join("a.jsonl");
    let empty = dir.path().join("empty.jsonl");
    let b = dir.path().join("b.json");
    std::fs::write(&a, format!("{good}\n{good}\n")).expect("write");
    std::fs::write(&empty, "").expect("write");
    std::fs::write(&b, &good).expect("write");
    let o = contracts(&[
        "validate",
        "--format",
        "json",
        a.to_str().expect("utf8"),
        empty.to_str().expect("utf8"),
        b.to_str().expect("utf8"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("empty.jsonl"), "{}", stderr(&o));
    let v = verdicts(&stdout(&o));
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v.iter().all(|(s, _, _)| s == "valid"));
}

#[test]
fn stats_print_a_rate_on_stderr() {
    let o = contracts_stdin(
        &["validate", "--stats"],
        format!("{}\n", a_valid_event()).as_bytes(),
    );
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).contains("events/s"), "{}", stderr(&o));
}

/// `--jobs` is bounded: 0, 257 and `u64::MAX` are usage errors (exit 2) naming the range, and
/// the largest accepted value still judges every line.
#[test]
fn jobs_out_of_range_is_a_usage_error() {
    let event = a_valid_event().to_string();
    for jobs in ["0", "257", "1000000", "18446744073709551615"] {
        let o = contracts_stdin(&["validate", "--jobs", jobs], event.as_bytes());
        assert_eq!(code(&o), 2, "--jobs {jobs}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("1..=256"),
            "--jobs {jobs}: {}",
            stderr(&o)
        );
    }
    let o = contracts_stdin(&["validate", "--jobs", "256"], event.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("1 events: 1 valid"), "{}", stdout(&o));
}

/// A missing input file is named once, its cause once (it was printed twice).
#[test]
fn missing_file_cause_is_printed_once() {
    let o = contracts(&["validate", "/nonexistent/events.jsonl"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("/nonexistent/events.jsonl"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
