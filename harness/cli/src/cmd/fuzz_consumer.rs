//! `contracts fuzz-consumer`: drive a consumer with generated valid and mutated events.
//!
//! Also home of what `fuzz-processor` shares with it: the flags, the run with its progress bar
//! (`crate::progress`) and Ctrl-C handling, and the three renderings of the report (human, JSON Lines, JUnit).

use crate::cmd::common::{SpecsArgs, emit, junit_failure, junit_skipped, record, write_junit};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::runner::fuzz::{
    self, DEFAULT_MAX_SHRINK_STEPS, Failure, FuzzOptions, FuzzReport, HttpTransport, Mode, Role,
    StdioTransport, StopReason, Transport,
};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The overall time budget of a run when `--max-time` is not given: a program that stalls every
/// answer just under `--timeout-ms` still cannot hold a CI job for longer than this.
const DEFAULT_MAX_TIME_SECS: u64 = 600;

/// `--format` for the fuzz and producer commands: the shared two plus JUnit XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// For people: failures first, each with its minimal event and how to reproduce it.
    Human,
    /// JSON Lines: one `{"type": ..., "data": ...}` record per failure, then a summary record.
    Json,
    /// JUnit XML: one test case per event type.
    Junit,
    /// SARIF 2.1.0: one result per distinct failure, at its kept file, with its replay command.
    Sarif,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    /// An invalid event must be rejected.
    Strict,
    /// An invalid event may be accepted.
    Tolerant,
}

/// Flags shared by `fuzz-consumer` and `fuzz-processor`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["cmd", "http"])))]
pub(crate) struct FuzzArgs {
    #[command(flatten)]
    specs: SpecsArgs,
    /// The program to start, with its arguments; it speaks JSON Lines on stdin/stdout
    /// (docs/protocols.md).
    #[arg(long, value_name = "\"PROGRAM ARGS\"")]
    cmd: Option<String>,
    /// The endpoint to POST each event to (http:// only).
    #[arg(long, value_name = "URL")]
    http: Option<String>,
    /// Draw only these event types (repeatable; default: every type in the catalogue).
    #[arg(long = "event-type", value_name = "T")]
    event_types: Vec<String>,
    /// Cases to send (shrinking steps come on top).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    cases: u64,
    /// RNG seed; the same seed draws the same cases (default: from the clock, and printed).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// How long to wait for each answer before the program counts as hung.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    timeout_ms: u64,
    /// Whether an invalid event must be rejected (strict) or may be accepted (tolerant).
    #[arg(long, value_enum, default_value_t = ModeArg::Strict)]
    mode: ModeArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Where minimal events are kept, in a directory named for the program.
    #[arg(long, value_name = "DIR", default_value = "corpus/consumers")]
    corpus: PathBuf,
    /// Do not save minimal events.
    #[arg(long)]
    no_corpus: bool,
    /// Directory name under --corpus (default: the program's file name, or host_port).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Stop drawing new cases after this many seconds (the report still comes); it also bounds
    /// shrinking, so no program under test can keep a run going for longer.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_MAX_TIME_SECS)]
    max_time: u64,
    /// Replies spent shrinking one failure.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SHRINK_STEPS)]
    max_shrink_steps: u32,
    /// Also write an HTML report of this run (DIR/index.html); see `contracts report`.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

/// Drive a consumer with generated valid and mutated events.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    fuzz: FuzzArgs,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    run_fuzz(Role::Consumer, &args.fuzz, out)
}

/// A flag raised by Ctrl-C. The handler can be installed once per process; a second call (never
/// made by the binary) gets a flag that stays down.
pub(crate) fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    let _ = ctrlc::set_handler(move || set.store(true, Ordering::SeqCst));
    flag
}

/// The transport for `--cmd` or `--http`.
pub(crate) fn transport(
    cmd: Option<&str>,
    http: Option<&str>,
    timeout: Duration,
) -> Result<Box<dyn Transport>, CliError> {
    let t: Box<dyn Transport> = match (cmd, http) {
        (Some(cmd), None) => {
            Box::new(StdioTransport::start(cmd, timeout).map_err(CliError::caused)?)
        }
        (None, Some(url)) => {
            Box::new(HttpTransport::new(url, timeout).map_err(|e| CliError::Usage(e.to_string()))?)
        }
        _ => {
            return Err(CliError::Usage(
                "give exactly one of --cmd and --http".into(),
            ));
        }
    };
    Ok(t)
}

