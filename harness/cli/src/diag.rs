//! Diagnostics that point into files: a core error about a schema or fixture becomes a
//! [`FileDiagnostic`] with the file's text, the span underlined, a help line and a stable code,
//! built here at the CLI edge from the error's fields (file, line, JSON pointer).
//!
//! Invariant: the message never repeats its cause; the cause stays in `source()`, so the renderer
//! prints each link of the chain exactly once.

use crate::error::CliError;
use crate::report::spans;
use contracts_core::error::RegistryError;
use contracts_core::fixtures::FixtureError;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::path::Path;

/// An error about a place in a file.
#[derive(Debug)]
pub(crate) struct FileDiagnostic {
    code: &'static str,
    message: String,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for FileDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileDiagnostic {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl Diagnostic for FileDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<_>)
    }
}

/// A diagnostic under construction for `path`, whose text is read once (when it can be).
struct Builder {
    name: String,
    text: Option<String>,
    d: FileDiagnostic,
}

impl Builder {
    fn new(code: &'static str, path: &Path, message: impl Into<String>) -> Self {
        let name = path.strip_prefix(".").unwrap_or(path).display().to_string();
        Builder {
            text: std::fs::read_to_string(path).ok(),
            d: FileDiagnostic {
                code,
                message: message.into(),
                source: None,
                labels: Vec::new(),
                help: None,
                cause: None,
            },
            name,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.d.help = Some(help.into());
        self
    }

    /// Underline what `pointer` names (the member name for an object member).
    fn at_pointer(mut self, pointer: &str, label: impl Into<String>) -> Self {
        if let Some(span) = self.text.as_deref().and_then(|t| spans::find(t, pointer)) {
            let r = span.label();
            self.d
                .labels
                .push(LabeledSpan::new(Some(label.into()), r.start, r.len()));
        }
        self
    }

    /// Underline the character at 1-based `line` and `column`.
    fn at_line(mut self, line: usize, column: usize, label: impl Into<String>) -> Self {
        if let Some(text) = self.text.as_deref() {
            if let Some(offset) = spans::offset_of(text, line, column) {
                // An end-of-file error points past the last byte: underline the last character.
                let offset = offset.min(text.len().saturating_sub(1));
                let label = label.into();
                self.d.labels.push(LabeledSpan::new(
                    Some(strip_position(&label).to_owned()),
                    offset,
                    1,
                ));
            }
        }
        self
    }

    fn build(mut self) -> CliError {
        if let Some(text) = self.text.take() {
            if !self.d.labels.is_empty() {
                self.d.source = Some(NamedSource::new(self.name, text).with_language("json"));
            }
        } else if !self.d.message.contains(&self.name) {
            self.d.message = format!("{}: {}", self.name, self.d.message);
        }
        CliError::File(Box::new(self.d))
    }
}

/// A parser message without its trailing ` at line L column C` (the snippet shows the place).
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i)
            if message[i + 9..]
                .split(" column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            &message[..i]
        }
        _ => message,
    }
}

/// A pointer at the start of a message (`/properties/x must be ...`), if there is one.
fn leading_pointer(message: &str) -> Option<&str> {
    let first = message.split(' ').next()?;
    first.starts_with('/').then_some(first)
}

