//! `contracts gen`: valid or mutated instances of a JSON Schema, as JSON Lines.

use crate::error::CliError;
use crate::exit::Outcome;
use contracts_gen::{Draft, GenError, GenOptions, Generator, Mutant, RngSource};
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default draft for a schema without `$schema`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum DraftArg {
    /// JSON Schema draft 2020-12.
    #[value(name = "2020-12")]
    D202012,
    /// JSON Schema draft 7.
    #[value(name = "7")]
    D7,
}

/// Generate valid or mutated instances of a JSON Schema as JSON Lines.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The schema file.
    #[arg(
        long,
        conflicts_with = "event_type",
        required_unless_present = "event_type"
    )]
    schema: Option<PathBuf>,
    /// An event type: resolves to `<specs>/events/types/<TYPE>.v<MAJOR>.schema.json`, highest MAJOR.
    #[arg(long)]
    event_type: Option<String>,
    /// The specs directory (for `--event-type`).
    #[arg(long, default_value = "specs")]
    specs: PathBuf,
    /// Files referenced by the schema are read only under this directory (default: the schema's
    /// directory; with `--event-type`, the specs directory).
    #[arg(long)]
    root: Option<PathBuf>,
    /// How many instances.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// The seed: same seed, same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Emit invalid instances (one aimed mutation each).
    #[arg(long)]
    invalid: bool,
    /// Wrap each line as `{"instance": ..., "mutation": {"keyword": ..., "instance_path": ...}}`.
    #[arg(long)]
    annotate: bool,
    /// The draft when the schema has no `$schema`.
    #[arg(long, value_enum, default_value = "2020-12")]
    draft: DraftArg,
    /// Print generation counters to stderr at the end (with the discard ratios).
    #[arg(long)]
    stats: bool,
    /// Stop after this many seconds (fractions allowed) for this schema, with a clear message
    /// and the instances written so far.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    max_time: Option<Duration>,
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?}: not a positive number of seconds"))
}

/// `(schema file, file root)` for `--event-type`: the highest major version present.
fn event_type_schema(specs: &Path, ty: &str) -> Result<(PathBuf, PathBuf), CliError> {
    let dir = specs.join("events").join("types");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| CliError::io(dir.display().to_string(), e))?;
    let prefix = format!("{ty}.v");
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(major) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".schema.json"))
            .and_then(|m| m.parse::<u64>().ok())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| major > *b) {
            best = Some((major, entry.path()));
        }
    }
    best.map(|(_, p)| (p, specs.to_path_buf()))
        .ok_or_else(|| CliError::Input(format!("{}: no schema for event type {ty}", dir.display())))
}

fn gen_error(path: &Path, e: &GenError) -> CliError {
    CliError::Input(format!("{}: {e}", path.display()))
}

/// One output line (with its newline).
fn line(v: &Value) -> Result<String, CliError> {
    let s = serde_json::to_string(v).map_err(|e| CliError::Input(e.to_string()))?;
    // JSON allows these raw inside strings, but line splitters (Python's `splitlines`) break on them.
    let mut s = s
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .replace('\u{85}', "\\u0085");
    s.push('\n');
    Ok(s)
}

