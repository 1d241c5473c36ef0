//! Broker benchmarks and the 10^6-event conformance run, against a real `nats-server` from PATH
//! started on a free loopback port with its own store (stopped on exit, whatever happens), and
//! the release `contracts` binary next to this one (`cargo build --release -p contracts-cli -p
//! contracts-bench --bin broker-bench`). docs/broker.md has the figures and the commands.
//!
//! - `broker-bench throughput [EVENTS] [RUNS]`: on one stream of EVENTS valid events (from
//!   `contracts gen` over every event type), RUNS alternating rounds of: the publish gate against
//!   plain JetStream publishing of the same messages (same `Nats-Msg-Id`, same ack batching), then
//!   a plain pull consumer that only acks against `contracts monitor` with 1 worker (human and
//!   JSON output) and with 2 worker processes on one durable. Prints medians and per-round ratios.
//! - `broker-bench million [EVENTS] [DIR]`: EVENTS mixed events (1 in 100 a `--invalid` mutant)
//!   through publish gate -> stream -> two monitors on one durable; the gate's rejects are then
//!   published without the gate (a producer that skips validation) so the monitors see them.
//!   Checks: every stored message judged, none counted twice, every violator dead-lettered with
//!   its violations, and the monitors' invalid set equal to the gate's rejects.

use async_nats::jetstream::{self, consumer, stream};
use contracts_bench::rng::Rng;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Messages per pull request: the monitor's default, so both consumers pay the same round trips.
const PULL_BATCH: usize = 256;
/// Publish acks awaited per batch: the publish gate's.
const ACK_BATCH: usize = 1024;
const SUBJECTS: &str = "oneprotect.events.>";
const DEAD_LETTER: &str = "oneprotect.dead-letter";

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| {
        args.get(i).map_or(Ok(d), |s| {
            s.parse().map_err(|_| format!("not a number: {s}"))
        })
    };
    let result = match args.first().map(String::as_str) {
        Some("throughput") => {
            num(1, 200_000).and_then(|n| num(2, 5).and_then(|r| throughput(n, r)))
        }
        Some("million") => num(1, 1_000_000).and_then(|n| {
            million(
                n,
                &args.get(2).map_or_else(
                    || std::env::temp_dir().join("broker-million"),
                    PathBuf::from,
                ),
            )
        }),
        _ => Err("usage: broker-bench throughput [EVENTS] [RUNS] | million [EVENTS] [DIR]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "broker-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A nats-server with JetStream on a free loopback port, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(store: &Path) -> Res<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new("nats-server")
            .args([
                "--jetstream",
                "--addr",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .arg("--store_dir")
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nats-server (apt-get install nats-server): {e}"))?;
        let server = Server {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        };
        let until = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > until {
                return Err("nats-server did not open its port".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed on drop unless it was waited for.
struct Kid(Option<Child>);

impl Kid {
    fn wait(&mut self) -> Res<i32> {
        let mut c = self.0.take().ok_or("already waited")?;
        let status = c.wait().map_err(|e| e.to_string())?;
        status.code().ok_or_else(|| "killed by a signal".to_owned())
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn contracts_bin() -> Res<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.with_file_name("contracts");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} missing: cargo build --release -p contracts-cli",
            bin.display()
        ))
    }
}

fn contracts(args: &[&str]) -> Command {
    let mut c = Command::new(contracts_bin().unwrap_or_else(|_| PathBuf::from("contracts")));
    c.args(args).current_dir(contracts_bench::root());
    c
}

/// Start a monitor writing its stdout to `out`; returns once it said `ready`.
fn monitor(url: &str, stream: &str, durable: &str, extra: &[&str], out: &Path) -> Res<Kid> {
    let mut args = vec![
        "monitor",
        "--server",
        url,
        "--stream",
        stream,
        "--durable",
        durable,
    ];
    args.extend_from_slice(extra);
    let file = std::fs::File::create(out).map_err(|e| e.to_string())?;
    let mut child = contracts(&args)
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let err = child.stderr.take().ok_or("no stderr")?;
    let kid = Kid(Some(child));
    let mut lines = BufReader::new(err).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l == "ready" => break,
            Some(Ok(l)) => say(&format!("monitor: {l}")),
            _ => return Err("monitor ended before `ready`".into()),
        }
    }
    // Keep draining stderr so the monitor never blocks on it.
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            say(&format!("monitor: {l}"));
        }
    });
    Ok(kid)
}