/// Why the contracts under `specs` could not be loaded, pointing into the schema file.
pub(crate) fn registry(specs: &Path, e: RegistryError) -> CliError {
    let path = |file: &str| specs.join(file);
    match e {
        RegistryError::Parse {
            file,
            line,
            column,
            message,
        } => Builder::new(
            "contracts::registry::parse",
            &path(&file),
            "schema is not valid JSON",
        )
        .at_line(line, column, message)
        .help("fix the JSON syntax here; every schema under specs/ must parse")
        .build(),
        RegistryError::MetaSchema { file, errors } => {
            let mut b = Builder::new(
                "contracts::registry::meta_schema",
                &path(&file),
                format!(
                    "not a valid draft 2020-12 schema ({} meta-schema violation{})",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
            )
            .help("the file must validate against the JSON Schema draft 2020-12 meta-schema; each label says which keyword is wrong");
            for err in &errors {
                // `<message> (at <pointer>, line <n>)`, as the registry writes it.
                let (what, pointer) = match err.rsplit_once(" (at ") {
                    Some((what, rest)) => (what, rest.split(", line").next().unwrap_or("")),
                    None => (err.as_str(), ""),
                };
                let pointer = if pointer == "/" { "" } else { pointer };
                b = b.at_pointer(pointer, what);
            }
            b.build()
        }
        RegistryError::Ref {
            file,
            line,
            pointer,
            reference,
            message,
        } => {
            let b = Builder::new(
                "contracts::registry::ref",
                &path(&file),
                format!("$ref \"{reference}\" is refused"),
            )
            .help("a $ref must be relative and name a schema file under specs/ (no network, no leaving the tree)");
            let labelled = b.at_pointer(&pointer, message.clone());
            if labelled.d.labels.is_empty() {
                labelled.at_line(line, 1, message).build()
            } else {
                labelled.build()
            }
        }
        RegistryError::Contract { file, message } => {
            let pointer = leading_pointer(&message).unwrap_or("").to_owned();
            Builder::new(
                "contracts::registry::contract",
                &path(&file),
                "schema breaks a catalogue rule",
            )
            .at_pointer(&pointer, message)
            .help("see README.md and docs/decisions.md for the layout every event-type schema follows")
            .build()
        }
        RegistryError::Compile { file, message } => Builder::new(
            "contracts::registry::compile",
            &path(&file),
            format!("the validator cannot compile this schema: {message}"),
        )
        .help("simplify the keyword the validator names; `contracts check` re-runs the gate")
        .build(),
        RegistryError::Io { file, source } => CliError::File(Box::new(FileDiagnostic {
            code: "contracts::registry::io",
            message: format!("{file}: cannot read"),
            source: None,
            labels: Vec::new(),
            help: None,
            cause: Some(Box::new(source)),
        })),
        other => CliError::Input(format!("cannot load contracts: {other}")),
    }
}

/// A fixture file that cannot be loaded, pointing at the line or member that is wrong.
pub(crate) fn fixture(e: FixtureError) -> CliError {
    let path = Path::new(&e.path);
    let m = &e.message;
    // `line L column C: not a fixture: <serde message>`, as the fixture loader writes it.
    let position = m.strip_prefix("line ").and_then(|rest| {
        let (line, rest) = rest.split_once(" column ")?;
        let (column, rest) = rest.split_once(": ")?;
        Some((line.parse().ok()?, column.parse().ok()?, rest))
    });
    let help = "a fixture is {\"description\", \"valid\", \"violations\", \"event\"} (docs/conformance.md)";
    match position {
        Some((line, column, what)) => {
            let what = what.strip_prefix("not a fixture: ").unwrap_or(what);
            Builder::new("contracts::fixture::parse", path, "not a fixture")
                .at_line(line, column, what)
                .help(help)
                .build()
        }
        None if m.contains("violations") => Builder::new(
            "contracts::fixture::verdict",
            path,
            m.clone(),
        )
        .at_pointer("/violations", "declared here")
        .help("a valid fixture declares no violations; an invalid one declares each it expects")
        .build(),
        None => Builder::new("contracts::fixture::io", path, m.clone()).build(),
    }
}

/// A JSON file (a schema given to `gen --schema`, say) that does not parse, at serde_json's
/// line and column.
pub(crate) fn json_parse(path: &Path, e: &serde_json::Error) -> CliError {
    Builder::new("contracts::json::parse", path, "not valid JSON")
        .at_line(e.line(), e.column(), e.to_string())
        .help("fix the JSON syntax here")
        .build()
}

/// Diagnostics for the files the gate could not read at all: the schemas (when the registry does
/// not load) and the AsyncAPI document (when it is not YAML). The gate reports them as failed cases
/// with one-line messages; these show the file's lines as well.
pub(crate) fn gate_failures(root: &Path, report: &contracts_core::check::Report) -> Vec<CliError> {
    let mut out = Vec::new();
    let specs = root.join("specs");
    for case in report.failed() {
        match case.check {
            "registry" => {
                if let Err(e) = contracts_core::Registry::load(&specs) {
                    out.push(registry(&specs, e));
                }
            }
            "asyncapi-schema" => {
                for f in &case.failures {
                    let Some(what) = f.strip_prefix("not YAML: ") else {
                        continue;
                    };
                    let path = specs.join(contracts_core::check::ASYNCAPI_FILE);
                    let b = Builder::new(
                        "contracts::asyncapi::parse",
                        &path,
                        "AsyncAPI document is not YAML",
                    )
                    .help("fix the YAML here; `contracts check` re-runs the gate");
                    out.push(
                        match yaml_position(what) {
                            Some((line, column)) => b.at_line(line, column, what),
                            None => b,
                        }
                        .build(),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// `(line, column)` of a YAML parser message ending in `at line L column C`.
fn yaml_position(message: &str) -> Option<(usize, usize)> {
    let at = message.rfind(" at line ")?;
    let mut parts = message[at + 9..].split(" column ");
    let line = parts.next()?.trim().parse().ok()?;
    let column = parts
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((line, column))
}

/// Print `errors` on stderr, each rendered once.
#[allow(clippy::print_stderr)] // diagnostics about input files, for people
pub(crate) fn eprint_all(errors: &[CliError]) {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for e in errors {
        eprint!("{}", render(e, color));
    }
}

/// `e` rendered for stderr: message, snippet with the span underlined, help and cause chain.
pub(crate) fn render(e: &CliError, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(2);
    let mut out = String::new();
    match handler.render_report(&mut out, e) {
        Ok(()) => out,
        Err(_) => format!("error: {e}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    // serde_json's own position suffix goes: the snippet shows it
    #[case("key must be a string at line 30 column 24", "key must be a string")]
    #[case(
        "EOF while parsing an object at line 2 column 0",
        "EOF while parsing an object"
    )]
    // anything else stays
    #[case("expected value at line one", "expected value at line one")]
    #[case("plain", "plain")]
    fn parser_positions_leave_labels(#[case] message: &str, #[case] want: &str) {
        assert_eq!(strip_position(message), want);
    }
}