/// The lines printed lately, as hashes: a line seen among the last `DEDUP_WINDOW` is re-drawn.
/// Bounded, so `--count 100000` streams in constant memory.
#[derive(Debug, Default)]
struct Recent {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl Recent {
    /// Remember `line`; false when it is among the recent ones already.
    fn insert(&mut self, line: &str) -> bool {
        let mut h = DefaultHasher::new();
        line.hash(&mut h);
        let key = h.finish();
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > DEDUP_WINDOW {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[allow(clippy::print_stderr)] // --stats is a diagnostic for the user, on stderr by design
fn print_stats(g: &Generator) {
    let s = g.stats();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.3}", num as f64 / den as f64)
        }
    };
    eprintln!(
        "generated={} discarded={} mutants={} mutants_discarded={} discard_ratio={} \
         mutant_discard_ratio={}",
        s.generated,
        s.discarded,
        s.mutants,
        s.mutants_discarded,
        ratio(s.discarded, s.generated),
        ratio(s.mutants_discarded, s.mutants)
    );
}

/// Re-draws of a line that repeats a recent one before it is printed anyway.
const DEDUP_TRIES: usize = 8;
/// Lines remembered for de-duplication: enough to keep small schemas from repeating `null`/`{}`
/// back to back, few enough that memory stays constant (32 KiB of hashes) whatever `--count` is.
const DEDUP_WINDOW: usize = 4096;

/// The next output record: a bare instance, or the annotated wrapper.
fn next_record(
    args: &Args,
    generator: &Generator,
    src: &mut RngSource,
    schema_path: &Path,
) -> Result<Option<Value>, CliError> {
    if args.invalid {
        let m: Option<Mutant> = match generator.generate(src) {
            Ok(valid) => generator
                .mutate(&valid, src)
                .map_err(|e| gen_error(schema_path, &e))?
                .or_else(|| generator.invalid_any(src)),
            Err(e @ GenError::OutOfTime { .. }) => return Err(gen_error(schema_path, &e)),
            Err(_) => generator.invalid_any(src),
        };
        Ok(m.map(|m| {
            if args.annotate {
                json!({"instance": m.value, "mutation": {"keyword": m.keyword, "instance_path": m.instance_path, "class": m.class.as_str()}})
            } else {
                m.value
            }
        }))
    } else {
        let v = generator
            .generate(src)
            .map_err(|e| gen_error(schema_path, &e))?;
        Ok(Some(if args.annotate {
            json!({"instance": v, "mutation": null})
        } else {
            v
        }))
    }
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let (schema_path, default_root) = match (&args.schema, &args.event_type) {
        (Some(p), _) => (
            p.clone(),
            // A bare file name has the empty parent: its directory is `.`.
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        ),
        (None, Some(t)) => event_type_schema(&args.specs, t)?,
        (None, None) => {
            return Err(CliError::Usage(
                "give --schema FILE or --event-type TYPE".into(),
            ));
        }
    };
    let root = args.root.clone().unwrap_or(default_root);
    let text = std::fs::read_to_string(&schema_path)
        .map_err(|e| CliError::io(schema_path.display().to_string(), e))?;
    let schema: Value =
        serde_json::from_str(&text).map_err(|e| crate::diag::json_parse(&schema_path, &e))?;
    let root_abs = root
        .canonicalize()
        .map_err(|e| CliError::io(root.display().to_string(), e))?;
    let file_abs = schema_path
        .canonicalize()
        .map_err(|e| CliError::io(schema_path.display().to_string(), e))?;
    let opts = GenOptions {
        default_draft: match args.draft {
            DraftArg::D202012 => Draft::Draft202012,
            DraftArg::D7 => Draft::Draft7,
        },
        base_uri: Some(format!("file://{}", file_abs.display())),
        file_root: Some(root_abs),
        resources: Vec::new(),
        max_time: args.max_time,
    };
    let mut src = RngSource::new(args.seed);
    let generator = if args.invalid {
        Generator::new_unchecked(&schema, &opts)
    } else {
        Generator::new(&schema, &opts)
    }
    .map_err(|e| gen_error(&schema_path, &e))?;
    let mut written = 0u64;
    let progress = crate::progress::Progress::bar(args.count, "gen", "events");
    let mut recent = Recent::default();
    // Bounded: a schema whose instances admit no mutation stops early instead of spinning.
    let mut tries = 0u64;
    let mut stopped = None;
    while written < args.count && tries < args.count.saturating_mul(4).max(8) {
        tries += 1;
        // Re-draw a value printed lately a few times: small schemas otherwise repeat `null`/`{}`.
        let mut record = None;
        for _ in 0..DEDUP_TRIES {
            let r = match next_record(args, &generator, &mut src, &schema_path) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            };
            let text = line(&r)?;
            let fresh = recent.insert(&text);
            record = Some(text);
            if fresh {
                break;
            }
        }
        if let Some(text) = record {
            out.write_all(text.as_bytes())
                .map_err(|e| CliError::io("stdout", e))?;
            written += 1;
            progress.inc(1);
        }
        if stopped.is_some() {
            break;
        }
    }
    drop(progress);
    if args.stats {
        print_stats(&generator);
    }
    if let Some(e) = stopped {
        return Err(CliError::Input(format!(
            "{e} ({written} of {} instances written)",
            args.count
        )));
    }
    if written == 0 && args.count > 0 {
        return Err(CliError::Input(format!(
            "{}: no {} instance could be generated",
            schema_path.display(),
            if args.invalid { "invalid" } else { "valid" }
        )));
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplication_memory_is_bounded_by_its_window() {
        let mut recent = Recent::default();
        for i in 0..(DEDUP_WINDOW * 5) {
            assert!(recent.insert(&i.to_string()), "{i} is new");
            assert!(!recent.insert(&i.to_string()), "{i} was just seen");
            assert!(recent.set.len() <= DEDUP_WINDOW && recent.order.len() <= DEDUP_WINDOW);
        }
        // The oldest lines have left the window: they count as new again.
        assert!(recent.insert("0"));
    }
}
