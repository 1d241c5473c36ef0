//! `contracts check`: the conformance gate `make validate-contracts` runs.

use crate::cmd::common::{emit, junit_failure, record, write_junit};
use crate::error::CliError;
use crate::exit::Outcome;
use contracts_core::check::{self, Layout, Report};
use quick_junit::{TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// Failures, then one summary line.
    Human,
    /// JSON Lines: one record per case, then a summary record.
    Json,
    /// JUnit XML: one test suite per check, one test case per event type or file.
    Junit,
    /// SARIF 2.1.0: one result per failure, at the file and line it is about.
    Sarif,
}

/// Check that schemas, AsyncAPI, fixtures and docs agree (the conformance gate).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Repository root holding specs/, fixtures/, corpus/ and docs/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Also write an HTML report (DIR/index.html) of this run; see `contracts report`.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

pub(crate) fn run(args: &Args, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let report = check::run(&Layout::at(&args.root));
    let failed = report.failed().count();
    match args.format {
        CheckFormat::Human => {
            human(&report, out)?;
            crate::diag::eprint_all(&crate::diag::gate_failures(&args.root, &report));
        }
        CheckFormat::Json => {
            for case in &report.cases {
                let data =
                    serde_json::to_value(case).map_err(|e| CliError::Input(e.to_string()))?;
                emit(out, &record("case", data))?;
            }
            emit(
                out,
                &crate::cmd::common::summary(serde_json::json!({"schemas": report.schemas,
                    "event_types": report.event_types,
                    "messages": report.messages,
                    "fixtures": report.fixtures,
                    "valid_fixtures": report.valid_fixtures,
                    "invalid_fixtures": report.invalid_fixtures,
                    "corpus": report.corpus,
                    "cases": report.cases.len(),
                    "failed": failed,
                })),
            )?;
        }
        CheckFormat::Junit => junit(&report, out)?,
        CheckFormat::Sarif => crate::report::run::check(&args.root, &report, out)?,
    }
    if let Some(dir) = &args.report {
        crate::report::page::write(
            &args.root,
            &report,
            &crate::report::page::Inputs::default(),
            dir,
        )
        .map_err(CliError::Input)?;
    }
    Ok(Outcome::violated_if(failed > 0))
}

fn human(report: &Report, out: &mut dyn Write) -> Result<(), CliError> {
    for case in report.failed() {
        for f in &case.failures {
            emit(out, &format!("FAIL [{}] {}: {f}", case.check, case.subject))?;
        }
    }
    let failed = report.failed().count();
    let verdict = if failed == 0 {
        "all passed".to_owned()
    } else {
        format!("{failed} FAILED")
    };
    emit(
        out,
        &format!(
            "checked {} schemas, {} event types, {} AsyncAPI messages, {} fixtures ({} valid, {} invalid), {} corpus files, docs/events.md, versioning against {}: {} cases, {verdict}",
            report.schemas,
            report.event_types,
            report.messages,
            report.fixtures,
            report.valid_fixtures,
            report.invalid_fixtures,
            report.corpus,
            report.baseline.as_deref().unwrap_or("no baseline"),
            report.cases.len()
        ),
    )
}

fn junit(report: &Report, out: &mut dyn Write) -> Result<(), CliError> {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for case in &report.cases {
        let status = if case.failures.is_empty() {
            TestCaseStatus::success()
        } else {
            junit_failure(None, case.failures[0].clone(), case.failures.join("\n"))
        };
        let mut tc = TestCase::new(case.subject.clone(), status);
        tc.set_classname(format!("contracts.check.{}", case.check));
        suites
            .entry(case.check)
            .or_insert_with(|| TestSuite::new(case.check))
            .add_test_case(tc);
    }
    write_junit("contracts check", suites.into_values(), out)
}
