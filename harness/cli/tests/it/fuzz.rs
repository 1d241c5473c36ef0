//! Integration tests of fuzz-consumer, fuzz-processor and check-producer against the example
//! programs (examples/), over stdio and over HTTP on 127.0.0.1. Each planted bug must be found,
//! reported with its kind and shrunk; the correct programs must pass. Case counts are moderate
//! for CI; the 10,000-case runs are in docs/protocols.md.

use crate::util::{code, contracts, root, stderr, stdout};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An example binary, built beside `contracts` by `cargo test --workspace`.
fn example(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_contracts"));
    let path = dir.parent().expect("target dir").join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p contracts-examples`",
        path.display()
    );
    path.display().to_string()
}

/// A loopback HTTP server run by the test, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &str, args: &[&str]) -> Server {
        let mut child = Command::new(example(bin))
            .args(args)
            .args(["--http", "127.0.0.1:0"])
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_owned();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn records<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|r| r["type"] == kind)
        .map(|r| &r["data"])
        .collect()
}

fn fuzz(
    command: &str,
    target: &[&str],
    extra: &[&str],
    corpus: &std::path::Path,
) -> std::process::Output {
    let mut args = vec![command];
    args.extend_from_slice(target);
    args.extend_from_slice(&[
        "--format",
        "json",
        "--corpus",
        corpus.to_str().expect("utf-8"),
    ]);
    args.extend_from_slice(extra);
    contracts(&args)
}

#[test]
fn received_at_bug_is_found_and_shrunk_to_a_minimal_event() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let cmd = format!("{} --bug received-at", example("example-consumer"));
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", &cmd],
        &[
            "--event-type",
            "alert.created",
            "--cases",
            "200",
            "--seed",
            "7",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let failures = records(&lines, "failure");
    let f = failures
        .iter()
        .find(|f| f["kind"] == "accepted-invalid")
        .expect("accepted-invalid found");
    assert_eq!(f["aim"]["keyword"], "persistence_metadata");
    assert_eq!(f["aim"]["instance_path"], "/received_at");
    // The minimal event: a valid event plus that one member, and nothing can be removed from it.
    let mut event = f["event"].clone();
    assert!(
        event
            .as_object_mut()
            .expect("object")
            .shift_remove("received_at")
            .is_some()
    );
    let registry = contracts_core::Registry::load(&root().join("specs")).expect("specs");
    assert!(
        registry.validate_value(&event).is_valid(),
        "otherwise valid: {event}"
    );
    for key in event.as_object().expect("object").keys() {
        let mut smaller = event.clone();
        smaller.as_object_mut().expect("object").shift_remove(key);
        assert!(
            !registry.validate_value(&smaller).is_valid(),
            "{key} could be removed: not minimal"
        );
    }
    if let Some(payload) = event["payload"].as_object() {
        for key in payload.keys() {
            let mut smaller = event.clone();
            smaller["payload"]
                .as_object_mut()
                .expect("object")
                .shift_remove(key);
            assert!(
                !registry.validate_value(&smaller).is_valid(),
                "payload.{key} could be removed"
            );
        }
    }
    // Saved in fixture form: plain `contracts replay` passes it, and the reproduce lines name it.
    let file = f["corpus_file"].as_str().expect("saved");
    assert!(file.contains("accepted-invalid-alert.created-"), "{file}");
    let replay = contracts(&["replay", file]);
    assert_eq!(code(&replay), 0, "{}", stdout(&replay));
    assert!(
        f["reproduce"][0]
            .as_str()
            .expect("line")
            .contains("contracts replay --consumer")
    );
    let summary = records(&lines, "summary")[0];
    assert_eq!(summary["format_version"], 1);
    assert_eq!(summary["cases"], 200);
}

#[test]
fn correct_consumer_passes_over_stdio_and_http() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let cmd = example("example-consumer");
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", &cmd],
        &[
            "--event-type",
            "alert.created",
            "--event-type",
            "ticket.created",
            "--cases",
            "300",
            "--seed",
            "3",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let lines = json_lines(&stdout(&o));
    let s = records(&lines, "summary")[0];
    assert_eq!(s["cases"], 300);
    assert!(
        s["valid_cases"].as_u64() > Some(50) && s["invalid_cases"].as_u64() > Some(50),
        "{s}"
    );
    let server = Server::start("example-consumer", &[]);
    let o = fuzz(
        "fuzz-consumer",
        &["--http", &server.url],
        &[
            "--event-type",
            "alert.created",
            "--cases",
            "200",
            "--seed",
            "4",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn received_at_bug_is_found_over_http_and_reported_in_junit() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let server = Server::start("example-consumer", &["--bug", "received-at"]);
    let o = contracts(&[
        "fuzz-consumer",
        "--http",
        &server.url,
        "--event-type",
        "alert.created",
        "--cases",
        "150",
        "--seed",
        "11",
        "--format",
        "junit",
        "--corpus",
        tmp.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let xml = stdout(&o);
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit");
    let suite = &report.test_suites[0];
    assert_eq!(suite.failures, 1, "{xml}");
    assert!(
        xml.contains("accepted-invalid") && xml.contains("received_at"),
        "{xml}"
    );
}

#[test]
fn a_crashing_consumer_is_restarted_and_reported() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let cmd = format!("{} --bug long-string", example("example-consumer"));
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", &cmd],
        &[
            // A type with long redacted texts, so strings past 100 characters come up in 60 cases.
            "--event-type",
            "ticket.comment_added",
            "--cases",
            "60",
            "--seed",
            "5",
            // Every shrinking step on a crash restarts the child: bound them for CI.
            "--max-shrink-steps",
            "40",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let f = records(&lines, "failure");
    let crash = f
        .iter()
        .find(|f| f["kind"] == "crash")
        .expect("crash found");
    assert!(
        crash["finding"]["detail"]
            .as_str()
            .expect("detail")
            .contains("string buffer overflow")
    );
    let s = records(&lines, "summary")[0];
    assert!(s["starts"].as_u64() > Some(1), "restarted: {s}");
    assert_eq!(s["cases"], 60, "the run went on after the crash");
}

#[test]
fn a_hanging_consumer_times_out_within_the_budget() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let cmd = format!("{} --bug hang", example("example-consumer"));
    let start = Instant::now();
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", &cmd],
        &[
            "--event-type",
            "alert.created",
            "--cases",
            "1000",
            "--timeout-ms",
            "200",
            "--max-time",
            "3",
        ],
        tmp.path(),
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    assert!(
        records(&lines, "failure")
            .iter()
            .any(|f| f["kind"] == "timeout")
    );
    let s = records(&lines, "summary")[0];
    assert!(
        matches!(s["stop"].as_str(), Some("time_budget" | "program_broken")),
        "{s}"
    );
}

#[test]
fn a_program_that_cannot_start_is_a_usage_error() {
    let o = contracts(&[
        "fuzz-consumer",
        "--cmd",
        "/nonexistent/consumer",
        "--cases",
        "1",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot start"), "{}", stderr(&o));
}

#[test]
fn processor_bugs_are_found_over_stdio_and_http() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let base = [
        "--event-type",
        "alert.created",
        "--cases",
        "120",
        "--seed",
        "9",
    ];
    let cmd = format!("{} --bug drop-causation", example("example-ticketer"));
    let o = fuzz("fuzz-processor", &["--cmd", &cmd], &base, tmp.path());
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let f = records(&lines, "failure");
    let lineage = f
        .iter()
        .find(|f| f["kind"] == "broken-lineage")
        .expect("broken-lineage");
    assert_eq!(lineage["finding"]["instance_path"], "/causation_id");
    let server = Server::start("example-ticketer", &["--bug", "leak-tenant"]);
    let o = fuzz(
        "fuzz-processor",
        &["--http", &server.url],
        &base,
        tmp.path(),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let f = records(&lines, "failure");
    let leak = f
        .iter()
        .find(|f| f["kind"] == "tenant-crossed")
        .expect("tenant-crossed");
    assert_eq!(leak["security"], true);
    assert_eq!(
        leak["event"]["payload"]["severity"], "critical",
        "the leak needs a critical alert"
    );
    assert_eq!(records(&lines, "summary")[0]["security_failure"], true);
}

#[test]
fn correct_processor_passes() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let o = fuzz(
        "fuzz-processor",
        &["--cmd", &example("example-ticketer")],
        &[
            "--event-type",
            "alert.created",
            "--event-type",
            "ticket.created",
            "--cases",
            "200",
            "--seed",
            "2",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn check_producer_reports_invalid_events_per_type() {
    let cmd = format!(
        "{} --count 6 --bug received-at",
        example("example-producer")
    );
    let o = contracts(&["check-producer", "--cmd", &cmd, "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let s = records(&lines, "summary")[0];
    assert_eq!(
        (s["events"].as_u64(), s["invalid"].as_u64()),
        (Some(12), Some(4)),
        "{s}"
    );
    assert_eq!(s["never_emitted"].as_array().map(Vec::len), Some(51));
    let alert = records(&lines, "event_type")
        .into_iter()
        .find(|r| r["event_type"] == "alert.created")
        .expect("alert");
    assert!(alert["reasons"]["persistence_metadata at /received_at"].as_u64() > Some(0));
    let ok = contracts(&[
        "check-producer",
        "--cmd",
        &example("example-producer"),
        "--format",
        "junit",
    ]);
    assert_eq!(code(&ok), 0);
    quick_junit::Report::deserialize_from_str(&stdout(&ok)).expect("well-formed JUnit");
    let bad = contracts(&["check-producer", "--cmd", &cmd, "--format", "junit"]);
    assert_eq!(code(&bad), 1);
    let report =
        quick_junit::Report::deserialize_from_str(&stdout(&bad)).expect("well-formed JUnit");
    let cases = &report.test_suites[0].test_cases;
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| {
            matches!(&c.status, quick_junit::TestCaseStatus::NonSuccess { ty: Some(t), .. }
                if t.as_str() == "invalid-event")
        })
        .map(|c| c.name.as_str())
        .collect();
    assert!(failed.contains(&"alert.created"), "{failed:?}");
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .count();
    assert_eq!(skipped, 51, "never-emitted types are skipped cases");
}

#[test]
fn check_producer_listens_on_loopback() {
    let mut harness = Command::new(env!("CARGO_BIN_EXE_contracts"))
        .args([
            "check-producer",
            "--listen",
            "127.0.0.1:0",
            "--max-events",
            "8",
            "--max-time",
            "30",
        ])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start listener");
    let mut line = String::new();
    BufReader::new(harness.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("read");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    let producer = Command::new(example("example-producer"))
        .args(["--count", "4", "--post", &url])
        .status()
        .expect("run producer");
    assert!(producer.success());
    let out = harness.wait_with_output().expect("listener ends");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("8 events: 8 valid"), "{text}");
}

/// The kept minimal event of the received_at bug replays against the program: the buggy consumer
/// fails it again, the correct one passes it (`contracts replay --consumer`).
#[test]
fn kept_consumer_findings_replay_against_the_program() {
    let kept = "corpus/consumers/example-consumer-received-at";
    let buggy = format!("{} --bug received-at", example("example-consumer"));
    let out = contracts(&["replay", "--consumer", "--cmd", &buggy, kept]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("accepted-invalid"),
        "{}",
        stdout(&out)
    );
    let fixed = example("example-consumer");
    let out = contracts(&["replay", "--consumer", "--cmd", &fixed, kept]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

/// Live (not zombie) processes whose process group is `pgid`, from `/proc`.
#[cfg(target_os = "linux")]
fn live_members(pgid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces, so split after the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid) && fields[0] != "Z" {
            out.push(format!("{head}) {}", fields[0]));
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn a_grandchild_holding_stdout_neither_hangs_the_run_nor_survives_it() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let pids = tmp.path().join("groups");
    // The shell records its pid (= its process group: the runner starts each program as a group
    // leader), leaves a grandchild holding stdout, and exits without answering.
    let cmd = format!("sh -c 'echo $$ >> {}; sleep 3600 & exit 0'", pids.display());
    let start = Instant::now();
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", &cmd],
        &[
            "--event-type",
            "alert.created",
            "--cases",
            "40",
            "--max-shrink-steps",
            "5",
        ],
        tmp.path(),
    );
    let took = start.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    assert!(
        records(&lines, "failure")
            .iter()
            .any(|f| f["kind"] == "crash"),
        "{}",
        stdout(&o)
    );
    let groups: Vec<u32> = std::fs::read_to_string(&pids)
        .expect("the program ran")
        .lines()
        .map(|l| l.trim().parse().expect("a pid"))
        .collect();
    assert!(!groups.is_empty());
    // SIGKILL is delivered asynchronously: give the kernel a moment, then nothing may remain.
    let mut survivors = Vec::new();
    for _ in 0..50 {
        survivors = groups.iter().flat_map(|&g| live_members(g)).collect();
        if survivors.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        survivors.is_empty(),
        "{} of {} groups left processes behind: {survivors:?}",
        survivors.len(),
        groups.len()
    );
}

#[cfg(unix)]
#[test]
fn a_surplus_answer_line_is_a_protocol_error_not_the_next_events_answer() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    // Answers its first event twice, then once per event. Tolerant mode accepts every answer
    // `accept`, so the only thing wrong is the extra line.
    let cmd = r#"sh -c 'read l; printf "accept\naccept\n"; while read l; do echo accept; done'"#;
    let o = fuzz(
        "fuzz-consumer",
        &["--cmd", cmd],
        &[
            "--event-type",
            "alert.created",
            "--mode",
            "tolerant",
            "--cases",
            "20",
            "--seed",
            "3",
            "--max-shrink-steps",
            "20",
        ],
        tmp.path(),
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines = json_lines(&stdout(&o));
    let failures = records(&lines, "failure");
    let kinds: Vec<&str> = failures
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["protocol-error"], "{}", stdout(&o));
    assert!(
        failures[0]["finding"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("extra answer line")),
        "{}",
        stdout(&o)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_producer_whose_grandchild_holds_stdout_is_stopped_with_its_group() {
    let tmp = crate::util::tempfile_lite::TempDir::new();
    let pids = tmp.path().join("groups");
    let cmd = format!("sh -c 'echo $$ >> {}; sleep 3600 & exit 0'", pids.display());
    let start = Instant::now();
    let o = contracts(&["check-producer", "--cmd", &cmd, "--max-time", "2"]);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let group: u32 = std::fs::read_to_string(&pids)
        .expect("the program ran")
        .trim()
        .parse()
        .expect("a pid");
    let mut survivors = live_members(group);
    for _ in 0..50 {
        if survivors.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        survivors = live_members(group);
    }
    assert!(survivors.is_empty(), "left behind: {survivors:?}");
}