/// `per_type` events of every event type from `contracts gen` (valid, or `--invalid` mutants),
/// seeds distinct per type so that no two events share an `event_id`. Two `gen` processes run
/// at a time (one per core); the output keeps the order of `per_type`.
fn generate(per_type: &[(String, usize)], seed: u64, invalid: bool) -> Res<Vec<String>> {
    let one = |i: usize, t: &str, n: usize| -> Res<Vec<String>> {
        let (n, s) = (n.to_string(), (seed + i as u64).to_string());
        let mut args = vec!["gen", "--event-type", t, "--count", &n, "--seed", &s];
        if invalid {
            args.push("--invalid");
        }
        let o = contracts(&args).output().map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(format!("gen {t}: {}", String::from_utf8_lossy(&o.stderr)));
        }
        Ok(String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect())
    };
    let jobs: Vec<(usize, &str, usize)> = per_type
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(i, (t, n))| (i, t.as_str(), *n))
        .collect();
    let mut parts: Vec<Res<(usize, Vec<String>)>> = std::thread::scope(|sc| {
        let halves: Vec<_> = [0, 1]
            .into_iter()
            .map(|h| {
                let mine: Vec<_> = jobs.iter().skip(h).step_by(2).copied().collect();
                sc.spawn(move || {
                    mine.into_iter()
                        .map(|(i, t, n)| one(i, t, n).map(|l| (i, l)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    parts.sort_by_key(|p| p.as_ref().map_or(0, |(i, _)| *i));
    let mut out = Vec::new();
    for p in parts {
        out.extend(p?.1);
    }
    Ok(out)
}

/// `total` spread evenly over the event types of the registry.
fn spread(total: usize) -> Res<Vec<(String, usize)>> {
    let registry = contracts_bench::registry().map_err(|e| e.to_string())?;
    let mut types: Vec<String> = registry
        .contracts()
        .iter()
        .map(|c| c.event_type.clone())
        .collect();
    types.sort();
    types.dedup();
    let k = types.len();
    Ok(types
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, total / k + usize::from(i < total % k)))
        .collect())
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

fn runtime() -> Res<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

async fn context(url: &str) -> Res<jetstream::Context> {
    let client = async_nats::connect(url).await.map_err(|e| e.to_string())?;
    Ok(jetstream::new(client))
}

async fn fresh_stream(js: &jetstream::Context, name: &str, subjects: &[&str]) -> Res<()> {
    let _ = js.delete_stream(name).await;
    js.create_stream(stream::Config {
        name: name.to_owned(),
        subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Every message of `name`: (subject, payload, headers).
async fn read_stream(
    js: &jetstream::Context,
    name: &str,
) -> Res<Vec<jetstream::message::StreamMessage>> {
    let mut s = js.get_stream(name).await.map_err(|e| e.to_string())?;
    let last = s
        .info()
        .await
        .map_err(|e| e.to_string())?
        .state
        .last_sequence;
    let mut out = Vec::with_capacity(usize::try_from(last).unwrap_or(0));
    for seq in 1..=last {
        out.push(s.get_raw_message(seq).await.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Plain JetStream publishing: the same messages and `Nats-Msg-Id`s as the gate, no validation.
async fn plain_publish(js: &jetstream::Context, msgs: &[(String, String, Vec<u8>)]) -> Res<f64> {
    let start = Instant::now();
    let mut acks = Vec::with_capacity(ACK_BATCH);
    for (subject, id, payload) in msgs {
        let m = jetstream::message::PublishMessage::build()
            .payload(payload.clone().into())
            .message_id(id);
        acks.push(
            js.send_publish(subject.clone(), m)
                .await
                .map_err(|e| e.to_string())?,
        );
        if acks.len() >= ACK_BATCH {
            for a in acks.drain(..) {
                a.await.map_err(|e| e.to_string())?;
            }
        }
    }
    for a in acks {
        a.await.map_err(|e| e.to_string())?;
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(msgs.len() as f64 / start.elapsed().as_secs_f64())
}

/// A pull consumer that only acks: the monitor's pull loop without judging or recording.
async fn plain_consume(js: &jetstream::Context, stream: &str, durable: &str, n: u64) -> Res<f64> {
    let s = js.get_stream(stream).await.map_err(|e| e.to_string())?;
    let c: consumer::PullConsumer = s
        .get_or_create_consumer(
            durable,
            consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut first = None;
    let mut acked = 0u64;
    while acked < n {
        let mut batch = c
            .batch()
            .max_messages(PULL_BATCH)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut msgs = Vec::with_capacity(PULL_BATCH);
        while let Some(m) = batch.next().await {
            msgs.push(m.map_err(|e| e.to_string())?);
        }
        if !msgs.is_empty() {
            first.get_or_insert_with(Instant::now);
        }
        for m in &msgs {
            m.ack().await.map_err(|e| e.to_string())?;
            acked += 1;
        }
    }
    let _ = s.delete_consumer(durable).await;
    let secs = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
    #[allow(clippy::cast_precision_loss)]
    Ok(n as f64 / secs)
}

fn summary_of(path: &Path) -> Res<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "summary")
        .map(|v| v["data"].clone())
        .ok_or_else(|| format!("no summary in {}", path.display()))
}

fn human_rate(path: &Path) -> Res<f64> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix("rate: "))
        .and_then(|r| r.trim_end_matches(" msgs/s").parse().ok())
        .ok_or_else(|| format!("no rate line in {}", path.display()))
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn throughput(events: usize, runs: usize) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("broker-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let server = Server::start(&dir.join("store"))?;
    let url = server.url.clone();
    say(&format!("generating {events} valid events over every type"));
    let mut lines = generate(&spread(events)?, 9_000, false)?;
    shuffle(&mut lines, &mut Rng::new(contracts_bench::SEED));
    let file = dir.join("events.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    let rt = runtime()?;
    let js = rt.block_on(context(&url))?;
    let n = events as u64;
    let mut rows: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut ratios: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut stored: Vec<(String, String, Vec<u8>)> = Vec::new();
    for round in 0..runs {
        say(&format!("round {}/{runs}: publishing", round + 1));
        rt.block_on(fresh_stream(&js, "BENCH", &[SUBJECTS]))?;
        let file_arg = file.display().to_string();
        let o = contracts(&["publish", "--server", &url, "--format", "json", &file_arg])
            .output()
            .map_err(|e| e.to_string())?;
        let s: Value = String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or("no publish summary")?;
        if s["data"]["published"] != n {
            return Err(format!("publish gate: {s}"));
        }
        #[allow(clippy::cast_precision_loss)]
        let gate = n as f64 / s["data"]["seconds"].as_f64().ok_or("seconds")?;
        if stored.is_empty() {
            stored = rt
                .block_on(read_stream(&js, "BENCH"))?
                .into_iter()
                .map(|m| {
                    let id = m
                        .headers
                        .get(async_nats::header::NATS_MESSAGE_ID)
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default();
                    (m.subject.to_string(), id, m.payload.to_vec())
                })
                .collect();
        }
        rt.block_on(fresh_stream(&js, "BENCH", &[SUBJECTS]))?;
        let plain = rt.block_on(plain_publish(&js, &stored))?;
        rows.entry("publish: gate").or_default().push(gate);
        rows.entry("publish: plain").or_default().push(plain);
        ratios
            .entry("gate / plain publish")
            .or_default()
            .push(gate / plain);

        say(&format!("round {}/{runs}: consuming", round + 1));
        let plain_c = rt.block_on(plain_consume(&js, "BENCH", &format!("plain-{round}"), n))?;
        let cnt = n.to_string();
        let out1 = dir.join("m1.out");
        let d1 = format!("one-{round}");
        let mut m = monitor(&url, "BENCH", &d1, &["--count", &cnt], &out1)?;
        m.wait()?;
        let one = human_rate(&out1)?;
        let out1j = dir.join("m1.jsonl");
        let d1j = format!("onej-{round}");
        let mut m = monitor(
            &url,
            "BENCH",
            &d1j,
            &["--count", &cnt, "--format", "json"],
            &out1j,
        )?;
        m.wait()?;
        let one_json = summary_of(&out1j)?["msgs_per_s"].as_f64().ok_or("rate")?;
        let d2 = format!("two-{round}");
        let (oa, ob) = (dir.join("m2a.jsonl"), dir.join("m2b.jsonl"));
        let two_args = ["--drain", "--idle", "0s", "--format", "json"];
        let mut a = monitor(&url, "BENCH", &d2, &two_args, &oa)?;
        let mut b = monitor(&url, "BENCH", &d2, &two_args, &ob)?;
        a.wait()?;
        b.wait()?;
        let (sa, sb) = (summary_of(&oa)?, summary_of(&ob)?);
        let judged = sa["judged"].as_u64().unwrap_or(0) + sb["judged"].as_u64().unwrap_or(0);
        if judged != n {
            return Err(format!("two workers judged {judged} of {n}"));
        }
        let ms = |s: &Value, k: &str| s[k].as_u64().unwrap_or(0);
        let first = ms(&sa, "first_message_unix_ms").min(ms(&sb, "first_message_unix_ms"));
        let last = ms(&sa, "last_message_unix_ms").max(ms(&sb, "last_message_unix_ms"));
        #[allow(clippy::cast_precision_loss)]
        let two = n as f64 * 1000.0 / (last.saturating_sub(first).max(1)) as f64;
        for d in [&d1, &d1j, &d2] {
            let _ = rt.block_on(async {
                let s = js.get_stream("BENCH").await.map_err(|e| e.to_string())?;
                s.delete_consumer(d).await.map_err(|e| e.to_string())
            });
        }
        rows.entry("consume: plain ack-only")
            .or_default()
            .push(plain_c);
        rows.entry("consume: monitor 1 worker (human)")
            .or_default()
            .push(one);
        rows.entry("consume: monitor 1 worker (json)")
            .or_default()
            .push(one_json);
        rows.entry("consume: monitor 2 workers (json)")
            .or_default()
            .push(two);
        ratios
            .entry("monitor 1 worker (human) / plain")
            .or_default()
            .push(one / plain_c);
        ratios
            .entry("monitor 2 workers / 1 worker (json)")
            .or_default()
            .push(two / one_json);
    }
    println_table(events, runs, &rows, &ratios);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[allow(clippy::print_stdout)] // the bench's report
fn println_table(
    events: usize,
    runs: usize,
    rows: &BTreeMap<&str, Vec<f64>>,
    ratios: &BTreeMap<&str, Vec<f64>>,
) {
    println!("{events} events, {runs} rounds; msgs/s median [min, max]");
    println!("| what | msgs/s median | min | max |");
    println!("|---|---|---|---|");
    for (k, v) in rows {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        println!("| {k} | {:.0} | {min:.0} | {max:.0} |", median(v));
    }
    println!("| ratio (per round) | median | min | max |");
    println!("|---|---|---|---|");
    for (k, v) in ratios {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        println!("| {k} | {:.3} | {min:.3} | {max:.3} |", median(v));
    }
}

fn million(events: usize, dir: &Path) -> Res<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let invalid_n = events / 100;
    let valid_n = events - invalid_n;
    let t0 = Instant::now();
    say(&format!(
        "generating {valid_n} valid + {invalid_n} invalid events"
    ));
    let mut valid = generate(&spread(valid_n)?, 10_000, false)?;
    let invalid = generate(&spread(invalid_n)?, 20_000, true)?;
    let mut rng = Rng::new(contracts_bench::SEED);
    shuffle(&mut valid, &mut rng);
    // One invalid event among every 100, at seeded positions.
    let mut mixed = Vec::with_capacity(events);
    let mut bad = invalid.iter();
    for (i, v) in valid.iter().enumerate() {
        if i % 99 == rng.below(99)
            && let Some(b) = bad.next()
        {
            mixed.push(b.clone());
        }
        mixed.push(v.clone());
    }
    mixed.extend(bad.cloned());
    let file = dir.join("mixed.jsonl");
    std::fs::write(&file, mixed.join("\n") + "\n").map_err(|e| e.to_string())?;
    say(&format!(
        "generated {} lines in {:.0} s",
        mixed.len(),
        t0.elapsed().as_secs_f64()
    ));

    let server = Server::start(&dir.join("store"))?;
    let url = server.url.clone();
    let common = [
        "--dead-letter",
        DEAD_LETTER,
        "--drain",
        "--idle",
        "5s",
        "--format",
        "json",
        "--ack-wait",
        "30s",
    ];
    let (oa, ob) = (dir.join("monitor-a.jsonl"), dir.join("monitor-b.jsonl"));
    let t1 = Instant::now();
    let mut a = monitor(&url, "EV", "million", &common, &oa)?;
    let mut b = monitor(&url, "EV", "million", &common, &ob)?;
    let rejects = dir.join("rejects.jsonl");
    let (f, r) = (file.display().to_string(), rejects.display().to_string());
    let o = contracts(&[
        "publish",
        "--server",
        &url,
        "--format",
        "json",
        "--rejects",
        &r,
        &f,
    ])
    .output()
    .map_err(|e| e.to_string())?;
    let gate: Value = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("publish: {}", String::from_utf8_lossy(&o.stderr)))?;
    say(&format!(
        "publish gate (exit {:?}): {}",
        o.status.code(),
        gate["data"]
    ));
    // The rejects, published as a producer without the gate would.
    let reject_recs: Vec<Value> = std::fs::read_to_string(&rejects)
        .map_err(|e| e.to_string())?
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let rt = runtime()?;
    let js = rt.block_on(context(&url))?;
    rt.block_on(async {
        // Acks awaited in batches: the client holds at most a few thousand in flight.
        let mut acks = Vec::with_capacity(ACK_BATCH);
        for r in &reject_recs {
            let line =
                usize::try_from(r["line"].as_u64().ok_or("line")?).map_err(|e| e.to_string())?;
            let subject = r["subject"]
                .as_str()
                .unwrap_or("oneprotect.events.unrouted")
                .to_owned();
            let payload = mixed[line - 1].clone().into_bytes();
            acks.push(
                js.publish(subject, payload.into())
                    .await
                    .map_err(|e| e.to_string())?,
            );
            if acks.len() >= ACK_BATCH {
                for a in acks.drain(..) {
                    a.await.map_err(|e| e.to_string())?;
                }
            }
        }
        for a in acks {
            a.await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    })?;
    let code_a = a.wait()?;
    let code_b = b.wait()?;
    let wall = t1.elapsed().as_secs_f64();
    say(&format!(
        "monitors exited {code_a} and {code_b} after {wall:.0} s"
    ));

    // The referee: what the server stored, against what the monitors recorded.
    let stored_n = rt.block_on(async {
        let mut s = js.get_stream("EV").await.map_err(|e| e.to_string())?;
        Ok::<_, String>(s.info().await.map_err(|e| e.to_string())?.state.messages)
    })?;
    let mut judged: HashMap<u64, (bool, Option<String>)> = HashMap::new();
    let mut records = 0u64;
    let mut repeats = 0u64;
    let mut unexplained = 0u64;
    for p in [&oa, &ob] {
        let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["type"] != "verdict" {
                continue;
            }
            let d = &v["data"];
            records += 1;
            let seq = d["stream_sequence"].as_u64().ok_or("stream_sequence")?;
            let bad = d["status"] != "valid";
            let id = d["event_id"].as_str().map(str::to_owned);
            if judged.insert(seq, (bad, id)).is_some() {
                repeats += 1;
                if d["delivered"].as_i64().unwrap_or(0) < 2 && d["duplicate"] != true {
                    unexplained += 1;
                }
            }
        }
    }
    let lost = (1..=stored_n).filter(|s| !judged.contains_key(s)).count();
    let invalid_seqs: HashSet<u64> = judged
        .iter()
        .filter(|(_, v)| v.0)
        .map(|(k, _)| *k)
        .collect();
    let dead = rt.block_on(read_stream(&js, "EV_DEAD_LETTER"))?;
    let mut dead_seqs = HashSet::new();
    let mut without_reason = 0;
    for m in &dead {
        let src = m
            .headers
            .get("Contracts-Source")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        let seq: u64 = src
            .rsplit(':')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        dead_seqs.insert(seq);
        let reasons = m
            .headers
            .get("Contracts-Violations")
            .and_then(|v| serde_json::from_str::<Value>(v.as_str()).ok());
        if reasons.is_none_or(|r| r.as_array().is_none_or(Vec::is_empty)) {
            without_reason += 1;
        }
    }
    let gate_rejected: HashSet<String> = reject_recs
        .iter()
        .filter_map(|r| r["event_id"].as_str().map(str::to_owned))
        .collect();
    let monitor_invalid: HashSet<String> = judged
        .values()
        .filter(|v| v.0)
        .filter_map(|v| v.1.clone())
        .collect();
    let (sa, sb) = (summary_of(&oa)?, summary_of(&ob)?);
    let report = serde_json::json!({
        "events": mixed.len(),
        "gate": gate["data"],
        "stored_in_stream": stored_n,
        "verdict_records": records,
        "distinct_messages_judged": judged.len(),
        "lost": lost,
        "judged_again_after_redelivery": repeats,
        "judged_again_without_redelivery": unexplained,
        "judged_invalid": invalid_seqs.len(),
        "dead_letters": dead.len(),
        "dead_letters_matching_invalid": dead_seqs.intersection(&invalid_seqs).count(),
        "dead_letters_without_reason": without_reason,
        "gate_rejects_equal_monitor_invalid_by_event_id": gate_rejected == monitor_invalid,
        "monitor_a": {"judged": sa["judged"], "msgs_per_s": sa["msgs_per_s"], "redelivered": sa["redelivered"]},
        "monitor_b": {"judged": sb["judged"], "msgs_per_s": sb["msgs_per_s"], "redelivered": sb["redelivered"]},
        "wall_seconds_monitors": wall,
    });
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    }
    let ok = lost == 0
        && unexplained == 0
        && judged.len() as u64 == stored_n
        && dead.len() == invalid_seqs.len()
        && dead_seqs == invalid_seqs
        && without_reason == 0
        && gate_rejected == monitor_invalid;
    drop(server);
    if ok {
        Ok(())
    } else {
        Err("the million run failed a check (see the report)".into())
    }
}
