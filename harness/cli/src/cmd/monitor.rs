//! `contracts monitor`: the live conformance monitor. Binds (creating when missing) a JetStream
//! stream and a durable pull consumer, judges every message it is given (envelope, payload, and
//! the subject against the event type's AsyncAPI channel), dead-letters violators with their
//! violations in headers, and reports rate, violations and consumer lag.
//!
//! At-least-once honesty, per fetched batch: judge every message; write its verdict record and
//! flush stdout (the verdict is recorded); publish the violators to the dead-letter subject and
//! await the server's acks; only then ack the batch. A monitor killed at any point therefore
//! leaves every unacked message to be redelivered (after `--ack-wait`) to whichever process holds
//! the durable next, and a message can be judged twice but never zero times. Within one process
//! a redelivered message it already judged (same stream sequence) is counted as a duplicate,
//! not judged again in the totals; across processes, verdict records carry `event_id`,
//! `stream_sequence` and `delivered` so that the union de-duplicates exactly. Dead letters carry
//! `Nats-Msg-Id` = `<stream>:<sequence>`, so a re-judged violator is stored once.
//!
//! Several processes on one `--durable` share the stream: JetStream hands each stored message to
//! one of them at a time.

use crate::broker::channels::Channels;
use crate::broker::judge::{Judge, NoRules};
use crate::broker::nats::{self, header};
use crate::cmd::common::{SpecsArgs, emit, junit_failure, summary, write_junit};
use crate::error::CliError;
use crate::exit::Outcome;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use contracts_core::{Status, Verdict, Violation};
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest one pull request waits for messages: bounds how late a stop condition is seen.
const PULL_EXPIRES: Duration = Duration::from_millis(500);
/// Margin over `PULL_EXPIRES` before a pull that never ended is abandoned (a vanished server).
const PULL_GRACE: Duration = Duration::from_secs(5);
/// Pause after a failed pull before the next one (the client reconnects meanwhile).
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Dead-letter publishes tried before the monitor stops (exit 2) rather than ack a violator it
/// could not dead-letter.
const DEAD_LETTER_TRIES: u32 = 5;
/// Violations carried in the dead-letter header (the total is in another header): NATS headers
/// share the message size limit with the payload.
const DEAD_LETTER_VIOLATIONS: usize = 32;

/// Output format of `contracts monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MonitorFormat {
    /// Each violator as it is judged, then a summary.
    Human,
    /// JSON Lines: a `verdict` record per message judged, then a `summary` record.
    Json,
    /// A JUnit report at the end: one test case per event type seen.
    Junit,
}

/// Judge the messages of a JetStream stream as they flow.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// The AsyncAPI document mapping event types to subjects (default: <specs>/events/asyncapi.yaml).
    #[arg(long, value_name = "FILE")]
    asyncapi: Option<PathBuf>,
    /// The NATS server.
    #[arg(long, value_name = "URL", default_value = nats::DEFAULT_SERVER)]
    server: String,
    /// The stream to judge (created when missing, capturing --subjects).
    #[arg(long, value_name = "NAME")]
    stream: String,
    /// Subjects the stream captures when this command creates it.
    #[arg(long, value_name = "PATTERN", default_value = "oneprotect.events.>")]
    subjects: Vec<String>,
    /// The durable pull consumer; monitors sharing it share the work.
    #[arg(long, value_name = "NAME", default_value = "contracts-monitor")]
    durable: String,
    /// Stop after judging this many messages.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop after this long (`30s`, `5m`).
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Stop once the durable has delivered something and nothing is pending or awaiting ack for --idle.
    #[arg(long)]
    drain: bool,
    /// How long the durable must stay empty before --drain stops.
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration, default_value = "2s")]
    idle: Duration,
    /// Republish each violator to this subject, with its violations in headers.
    #[arg(long, value_name = "SUBJECT")]
    dead_letter: Option<String>,
    /// The stream that keeps the dead letters (created when missing; default: <STREAM>_DEAD_LETTER).
    #[arg(long, value_name = "NAME")]
    dead_letter_stream: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MonitorFormat::Human)]
    format: MonitorFormat,
    /// Print rate, counts and consumer lag on stderr this often.
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration)]
    report_every: Option<Duration>,
    /// A message not acked this long after delivery is redelivered (to any monitor on the durable).
    #[arg(long, value_name = "D", value_parser = humantime::parse_duration, default_value = "30s")]
    ack_wait: Duration,
    /// Messages asked for per pull request.
    #[arg(long, value_name = "N", default_value_t = 256)]
    batch: usize,
}