fn default_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    #[allow(clippy::cast_possible_truncation)] // any 64 bits of the clock will do
    let seed = (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32);
    seed
}

pub(crate) fn run_fuzz(
    role: Role,
    args: &FuzzArgs,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    if args.cases == 0 {
        return Err(CliError::Usage("--cases must be at least 1".into()));
    }
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let mut transport = transport(args.cmd.as_deref(), args.http.as_deref(), timeout)?;
    let opts = FuzzOptions {
        role,
        mode: match args.mode {
            ModeArg::Strict => Mode::Strict,
            ModeArg::Tolerant => Mode::Tolerant,
        },
        cases: args.cases,
        seed: args.seed.unwrap_or_else(default_seed),
        event_types: args.event_types.clone(),
        max_shrink_steps: args.max_shrink_steps,
        max_time: Some(Duration::from_secs(args.max_time.max(1))),
        stop: stop_flag(),
        corpus_dir: (!args.no_corpus).then(|| args.corpus.clone()),
        name: args.name.clone(),
        fixtures_dir: args.specs.specs.parent().map(|p| p.join("fixtures/events")),
    };
    let mut report = FuzzReport::default();
    let progress = crate::progress::Progress::bar(args.cases, "fuzz", "cases");
    let result = fuzz::run(&registry, transport.as_mut(), &opts, &mut |e| {
        report.apply(e);
        crate::progress::fuzz_update(&progress, &report, e);
    });
    drop(progress);
    drop(transport); // reap the child before printing
    result.map_err(|e| match e {
        fuzz::FuzzError::Transport(t) => CliError::caused(t),
        other => CliError::Usage(other.to_string()),
    })?;
    let command = match role {
        Role::Consumer => "fuzz-consumer",
        Role::Processor => "fuzz-processor",
    };
    render(command, &report, args, out)?;
    if let Some(dir) = &args.report {
        let lines: Vec<_> = report
            .failures
            .iter()
            .map(|f| reproduce(command, &report, args, f))
            .collect();
        crate::report::page::write_fuzz(command, &report, &lines, dir).map_err(CliError::Input)?;
    }
    Ok(Outcome::violated_if(report.failed()))
}

fn at(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn stop_text(stop: Option<StopReason>) -> &'static str {
    match stop {
        Some(StopReason::Completed) | None => "completed",
        Some(StopReason::Interrupted) => "interrupted (Ctrl-C)",
        Some(StopReason::TimeBudget) => "time budget spent",
        Some(StopReason::ProgramBroken) => {
            "program broken: it crashed or hung on every recent case"
        }
    }
}

/// The lines that reproduce `f`: the replay of the kept file, and the seeded run.
fn reproduce(command: &str, report: &FuzzReport, args: &FuzzArgs, f: &Failure) -> Vec<String> {
    let mut lines = Vec::new();
    let role = if command == "fuzz-processor" {
        " --processor"
    } else {
        ""
    };
    if let Some(file) = &f.corpus_file {
        lines.push(format!(
            "contracts replay --consumer{role} {} {file}",
            report.program
        ));
    }
    let types = if args.event_types.is_empty() {
        String::new()
    } else {
        args.event_types
            .iter()
            .map(|t| format!(" --event-type {t}"))
            .collect()
    };
    lines.push(format!(
        "contracts {command} {}{types} --seed {} --cases {}",
        report.program,
        report.seed,
        f.case_index + 1
    ));
    lines
}

fn summary_line(command: &str, r: &FuzzReport) -> String {
    #[allow(clippy::cast_precision_loss)] // display only
    let secs = r.elapsed_ms as f64 / 1000.0;
    let kinds: Vec<String> = r
        .failed_by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    };
    format!(
        "{command}: {} cases ({} valid, {} invalid) in {secs:.1} s, {:.0} cases/s: {} failed{kinds}, {} distinct; {} discarded; program started {} time(s); seed {}; {}",
        r.cases,
        r.valid_cases,
        r.invalid_cases,
        r.rate(),
        r.failed_cases,
        r.failures.len(),
        r.discarded,
        r.starts,
        r.seed,
        stop_text(r.stop),
    )
}

