//! `contracts publish`: the publish gate. Every event is judged on the hot path first; only a
//! valid one is published, to its event type's AsyncAPI channel, with `Nats-Msg-Id` = `event_id`
//! so that JetStream drops a re-published event within the stream's duplicate window (catalogue
//! R2).
//!
//! Invariants: no invalid or unreadable event is ever sent; every event read ends as exactly one
//! of published or rejected (`events = published + rejected`), and every published one has a
//! server ack before the command exits 0 or 1. Acks are awaited in batches of [`ACK_BATCH`], and
//! the client itself blocks when that many are outstanding, so memory stays bounded however
//! large the input. A publish whose ack fails is sent again (same `Nats-Msg-Id`, so the stream
//! keeps one copy) up to [`PUBLISH_TRIES`] times; after that the command stops with exit 2.

use crate::broker::channels::Channels;
use crate::broker::nats;
use crate::cmd::common::{Format, SpecsArgs, emit, summary};
use crate::error::CliError;
use crate::exit::Outcome;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use contracts_core::input::{Events, InputError, Item};
use contracts_core::{Status, Verdict, Violation};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Publishes in flight before their acks are awaited: enough to keep the server busy over
/// loopback (one ack round trip per batch, not per event), small enough to hold in memory.
const ACK_BATCH: usize = 1024;
/// Attempts per event before a failed publish stops the command.
const PUBLISH_TRIES: u32 = 5;
/// Wait before the n-th retry: n times this.
const RETRY_STEP: Duration = Duration::from_millis(250);

/// Validate events and publish the valid ones to NATS JetStream.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// The NATS server.
    #[arg(long, value_name = "URL", default_value = nats::DEFAULT_SERVER)]
    server: String,
    /// The AsyncAPI document mapping event types to subjects (default: <specs>/events/asyncapi.yaml).
    #[arg(long, value_name = "FILE")]
    asyncapi: Option<PathBuf>,
    /// Publish every event to this subject instead of its event type's channel.
    #[arg(long, value_name = "S")]
    subject: Option<String>,
    /// Write each rejected event (file, line, event_id, violations) here as JSON Lines, not to stderr.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Files of JSON Lines or one JSON document (an event or an array of events); `-` is stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    files: Vec<PathBuf>,
}

/// What happened to the events read.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Valid events sent to the broker.
    published: u64,
    /// Invalid or unreadable events, never sent.
    rejected: u64,
    /// Server acks received (equals `published` on success).
    acks: u64,
    /// Acks saying the stream already held this `Nats-Msg-Id`.
    duplicates: u64,
    /// Publishes sent again after a failed ack.
    retries: u64,
}

/// One rejected event, as written to `--rejects` (JSON Lines).
#[derive(Serialize)]
struct Reject<'a> {
    file: &'a str,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    status: Status,
    event_type: Option<&'a str>,
    event_id: Option<&'a str>,
    /// The channel the event would have gone to, when its type has one.
    subject: Option<&'a str>,
    violations: &'a [Violation],
}

/// A publish awaiting its ack, with what is needed to send it again.
struct InFlight {
    ack: PublishAckFuture,
    subject: String,
    event_id: String,
    payload: Bytes,
    at: String,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let asyncapi = args
        .asyncapi
        .clone()
        .unwrap_or_else(|| args.specs.specs.join("events/asyncapi.yaml"));
    let channels = Channels::load(&asyncapi)?;
    let mut rejects: Box<dyn Write> = match &args.rejects {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| CliError::io(path.display().to_string(), e))?,
        )),
        None => Box::new(std::io::stderr()),
    };
    let rt = nats::runtime()?;
    let start = Instant::now();
    let counts = rt.block_on(async {
        let client = nats::connect(&args.server).await?;
        let js = nats::jetstream(client, ACK_BATCH);
        let mut gate = Gate {
            js: &js,
            registry: &registry,
            channels: &channels,
            subject: args.subject.as_deref(),
            rejects_json: args.rejects.is_some(),
            rejects: &mut *rejects,
            counts: Counts::default(),
            inflight: Vec::with_capacity(ACK_BATCH),
        };
        for file in &args.files {
            gate.file(file).await?;
        }
        gate.settle().await?;
        Ok::<_, CliError>(gate.counts)
    })?;
    let rejects_name = args
        .rejects
        .as_ref()
        .map_or_else(|| "stderr".to_owned(), |p| p.display().to_string());
    rejects
        .flush()
        .map_err(|e| CliError::io(&rejects_name, e))?;
    let secs = start.elapsed().as_secs_f64();
    let events = counts.published + counts.rejected;
    match args.format {
        Format::Human => emit(
            out,
            &format!(
                "{events} events: {} published ({} acks, {} duplicates, {} retries), {} rejected",
                counts.published, counts.acks, counts.duplicates, counts.retries, counts.rejected
            ),
        )?,
        Format::Json => emit(
            out,
            &summary(serde_json::json!({
                "events": events,
                "published": counts.published,
                "rejected": counts.rejected,
                "acks": counts.acks,
                "duplicates": counts.duplicates,
                "retries": counts.retries,
                "seconds": secs,
            })),
        )?,
    }
    Ok(Outcome::violated_if(counts.rejected > 0))
}

