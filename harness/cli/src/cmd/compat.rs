//! `contracts compat`: compare two schema versions by meaning: a proof of inclusion, a
//! counterexample confirmed by the reference, or an honest `undecided`.

use crate::cmd::common::{JSON_FORMAT_VERSION, OutputFormat, emit, record};
use crate::error::CliError;
use crate::exit::Outcome;
use crate::report::findings;
use crate::report::sarif::{Level, Loc, SarifReport};
use contracts_core::runner::compat::{
    self, Basis, CompatError, Direction, Mode, PairReport, SchemaSet, Search, SearchOptions,
    Subject, Verdict, schemas,
};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Compare two schema versions: a proof of inclusion or a confirmed counterexample per direction.
///
/// Exit 0 when every schema is proved compatible in the requested mode, 1 when one is
/// incompatible (a counterexample the reference confirms), 3 when none is incompatible but one is
/// undecided, 2 on usage or I/O error.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The old schemas: a specs directory, a schema file, or a git revision of this repository
    /// (then read at the path given by --new).
    #[arg(long, value_name = "DIR|FILE|GIT-REV")]
    pub(crate) old: String,
    /// The new schemas: a specs directory or a schema file.
    #[arg(long, value_name = "DIR|FILE")]
    pub(crate) new: PathBuf,
    /// backward: old events valid under the new schema; forward: new events valid under the
    /// old one; full: both.
    #[arg(long, value_enum, default_value = "backward")]
    pub(crate) mode: ModeArg,
    /// How results are printed on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) format: OutputFormat,
    /// Cases per direction for the counterexample search.
    #[arg(long, value_name = "N", default_value_t = compat::DEFAULT_CASES)]
    pub(crate) cases: u32,
    /// Seed of the counterexample search (case i uses seed + i).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub(crate) seed: u64,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    /// Every event valid under the old schema is valid under the new one.
    Backward,
    /// Every event valid under the new schema is valid under the old one.
    Forward,
    /// Both.
    Full,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Backward => Mode::Backward,
            ModeArg::Forward => Mode::Forward,
            ModeArg::Full => Mode::Full,
        }
    }
}

/// What is compared: two single schemas, or two sets matched by file path.
enum Inputs {
    Files(Subject, Subject),
    /// Two sets, and their AsyncAPI documents when both are specs trees that have one.
    Dirs(
        SchemaSet,
        SchemaSet,
        Option<Box<(serde_json::Value, serde_json::Value)>>,
    ),
}