fn render(
    command: &str,
    r: &FuzzReport,
    args: &FuzzArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match args.format {
        ReportFormat::Human => {
            for (t, why) in &r.skipped_types {
                emit(out, &format!("skipped {t}: {why}"))?;
            }
            if !r.fixture_types.is_empty() {
                let why = r.fixture_types.values().next().map_or("", String::as_str);
                emit(
                    out,
                    &format!(
                        "note: {} event type(s) drawn from golden fixtures, the generator cannot draw from them yet ({why})",
                        r.fixture_types.len()
                    ),
                )?;
            }
            for f in &r.failures {
                let security = if f.finding.kind.is_security() {
                    " [SECURITY]"
                } else {
                    ""
                };
                emit(
                    out,
                    &format!(
                        "FAIL {}{security}: {} (case {}, seed {})",
                        f.finding.kind.as_str(),
                        f.event_type,
                        f.case_index,
                        r.seed
                    ),
                )?;
                for line in f.finding.detail.lines() {
                    emit(out, &format!("  {line}"))?;
                }
                if let Some(aim) = &f.aim {
                    emit(
                        out,
                        &format!(
                            "  mutation: {} at {} ({})",
                            aim.keyword,
                            at(&aim.instance_path),
                            aim.class
                        ),
                    )?;
                }
                emit(
                    out,
                    &format!(
                        "  minimal {} event ({} bytes, from {} after {} shrinking steps):",
                        if f.event_valid { "valid" } else { "invalid" },
                        f.minimal_bytes,
                        f.original_bytes,
                        f.shrink_steps
                    ),
                )?;
                emit(out, &format!("    {}", f.event))?;
                if let Some(file) = &f.corpus_file {
                    emit(out, &format!("  saved: {file}"))?;
                }
                if let Some(e) = &f.corpus_error {
                    emit(out, &format!("  not saved: {e}"))?;
                }
                emit(out, "  reproduce with:")?;
                for line in reproduce(command, r, args, f) {
                    emit(out, &format!("    {line}"))?;
                }
            }
            emit(out, &summary_line(command, r))
        }
        ReportFormat::Json => {
            for f in &r.failures {
                let mut data =
                    serde_json::to_value(f).map_err(|e| CliError::Input(e.to_string()))?;
                if let Some(o) = data.as_object_mut() {
                    o.insert("kind".into(), f.finding.kind.as_str().into());
                    o.insert("security".into(), f.finding.kind.is_security().into());
                    o.insert("reproduce".into(), reproduce(command, r, args, f).into());
                }
                emit(out, &record("failure", data))?;
            }
            emit(
                out,
                &crate::cmd::common::summary(serde_json::json!({"command": command,
                    "program": r.program,
                    "role": r.role,
                    "mode": r.mode,
                    "seed": r.seed,
                    "planned": r.planned,
                    "cases": r.cases,
                    "valid_cases": r.valid_cases,
                    "invalid_cases": r.invalid_cases,
                    "failed_cases": r.failed_cases,
                    "failed_by_kind": r.failed_by_kind,
                    "distinct_failures": r.failures.len(),
                    "security_failure": r.security_failure(),
                    "discarded": r.discarded,
                    "skipped_types": r.skipped_types,
                    "fixture_types": r.fixture_types,
                    "by_type": r.by_type,
                    "starts": r.starts,
                    "elapsed_ms": r.elapsed_ms,
                    "stop": r.stop,
                })),
            )
        }
        ReportFormat::Junit => {
            use quick_junit::{TestCase, TestCaseStatus, TestSuite};
            let mut suite = TestSuite::new(format!("contracts {command}"));
            suite.set_time(Duration::from_millis(r.elapsed_ms));
            suite.add_property(("program", r.program.as_str()));
            suite.add_property(("seed", r.seed.to_string().as_str()));
            suite.add_property(("stop", stop_text(r.stop)));
            for (t, counts) in &r.by_type {
                let failures: Vec<&Failure> =
                    r.failures.iter().filter(|f| &f.event_type == t).collect();
                let mut status = if failures.is_empty() && counts.failed == 0 {
                    TestCaseStatus::success()
                } else {
                    let kinds: Vec<&str> =
                        failures.iter().map(|f| f.finding.kind.as_str()).collect();
                    let kind = if kinds.is_empty() {
                        "repeat".to_owned()
                    } else {
                        kinds.join(",")
                    };
                    let message = format!(
                        "{} of {} cases failed",
                        counts.failed,
                        counts.valid + counts.invalid
                    );
                    let mut text = String::new();
                    for f in &failures {
                        text.push_str(&format!(
                            "{}: {}\nminimal event: {}\nreproduce with:\n  {}\n\n",
                            f.finding.kind.as_str(),
                            f.finding.detail,
                            f.event,
                            reproduce(command, r, args, f).join("\n  ")
                        ));
                    }
                    junit_failure(Some(kind), message, text)
                };
                if counts.valid + counts.invalid == 0 && failures.is_empty() {
                    status = TestCaseStatus::skipped();
                }
                let mut case = TestCase::new(t.as_str(), status);
                case.set_classname(command);
                suite.add_test_case(case);
            }
            for (t, why) in &r.skipped_types {
                suite.add_test_case(junit_skipped(t, command, why));
            }
            write_junit("contracts", [suite], out)
        }
        ReportFormat::Sarif => {
            let lines: Vec<_> = r
                .failures
                .iter()
                .map(|f| reproduce(command, r, args, f))
                .collect();
            crate::report::run::fuzz(command, r, &lines, &args.specs.specs, out)
        }
    }
}

