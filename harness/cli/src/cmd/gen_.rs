//! `contracts gen`: valid or mutated instances of a JSON Schema, as JSON Lines.

use crate::error::CliError;
use crate::exit::Outcome;
use contracts_gen::{Draft, GenError, GenOptions, Generator, Mutant, RngSource};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// Print generation counters to stderr at the end.
    #[arg(long)]
    stats: bool,
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

fn line(out: &mut dyn Write, v: &Value) -> Result<(), CliError> {
    let s = serde_json::to_string(v).map_err(|e| CliError::Input(e.to_string()))?;
    // JSON allows these raw inside strings, but line splitters (Python's `splitlines`) break on them.
    let mut s = s
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .replace('\u{85}', "\\u0085");
    s.push('\n');
    out.write_all(s.as_bytes())
        .map_err(|e| CliError::io("stdout", e))
}

#[allow(clippy::print_stderr)] // --stats is a diagnostic for the user, on stderr by design
fn print_stats(g: &Generator) {
    let s = g.stats();
    eprintln!(
        "generated={} discarded={} mutants={} mutants_discarded={}",
        s.generated, s.discarded, s.mutants, s.mutants_discarded
    );
}

/// Re-draws of a line that repeats an earlier one before it is printed anyway.
const DEDUP_TRIES: usize = 8;

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
            p.parent()
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
    let mut seen: HashSet<String> = HashSet::new();
    // Bounded: a schema whose instances admit no mutation stops early instead of spinning.
    let mut tries = 0u64;
    while written < args.count && tries < args.count.saturating_mul(4).max(8) {
        tries += 1;
        // Re-draw a value already printed a few times: small schemas otherwise repeat `null`/`{}`.
        let mut record = None;
        for _ in 0..DEDUP_TRIES {
            let Some(r) = next_record(args, &generator, &mut src, &schema_path)? else {
                break;
            };
            let key = serde_json::to_string(&r).map_err(|e| CliError::Input(e.to_string()))?;
            let fresh = seen.insert(key);
            record = Some(r);
            if fresh {
                break;
            }
        }
        let Some(r) = record else { continue };
        line(out, &r)?;
        written += 1;
        progress.inc(1);
    }
    drop(progress);
    if args.stats {
        print_stats(&generator);
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
