//! `contracts check-stream` and `contracts gen-stream`, run as the real binary.

use crate::util::{code, contracts, contracts_in, root, scratch_copy, stderr, stdout};
use serde_json::Value;

fn fixture(rel: &str) -> String {
    root()
        .join("fixtures/streams")
        .join(rel)
        .display()
        .to_string()
}

fn records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn streams_valid_fixture_exits_0() {
    let o = contracts(&[
        "check-stream",
        &fixture("ticket/valid-create-work-resolve-close-comment.jsonl"),
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("6 events in 1 stream(s): 6 ok, 0 violated"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn streams_violation_names_rule_place_event_and_the_earlier_event() {
    let path = fixture("ticket/invalid-reopened-after-closed.jsonl");
    let o = contracts(&["check-stream", &path]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("VIOLATION"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("[ticket.lifecycle]"), "{line}");
    assert!(line.contains(&format!("{path}:5 event ")), "{line}");
    assert!(
        line.contains(&format!("(conflicts with {path}:4 event ")),
        "{line}"
    );
}

#[test]
fn streams_pending_is_reported_apart_and_does_not_fail() {
    let o = contracts(&[
        "check-stream",
        &fixture("auditor-export/pending-request-without-completion.jsonl"),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("PENDING [export.pairing]"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("0 rule violations, 1 pending"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn streams_json_records_add_up_and_name_the_earlier_event() {
    let o = contracts(&[
        "check-stream",
        "--format",
        "json",
        &fixture("envelope/invalid-redelivery-with-other-bytes.jsonl"),
        &fixture("envelope/valid-cause-then-effect-and-redelivery.jsonl"),
    ]);
    assert_eq!(code(&o), 1);
    let recs = records(&stdout(&o));
    let events: Vec<&Value> = recs.iter().filter(|r| r["type"] == "event").collect();
    let summary = recs.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["data"]["format_version"], 1);
    assert_eq!(summary["data"]["events"], events.len());
    assert_eq!(summary["data"]["streams"], 2);
    let d = &summary["data"];
    let sum: u64 = ["ok", "violated", "duplicate", "invalid", "unreadable"]
        .iter()
        .map(|k| d[*k].as_u64().expect("count"))
        .sum();
    assert_eq!(sum, d["events"].as_u64().expect("events"));
    assert_eq!(d["duplicate"], 1, "the faithful re-delivery: {d}");
    let v = recs
        .iter()
        .find(|r| r["type"] == "violation")
        .expect("a violation");
    assert_eq!(v["data"]["rule"], "R2.redelivery-identical");
    assert_eq!(v["data"]["at"]["line"], 2);
    assert_eq!(v["data"]["earlier"]["line"], 1);
    assert_eq!(
        v["data"]["at"]["event_id"],
        v["data"]["earlier"]["event_id"]
    );
}

#[test]
fn streams_junit_has_a_case_per_rule() {
    let o = contracts(&[
        "check-stream",
        "--format",
        "junit",
        &fixture("browser-ssh/invalid-sequence-gap.jsonl"),
    ]);
    assert_eq!(code(&o), 1);
    let xml = stdout(&o);
    assert!(
        xml.contains(r#"<testcase name="ssh.command-sequence""#),
        "{xml}"
    );
    assert!(xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains(r#"<testcase name="ticket.lifecycle" classname="contracts.check_stream"/>"#),
        "{xml}"
    );
}

#[test]
fn streams_merge_joins_inputs_by_timestamp() {
    // One valid stream dealt into two files: each alone breaks the ticket lifecycle; merged by
    // timestamp it is the original stream again.
    let dir = scratch_copy();
    let text = std::fs::read_to_string(fixture(
        "ticket/valid-create-work-resolve-close-comment.jsonl",
    ))
    .expect("read");
    let (mut a, mut b) = (String::new(), String::new());
    for (i, line) in text.lines().enumerate() {
        let part = if i % 2 == 0 { &mut a } else { &mut b };
        part.push_str(line);
        part.push('\n');
    }
    std::fs::write(dir.path().join("a.jsonl"), a).expect("write");
    std::fs::write(dir.path().join("b.jsonl"), b).expect("write");
    let apart = contracts_in(dir.path(), &["check-stream", "a.jsonl", "b.jsonl"], None);
    assert_eq!(code(&apart), 1, "{}", stdout(&apart));
    let merged = contracts_in(
        dir.path(),
        &["check-stream", "--merge", "a.jsonl", "b.jsonl"],
        None,
    );
    assert_eq!(code(&merged), 0, "{}", stdout(&merged));
    assert!(
        stdout(&merged).contains("6 events in 1 stream(s): 6 ok"),
        "{}",
        stdout(&merged)
    );
}

#[test]
fn streams_bad_lines_get_a_verdict_and_io_errors_exit_2() {
    let dir = scratch_copy();
    let good = std::fs::read_to_string(fixture(
        "auditor-export/valid-request-then-completion.jsonl",
    ))
    .expect("read");
    std::fs::write(
        dir.path().join("s.jsonl"),
        format!("{good}{{\"event_id\": \n"),
    )
    .expect("write");
    let o = contracts_in(dir.path(), &["check-stream", "s.jsonl"], None);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("UNREADABLE s.jsonl:3"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains(
            "3 events in 1 stream(s): 2 ok, 0 violated, 0 duplicate, 0 invalid, 1 unreadable"
        ),
        "{}",
        stdout(&o)
    );
    let missing = contracts_in(dir.path(), &["check-stream", "nope.jsonl"], None);
    assert_eq!(code(&missing), 2);
    assert!(
        stderr(&missing).contains("nope.jsonl"),
        "{}",
        stderr(&missing)
    );
    let window = contracts_in(
        dir.path(),
        &["check-stream", "--window", "1w", "s.jsonl"],
        None,
    );
    assert_eq!(code(&window), 2, "{}", stderr(&window));
}

#[test]
fn streams_check_fails_on_a_rule_naming_an_unknown_type_or_field() {
    let dir = scratch_copy();
    let path = dir.path().join("specs/events/rules/ticket.rules.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let broken = text
        .replacen(
            "\"type\": \"ticket.assigned\"",
            "\"type\": \"ticket.reassigned\"",
            1,
        )
        .replacen(
            "\"key\": \"/payload/ticket_id\"",
            "\"key\": \"/payload/ticket_number\"",
            1,
        );
    assert_ne!(broken, text);
    std::fs::write(&path, broken).expect("write");
    let o = contracts_in(dir.path(), &["check"], None);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL [stream-rules]"), "{out}");
    assert!(
        out.contains("specs/events/rules/ticket.rules.json /rules/0 (ticket.lifecycle)"),
        "{out}"
    );
    assert!(
        out.contains("unknown event type ticket.reassigned"),
        "{out}"
    );
    assert!(
        out.contains("ticket.created has no field /payload/ticket_number"),
        "{out}"
    );
    // check-stream refuses to judge with such rules: exit 2, not a verdict.
    let s = contracts_in(dir.path(), &["check-stream", "-"], Some(b""));
    assert_eq!(code(&s), 2, "{}", stderr(&s));
}

#[test]
fn streams_gen_is_deterministic_valid_and_its_mutant_fails_the_aimed_rule() {
    let dir = scratch_copy();
    let args = [
        "gen-stream",
        "--family",
        "ticket-delivery",
        "--keys",
        "2",
        "--length",
        "30",
        "--seed",
        "5",
    ];
    let a = contracts_in(dir.path(), &args, None);
    let b = contracts_in(dir.path(), &args, None);
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    std::fs::write(dir.path().join("v.jsonl"), &a.stdout).expect("write");
    let v = contracts_in(dir.path(), &["check-stream", "v.jsonl"], None);
    assert_eq!(code(&v), 0, "{}", stdout(&v));
    let mut inv_args = args.to_vec();
    inv_args.push("--invalid");
    let m = contracts_in(dir.path(), &inv_args, None);
    assert_eq!(code(&m), 0, "{}", stderr(&m));
    let err = stderr(&m);
    let aimed = err
        .split("aimed at rule ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no aimed rule on stderr: {err}"))
        .to_owned();
    std::fs::write(dir.path().join("m.jsonl"), &m.stdout).expect("write");
    let j = contracts_in(
        dir.path(),
        &["check-stream", "--format", "json", "m.jsonl"],
        None,
    );
    assert_eq!(code(&j), 1, "{}", stdout(&j));
    let violated: std::collections::BTreeSet<String> = records(&stdout(&j))
        .iter()
        .filter(|r| r["type"] == "violation")
        .map(|r| r["data"]["rule"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(violated, std::collections::BTreeSet::from([aimed]));
    let unknown = contracts_in(dir.path(), &["gen-stream", "--family", "tickets"], None);
    assert_eq!(code(&unknown), 2);
    assert!(
        stderr(&unknown).contains("one of: "),
        "{}",
        stderr(&unknown)
    );
}
