//! `contracts check-producer`: validate what a producer emits and report it per event type.

use crate::cmd::common::{SpecsArgs, emit, junit_failure, junit_skipped, record, write_junit};
use crate::cmd::fuzz_consumer::{ReportFormat, stop_flag};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::runner::producer::{self, Limits, ProducerError, ProducerReport};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Validate what a producer emits: its stdout (--cmd), what it POSTs (--listen), or files.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Start this program and validate its stdout as JSON Lines.
    #[arg(long, value_name = "\"PROGRAM ARGS\"", conflicts_with_all = ["listen", "files"])]
    cmd: Option<String>,
    /// Listen on this address (e.g. 127.0.0.1:0) and validate the body of every POST; the bound
    /// address is printed on stderr as `listening on http://ADDR`.
    #[arg(long, value_name = "ADDR", conflicts_with = "files")]
    listen: Option<String>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Stop after this many seconds (a started producer is killed; default for --cmd: 60).
    #[arg(long, value_name = "SECS")]
    max_time: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// Files of JSON Lines or one JSON document; `-` is stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// A `--cmd` producer that never exits is stopped after this long unless --max-time says otherwise.
const DEFAULT_CMD_SECS: u64 = 60;

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let mut limits = Limits {
        max_events: args.max_events,
        max_time: args.max_time.map(Duration::from_secs),
        stop: stop_flag(),
    };
    let mut report = ProducerReport::default();
    let mut sarif = (args.format == ReportFormat::Sarif)
        .then(|| crate::report::run::ProducerFindings::new(&registry, &args.specs.specs));
    let progress = crate::progress::Progress::spinner("check-producer", "events");
    let mut sink = |e: &producer::ProducerEvent| {
        report.apply(e);
        if matches!(e, producer::ProducerEvent::Seen { .. }) {
            progress.inc(1);
        }
        if let Some(s) = sarif.as_mut() {
            s.apply(e);
        }
    };
    let source;
    let result = if let Some(cmd) = &args.cmd {
        source = format!("--cmd {cmd}");
        limits
            .max_time
            .get_or_insert(Duration::from_secs(DEFAULT_CMD_SECS));
        producer::check_command(&registry, cmd, &limits, &mut sink)
    } else if let Some(addr) = &args.listen {
        source = format!("--listen {addr}");
        let mut on_bound = |a: &str| {
            let _ = writeln!(std::io::stderr(), "listening on http://{a}");
        };
        producer::check_listen(&registry, addr, &limits, &mut on_bound, &mut sink)
    } else if args.files.is_empty() {
        return Err(CliError::Usage(
            "give --cmd, --listen or at least one FILE".into(),
        ));
    } else {
        source = args
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let mut r = Ok(());
        for file in &args.files {
            let name = file.display().to_string();
            r = if name == "-" {
                producer::check_stream(
                    &registry,
                    std::io::stdin().lock(),
                    &name,
                    &limits,
                    &mut sink,
                )
            } else {
                let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
                producer::check_stream(
                    &registry,
                    std::io::BufReader::new(f),
                    &name,
                    &limits,
                    &mut sink,
                )
            };
            if r.is_err() || limits.stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
        }
        r
    };
    result.map_err(|e| match e {
        ProducerError::Io { .. } => CliError::caused(e),
        other => CliError::caused(other),
    })?;
    drop(progress);
    let never = report.never_emitted(&registry);
    if let Some(s) = &sarif {
        s.write(out)?;
        return Ok(Outcome::violated_if(report.failed()));
    }
    render(&source, &report, &never, args.format, out)?;
    Ok(Outcome::violated_if(report.failed()))
}

fn render(
    source: &str,
    r: &ProducerReport,
    never: &[String],
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match format {
        ReportFormat::Human => {
            for (origin, why) in &r.examples {
                emit(out, &format!("{origin}: invalid: {why}"))?;
            }
            if r.invalid + r.unreadable > r.examples.len() as u64 {
                emit(
                    out,
                    &format!(
                        "(and {} more invalid events, counted below)",
                        r.invalid + r.unreadable - r.examples.len() as u64
                    ),
                )?;
            }
            emit(out, "per event type:")?;
            for (t, c) in &r.by_type {
                emit(
                    out,
                    &format!("  {t}: {} seen, {} invalid", c.seen, c.invalid),
                )?;
                for (why, n) in &c.reasons {
                    emit(out, &format!("    {n} x {why}"))?;
                }
            }
            if !never.is_empty() {
                emit(
                    out,
                    &format!(
                        "never emitted ({} catalogue types): {}",
                        never.len(),
                        never.join(", ")
                    ),
                )?;
            }
            if let Some(note) = &r.note {
                emit(out, &format!("note: {note}"))?;
            }
            emit(
                out,
                &format!(
                    "check-producer {source}: {} events: {} valid, {} invalid, {} unreadable; {} event types seen, {} never emitted",
                    r.seen,
                    r.valid,
                    r.invalid,
                    r.unreadable,
                    r.by_type.len(),
                    never.len()
                ),
            )
        }
        ReportFormat::Json => {
            for (t, c) in &r.by_type {
                let mut data =
                    serde_json::to_value(c).map_err(|e| CliError::Input(e.to_string()))?;
                if let Some(o) = data.as_object_mut() {
                    o.insert("event_type".into(), t.as_str().into());
                }
                emit(out, &record("event_type", data))?;
            }
            emit(
                out,
                &crate::cmd::common::summary(serde_json::json!({"command": "check-producer",
                    "source": source,
                    "events": r.seen,
                    "valid": r.valid,
                    "invalid": r.invalid,
                    "unreadable": r.unreadable,
                    "never_emitted": never,
                    "note": r.note,
                })),
            )
        }
        ReportFormat::Junit => {
            use quick_junit::{TestCase, TestCaseStatus, TestSuite};
            let mut suite = TestSuite::new("contracts check-producer");
            suite.add_property(("source", source));
            for (t, c) in &r.by_type {
                let status = if c.invalid == 0 {
                    TestCaseStatus::success()
                } else {
                    junit_failure(
                        Some("invalid-event".into()),
                        format!("{} of {} events invalid", c.invalid, c.seen),
                        c.reasons
                            .iter()
                            .map(|(why, n)| format!("{n} x {why}"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    )
                };
                let mut case = TestCase::new(t.as_str(), status);
                case.set_classname("check-producer");
                suite.add_test_case(case);
            }
            for t in never {
                suite.add_test_case(junit_skipped(t, "check-producer", "never emitted"));
            }
            write_junit("contracts", [suite], out)
        }
        // Written by `run` from every event it saw, not from this summary.
        ReportFormat::Sarif => Ok(()),
    }
}