struct Gate<'a> {
    js: &'a async_nats::jetstream::Context,
    registry: &'a contracts_core::Registry,
    channels: &'a Channels,
    subject: Option<&'a str>,
    rejects_json: bool,
    rejects: &'a mut dyn Write,
    counts: Counts,
    inflight: Vec<InFlight>,
}

impl Gate<'_> {
    async fn file(&mut self, file: &PathBuf) -> Result<(), CliError> {
        let name = file.display().to_string();
        let reader: Box<dyn BufRead> = if name == "-" {
            Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
        } else {
            let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, f))
        };
        let mut events = Events::new(reader);
        loop {
            let item = match events.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => return Ok(()),
                Err(InputError::Io(e)) => return Err(CliError::io(&name, e)),
                Err(e) => return Err(CliError::Input(format!("{name}: {e}"))),
            };
            self.event(&name, item).await?;
        }
    }

    async fn event(&mut self, name: &str, item: Item) -> Result<(), CliError> {
        let (verdict, bytes) = match item.bytes {
            Ok(bytes) => (self.registry.validate_bytes(&bytes), bytes),
            Err(why) => (Verdict::unreadable(why), Vec::new()),
        };
        let channel = verdict
            .event_type
            .as_deref()
            .and_then(|t| self.channels.subject(t));
        let target = self.subject.or(channel);
        let (Status::Valid, Some(subject), Some(event_id)) =
            (verdict.status, target, verdict.event_id.as_deref())
        else {
            let mut verdict = verdict.clone();
            if verdict.is_valid() {
                // Valid, but no channel for its type: the AsyncAPI document lacks it.
                verdict.status = Status::Invalid;
                verdict.violations.push(Violation {
                    keyword: "no_channel".to_owned(),
                    instance_path: "/event_type".to_owned(),
                    schema_path: String::new(),
                    message: "no AsyncAPI channel carries this event type".to_owned(),
                });
            }
            return self.reject(name, item.line, item.index, &verdict, channel);
        };
        let payload = Bytes::from(bytes);
        let at = format!("{name}:{}", item.line);
        let ack = self.send(subject, event_id, payload.clone(), &at).await?;
        self.counts.published += 1;
        self.inflight.push(InFlight {
            ack,
            subject: subject.to_owned(),
            event_id: event_id.to_owned(),
            payload,
            at,
        });
        if self.inflight.len() >= ACK_BATCH {
            self.settle().await?;
        }
        Ok(())
    }

    async fn send(
        &self,
        subject: &str,
        event_id: &str,
        payload: Bytes,
        at: &str,
    ) -> Result<PublishAckFuture, CliError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let msg = PublishMessage::build()
                .payload(payload.clone())
                .message_id(event_id);
            match self.js.send_publish(subject.to_owned(), msg).await {
                Ok(ack) => return Ok(ack),
                Err(e) if tries >= PUBLISH_TRIES => {
                    return Err(CliError::Input(format!(
                        "{at}: event {event_id}: cannot publish to {subject} after {tries} tries: {e}"
                    )));
                }
                Err(_) => tokio::time::sleep(RETRY_STEP * tries).await,
            }
        }
    }

    /// Await every outstanding ack, re-sending those that failed.
    async fn settle(&mut self) -> Result<(), CliError> {
        for f in std::mem::take(&mut self.inflight) {
            let mut ack = f.ack;
            let mut tries = 1;
            loop {
                match ack.await {
                    Ok(a) => {
                        self.counts.acks += 1;
                        if a.duplicate {
                            self.counts.duplicates += 1;
                        }
                        break;
                    }
                    Err(e) if tries >= PUBLISH_TRIES => {
                        return Err(CliError::Input(format!(
                            "{}: event {}: no ack from {} after {tries} tries: {e} (is a stream capturing it? `contracts monitor` creates one)",
                            f.at, f.event_id, f.subject
                        )));
                    }
                    Err(_) => {
                        tokio::time::sleep(RETRY_STEP * tries).await;
                        tries += 1;
                        self.counts.retries += 1;
                        ack = self
                            .send(&f.subject, &f.event_id, f.payload.clone(), &f.at)
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    fn reject(
        &mut self,
        name: &str,
        line: u64,
        index: Option<usize>,
        verdict: &Verdict,
        channel: Option<&str>,
    ) -> Result<(), CliError> {
        self.counts.rejected += 1;
        let written = if self.rejects_json {
            let rec = Reject {
                file: name,
                line,
                index,
                status: verdict.status,
                event_type: verdict.event_type.as_deref(),
                event_id: verdict.event_id.as_deref(),
                subject: channel,
                violations: &verdict.violations,
            };
            serde_json::to_writer(&mut *self.rejects, &rec)
                .map_err(std::io::Error::other)
                .and_then(|()| self.rejects.write_all(b"\n"))
        } else {
            let what = [verdict.event_type.as_deref(), verdict.event_id.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let at = match index {
                Some(i) => format!("{name}:{line}[{i}]"),
                None => format!("{name}:{line}"),
            };
            let mut text = format!("{at}: rejected {what}\n");
            for v in &verdict.violations {
                let path = if v.instance_path.is_empty() {
                    "/"
                } else {
                    &v.instance_path
                };
                text.push_str(&format!("  - {} at {path}: {}\n", v.keyword, v.message));
            }
            self.rejects.write_all(text.as_bytes())
        };
        written.map_err(|e| CliError::io("rejects", e))
    }
}