fn err(e: &CompatError) -> CliError {
    match e {
        CompatError::Io { .. } | CompatError::Usage(_) | CompatError::Git { .. } => {
            CliError::Usage(error_chain(e))
        }
        _ => CliError::Input(error_chain(e)),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn load(args: &Args) -> Result<Inputs, CliError> {
    let new = &args.new;
    let old = Path::new(&args.old);
    if new.is_file() {
        let n = SchemaSet::from_file(new).map_err(|e| err(&e))?;
        let o = if old.is_file() {
            SchemaSet::from_file(old)
        } else if old.is_dir() {
            return Err(CliError::Usage(format!(
                "--old {} is a directory but --new {} is a file",
                args.old,
                new.display()
            )));
        } else {
            git_source(new).and_then(|(repo, rel)| SchemaSet::from_git_file(&repo, &args.old, &rel))
        }
        .map_err(|e| err(&e))?;
        return Ok(Inputs::Files(o, n));
    }
    if new.is_dir() {
        let n = SchemaSet::from_dir(new).map_err(|e| err(&e))?;
        let new_api = compat::asyncapi::from_dir(new).map_err(|e| err(&e))?;
        let (o, old_api) = if old.is_dir() {
            (
                SchemaSet::from_dir(old).map_err(|e| err(&e))?,
                compat::asyncapi::from_dir(old).map_err(|e| err(&e))?,
            )
        } else if old.is_file() {
            return Err(CliError::Usage(format!(
                "--old {} is a file but --new {} is a directory",
                args.old,
                new.display()
            )));
        } else {
            let (repo, rel) = git_source(new).map_err(|e| err(&e))?;
            (
                SchemaSet::from_git_dir(&repo, &args.old, &rel).map_err(|e| err(&e))?,
                compat::asyncapi::from_git(&repo, &args.old, &rel).map_err(|e| err(&e))?,
            )
        };
        return Ok(Inputs::Dirs(o, n, old_api.zip(new_api).map(Box::new)));
    }
    Err(CliError::Usage(format!(
        "--new {}: no such file or directory",
        new.display()
    )))
}

/// The repository holding `path` and `path` relative to its root.
fn git_source(path: &Path) -> Result<(PathBuf, String), CompatError> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let repo = schemas::repo_root(&dir)?;
    let rel = compat::versioning::relative_to_repo(&repo, path)?;
    Ok((repo, rel))
}

/// A schema present on one side only.
struct Lone {
    name: String,
    removed: bool,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mode: Mode = args.mode.into();
    let opts = SearchOptions {
        cases: args.cases,
        seed: args.seed,
    };
    let mut reports = Vec::new();
    let mut lone = Vec::new();
    let mut api_changes = Vec::new();
    let mut total = 0;
    match load(args)? {
        Inputs::Files(o, n) => {
            total = 1;
            let progress = crate::progress::Progress::bar(1, "compat", "schemas");
            let name = format!("{} -> {}", args.old, args.new.display());
            reports.push(compat::compare(&name, &o, &n, mode, &opts).map_err(|e| err(&e))?);
            progress.inc(1);
        }
        Inputs::Dirs(o, n, apis) => {
            if let Some(apis) = apis {
                api_changes = compat::asyncapi::diff(&apis.0, &apis.1);
            }
            let (o, n) = (Arc::new(o), Arc::new(n));
            let (os, ns) = (o.subjects(), n.subjects());
            let both = os.iter().filter(|x| ns.contains(x)).count();
            let progress = crate::progress::Progress::bar(
                u64::try_from(both).unwrap_or(u64::MAX),
                "compat",
                "schemas",
            );
            for name in &os {
                total += 1;
                if !ns.contains(name) {
                    lone.push(Lone {
                        name: name.clone(),
                        removed: true,
                    });
                    continue;
                }
                let so = Subject {
                    set: Arc::clone(&o),
                    entry: name.clone(),
                };
                let sn = Subject {
                    set: Arc::clone(&n),
                    entry: name.clone(),
                };
                reports.push(compat::compare(name, &so, &sn, mode, &opts).map_err(|e| err(&e))?);
                progress.inc(1);
            }
            for name in ns.iter().filter(|x| !os.contains(x)) {
                total += 1;
                lone.push(Lone {
                    name: name.clone(),
                    removed: false,
                });
            }
        }
    }
    // A removed schema breaks backward (its old events validate against nothing); an added one
    // breaks forward (old readers have no schema for it).
    let lone_breaks = |l: &Lone| {
        mode.directions().iter().any(|d| match d {
            Direction::Backward => l.removed,
            Direction::Forward => !l.removed,
        })
    };
    let api_breaks = |c: &compat::asyncapi::ApiChange| {
        mode.directions()
            .iter()
            .any(|d| c.breaks(*d == Direction::Backward))
    };
    let changed = reports.iter().filter(|r| !r.identical).count();
    let incompatible = reports
        .iter()
        .filter(|r| {
            r.directions
                .iter()
                .any(|d| d.verdict == Verdict::Incompatible)
        })
        .count()
        + lone.iter().filter(|l| lone_breaks(l)).count()
        + api_changes.iter().filter(|c| api_breaks(c)).count();
    let undecided = reports
        .iter()
        .filter(|r| {
            r.directions.iter().any(|d| d.verdict == Verdict::Undecided)
                && !r
                    .directions
                    .iter()
                    .any(|d| d.verdict == Verdict::Incompatible)
        })
        .count();
    let compatible = incompatible == 0 && undecided == 0;
    // What every verdict rests on, over all compared directions.
    let basis_count = |b: &[Basis]| {
        reports
            .iter()
            .flat_map(|r| r.directions.iter())
            .filter(|d| b.contains(&d.basis))
            .count()
    };
    let proved = basis_count(&[Basis::Proof]);
    let identical = basis_count(&[Basis::Identical]);
    let counterexampled = basis_count(&[Basis::Procedure, Basis::Search, Basis::ProofContradicted]);
    let undecided_dirs = basis_count(&[Basis::Undecided]);
    let reproduce = format!(
        "contracts compat --old {} --new {} --mode {} --cases {} --seed {}",
        args.old,
        args.new.display(),
        mode_str(mode),
        args.cases,
        args.seed
    );
    match args.format {
        OutputFormat::Sarif => {
            sarif(args, &reports, &lone, lone_breaks, &api_changes, api_breaks).write(out)?;
        }
        OutputFormat::Json => {
            for r in reports.iter().filter(|r| !r.identical) {
                let data = serde_json::to_value(r)
                    .map_err(|e| CliError::Input(format!("cannot serialise a report: {e}")))?;
                emit(out, &record("schema", data))?;
            }
            for l in &lone {
                emit(
                    out,
                    &record(
                        if l.removed { "removed" } else { "added" },
                        json!({"name": l.name, "breaks": lone_breaks(l)}),
                    ),
                )?;
            }
            for c in &api_changes {
                let mut data = serde_json::to_value(c)
                    .map_err(|e| CliError::Input(format!("cannot serialise a change: {e}")))?;
                data["breaks"] = json!(api_breaks(c));
                emit(out, &record("asyncapi", data))?;
            }
            emit(
                out,
                &record(
                    "summary",
                    json!({
                        "format_version": JSON_FORMAT_VERSION,
                        "mode": mode_str(mode),
                        "schemas": total,
                        "changed": changed,
                        "removed": lone.iter().filter(|l| l.removed).count(),
                        "added": lone.iter().filter(|l| !l.removed).count(),
                        "asyncapi_changes": api_changes.len(),
                        "incompatible": incompatible,
                        "undecided": undecided,
                        "compatible": compatible,
                        "directions": {
                            "identical": identical,
                            "proved": proved,
                            "counterexampled": counterexampled,
                            "undecided": undecided_dirs,
                        },
                        "cases": args.cases,
                        "seed": args.seed,
                        "reproduce": reproduce,
                    }),
                ),
            )?;
        }
        OutputFormat::Human => {
            for r in reports.iter().filter(|r| !r.identical) {
                human(out, r)?;
            }
            for l in &lone {
                let what = if l.removed { "removed" } else { "added" };
                let effect = if lone_breaks(l) {
                    format!("breaks {}", if l.removed { "backward" } else { "forward" })
                } else {
                    "not checked in this mode".to_owned()
                };
                emit(out, &format!("{}: {what} ({effect})", l.name))?;
            }
            for c in &api_changes {
                let effect = if api_breaks(c) {
                    let dirs: Vec<&str> = mode
                        .directions()
                        .iter()
                        .filter(|d| c.breaks(**d == Direction::Backward))
                        .map(|d| d.as_str())
                        .collect();
                    format!("breaks {}", dirs.join(" and "))
                } else {
                    "not checked in this mode".to_owned()
                };
                emit(out, &format!("asyncapi: {} ({effect})", c.describe()))?;
            }
            emit(
                out,
                &format!(
                    "compat {}: {total} schema(s), {changed} changed, {} removed, {} added, {} asyncapi change(s); {incompatible} incompatible, {undecided} undecided; directions: {identical} identical, {proved} proved, {counterexampled} counterexampled, {undecided_dirs} undecided; {} cases per direction, seed {}",
                    mode_str(mode),
                    lone.iter().filter(|l| l.removed).count(),
                    lone.iter().filter(|l| !l.removed).count(),
                    api_changes.len(),
                    args.cases,
                    args.seed,
                ),
            )?;
            if !compatible {
                emit(out, &format!("reproduce: {reproduce}"))?;
            }
        }
    }
    Ok(if incompatible > 0 {
        Outcome::Violated
    } else if undecided > 0 {
        Outcome::Undecided
    } else {
        Outcome::Ok
    })
}

/// The SARIF log of a comparison: one result per incompatible (error) or undecided (warning)
/// direction of each changed schema, at the line of the change in the new file with the old side
/// as related location; one per breaking removed or added schema and AsyncAPI change.
fn sarif(
    args: &Args,
    reports: &[PairReport],
    lone: &[Lone],
    lone_breaks: impl Fn(&Lone) -> bool,
    api_changes: &[compat::asyncapi::ApiChange],
    api_breaks: impl Fn(&compat::asyncapi::ApiChange) -> bool,
) -> SarifReport {
    let new_root = root_of(&args.new);
    let old_path = Path::new(&args.old);
    // A git revision has no file on disk: its side is named by the new path at that revision.
    let old_root = (old_path.exists()).then(|| root_of(old_path));
    let old_side = |pointer: &str| match &old_root {
        Some(root) => place(root, pointer).described("the old side of the change"),
        None => place(&new_root, pointer).described(format!(
            "the old side of the change, at revision {}",
            args.old
        )),
    };
    // The document a schema's comparison starts from, relative to its side's root.
    let subject = |r: &PairReport| {
        if args.new.is_file() {
            args.new
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        } else {
            r.name.clone()
        }
    };
    let mut log = SarifReport::new("compat");
    for r in reports.iter().filter(|r| !r.identical) {
        for d in &r.directions {
            let rule = match d.verdict {
                Verdict::Compatible => continue,
                Verdict::Incompatible => None,
                Verdict::Undecided => Some("undecided"),
            };
            let change = change_for(r, d);
            let pointer = change.map_or_else(|| format!("{}#", subject(r)), |c| c.pointer.clone());
            let rule = rule.unwrap_or_else(|| change.map_or("incompatible", |c| c.class.as_str()));
            let mut message = format!(
                "{}: {} {} ({})",
                r.name,
                d.direction.as_str(),
                d.verdict.as_str(),
                d.reason
            );
            if let Some(c) = change {
                message.push_str(&format!("\nchanged: {} at {}", c.detail, c.pointer));
            }
            let mut f = findings::compat(
                rule,
                &message,
                place(&new_root, &pointer),
                old_side(&pointer),
                &format!("{pointer}\u{0}{}", d.direction.as_str()),
            );
            if d.verdict == Verdict::Undecided {
                f.level = Level::Warning;
            }
            log.push(f);
        }
    }
    for l in lone.iter().filter(|l| lone_breaks(l)) {
        let (rule, new, message) = if l.removed {
            (
                "schema_removed",
                Loc::file(new_root.join(&l.name)),
                "removed",
            )
        } else {
            (
                "schema_added",
                place(&new_root, &format!("{}#", l.name)),
                "added",
            )
        };
        log.push(findings::compat(
            rule,
            &format!("{}: {message}", l.name),
            new,
            old_side(&format!("{}#", l.name)),
            &l.name,
        ));
    }
    let api = compat::asyncapi::ASYNCAPI_PATH;
    for c in api_changes.iter().filter(|c| api_breaks(c)) {
        log.push(findings::compat(
            "asyncapi",
            &format!("asyncapi: {}", c.describe()),
            Loc::file(new_root.join(api)),
            old_side(&format!("{api}#")),
            &c.describe(),
        ));
    }
    log
}

/// The root a side's document names are relative to: the directory itself, or a file's parent.
fn root_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `<document>#<JSON pointer>` under `root` at the line of the pointer, or of its nearest
/// ancestor the file holds (a keyword absent on this side); line-less when the file is unreadable.
fn place(root: &Path, pointer: &str) -> Loc {
    let (doc, mut ptr) = pointer.split_once('#').unwrap_or((pointer, ""));
    let path = root.join(doc);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Loc::file(&path);
    };
    loop {
        if let Some((line, column)) = crate::report::spans::pointer_line(&text, ptr) {
            return Loc::at(&path, line, column);
        }
        match ptr.rsplit_once('/') {
            Some((parent, _)) if !ptr.is_empty() => ptr = parent,
            _ => return Loc::at(&path, 1, 1),
        }
    }
}