/// What one monitor process saw. Counts are of distinct messages unless said otherwise.
#[derive(Debug, Default)]
struct Tally {
    judged: u64,
    valid: u64,
    invalid: u64,
    unreadable: u64,
    /// Every delivery received, duplicates included.
    deliveries: u64,
    /// Deliveries the server marked as redeliveries (`delivered > 1`).
    redelivered: u64,
    /// Deliveries of a message this process had already judged (not counted again).
    duplicates: u64,
    /// Violators stored in the dead-letter stream by this process.
    dead_lettered: u64,
    /// Violators the dead-letter stream already held (re-judged after a redelivery).
    dead_letter_duplicates: u64,
    /// Acks the client could not send (the message is then redelivered).
    ack_errors: u64,
    /// Pull requests that failed (a lost or restarting server).
    pull_errors: u64,
    /// (event type, keyword, instance path) -> violations.
    groups: BTreeMap<(String, String, String), u64>,
    /// event type -> (judged, not valid).
    by_type: BTreeMap<String, (u64, u64)>,
    first: Option<SystemTime>,
    last: Option<SystemTime>,
    started: Option<Instant>,
}

/// Where an event type is missing (an unreadable event, or one without a string `event_type`).
const NO_TYPE: &str = "(no event_type)";

impl Tally {
    fn add(&mut self, verdict: &Verdict) {
        self.judged += 1;
        let ty = verdict.event_type.as_deref().unwrap_or(NO_TYPE);
        let entry = self.by_type.entry(ty.to_owned()).or_default();
        entry.0 += 1;
        match verdict.status {
            Status::Valid => self.valid += 1,
            Status::Invalid => self.invalid += 1,
            Status::Unreadable => self.unreadable += 1,
        }
        if verdict.is_valid() {
            return;
        }
        entry.1 += 1;
        for v in &verdict.violations {
            *self
                .groups
                .entry((ty.to_owned(), v.keyword.clone(), v.instance_path.clone()))
                .or_default() += 1;
        }
    }

    /// Messages per second between the first and the last message judged.
    fn rate(&self) -> f64 {
        let span = match (self.first, self.last) {
            (Some(a), Some(b)) => b.duration_since(a).unwrap_or_default().as_secs_f64(),
            _ => 0.0,
        };
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let n = self.deliveries as f64;
        if span > 0.0 { n / span } else { 0.0 }
    }
}

/// Consumer lag as the server reports it.
#[derive(Debug, Clone, Copy, Serialize)]
struct Lag {
    /// Stored messages not yet delivered to any worker.
    pending: u64,
    /// Delivered messages not yet acked.
    ack_pending: usize,
    /// Stream sequence of the last message delivered.
    delivered_stream_sequence: u64,
}

