//! `contracts check-stream`: validate every event of JSON Lines streams, then judge the streams
//! by the cross-event rules of `specs/events/rules/` (docs/streams.md).
//!
//! Exit 0 when every event is valid and no rule is violated (rules still `pending` at the end of
//! a finite stream do not fail it), 1 when a contract is broken, 2 when the rules or an input
//! cannot be read.

use crate::cmd::common::{SpecsArgs, emit, junit_failure, record, summary, write_junit};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::runner::streams::rules;
use contracts_core::runner::streams::run::{self, EventStatus, Input, Options, Record, Summary};
use contracts_core::runner::streams::{Finding, FindingStatus};
use quick_junit::{TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Output formats of `check-stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum StreamFormat {
    /// Problems (file:line, rule, event, the event it conflicts with), then a summary line.
    Human,
    /// JSON Lines: an `event` record per line, a `violation` or `pending` record per finding,
    /// then a summary record.
    Json,
    /// JUnit XML: one test case per rule, plus one for the events' schema validity.
    Junit,
}

/// Validate event streams and judge them by the cross-event rules.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    specs: SpecsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StreamFormat::Human)]
    format: StreamFormat,
    /// How long finished keys, nameable events and re-delivery digests are kept, and how long a
    /// pairing rule waits for its B unless the rule says: seconds, or a number with s, m, h or d.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_window)]
    window: i64,
    /// Merge every input into one stream by `timestamp` (default: one stream per input).
    #[arg(long)]
    merge: bool,
    /// JSON Lines files; `-` is stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    files: Vec<PathBuf>,
}

/// A duration as milliseconds: `90`, `90s`, `15m`, `1h`, `2d`.
fn parse_window(s: &str) -> Result<i64, String> {
    let (digits, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 90, 90s, 15m, 1h, 2d)"))?;
    let unit_ms = match unit {
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use s, m, h or d)")),
    };
    if n == 0 {
        return Err("the window must be longer than 0".into());
    }
    n.checked_mul(unit_ms)
        .ok_or_else(|| format!("`{s}` is too long"))
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let registry = args.specs.load()?;
    let rules = rules::load_checked(&registry)
        .map_err(|e| CliError::Input(format!("cannot load the stream rules: {e}")))?;
    let mut inputs = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let reader: Box<dyn BufRead + Send> = if name == "-" {
            Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
        } else {
            let f = std::fs::File::open(file).map_err(|e| CliError::io(&name, e))?;
            Box::new(std::io::BufReader::with_capacity(1 << 16, f))
        };
        inputs.push(Input { name, reader });
    }
    let opts = Options {
        window_ms: args.window,
        merge: args.merge,
    };
    let mut by_rule: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    let mut schema_failures: Vec<String> = Vec::new();
    let format = args.format;
    let result = run::run(&registry, &rules, inputs, opts, &mut |r| match format {
        StreamFormat::Human => human_record(&r, out),
        StreamFormat::Json => json_record(&r, out),
        StreamFormat::Junit => {
            collect(&r, &mut by_rule, &mut schema_failures);
            Ok(())
        }
    });
    let summary = match result {
        Ok(s) => s,
        Err(run::RunError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(Outcome::Ok);
        }
        Err(e) => return Err(CliError::Input(e.to_string())),
    };
    match format {
        StreamFormat::Human => emit(out, &human_summary(&summary, rules.rules().count()))?,
        StreamFormat::Json => emit(out, &summary_record(&summary, rules.rules().count())?)?,
        StreamFormat::Junit => {
            let ids: Vec<String> = rules.rules().map(|(_, r)| r.id.clone()).collect();
            junit(&ids, &by_rule, &schema_failures, out)?;
        }
    }
    Ok(Outcome::violated_if(summary.failed()))
}

fn io(e: CliError) -> std::io::Error {
    match e {
        CliError::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}

/// `file:line event <id>`.
fn place(file: &str, line: u64, event_id: &str) -> String {
    format!("{file}:{line} event {event_id}")
}

fn finding_line(f: &Finding) -> String {
    let status = match f.status {
        FindingStatus::Violation => "VIOLATION",
        FindingStatus::Pending => "PENDING",
    };
    let mut line = format!(
        "{status} [{}] {}: {}",
        f.rule,
        place(&f.at.file, f.at.line, &f.at.event_id),
        f.message
    );
    if let Some(e) = &f.earlier {
        line.push_str(&format!(
            " (conflicts with {})",
            place(&e.file, e.line, &e.event_id)
        ));
    }
    line
}

fn human_record(r: &Record<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    match r {
        Record::Event(v) => match v.status {
            EventStatus::Ok | EventStatus::Violated => Ok(()),
            EventStatus::Duplicate => emit(
                out,
                &format!(
                    "DUPLICATE {}: byte-identical re-delivery, dropped (R2)",
                    place(&v.file, v.line, v.event_id.as_deref().unwrap_or("?"))
                ),
            )
            .map_err(io),
            EventStatus::Invalid | EventStatus::Unreadable => {
                for x in &v.violations {
                    emit(
                        out,
                        &format!(
                            "{} {}: {} at {:?}: {}",
                            if v.status == EventStatus::Invalid {
                                "INVALID"
                            } else {
                                "UNREADABLE"
                            },
                            place(&v.file, v.line, v.event_id.as_deref().unwrap_or("?")),
                            x.keyword,
                            x.instance_path,
                            x.message
                        ),
                    )
                    .map_err(io)?;
                }
                Ok(())
            }
        },
        Record::Finding(f) => emit(out, &finding_line(f)).map_err(io),
    }
}

fn json_record(r: &Record<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let line = match r {
        Record::Event(v) => record(
            "event",
            serde_json::to_value(v).map_err(std::io::Error::other)?,
        ),
        Record::Finding(f) => {
            let kind = match f.status {
                FindingStatus::Violation => "violation",
                FindingStatus::Pending => "pending",
            };
            record(
                kind,
                serde_json::to_value(f).map_err(std::io::Error::other)?,
            )
        }
    };
    emit(out, &line).map_err(io)
}

fn collect(r: &Record<'_>, by_rule: &mut BTreeMap<String, Vec<Finding>>, schema: &mut Vec<String>) {
    match r {
        Record::Event(v) if matches!(v.status, EventStatus::Invalid | EventStatus::Unreadable) => {
            for x in &v.violations {
                schema.push(format!(
                    "{}: {} at {:?}: {}",
                    place(&v.file, v.line, v.event_id.as_deref().unwrap_or("?")),
                    x.keyword,
                    x.instance_path,
                    x.message
                ));
            }
        }
        Record::Event(_) => {}
        Record::Finding(f) => by_rule
            .entry(f.rule.to_string())
            .or_default()
            .push((*f).clone()),
    }
}

fn human_summary(s: &Summary, rules: usize) -> String {
    format!(
        "{} events in {} stream(s): {} ok, {} violated, {} duplicate, {} invalid, {} unreadable; {} rule violations, {} pending ({} rules)",
        s.events,
        s.streams,
        s.ok,
        s.violated,
        s.duplicate,
        s.invalid,
        s.unreadable,
        s.violations,
        s.pending,
        rules
    )
}

fn summary_record(s: &Summary, rules: usize) -> Result<String, CliError> {
    Ok(summary(serde_json::json!({
        "events": s.events,
        "streams": s.streams,
        "ok": s.ok,
        "violated": s.violated,
        "duplicate": s.duplicate,
        "invalid": s.invalid,
        "unreadable": s.unreadable,
        "violations": s.violations,
        "pending": s.pending,
        "rules": rules,
        "by_rule": serde_json::to_value(&s.by_rule).map_err(|e| CliError::Input(e.to_string()))?,
        "peak_live": s.peak_live,
    })))
}

fn junit(
    ids: &[String],
    by_rule: &BTreeMap<String, Vec<Finding>>,
    schema: &[String],
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut suite = TestSuite::new("check-stream");
    let schema_status = if schema.is_empty() {
        TestCaseStatus::success()
    } else {
        junit_failure(Some("schema".into()), schema[0].clone(), schema.join("\n"))
    };
    let mut case = TestCase::new("schema", schema_status);
    case.set_classname("contracts.check_stream");
    suite.add_test_case(case);
    for id in ids {
        let findings = by_rule.get(id).map(Vec::as_slice).unwrap_or_default();
        let violations: Vec<String> = findings
            .iter()
            .filter(|f| f.status == FindingStatus::Violation)
            .map(finding_line)
            .collect();
        let pending: Vec<String> = findings
            .iter()
            .filter(|f| f.status == FindingStatus::Pending)
            .map(finding_line)
            .collect();
        let status = if let Some(first) = violations.first() {
            junit_failure(
                Some("violation".into()),
                first.clone(),
                violations.join("\n"),
            )
        } else if let Some(first) = pending.first() {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("pending at the end of the stream: {first}"));
            s.set_description(pending.join("\n"));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(id.clone(), status);
        case.set_classname("contracts.check_stream");
        suite.add_test_case(case);
    }
    write_junit("contracts check-stream", [suite], out)
}

#[cfg(test)]
mod tests {
    use super::parse_window;

    #[test]
    fn windows_parse_with_units_and_reject_nonsense() {
        assert_eq!(parse_window("90"), Ok(90_000));
        assert_eq!(parse_window("15m"), Ok(900_000));
        assert_eq!(parse_window("2d"), Ok(172_800_000));
        assert!(parse_window("0").is_err());
        assert!(parse_window("1w").is_err());
        assert!(parse_window("h").is_err());
    }
}
