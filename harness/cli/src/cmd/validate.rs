//! `contracts validate`: judge every event of JSON or JSON Lines inputs.
//!
//! Streams in constant memory and uses every core while keeping input order:
//! - one reader thread cuts the input into batches of bounded lines ([`BATCH_EVENTS`] events or
//!   [`BATCH_BYTES`] bytes, whichever comes first);
//! - `--jobs` worker threads judge a batch each and render its output lines;
//! - this thread writes rendered batches strictly in sequence order.
//!
//! Memory bound: the reader needs a credit per batch and a credit comes back only once a batch is
//! written, so at most [`window`] batches exist at any time, however slow stdout or one batch is.
//! Invariants: every line gets exactly one verdict, and the summary's counts add up to the lines.

use crate::cmd::common::{Format, OutputFormat, SpecsArgs, emit};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::input::{Events, Framing, InputError, Item};
use contracts_core::{Registry, Status, Verdict, Violation};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Events per batch: ~1,000 events of ~600 bytes is ~5 ms of judging, long enough that handing
/// batches between threads costs nothing measurable, short enough to balance two cores.
const BATCH_EVENTS: usize = 1024;
/// Bytes per batch, so that a file of large events still moves in ~1 MiB steps (one event longer
/// than this is a batch of its own, up to `input::MAX_EVENT_BYTES`).
const BATCH_BYTES: usize = 1 << 20;

/// The most `--jobs` accepted: past a few threads per core, more only add hand-over cost, and
/// each thread holds batches of up to [`BATCH_BYTES`] (a million threads took 86 s on 88 lines).
const MAX_JOBS: usize = 256;

/// Batches alive at once (being read, queued, judged or awaiting their turn to be written):
/// two per worker keeps every worker fed while one batch is written.
fn window(jobs: usize) -> usize {
    2 * jobs + 2
}

/// Validate events against the contracts.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// Threads judging events, 1 to 256 (default: every core, at most 256). Output order is
    /// input order whatever this is.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_JOBS as u64))]
    jobs: Option<u64>,
    /// Print events per second to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Judge every event on the reference path (serde_json + jsonschema), not the fast path.
    #[arg(long)]
    reference: bool,
    /// How inputs are cut into events: `jsonl` one event per line; `json` one document per
    /// file (an array is one event per element); `auto` `.json` files as documents, every other
    /// file and stdin as JSON Lines.
    #[arg(long, value_enum, default_value_t = InputFraming::Auto)]
    input: InputFraming,
    /// Files of JSON Lines or one JSON document (an event or an array of events); `-` is stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    files: Vec<PathBuf>,
}

/// `--input`: the framing of every input, or chosen per file by its name. Never by content: a
/// truncated first line must not turn JSON Lines into one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InputFraming {
    /// `.json` files are documents; everything else, stdin included, is JSON Lines.
    Auto,
    /// JSON Lines: one event per line.
    Jsonl,
    /// One JSON document per file: an event, or an array of events.
    Json,
}

impl InputFraming {
    fn of(self, name: &str) -> Framing {
        match self {
            InputFraming::Jsonl => Framing::Lines,
            InputFraming::Json => Framing::Document,
            InputFraming::Auto if name != "-" && name.ends_with(".json") => Framing::Document,
            InputFraming::Auto => Framing::Lines,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    valid: u64,
    invalid: u64,
    unreadable: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.valid += other.valid;
        self.invalid += other.invalid;
        self.unreadable += other.unreadable;
    }

    fn total(self) -> u64 {
        self.valid + self.invalid + self.unreadable
    }
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut registry = args.specs.load()?;
    if args.reference {
        registry.set_fast_path(false);
    }
    let Some(format) = args.format.plain() else {
        return crate::report::run::validate(&registry, &args.specs.specs, &args.files, out);
    };
    let cores = || std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args
        .jobs
        .map_or_else(cores, |j| usize::try_from(j).unwrap_or(1))
        .clamp(1, MAX_JOBS);
    let start = Instant::now();
    let mut counts = Counts::default();
    let mut empty = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let framing = args.input.of(&name);
        let reader: Box<dyn BufRead + Send> = if name == "-" {
            Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
        } else {
            let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, f))
        };
        let size = std::fs::metadata(file)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let progress = crate::progress::Progress::reading(&name, size);
        let reader = progress.wrap(reader);
        let events = Events::with_framing(reader, framing);
        let file_counts = if jobs == 1 {
            judge_serial(&registry, events, &name, format, out)?
        } else {
            judge_parallel(&registry, events, &name, jobs, format, out)?
        };
        match file_counts {
            Some(c) => counts.add(c),
            // Reported, and the other inputs are still judged; the exit code says so at the end.
            None => {
                let _ = writeln!(std::io::stderr(), "{name}: {}", InputError::Empty);
                empty.push(name);
            }
        }
    }
    let total = counts.total();
    match format {
        Format::Human => emit(
            out,
            &format!(
                "{total} events: {} valid, {} invalid, {} unreadable",
                counts.valid, counts.invalid, counts.unreadable
            ),
        )?,
        Format::Json => emit(
            out,
            &crate::cmd::common::summary(serde_json::json!({"events": total,
                "valid": counts.valid,
                "invalid": counts.invalid,
                "unreadable": counts.unreadable,
            })),
        )?,
    }
    if args.stats {
        let secs = start.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let rate = total as f64 / secs.max(1e-9);
        let _ = writeln!(
            std::io::stderr(),
            "stats: {total} events in {secs:.3} s = {rate:.0} events/s on {jobs} thread(s)"
        );
    }
    if !empty.is_empty() {
        return Err(CliError::Input(format!(
            "{} of {} inputs held no events: {}",
            empty.len(),
            args.files.len(),
            empty.join(", ")
        )));
    }
    Ok(Outcome::violated_if(counts.invalid + counts.unreadable > 0))
}