/// One `verdict` record.
#[derive(Serialize)]
struct Record<'a> {
    status: Status,
    event_type: Option<&'a str>,
    event_id: Option<&'a str>,
    subject: &'a str,
    stream_sequence: u64,
    delivered: i64,
    /// This process judged this stored message before (not counted again in the totals).
    duplicate: bool,
    violations: &'a [Violation],
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let asyncapi = args
        .asyncapi
        .clone()
        .unwrap_or_else(|| args.specs.specs.join("events/asyncapi.yaml"));
    let channels = Channels::load(&asyncapi)?;
    if let Some(dl) = &args.dead_letter {
        if let Some(p) = args.subjects.iter().find(|p| nats::subject_matches(p, dl)) {
            return Err(CliError::Usage(format!(
                "--dead-letter {dl} is captured by the monitored subjects ({p}): violators would be judged again"
            )));
        }
    }
    if args.batch == 0 {
        return Err(CliError::Usage("--batch must be at least 1".to_owned()));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&stop);
    // Ctrl-C ends the run at the next batch boundary, and the summary is still printed.
    let _ = ctrlc::set_handler(move || set.store(true, Ordering::SeqCst));
    let rt = nats::runtime()?;
    let (tally, lag) = rt.block_on(async {
        let client = nats::connect(&args.server).await?;
        let js = nats::jetstream(client, 4 * args.batch.max(64));
        let stream = nats::bind_stream(&js, &args.stream, &args.subjects).await?;
        let consumer = nats::bind_consumer(&stream, &args.durable, args.ack_wait).await?;
        if let Some(dl) = &args.dead_letter {
            let name = args
                .dead_letter_stream
                .clone()
                .unwrap_or_else(|| format!("{}_DEAD_LETTER", args.stream));
            nats::bind_stream(&js, &name, std::slice::from_ref(dl)).await?;
        }
        // The contract with scripts and tests: once this line is out, publishing is safe.
        writeln!(std::io::stderr(), "ready").map_err(|e| CliError::io("stderr", e))?;
        let mut judge = Judge::new(&registry, &channels, Box::new(NoRules));
        let mut run = Run {
            args,
            js: &js,
            consumer,
            out,
            tally: Tally::default(),
            seen: HashSet::new(),
            stop: &stop,
        };
        run.main_loop(&mut judge).await?;
        let lag = lag(&mut run.consumer).await;
        Ok::<_, CliError>((run.tally, lag))
    })?;
    report(args, &tally, lag, out)?;
    Ok(Outcome::violated_if(tally.invalid + tally.unreadable > 0))
}

async fn lag(consumer: &mut PullConsumer) -> Option<Lag> {
    let info = consumer.info().await.ok()?;
    Some(Lag {
        pending: info.num_pending,
        ack_pending: info.num_ack_pending,
        delivered_stream_sequence: info.delivered.stream_sequence,
    })
}

struct Run<'a> {
    args: &'a Args,
    js: &'a async_nats::jetstream::Context,
    consumer: PullConsumer,
    out: &'a mut dyn Write,
    tally: Tally,
    /// Stream sequences judged by this process.
    seen: HashSet<u64>,
    stop: &'a AtomicBool,
}