/// The change behind a direction's verdict: one that breaks or may break it on the verdict's
/// keyword, else any that does, else the first.
fn change_for<'a>(r: &'a PairReport, d: &compat::DirectionReport) -> Option<&'a compat::Change> {
    let affects = |c: &&compat::Change| c.effect.get(d.direction) != compat::Impact::Safe;
    r.changes
        .iter()
        .filter(affects)
        .find(|c| d.keyword.as_deref() == Some(c.keyword.as_str()))
        .or_else(|| r.changes.iter().find(affects))
        .or_else(|| r.changes.first())
}

fn mode_str(m: Mode) -> &'static str {
    match m {
        Mode::Backward => "backward",
        Mode::Forward => "forward",
        Mode::Full => "full",
    }
}

fn human(out: &mut dyn Write, r: &PairReport) -> Result<(), CliError> {
    let verdicts = r
        .directions
        .iter()
        .map(|d| format!("{} {}", d.direction.as_str(), d.verdict.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    emit(out, &format!("{}: {verdicts}", r.name))?;
    for c in &r.changes {
        emit(
            out,
            &format!(
                "  changed: {} at {} (instance {}): {}",
                c.class.as_str(),
                c.pointer,
                if c.instance_path.is_empty() {
                    "/"
                } else {
                    &c.instance_path
                },
                c.detail
            ),
        )?;
    }
    for d in &r.directions {
        let (src, tgt) = match d.direction {
            Direction::Backward => ("old", "new"),
            Direction::Forward => ("new", "old"),
        };
        emit(
            out,
            &format!(
                "  {}: {} ({})",
                d.direction.as_str(),
                d.verdict.as_str(),
                d.reason
            ),
        )?;
        for step in d.proof.iter().filter(|_| d.basis == Basis::Proof) {
            emit(out, &format!("    proof: {step}"))?;
        }
        if let Search::Found(c) = &d.search {
            emit(
                out,
                &format!(
                    "    counterexample, valid under the {src} schema and invalid under the {tgt} (found by {}, case {}):",
                    c.found_by, c.case
                ),
            )?;
            emit(out, &format!("      {}", c.event))?;
            for e in &c.target_errors {
                emit(
                    out,
                    &format!(
                        "      {tgt} rejects it: {} at {}: {}",
                        e.keyword,
                        if e.instance_path.is_empty() {
                            "/"
                        } else {
                            &e.instance_path
                        },
                        e.message
                    ),
                )?;
            }
        }
    }
    Ok(())
}