/// The flags `contracts replay` takes to replay kept events against a program; flattened into
/// `cmd::replay::Args`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReplayProgramArgs {
    /// Replay the kept events against a consumer program (docs/protocols.md) instead of only
    /// checking their declared verdicts.
    #[arg(long)]
    pub(crate) consumer: bool,
    /// With --consumer: the program is a processor (its answers are emitted events).
    #[arg(long, requires = "consumer")]
    processor: bool,
    /// With --consumer: the program to start; it speaks JSON Lines on stdin/stdout.
    #[arg(
        long,
        value_name = "\"PROGRAM ARGS\"",
        requires = "consumer",
        conflicts_with = "http"
    )]
    cmd: Option<String>,
    /// With --consumer: the endpoint to POST each event to.
    #[arg(long, value_name = "URL", requires = "consumer")]
    http: Option<String>,
    /// With --consumer: how long to wait for each answer.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    timeout_ms: u64,
}

/// `contracts replay --consumer [--processor] (--cmd ... | --http URL) PATH...`: send every kept
/// event (fixture form) to the program and hold each reply to the contract, strict mode. Called by
/// `cmd::replay` with the fixture files it loaded.
pub(crate) fn replay_program(
    registry: &contracts_core::Registry,
    args: &ReplayProgramArgs,
    files: &[contracts_core::fixtures::FixtureFile],
    format: crate::cmd::common::Format,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    use crate::cmd::common::Format;
    let role = if args.processor {
        Role::Processor
    } else {
        Role::Consumer
    };
    let mut t = transport(
        args.cmd.as_deref(),
        args.http.as_deref(),
        Duration::from_millis(args.timeout_ms.max(1)),
    )?;
    let results = fuzz::replay_program(registry, t.as_mut(), role, Mode::Strict, files)
        .map_err(CliError::caused)?;
    drop(t);
    let failed = results.iter().filter(|r| r.finding.is_some()).count();
    for r in &results {
        let file = r.file.path.display().to_string();
        match format {
            Format::Human => {
                if let Some(f) = &r.finding {
                    emit(
                        out,
                        &format!("FAIL {file}: {}: {}", f.kind.as_str(), f.detail),
                    )?;
                }
            }
            Format::Json => emit(
                out,
                &record(
                    "program_replay",
                    serde_json::json!({
                        "file": file,
                        "passed": r.finding.is_none(),
                        "kind": r.finding.as_ref().map(|f| f.kind.as_str()),
                        "finding": r.finding,
                    }),
                ),
            )?,
        }
    }
    let total = results.len();
    match format {
        Format::Human => emit(
            out,
            &format!(
                "replayed {total} kept events against the program: {} passed, {failed} failed",
                total - failed
            ),
        )?,
        Format::Json => emit(
            out,
            &crate::cmd::common::summary(serde_json::json!({"events": total,
                "passed": total - failed,
                "failed": failed,
            })),
        )?,
    }
    Ok(Outcome::violated_if(failed > 0))
}