impl Run<'_> {
    async fn main_loop(&mut self, judge: &mut Judge<'_>) -> Result<(), CliError> {
        let start = Instant::now();
        self.tally.started = Some(start);
        let deadline = self.args.duration.map(|d| start + d);
        let mut empty_since: Option<Instant> = None;
        let mut next_report = self.args.report_every.map(|d| start + d);
        let mut failing = false;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let mut want = self.args.batch;
            if let Some(n) = self.args.count {
                let left = n.saturating_sub(self.tally.judged);
                if left == 0 {
                    return Ok(());
                }
                want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
            }
            let mut expires = PULL_EXPIRES;
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                expires = expires.min(left).max(Duration::from_millis(10));
            }
            if let (Some(at), Some(every)) = (next_report, self.args.report_every) {
                if Instant::now() >= at {
                    self.progress().await;
                    next_report = Some(at + every);
                }
            }
            let msgs = match pull(&self.consumer, want, expires).await {
                Ok(msgs) => {
                    if failing {
                        failing = false;
                        let _ = writeln!(std::io::stderr(), "monitor: pulling again");
                    }
                    msgs
                }
                Err(e) => {
                    self.tally.pull_errors += 1;
                    if !failing {
                        failing = true;
                        let _ = writeln!(std::io::stderr(), "monitor: pull failed ({e}); retrying");
                    }
                    empty_since = None;
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            if msgs.is_empty() {
                if self.args.drain && self.drained().await {
                    let since = *empty_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.args.idle {
                        return Ok(());
                    }
                } else {
                    empty_since = None;
                }
                continue;
            }
            empty_since = None;
            self.batch(judge, msgs).await?;
        }
    }

    /// Whether the durable has delivered something and holds nothing pending or unacked (an
    /// unanswered question counts as not drained).
    async fn drained(&mut self) -> bool {
        lag(&mut self.consumer).await.is_some_and(|l| {
            l.delivered_stream_sequence > 0 && l.pending == 0 && l.ack_pending == 0
        })
    }

    /// Judge, record, dead-letter, then ack one pulled batch (in that order: see the module docs).
    async fn batch(
        &mut self,
        judge: &mut Judge<'_>,
        msgs: Vec<async_nats::jetstream::Message>,
    ) -> Result<(), CliError> {
        let now = SystemTime::now();
        self.tally.first.get_or_insert(now);
        let mut text = Vec::with_capacity(if self.args.format == MonitorFormat::Json {
            msgs.len() * 256
        } else {
            0
        });
        let mut dead = Vec::new();
        for msg in &msgs {
            let (stream_seq, delivered) = match msg.info() {
                Ok(i) => (i.stream_sequence, i.delivered),
                // A JetStream delivery always has a parsable reply subject; without one, the
                // message cannot be acked either: judge it, and let the server redeliver it.
                Err(_) => (0, 0),
            };
            self.tally.deliveries += 1;
            if delivered > 1 {
                self.tally.redelivered += 1;
            }
            let duplicate = !self.seen.insert(stream_seq);
            let subject = msg.subject.as_str();
            let verdict = judge.judge(subject, &msg.payload);
            if duplicate {
                self.tally.duplicates += 1;
            } else {
                self.tally.add(&verdict);
            }
            self.render(
                &mut text, subject, stream_seq, delivered, duplicate, &verdict,
            )?;
            if !verdict.is_valid() {
                if let Some(dl) = &self.args.dead_letter {
                    let ack = self.dead_letter(dl, msg, stream_seq, &verdict).await?;
                    dead.push((ack, dl.as_str(), msg, stream_seq, verdict));
                }
            }
        }
        self.out
            .write_all(&text)
            .and_then(|()| self.out.flush())
            .map_err(|e| CliError::io("stdout", e))?;
        for (ack, dl, msg, seq, verdict) in dead {
            self.settle_dead_letter(ack, dl, msg, seq, &verdict).await?;
        }
        for msg in &msgs {
            if msg.ack().await.is_err() {
                self.tally.ack_errors += 1;
            }
        }
        self.tally.last = Some(SystemTime::now());
        Ok(())
    }

    fn render(
        &self,
        text: &mut Vec<u8>,
        subject: &str,
        stream_sequence: u64,
        delivered: i64,
        duplicate: bool,
        verdict: &Verdict,
    ) -> Result<(), CliError> {
        match self.args.format {
            MonitorFormat::Json => {
                let rec = serde_json::json!({"type": "verdict", "data": Record {
                    status: verdict.status,
                    event_type: verdict.event_type.as_deref(),
                    event_id: verdict.event_id.as_deref(),
                    subject,
                    stream_sequence,
                    delivered,
                    duplicate,
                    violations: &verdict.violations,
                }});
                serde_json::to_writer(&mut *text, &rec)
                    .map_err(|e| CliError::Input(e.to_string()))?;
                text.push(b'\n');
            }
            MonitorFormat::Human if !verdict.is_valid() && !duplicate => {
                let what = [verdict.event_type.as_deref(), verdict.event_id.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let status = if verdict.status == Status::Unreadable {
                    "unreadable"
                } else {
                    "invalid"
                };
                emit(
                    text,
                    &format!("{subject} #{stream_sequence}: {status} {what}"),
                )?;
                for v in &verdict.violations {
                    let at = if v.instance_path.is_empty() {
                        "/"
                    } else {
                        &v.instance_path
                    };
                    emit(text, &format!("  - {} at {at}: {}", v.keyword, v.message))?;
                }
            }
            MonitorFormat::Human | MonitorFormat::Junit => {}
        }
        Ok(())
    }

    /// Publish a violator to the dead-letter subject: the event unchanged, the verdict in headers.
    async fn dead_letter(
        &self,
        subject: &str,
        msg: &async_nats::jetstream::Message,
        stream_seq: u64,
        verdict: &Verdict,
    ) -> Result<PublishAckFuture, CliError> {
        let mut headers = async_nats::HeaderMap::new();
        let status = if verdict.status == Status::Unreadable {
            "unreadable"
        } else {
            "invalid"
        };
        headers.insert(header::VERDICT, status);
        if let Some(t) = &verdict.event_type {
            headers.insert(header::EVENT_TYPE, header_value(t).as_str());
        }
        if let Some(id) = &verdict.event_id {
            headers.insert(header::EVENT_ID, header_value(id).as_str());
        }
        headers.insert(header::SOURCE_SUBJECT, msg.subject.as_str());
        let source = format!("{}:{stream_seq}", self.args.stream);
        headers.insert(header::SOURCE, source.as_str());
        let shown = &verdict.violations[..verdict.violations.len().min(DEAD_LETTER_VIOLATIONS)];
        // serde_json escapes control characters, so the value holds no CR or LF.
        let json = serde_json::to_string(shown).map_err(|e| CliError::Input(e.to_string()))?;
        headers.insert(header::VIOLATIONS, json.as_str());
        headers.insert(
            header::VIOLATIONS_TOTAL,
            verdict.violations.len().to_string().as_str(),
        );
        let publish = PublishMessage::build()
            .payload(msg.payload.clone())
            .headers(headers)
            .message_id(&source);
        let mut tries = 0;
        loop {
            tries += 1;
            match self
                .js
                .send_publish(subject.to_owned(), publish.clone())
                .await
            {
                Ok(ack) => return Ok(ack),
                Err(e) if tries >= DEAD_LETTER_TRIES => {
                    return Err(CliError::Input(format!(
                        "cannot dead-letter {source} to {subject} after {tries} tries: {e}"
                    )));
                }
                Err(_) => tokio::time::sleep(RETRY_PAUSE * tries).await,
            }
        }
    }

    async fn settle_dead_letter(
        &mut self,
        mut ack: PublishAckFuture,
        subject: &str,
        msg: &async_nats::jetstream::Message,
        stream_seq: u64,
        verdict: &Verdict,
    ) -> Result<(), CliError> {
        let mut tries = 1;
        loop {
            match ack.await {
                Ok(a) if a.duplicate => {
                    self.tally.dead_letter_duplicates += 1;
                    return Ok(());
                }
                Ok(_) => {
                    self.tally.dead_lettered += 1;
                    return Ok(());
                }
                Err(e) if tries >= DEAD_LETTER_TRIES => {
                    return Err(CliError::Input(format!(
                        "no ack for the dead letter of {}:{stream_seq} on {subject} after {tries} tries: {e}",
                        self.args.stream
                    )));
                }
                Err(_) => {
                    tries += 1;
                    tokio::time::sleep(RETRY_PAUSE * tries).await;
                    ack = self.dead_letter(subject, msg, stream_seq, verdict).await?;
                }
            }
        }
    }

    async fn progress(&mut self) {
        let lag = lag(&mut self.consumer).await;
        let t = &self.tally;
        let lag = lag.map_or_else(
            || "lag unknown".to_owned(),
            |l| format!("lag {} pending, {} awaiting ack", l.pending, l.ack_pending),
        );
        let _ = writeln!(
            std::io::stderr(),
            "monitor: {} judged ({} invalid, {} unreadable), {:.0} msgs/s, {lag}",
            t.judged,
            t.invalid,
            t.unreadable,
            t.rate()
        );
    }
}

