//! `contracts validate`: judge every event of JSON or JSON Lines inputs.
//!
//! Streams: inputs are read one bounded line at a time and judged in batches spread over `--jobs`
//! threads; output keeps input order. Every line gets a verdict, and the summary's counts add up.

use crate::cmd::common::{Format, JSON_FORMAT_VERSION, SpecsArgs, emit, record};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::input::{Events, InputError, Item};
use contracts_core::{Registry, Status, Verdict};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

/// Events judged per batch: large enough to keep every thread busy, small enough that memory
/// stays bounded (at most BATCH lines of at most 16 MiB each, in practice a few MB).
const BATCH: usize = 4096;

/// Validate events against the contracts.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Threads judging events (default: every core). Output order is input order whatever this is.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Print events per second to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Files of JSON Lines or one JSON document (an event or an array of events); `-` is stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Default)]
struct Counts {
    valid: u64,
    invalid: u64,
    unreadable: u64,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let start = Instant::now();
    let mut counts = Counts::default();
    for file in &args.files {
        let name = file.display().to_string();
        if name == "-" {
            let stdin = std::io::stdin();
            judge_stream(&registry, stdin.lock(), &name, jobs, args.format, &mut counts, out)?;
        } else {
            let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
            let reader = std::io::BufReader::with_capacity(1 << 16, f);
            judge_stream(&registry, reader, &name, jobs, args.format, &mut counts, out)?;
        }
    }
    let total = counts.valid + counts.invalid + counts.unreadable;
    match args.format {
        Format::Human => emit(
            out,
            &format!(
                "{total} events: {} valid, {} invalid, {} unreadable",
                counts.valid, counts.invalid, counts.unreadable
            ),
        )?,
        Format::Json => emit(
            out,
            &record(
                "summary",
                serde_json::json!({
                    "format_version": JSON_FORMAT_VERSION,
                    "events": total,
                    "valid": counts.valid,
                    "invalid": counts.invalid,
                    "unreadable": counts.unreadable,
                }),
            ),
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
    Ok(Outcome::violated_if(counts.invalid + counts.unreadable > 0))
}

fn judge_stream<R: BufRead>(
    registry: &Registry,
    reader: R,
    name: &str,
    jobs: usize,
    format: Format,
    counts: &mut Counts,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut events = Events::new(reader);
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    loop {
        let next = match events.next_item() {
            Ok(item) => item,
            Err(InputError::Empty) => return Err(CliError::Input(format!("{name}: input is empty: no events to validate"))),
            Err(InputError::Io(e)) => return Err(CliError::io(name, e)),
            Err(e) => return Err(CliError::Input(format!("{name}: {e}"))),
        };
        let end = next.is_none();
        if let Some(item) = next {
            batch.push(item);
        }
        if batch.len() == BATCH || (end && !batch.is_empty()) {
            let verdicts = judge_batch(registry, &batch, jobs);
            for (item, verdict) in batch.iter().zip(&verdicts) {
                match verdict.status {
                    Status::Valid => counts.valid += 1,
                    Status::Invalid => counts.invalid += 1,
                    Status::Unreadable => counts.unreadable += 1,
                }
                render(name, item, verdict, format, out)?;
            }
            batch.clear();
        }
        if end {
            return Ok(());
        }
    }
}

fn judge_one(registry: &Registry, item: &Item) -> Verdict {
    match &item.bytes {
        Ok(bytes) => registry.validate_bytes(bytes),
        Err(why) => Verdict::unreadable(why.clone()),
    }
}

fn judge_batch(registry: &Registry, batch: &[Item], jobs: usize) -> Vec<Verdict> {
    if jobs == 1 || batch.len() < 64 {
        return batch.iter().map(|i| judge_one(registry, i)).collect();
    }
    let chunk = batch.len().div_ceil(jobs);
    std::thread::scope(|s| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|i| judge_one(registry, i)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
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
    out: &mut dyn Write,
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
                let at = if v.instance_path.is_empty() { "/" } else { &v.instance_path };
                let schema = if v.schema_path.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", v.schema_path)
                };
                emit(out, &format!("  - {} at {at}: {}{schema}", v.keyword, v.message))?;
            }
            Ok(())
        }
        Format::Json => {
            let mut data = serde_json::to_value(verdict).map_err(|e| CliError::Input(e.to_string()))?;
            if let Some(obj) = data.as_object_mut() {
                obj.insert("file".into(), name.into());
                obj.insert("line".into(), item.line.into());
                if let Some(i) = item.index {
                    obj.insert("index".into(), i.into());
                }
            }
            emit(out, &record("verdict", data))
        }
    }
}