/// Reads batches off one input; `Ok(None)` at the end.
struct Batcher<R: BufRead> {
    events: Events<R>,
    name: String,
    /// The input held no events at all ([`InputError::Empty`]).
    empty: bool,
}

impl<R: BufRead> Batcher<R> {
    fn new(events: Events<R>, name: &str) -> Self {
        Batcher {
            events,
            name: name.to_owned(),
            empty: false,
        }
    }

    fn next_batch(&mut self) -> Result<Option<Vec<Item>>, CliError> {
        let mut batch = Vec::with_capacity(BATCH_EVENTS);
        let mut bytes = 0;
        while batch.len() < BATCH_EVENTS && bytes < BATCH_BYTES {
            match self.events.next_item() {
                Ok(Some(item)) => {
                    bytes += item.bytes.as_ref().map_or(0, Vec::len);
                    batch.push(item);
                }
                Ok(None) => break,
                Err(InputError::Empty) => {
                    self.empty = true;
                    break;
                }
                Err(InputError::Io(e)) => return Err(CliError::io(&self.name, e)),
                Err(e) => return Err(CliError::Input(format!("{}: {e}", self.name))),
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// The events of one input; `None` for an input with no events at all.
type Input = Events<Box<dyn BufRead + Send>>;

/// One thread does everything: no hand-over cost when only one core is wanted.
fn judge_serial(
    registry: &Registry,
    events: Input,
    name: &str,
    format: Format,
    out: &mut dyn Write,
) -> Result<Option<Counts>, CliError> {
    let mut batcher = Batcher::new(events, name);
    let mut counts = Counts::default();
    let mut text = Vec::new();
    while let Some(batch) = batcher.next_batch()? {
        text.clear();
        counts.add(judge_batch(registry, &batch, name, format, &mut text)?);
        out.write_all(&text)
            .map_err(|e| CliError::io("stdout", e))?;
    }
    Ok((!batcher.empty).then_some(counts))
}

/// A judged batch: its rendered output and its counts, tagged with its place in the input.
type Judged = (u64, Result<(Vec<u8>, Counts), CliError>);

fn judge_parallel(
    registry: &Registry,
    events: Input,
    name: &str,
    jobs: usize,
    format: Format,
    out: &mut dyn Write,
) -> Result<Option<Counts>, CliError> {
    let window = window(jobs);
    let (credit_tx, credit_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        // Cannot fail: the channel holds exactly `window` credits and its receiver is alive.
        let _ = credit_tx.send(());
    }
    let (work_tx, work_rx) = sync_channel::<(u64, Vec<Item>)>(window);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Judged>(window);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_batches(events, name, &credit_rx, &work_tx));
        for _ in 0..jobs {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || worker(registry, name, format, &work_rx, &done_tx));
        }
        drop(done_tx);
        // Writing drops `done_rx` and `credit_tx` when it returns, early or not: the reader and
        // the workers then see closed channels and stop, so the scope always ends.
        let written = write_in_order(done_rx, credit_tx, out);
        let read = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // A write error (e.g. a closed stdout) is the first cause; a read error comes next.
        let counts = written?;
        let empty = read?;
        Ok((!empty).then_some(counts))
    })
}