/// A header value: NATS header values end at CR or LF, so those become spaces.
fn header_value(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// One pull request: up to `n` messages, waiting at most `expires` for them.
async fn pull(
    consumer: &PullConsumer,
    n: usize,
    expires: Duration,
) -> Result<Vec<async_nats::jetstream::Message>, String> {
    let pulled = async {
        let mut batch = consumer
            .batch()
            .max_messages(n)
            .expires(expires)
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut msgs = Vec::with_capacity(n);
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => msgs.push(m),
                // What came before the error is delivered and judged; the rest is redelivered.
                Err(e) if msgs.is_empty() => return Err(e.to_string()),
                Err(_) => break,
            }
        }
        Ok(msgs)
    };
    tokio::time::timeout(expires + PULL_GRACE, pulled)
        .await
        .map_err(|_| "no answer to a pull request".to_owned())?
}

fn unix_ms(t: Option<SystemTime>) -> Option<u128> {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
}

fn report(args: &Args, t: &Tally, lag: Option<Lag>, out: &mut dyn Write) -> Result<(), CliError> {
    let secs = t.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let groups: Vec<_> = t
        .groups
        .iter()
        .map(|((ty, kw, path), n)| {
            serde_json::json!({"event_type": ty, "keyword": kw, "instance_path": path, "count": n})
        })
        .collect();
    match args.format {
        MonitorFormat::Json => emit(
            out,
            &summary(serde_json::json!({
                "stream": args.stream,
                "durable": args.durable,
                "judged": t.judged,
                "valid": t.valid,
                "invalid": t.invalid,
                "unreadable": t.unreadable,
                "deliveries": t.deliveries,
                "redelivered": t.redelivered,
                "duplicates": t.duplicates,
                "dead_lettered": t.dead_lettered,
                "dead_letter_duplicates": t.dead_letter_duplicates,
                "ack_errors": t.ack_errors,
                "pull_errors": t.pull_errors,
                "seconds": secs,
                "msgs_per_s": t.rate(),
                "first_message_unix_ms": unix_ms(t.first),
                "last_message_unix_ms": unix_ms(t.last),
                "lag": lag,
                "violations": groups,
            })),
        ),
        MonitorFormat::Human => {
            emit(
                out,
                &format!(
                    "{} messages judged: {} valid, {} invalid, {} unreadable; {} deliveries ({} redelivered, {} duplicates); {} dead-lettered",
                    t.judged,
                    t.valid,
                    t.invalid,
                    t.unreadable,
                    t.deliveries,
                    t.redelivered,
                    t.duplicates,
                    t.dead_lettered
                ),
            )?;
            emit(out, &format!("rate: {:.0} msgs/s", t.rate()))?;
            emit(
                out,
                &lag.map_or_else(
                    || "consumer lag: unknown (no answer from the server)".to_owned(),
                    |l| {
                        format!(
                            "consumer lag: {} pending, {} awaiting ack",
                            l.pending, l.ack_pending
                        )
                    },
                ),
            )?;
            if !t.groups.is_empty() {
                emit(out, "violations by (event type, rule, instance path):")?;
                for ((ty, kw, path), n) in &t.groups {
                    let path = if path.is_empty() { "/" } else { path };
                    emit(out, &format!("  {n:>8}  {ty}  {kw}  {path}"))?;
                }
            }
            Ok(())
        }
        MonitorFormat::Junit => {
            let mut suite = quick_junit::TestSuite::new(format!("monitor {}", args.stream));
            for (ty, (judged, bad)) in &t.by_type {
                let status = if *bad == 0 {
                    quick_junit::TestCaseStatus::success()
                } else {
                    let lines: Vec<String> = t
                        .groups
                        .iter()
                        .filter(|((gty, _, _), _)| gty == ty)
                        .map(|((_, kw, path), n)| format!("{n} x {kw} at {path}"))
                        .collect();
                    junit_failure(
                        None,
                        format!("{bad} of {judged} messages violate the contract"),
                        lines.join("\n"),
                    )
                };
                let mut case = quick_junit::TestCase::new(ty.as_str(), status);
                case.set_classname("monitor");
                suite.add_test_case(case);
            }
            write_junit("contracts monitor", [suite], out)
        }
    }
}
