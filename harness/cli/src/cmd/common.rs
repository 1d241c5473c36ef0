//! Flags and helpers shared by several subcommands.

use crate::error::CliError;
use contracts_core::Registry;
use std::path::PathBuf;

/// `--specs DIR`: where the contracts live.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SpecsArgs {
    /// The specs directory (holding events/oneprotect.event.schema.json and events/types/).
    #[arg(long, value_name = "DIR", default_value = "specs")]
    pub(crate) specs: PathBuf,
}

impl SpecsArgs {
    pub(crate) fn load(&self) -> Result<Registry, CliError> {
        Registry::load(&self.specs).map_err(|e| crate::diag::registry(&self.specs, e))
    }
}

/// `--format`: how results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people: problems first, then a summary line.
    Human,
    /// JSON Lines, one `{"type": ..., "data": ...}` record per result, then a summary record.
    Json,
}

/// `--format` of the commands that also speak SARIF: the shared two plus SARIF 2.1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people: problems first, then a summary line.
    Human,
    /// JSON Lines, one `{"type": ..., "data": ...}` record per result, then a summary record.
    Json,
    /// One SARIF 2.1.0 log (for code-scanning uploads), every result at its file and line.
    Sarif,
}

impl OutputFormat {
    /// The plain format, or `None` for SARIF (which the report module renders).
    pub(crate) fn plain(self) -> Option<Format> {
        match self {
            OutputFormat::Human => Some(Format::Human),
            OutputFormat::Json => Some(Format::Json),
            OutputFormat::Sarif => None,
        }
    }
}

/// Version of the JSON output records; bumped on any incompatible change.
pub(crate) const JSON_FORMAT_VERSION: u32 = 1;

/// One JSON Lines record.
pub(crate) fn record(kind: &str, data: serde_json::Value) -> String {
    serde_json::json!({"type": kind, "data": data}).to_string()
}

/// The closing record of every JSON output: `{"type": "summary", "data": {"format_version", ...}}`.
/// The version lives here once, so no command can forget it.
pub(crate) fn summary(fields: serde_json::Value) -> String {
    let mut data = serde_json::json!({ "format_version": JSON_FORMAT_VERSION });
    if let (Some(d), serde_json::Value::Object(f)) = (data.as_object_mut(), fields) {
        d.extend(f);
    }
    record("summary", data)
}

/// Write a line to stdout, mapping failures to an I/O error.
pub(crate) fn emit(out: &mut dyn std::io::Write, line: &str) -> Result<(), CliError> {
    writeln!(out, "{line}").map_err(|e| CliError::io("stdout", e))
}

/// A failed JUnit test case status: its `kind` (when the failure has one), a one-line `message`
/// and the full `description`.
pub(crate) fn junit_failure(
    kind: Option<String>,
    message: String,
    description: String,
) -> quick_junit::TestCaseStatus {
    let mut s = quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure);
    if let Some(kind) = kind {
        s.set_type(kind);
    }
    s.set_message(message);
    s.set_description(description);
    s
}

/// A skipped JUnit test case `name` of `class`, saying `why`.
pub(crate) fn junit_skipped(name: &str, class: &str, why: &str) -> quick_junit::TestCase {
    let mut s = quick_junit::TestCaseStatus::skipped();
    s.set_message(why);
    let mut case = quick_junit::TestCase::new(name, s);
    case.set_classname(class);
    case
}

/// `suites` as one JUnit XML report called `name`, written to `out`.
pub(crate) fn write_junit(
    name: &str,
    suites: impl IntoIterator<Item = quick_junit::TestSuite>,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let mut report = quick_junit::Report::new(name);
    report.add_test_suites(suites);
    let xml = report
        .to_string()
        .map_err(|e| CliError::Input(format!("cannot render JUnit: {e}")))?;
    out.write_all(xml.as_bytes())
        .map_err(|e| CliError::io("stdout", e))
}