/// Feeds batches to the workers; `Ok(true)` when the input held no events at all.
fn read_batches(
    events: Input,
    name: &str,
    credits: &Receiver<()>,
    work: &SyncSender<(u64, Vec<Item>)>,
) -> Result<bool, CliError> {
    let mut batcher = Batcher::new(events, name);
    let mut seq = 0;
    loop {
        if credits.recv().is_err() {
            return Ok(false); // the writer stopped: nothing more is wanted
        }
        let Some(batch) = batcher.next_batch()? else {
            return Ok(batcher.empty);
        };
        if work.send((seq, batch)).is_err() {
            return Ok(false);
        }
        seq += 1;
    }
}

fn worker(
    registry: &Registry,
    name: &str,
    format: Format,
    work: &Mutex<Receiver<(u64, Vec<Item>)>>,
    done: &SyncSender<Judged>,
) {
    loop {
        let next = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return, // another worker panicked; the scope re-raises it
        };
        let Ok((seq, batch)) = next else {
            return;
        };
        let mut text = Vec::with_capacity(if format == Format::Json {
            batch.len() * 200
        } else {
            0
        });
        let judged = judge_batch(registry, &batch, name, format, &mut text).map(|c| (text, c));
        drop(batch); // free the input before waiting on the writer
        if done.send((seq, judged)).is_err() {
            return;
        }
    }
}

/// Write judged batches in sequence order, returning one credit per batch written.
fn write_in_order(
    done: Receiver<Judged>,
    credits: SyncSender<()>,
    out: &mut dyn Write,
) -> Result<Counts, CliError> {
    let mut counts = Counts::default();
    let mut next = 0;
    let mut waiting: BTreeMap<u64, Result<(Vec<u8>, Counts), CliError>> = BTreeMap::new();
    for (seq, judged) in done {
        waiting.insert(seq, judged);
        while let Some(judged) = waiting.remove(&next) {
            let (text, c) = judged?;
            out.write_all(&text)
                .map_err(|e| CliError::io("stdout", e))?;
            counts.add(c);
            next += 1;
            // The reader may be gone (end of input); a lost credit is then harmless.
            let _ = credits.send(());
        }
    }
    Ok(counts)
}

fn judge_batch(
    registry: &Registry,
    batch: &[Item],
    name: &str,
    format: Format,
    text: &mut Vec<u8>,
) -> Result<Counts, CliError> {
    let mut counts = Counts::default();
    for item in batch {
        let verdict = match &item.bytes {
            Ok(bytes) => registry.validate_bytes(bytes),
            Err(why) => Verdict::unreadable(why.clone()),
        };
        match verdict.status {
            Status::Valid => counts.valid += 1,
            Status::Invalid => counts.invalid += 1,
            Status::Unreadable => counts.unreadable += 1,
        }
        render(name, item, &verdict, format, text)?;
    }
    Ok(counts)
}

/// The `data` of one JSON `verdict` record: the verdict's fields, then where the event was.
#[derive(Serialize)]
struct VerdictData<'a> {
    status: Status,
    event_type: Option<&'a str>,
    event_id: Option<&'a str>,
    violations: &'a [Violation],
    file: &'a str,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

#[derive(Serialize)]
struct VerdictRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: VerdictData<'a>,
}

fn position(name: &str, item: &Item) -> String {
    match item.index {
        Some(i) => format!("{name}:{}[{i}]", item.line),
        None => format!("{name}:{}", item.line),
    }
}

fn render(
    name: &str,
    item: &Item,
    verdict: &Verdict,
    format: Format,
    out: &mut Vec<u8>,
) -> Result<(), CliError> {
    match format {
        Format::Human => {
            if verdict.is_valid() {
                return Ok(());
            }
            let what = match (&verdict.event_type, &verdict.event_id) {
                (Some(t), Some(id)) => format!(" {t} {id}"),
                (Some(t), None) => format!(" {t}"),
                _ => String::new(),
            };
            let status = match verdict.status {
                Status::Unreadable => "unreadable",
                _ => "invalid",
            };
            emit(out, &format!("{}: {status}{what}", position(name, item)))?;
            for v in &verdict.violations {
                let at = if v.instance_path.is_empty() {
                    "/"
                } else {
                    &v.instance_path
                };
                let schema = if v.schema_path.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", v.schema_path)
                };
                emit(
                    out,
                    &format!("  - {} at {at}: {}{schema}", v.keyword, v.message),
                )?;
            }
            Ok(())
        }
        Format::Json => {
            let rec = VerdictRecord {
                kind: "verdict",
                data: VerdictData {
                    status: verdict.status,
                    event_type: verdict.event_type.as_deref(),
                    event_id: verdict.event_id.as_deref(),
                    violations: &verdict.violations,
                    file: name,
                    line: item.line,
                    index: item.index,
                },
            };
            serde_json::to_writer(&mut *out, &rec).map_err(|e| CliError::Input(e.to_string()))?;
            out.push(b'\n');
            Ok(())
        }
    }
}
